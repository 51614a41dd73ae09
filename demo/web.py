#!/usr/bin/env python3
"""Demo `web` service: on GET it calls `db` through its sidecar's upstream listener and reports
what happened. Usage: web.py <port> <db-upstream-port>"""
import http.server
import socket
import sys

UPSTREAM = int(sys.argv[2])


def call_db():
    try:
        with socket.create_connection(("127.0.0.1", UPSTREAM), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: db\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        if not data:
            return False, "connection closed by the mesh (no response)"
        return True, data.split(b"\r\n\r\n", 1)[-1].decode().strip()
    except OSError as e:
        return False, "error: %s" % e


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok, what = call_db()
        body = ("web -> db: %s\n" % what).encode()
        self.send_response(200 if ok else 502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
