#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""
HTTPS fixture server for the end-to-end tests: Python's http.server
wrapped in ssl (OpenSSL), HTTP/1.1 keep-alive, on loopback.

  ht_tls_server.py --cert C --key K [--listen 127.0.0.1] [--port 0]
                   [--port-file F] [--max-seconds N]

Paths: /            "hello\\n"
       /size/N      N bytes
       /delay/MS    sleeps MS, then "hello\\n"
       /post        (POST) reads the body, answers its length
       anything else: "hello\\n"
"""
import argparse
import http.server
import os
import socket
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("ht_tls_server: " + (fmt % args) + "\n")

    def reply(self, body, status=200):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p.startswith("/size/"):
            self.reply(b"x" * int(p[6:] or 0))
        elif p.startswith("/delay/"):
            time.sleep(int(p[7:] or 0) / 1000.0)
            self.reply(b"hello\n")
        else:
            self.reply(b"hello\n")

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        got = 0
        while got < n:
            chunk = self.rfile.read(min(65536, n - got))
            if not chunk:
                break
            got += len(chunk)
        self.reply(b"%d\n" % got)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, family, ctx):
        self.address_family = family
        self.ctx = ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # headers and body go out in separate writes: without this,
        # Nagle and the client's delayed ACK add 40 ms to every response
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # handshake in the handler thread, so one slow client does not
        # hold the others
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write("ht_tls_server: handshake: %s\n" % e)
            return
        super().finish_request(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--max-seconds", type=int, default=300)
    ap.add_argument("--alpn", default="http/1.1",
                    help="comma-separated ALPN protocols to accept")
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    family = socket.AF_INET6 if ":" in a.listen else socket.AF_INET
    srv = Server((a.listen, a.port), family, ctx)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    threading.Timer(a.max_seconds, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
