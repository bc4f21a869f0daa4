#!/usr/bin/env python3
"""Records the first TLS handshake records a real client sends (its ClientHello) to a file.

Usage: capture.py OUTPUT.bin -- CLIENT COMMAND ...   (the command may use {port})
       capture.py OUTPUT.bin --python-ssl SNI ALPN[,ALPN...]

A loopback listener accepts one connection, reads whole TLS records until the first handshake
message (the ClientHello) is complete, writes exactly those record bytes and closes.
"""
import socket, ssl, subprocess, sys, threading


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("client closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def capture(listener):
    conn, _ = listener.accept()
    records, message = b"", b""
    while True:
        header = read_exact(conn, 5)
        assert header[0] == 22, "not a handshake record"
        length = int.from_bytes(header[3:5], "big")
        fragment = read_exact(conn, length)
        records += header + fragment
        message += fragment
        if len(message) >= 4 and len(message) >= 4 + int.from_bytes(message[1:4], "big"):
            conn.close()
            return records


def python_client(port, sni, alpn):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(alpn)
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            context.wrap_socket(sock, server_hostname=sni)
    except (ssl.SSLError, OSError):
        pass


def main():
    output, mode, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    if mode == "--python-ssl":
        client = threading.Thread(target=python_client, args=(port, rest[0], rest[1].split(",")))
        client.start()
    else:
        command = [part.replace("{port}", str(port)) for part in rest]
        client = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = capture(listener)
    with open(output, "wb") as file:
        file.write(records)
    if mode == "--python-ssl":
        client.join()
    else:
        client.wait(timeout=10)
    print("%s: %d bytes" % (output, len(records)))


if __name__ == "__main__":
    main()
