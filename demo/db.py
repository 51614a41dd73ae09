#!/usr/bin/env python3
"""Demo `db` service: answers every HTTP GET with a line naming itself. Listens on 127.0.0.1 only;
in the mesh it is reached through its sidecar. Usage: db.py <port>"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"db: 42 rows\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
