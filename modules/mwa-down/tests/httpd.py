#!/usr/bin/python3
# Test HTTP server for mwa-down (standard library only; run with /usr/bin/python3).
# Serves files from --root on 127.0.0.1 with single-range Range support, and
# misbehaves on purpose by path prefix:
#   /drop/NAME     the first --drops requests of NAME send half the body, then cut
#   /flaky/NAME    the first --fails requests of NAME answer 503
#   /norange/NAME  ignores Range, always 200 with the whole file
# Writes the bound port to --port-file, logs "METHOD PATH RANGE STATUS" lines to
# --log, and exits by itself after --lifetime seconds (tests also kill it).
import argparse, os, socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", default=os.devnull)
ap.add_argument("--drops", type=int, default=2)
ap.add_argument("--fails", type=int, default=3)
ap.add_argument("--lifetime", type=float, default=60)
args = ap.parse_args()
counts = {}
lock = threading.Lock()
logf = open(args.log, "a", buffering=1)


def bump(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self, status):
        logf.write("%s %s %s %d\n" % (self.command, self.path, self.headers.get("Range", "-"), status))

    def do_GET(self):
        parts = self.path.lstrip("/").split("/")
        mode = parts[0] if len(parts) == 2 and parts[0] in ("drop", "flaky", "norange") else ""
        name = parts[-1]
        path = os.path.join(args.root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(path):
            self.note(404)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        n = bump(self.path)
        if mode == "flaky" and n <= args.fails:
            self.note(503)
            body = b"busy\n"
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and mode != "norange" and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a) if a else 0
            end = min(int(b), size - 1) if b else size - 1
            if start >= size:
                self.note(416)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        length = end - start + 1
        self.note(status)
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        cut = length // 2 if (mode == "drop" and n <= args.drops) else length
        with open(path, "rb") as f:
            f.seek(start)
            left = cut
            while left > 0:
                buf = f.read(min(left, 1 << 20))
                if not buf:
                    break
                self.wfile.write(buf)
                left -= len(buf)
        if cut < length:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early are part of the tests


srv = Server(("127.0.0.1", 0), H)
with open(args.port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(args.port_file + ".tmp", args.port_file)
threading.Timer(args.lifetime, lambda: os._exit(0)).start()
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
