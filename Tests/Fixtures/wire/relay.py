"""A loopback relay that records what each side of a connection sends; the capture scripts
of Tests/Fixtures/wire/* point real clients at it."""
import socket, threading


class Relay:
    def __init__(self, host, server_port):
        self.host, self.server_port = host, server_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = []  # [client_bytes, server_bytes] per connection, in accept order
        self.threads = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.host, self.server_port))
            record = [bytearray(), bytearray()]
            self.connections.append(record)
            for source, sink, buf in ((client, server, record[0]), (server, client, record[1])):
                thread = threading.Thread(target=self.pump, args=(source, sink, buf), daemon=True)
                thread.start()
                self.threads.append(thread)

    @staticmethod
    def pump(source, sink, buf):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                buf.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def finish(self):
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()
        return self.connections
