#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""
An OTLP/HTTP trace receiver for the tests: Python's standard library
only. It decodes ExportTraceServiceRequest by the field numbers of
opentelemetry-proto (collector/trace/v1, trace/v1, common/v1,
resource/v1), independently of the tracer's own encoder, so a wrong
field number or wire type there shows here.

    from otlp_receiver import OtlpReceiver
    r = OtlpReceiver(out_path="spans.jsonl", fail_first=2, retry_after="1")
    r.start()            # r.port
    ... r.spans() ...
    r.stop(); r.restart()  # the same port again

    tests/lib/otlp_receiver.py --port 4318 --out spans.jsonl

Each request received (also those answered 503) is one JSON line in
out_path: {"t": unix seconds, "status": answered, "gzip": bool,
"spans": [...]} with a span as {"trace_id", "span_id", "parent_span_id"
(hex), "name", "kind", "start", "end" (Unix ns), "attributes": {},
"events": [{"name", "time", "attributes"}], "status": {"code",
"message"}, "resource": {}, "scope": {"name", "version"}}.
"""

import argparse
import gzip
import http.server
import json
import socket
import struct
import sys
import threading
import time

# -------------------------------------------------------------------------
# protobuf by hand: a message is a list of (field, wire type, value)


class DecodeError(ValueError):
    pass


def read_varint(b, i):
    v = 0
    shift = 0
    while True:
        if i >= len(b):
            raise DecodeError("varint runs past the end")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def fields(b):
    """[(field number, wire type, value)]: an int for varint and fixed,
    bytes for length-delimited."""
    out = []
    i = 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise DecodeError("field number 0")
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 1:
            if i + 8 > len(b):
                raise DecodeError("fixed64 runs past the end")
            v = struct.unpack_from("<Q", b, i)[0]
            i += 8
        elif wt == 2:
            n, i = read_varint(b, i)
            if i + n > len(b):
                raise DecodeError("length %d runs past the end" % n)
            v = bytes(b[i:i + n])
            i += n
        elif wt == 5:
            if i + 4 > len(b):
                raise DecodeError("fixed32 runs past the end")
            v = struct.unpack_from("<I", b, i)[0]
            i += 4
        else:
            raise DecodeError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def want(wt, expected, what):
    if wt != expected:
        raise DecodeError("%s: wire type %d, want %d" % (what, wt, expected))


def text(v, what):
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("%s is not UTF-8" % what)


def int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def any_value(b):
    """common.v1.AnyValue"""
    for num, wt, v in fields(b):
        if num == 1:
            want(wt, 2, "AnyValue.string_value")
            return text(v, "string_value")
        if num == 2:
            want(wt, 0, "AnyValue.bool_value")
            return bool(v)
        if num == 3:
            want(wt, 0, "AnyValue.int_value")
            return int64(v)
        if num == 4:
            want(wt, 1, "AnyValue.double_value")
            return struct.unpack("<d", struct.pack("<Q", v))[0]
        if num == 5:
            return [any_value(x) for n, w, x in fields(v) if n == 1]
        if num == 6:
            return key_values([x for n, w, x in fields(v) if n == 1])
        if num == 7:
            return v.hex()
    return None


def key_value(b):
    key, value = None, None
    for num, wt, v in fields(b):
        if num == 1:
            want(wt, 2, "KeyValue.key")
            key = text(v, "key")
        elif num == 2:
            want(wt, 2, "KeyValue.value")
            value = any_value(v)
    if key is None:
        raise DecodeError("KeyValue without a key")
    return key, value


def key_values(items):
    out = {}
    for b in items:
        k, v = key_value(b)
        if k in out:
            raise DecodeError("attribute %r twice" % k)
        out[k] = v
    return out


def event(b):
    """trace.v1.Span.Event"""
    ev = {"name": None, "time": None, "attributes": {}}
    attrs = []
    for num, wt, v in fields(b):
        if num == 1:
            want(wt, 1, "Event.time_unix_nano")
            ev["time"] = v
        elif num == 2:
            want(wt, 2, "Event.name")
            ev["name"] = text(v, "event name")
        elif num == 3:
            want(wt, 2, "Event.attributes")
            attrs.append(v)
    ev["attributes"] = key_values(attrs)
    return ev


def status(b):
    st = {"code": 0, "message": ""}
    for num, wt, v in fields(b):
        if num == 2:
            want(wt, 2, "Status.message")
            st["message"] = text(v, "status message")
        elif num == 3:
            want(wt, 0, "Status.code")
            st["code"] = v
    return st


def span(b):
    """trace.v1.Span"""
    sp = {"trace_id": "", "span_id": "", "parent_span_id": "", "name": "",
          "kind": 0, "start": 0, "end": 0, "attributes": {}, "events": [],
          "status": {"code": 0, "message": ""}}
    attrs = []
    for num, wt, v in fields(b):
        if num in (1, 2, 4):
            want(wt, 2, "Span id field %d" % num)
            sp[{1: "trace_id", 2: "span_id", 4: "parent_span_id"}[num]] = \
                v.hex()
        elif num == 5:
            want(wt, 2, "Span.name")
            sp["name"] = text(v, "span name")
        elif num == 6:
            want(wt, 0, "Span.kind")
            sp["kind"] = v
        elif num == 7:
            want(wt, 1, "Span.start_time_unix_nano")
            sp["start"] = v
        elif num == 8:
            want(wt, 1, "Span.end_time_unix_nano")
            sp["end"] = v
        elif num == 9:
            want(wt, 2, "Span.attributes")
            attrs.append(v)
        elif num == 11:
            want(wt, 2, "Span.events")
            sp["events"].append(event(v))
        elif num == 15:
            want(wt, 2, "Span.status")
            sp["status"] = status(v)
    sp["attributes"] = key_values(attrs)
    if len(sp["trace_id"]) != 32 or len(sp["span_id"]) != 16:
        raise DecodeError("span ids of %d and %d hex digits"
                          % (len(sp["trace_id"]), len(sp["span_id"])))
    return sp


def export_request(b):
    """collector.trace.v1.ExportTraceServiceRequest -> spans, each with
    its resource and scope"""
    spans = []
    for num, wt, rs in fields(b):
        if num != 1:
            continue
        want(wt, 2, "ExportTraceServiceRequest.resource_spans")
        resource = {}
        scope_spans = []
        for n2, w2, v2 in fields(rs):
            if n2 == 1:
                want(w2, 2, "ResourceSpans.resource")
                resource = key_values([x for n, w, x in fields(v2)
                                       if n == 1])
            elif n2 == 2:
                want(w2, 2, "ResourceSpans.scope_spans")
                scope_spans.append(v2)
        for ss in scope_spans:
            scope = {"name": "", "version": ""}
            for n3, w3, v3 in fields(ss):
                if n3 == 1:
                    for n4, w4, v4 in fields(v3):
                        if n4 == 1:
                            scope["name"] = text(v4, "scope name")
                        elif n4 == 2:
                            scope["version"] = text(v4, "scope version")
            for n3, w3, v3 in fields(ss):
                if n3 == 2:
                    want(w3, 2, "ScopeSpans.spans")
                    sp = span(v3)
                    sp["resource"] = resource
                    sp["scope"] = scope
                    spans.append(sp)
    return spans


def count_spans(b):
    """The spans of an ExportTraceServiceRequest, counted by walking only
    the messages around them (resource_spans, scope_spans): what a
    benchmark at tens of thousands of spans a second can afford."""
    n = 0
    for num, wt, rs in fields(b):
        if num != 1:
            continue
        want(wt, 2, "ExportTraceServiceRequest.resource_spans")
        for n2, w2, ss in fields(rs):
            if n2 != 2:
                continue
            want(w2, 2, "ResourceSpans.scope_spans")
            for n3, w3, _ in fields(ss):
                if n3 == 2:
                    want(w3, 2, "ScopeSpans.spans")
                    n += 1
    return n


# -------------------------------------------------------------------------
# the HTTP side


class _Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class OtlpReceiver:
    def __init__(self, port=0, host="127.0.0.1", out_path=None,
                 fail_first=0, fail_status=503, retry_after="1",
                 count_only=False):
        self.host = host
        self.port = port
        self.out_path = out_path
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        # count spans, keep no request: entry["spans"] is then a number
        self.count_only = count_only
        self.span_count = 0
        self.lock = threading.Lock()
        self.requests = []     # what each request got: dicts as above
        self.errors = []       # requests that could not be decoded
        self.conns = set()
        self.server = None
        self.thread = None

    # what the tests read
    def spans(self):
        with self.lock:
            return [s for r in self.requests if r["status"] == 200
                    for s in r["spans"]]

    def answered(self, status):
        with self.lock:
            return [r for r in self.requests if r["status"] == status]

    def _record(self, entry):
        with self.lock:
            if self.count_only:
                if entry["status"] == 200:
                    self.span_count += entry["spans"]
                return
            self.requests.append(entry)
            if self.out_path:
                with open(self.out_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def _handler(self):
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with rx.lock:
                    rx.conns.add(self.connection)

            def finish(self):
                try:
                    super().finish()
                finally:
                    with rx.lock:
                        rx.conns.discard(self.connection)

            def log_message(self, *args):
                pass

            def answer(self, code, body=b"", extra=()):
                self.send_response(code)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def read_body(self):
                # the JS SDK's exporter sends its gzipped body chunked
                if "chunked" in (self.headers.get("Transfer-Encoding")
                                 or "").lower():
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0],
                                   16)
                        if size == 0:
                            while self.rfile.readline() not in \
                                    (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n)

            def do_POST(self):
                body = self.read_body()
                entry = {"t": time.time(), "path": self.path,
                         "content_type": self.headers.get("Content-Type"),
                         "gzip": self.headers.get("Content-Encoding")
                         == "gzip",
                         "user_agent": self.headers.get("User-Agent"),
                         "headers": {k.lower(): v
                                     for k, v in self.headers.items()},
                         "spans": []}
                with rx.lock:
                    fail = rx.fail_first > 0
                    if fail:
                        rx.fail_first -= 1
                if fail:
                    entry["status"] = rx.fail_status
                    rx._record(entry)
                    extra = [("Retry-After", rx.retry_after)] \
                        if rx.retry_after is not None else []
                    self.answer(rx.fail_status, extra=extra)
                    return
                try:
                    if self.path != "/v1/traces":
                        raise DecodeError("path %s" % self.path)
                    if entry["content_type"] != "application/x-protobuf":
                        raise DecodeError("Content-Type %s"
                                          % entry["content_type"])
                    raw = gzip.decompress(body) if entry["gzip"] else body
                    entry["spans"] = (count_spans(raw) if rx.count_only
                                      else export_request(raw))
                except (DecodeError, OSError, EOFError) as e:
                    entry["status"] = 400
                    entry["error"] = str(e)
                    with rx.lock:
                        rx.errors.append(str(e))
                    rx._record(entry)
                    self.answer(400)
                    return
                entry["status"] = 200
                rx._record(entry)
                # an empty ExportTraceServiceResponse: all accepted
                self.answer(200)

        return Handler

    def start(self):
        self.server = _Server((self.host, self.port), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Down: the listening socket and every open connection closed,
        so the next request meets a refused connection."""
        if not self.server:
            return
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)
        self.server = None

    def restart(self):
        self.stop()
        return self.start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4318)
    ap.add_argument("--out", help="JSON lines of the requests received")
    ap.add_argument("--fail-first", type=int, default=0,
                    help="answer the first N requests 503")
    ap.add_argument("--retry-after", default="1")
    ap.add_argument("--seconds", type=float, default=0,
                    help="stop after this long (0: until interrupted)")
    args = ap.parse_args()
    r = OtlpReceiver(args.port, args.host, args.out, args.fail_first,
                     retry_after=args.retry_after).start()
    print("otlp_receiver: listening on %s:%d" % (args.host, r.port),
          flush=True)
    try:
        if args.seconds:
            time.sleep(args.seconds)
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    r.stop()
    print("otlp_receiver: %d spans in %d requests"
          % (len(r.spans()), len(r.requests)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
