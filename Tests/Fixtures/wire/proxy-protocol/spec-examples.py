#!/usr/bin/env python3
"""Writes the spec-*.bin files: the examples of haproxy's doc/proxy-protocol.txt (2020/03/05
revision, as Debian ships it in /usr/share/doc/haproxy/proxy-protocol.txt.gz), as bytes.

Version 1 examples are the lines the specification prints (section 2.1), with "\\r\\n" as CR LF
and "ffff:f...f:ffff" written out as eight "ffff" groups. The specification prints no version 2
bytes, so the version 2 files are built here from its section 2.2 (the 12-byte signature, the
version/command byte, the family/protocol byte, the big-endian length, then the address block
of `union proxy_addr` and TLVs as `struct pp2_tlv`), using the addresses of the version 1
example. Run from this directory: python3 spec-examples.py
"""
import struct

SIGNATURE = b"\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"
FULL_V6 = ":".join(["ffff"] * 8)


def v2(ver_cmd, family, block):
    return SIGNATURE + bytes([ver_cmd, family]) + struct.pack("!H", len(block)) + block


FILES = {
    # 2.1: "An example of such a line before an HTTP request" (the request included).
    "spec-v1-tcp4-http.bin": b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n",
    # 2.1: the longest lines a receiver must support (56, 104, 15 and 107 bytes).
    "spec-v1-tcp4-longest.bin": b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
    "spec-v1-tcp6-longest.bin": ("PROXY TCP6 %s %s 65535 65535\r\n" % (FULL_V6, FULL_V6)).encode(),
    "spec-v1-unknown-short.bin": b"PROXY UNKNOWN\r\n",
    "spec-v1-unknown-longest.bin": ("PROXY UNKNOWN %s %s 65535 65535\r\n" % (FULL_V6, FULL_V6)).encode(),
    # 2.2: PROXY command (\x21), TCP over IPv4 (\x11), length 12: 192.168.0.1:56324 -> 192.168.0.11:443.
    "spec-v2-tcp4.bin": v2(0x21, 0x11, bytes([192, 168, 0, 1, 192, 168, 0, 11]) + struct.pack("!HH", 56324, 443)),
    # 2.2: TCP over IPv6 (\x21), length 36: [2001:db8::1]:56324 -> [2001:db8::11]:443.
    "spec-v2-tcp6.bin": v2(0x21, 0x21, bytes.fromhex("20010db8000000000000000000000001") + bytes.fromhex("20010db8000000000000000000000011")
                           + struct.pack("!HH", 56324, 443)),
    # 2.2: LOCAL command (\x20), AF_UNSPEC (\x00), no address: the 16-byte header of a health check.
    "spec-v2-local.bin": v2(0x20, 0x00, b""),
    # 2.2: UNIX stream (\x31), length 216: two 108-byte paths.
    "spec-v2-unix.bin": v2(0x21, 0x31, b"/run/client.sock".ljust(108, b"\0") + b"/run/server.sock".ljust(108, b"\0")),
    # 2.2.1, 2.2.2, 2.2.4: TCP over IPv4 followed by ALPN, AUTHORITY and NOOP TLVs.
    "spec-v2-tcp4-tlvs.bin": v2(0x21, 0x11, bytes([192, 168, 0, 1, 192, 168, 0, 11]) + struct.pack("!HH", 56324, 443)
                                + b"\x01" + struct.pack("!H", 2) + b"h2"
                                + b"\x02" + struct.pack("!H", 15) + b"proxy.localhost"
                                + b"\x04" + struct.pack("!H", 3) + b"\0\0\0"),
}

for name, data in FILES.items():
    with open(name, "wb") as file:
        file.write(data)
    print("%s: %d bytes" % (name, len(data)))
