#!/usr/bin/env python3
"""Hostile-client measurements of `eps-translator serve` (python3 standard library only).

Starts the server (or uses --no-start with --grpc/--http of a running one), then for each
scenario: opens the hostile connections against one port, runs `eps-translator loadtest` as
the separate normal client against the same port while they are held, and reports the normal
requests' success and p99 latency, the server's RSS before / during / after, and the server's
connection counters from /metrics. Scenarios:

  slowloris    N connections sending a request header one byte every few seconds
  idle         N connections that connect and send nothing
  bigheaders   N connections each sending 380 KB of a header that never ends
  streams      N ConvertStream HTTP/2 streams held open (100 per connection), then closed
  flood        HTTP/2 streams opened and at once cancelled (RST_STREAM), as fast as possible

Usage: tools/service-bounds/measure.py --bin target/release-quick/eps-translator \
           [--scenario slowloris,idle,...] [--port grpc,http] [--duration 20] [--n N]
Raise the file-descriptor limit first (`ulimit -n 65536`) for the large counts.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time

DEFAULT_N = {"slowloris": 3000, "idle": 20000, "bigheaders": 1000, "streams": 10000, "flood": 0}


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def metrics(http_addr):
    try:
        s = socket.create_connection(http_addr, timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        text = data.decode(errors="replace")
    except OSError as e:
        return {}
    counters = {}
    for line in text.splitlines():
        if line.startswith(("eps_connections_closed_total", "eps_streams_refused_total",
                            "eps_request_body_timeouts_total", "eps_accept_errors_total")):
            name, value = line.rsplit(" ", 1)
            counters[name.replace("eps_", "").replace("_total", "")] = int(float(value))
    return counters


def delta(before, after):
    return ", ".join(f"{k} +{after[k] - before.get(k, 0)}" for k in sorted(after)
                     if after[k] != before.get(k, 0)) or "none"


def frame(kind, flags, stream, payload=b""):
    n = len(payload)
    return bytes([n >> 16 & 255, n >> 8 & 255, n & 255, kind, flags]) + stream.to_bytes(4, "big") + payload


def header_block(fields):
    out = b""
    for name, value in fields:
        out += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return out


CONVERT_STREAM = header_block([
    (b":method", b"POST"), (b":scheme", b"http"),
    (b":path", b"/eps.translator.v1.Translator/ConvertStream"),
    (b":authority", b"localhost"), (b"content-type", b"application/grpc"), (b"te", b"trailers"),
])
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)


class Attack:
    """Hostile connections held by a thread until stop()."""

    def __init__(self, kind, addr, n):
        self.kind, self.addr, self.n = kind, addr, n
        self.socks, self.opened, self.failed, self.closed_by_server = [], 0, 0, 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        try:
            s = socket.create_connection(self.addr, timeout=5)
            s.setblocking(False)
            self.opened += 1
            return s
        except OSError:
            self.failed += 1
            return None

    def send(self, s, data):
        try:
            s.setblocking(True)
            s.settimeout(2)
            s.sendall(data)
            s.setblocking(False)
            return True
        except OSError:
            self.closed_by_server += 1
            return False

    def run(self):
        k = self.kind
        if k == "flood":
            return self.flood()
        per_conn = 100 if k == "streams" else 1
        conns = (self.n + per_conn - 1) // per_conn
        for i in range(conns):
            if self.stop_flag.is_set():
                return
            s = self.connect()
            if s is None:
                continue
            if k == "slowloris":
                ok = self.send(s, b"POST /FHIR/R4/$prepare HTTP/1.1\r\nHost: x\r\n")
            elif k == "bigheaders":
                ok = self.send(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 380_000)
            elif k == "streams":
                data = PREFACE
                for j in range(min(per_conn, self.n - i * per_conn)):
                    data += frame(1, 4, 1 + 2 * j, CONVERT_STREAM)
                ok = self.send(s, data)
            else:
                ok = True
            if ok:
                self.socks.append(s)
        # Keep them going: slowloris trickles a header byte every 5 s; the rest just hold.
        while not self.stop_flag.wait(5):
            if k == "slowloris":
                alive = []
                for s in self.socks:
                    if self.send(s, b"X"):
                        alive.append(s)
                self.socks = alive

    def flood(self):
        s = self.connect()
        stream = 1
        while not self.stop_flag.is_set():
            if s is None or stream > 2_000_000_000:
                s, stream = self.connect(), 1
                if s is None:
                    time.sleep(0.1)
                    continue
                if not self.send(s, PREFACE):
                    s = None
                    continue
            batch = b""
            for _ in range(50):
                batch += frame(1, 4, stream, CONVERT_STREAM) + frame(3, 0, stream, (8).to_bytes(4, "big"))
                stream += 2
            self.opened += 50
            if not self.send(s, batch):
                s = None
            try:
                while s is not None and s.recv(65536):
                    pass
            except (BlockingIOError, OSError):
                pass

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)
        for s in self.socks:
            s.close()


def loadtest(binary, port_kind, addr, seconds):
    rpc = "prepare" if port_kind == "grpc" else "http-prepare"
    out = subprocess.run(
        [binary, "loadtest", "--rpc", rpc, "--concurrency", "4", "--duration", f"{seconds}s",
         "--target", f"{addr[0]}:{addr[1]}"],
        capture_output=True, text=True)
    text = out.stdout + out.stderr
    ok = re.search(r"requests: (\d+) ok, (\d+) errors", text)
    p99 = re.search(r"p99 ([\d.]+)", text)
    if not ok:
        return f"loadtest failed: {text.strip()[:200]}"
    good, bad = int(ok.group(1)), int(ok.group(2))
    rate = 100.0 * good / max(1, good + bad)
    return f"{good} ok / {bad} errors ({rate:.1f}% success), p99 {p99.group(1) if p99 else '?'} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release-quick/eps-translator")
    ap.add_argument("--scenario", default="slowloris,idle,bigheaders,streams,flood")
    ap.add_argument("--port", default="grpc,http")
    ap.add_argument("--duration", type=int, default=20, help="seconds of normal load per scenario")
    ap.add_argument("--n", type=int, help="hostile count (default: per scenario)")
    ap.add_argument("--serve-args", default="", help="extra `serve` flags")
    args = ap.parse_args()
    grpc, http = ("127.0.0.1", 51751), ("127.0.0.1", 51780)
    server = subprocess.Popen(
        [args.bin, "serve", "--grpc", f"{grpc[0]}:{grpc[1]}", "--http", f"{http[0]}:{http[1]}"]
        + args.serve_args.split(), stderr=subprocess.DEVNULL)
    time.sleep(1)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"ulimit -n {subprocess.run(['sh', '-c', 'ulimit -n'], capture_output=True, text=True).stdout.strip()}")
    print(f"baseline RSS {rss_mib(server.pid):.1f} MiB; "
          f"grpc: {loadtest(args.bin, 'grpc', grpc, 5)}; http: {loadtest(args.bin, 'http', http, 5)}")
    try:
        for scenario in args.scenario.split(","):
            for port in args.port.split(","):
                if scenario == "streams" and port == "http":
                    continue  # ConvertStream is gRPC only
                addr = grpc if port == "grpc" else http
                n = args.n or DEFAULT_N[scenario]
                before = rss_mib(server.pid)
                counted = metrics(http)
                attack = Attack(scenario, addr, n)
                attack.start()
                time.sleep(min(15, 2 + n / 2000))
                held = len(attack.socks)
                during = rss_mib(server.pid)
                normal = loadtest(args.bin, port, addr, args.duration)
                peak = max(during, rss_mib(server.pid))
                attack.stop()
                time.sleep(3)
                after = rss_mib(server.pid)
                print(f"{scenario} ×{n} on {port}: opened {attack.opened}, failed {attack.failed}, "
                      f"held {held}, cut by server {attack.closed_by_server}; "
                      f"RSS {before:.0f} → {peak:.0f} → {after:.0f} MiB; normal {port}: {normal}")
                print(f"    server counted: {delta(counted, metrics(http))}")
                sys.stdout.flush()
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    main()
