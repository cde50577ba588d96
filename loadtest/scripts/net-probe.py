#!/usr/bin/env python3
"""Measures one path of the emulated network: round trip, loss and rate, each way.

  net-probe.py serve --bind ADDR                    prints {"ready": true, "port": P}; runs until
                                                    stdin ends
  net-probe.py client --bind ADDR --server ADDR --port P [--pings N --ping-interval-ms I
                      --up-kbps R --down-kbps R --seconds S]   prints one JSON result

The client runs on side A (possibly behind a NAT: everything it receives answers what it sent),
the server on side B, each in its namespace. UDP carries the measurements, a TCP connection the
control (reliable over lossy links).
- Pings: small, spaced (20 ms by default, so jitter cannot bunch them in the FIFO links), echoed;
  the server counts those it got, so loss is known each way.
- Rate: a UDP train at a given rate (set it above the expected rate: the link's queue then stays
  full and the receiver sees the link's rate). Rates count Ethernet frame bytes (payload + 42),
  the bytes the emulator's links serialise. Random loss lowers the figure by its share.
Debian's python3, standard library only.
"""
import argparse
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time

HEADERS = 42  # Ethernet 14 + IPv4 20 + UDP 8
SIZE = 1400  # UDP payload of train packets: one frame each at MTU 1500


def paced_send(sock, dest, kind, session, kbps, seconds, size):
    """Sends `kind` packets at `kbps` (frame bytes) for `seconds`; returns how many went out."""
    interval = (size + HEADERS) * 8 / (kbps * 1000.0)
    pad = b"\0" * (size - 13)
    t0 = time.monotonic()
    sent = 0
    while True:
        elapsed = time.monotonic() - t0
        if elapsed >= seconds:
            return sent
        due = int(elapsed / interval) + 1
        while sent < due:
            try:
                sock.sendto(kind + session + struct.pack("!I", sent) + pad, dest)
            except OSError:
                pass  # a full local queue: the packet is just not sent
            sent += 1
        time.sleep(min(interval, 0.0005))


class Arrivals:
    """Times and sizes of a train's packets as they arrive."""

    def __init__(self):
        self.count = 0
        self.first = self.last = 0.0
        self.lock = threading.Lock()

    def add(self, now):
        with self.lock:
            if self.count == 0:
                self.first = now
            self.last = now
            self.count += 1

    def result(self, size):
        with self.lock:
            span = self.last - self.first
            kbps = (self.count - 1) * (size + HEADERS) * 8 / span / 1000 if self.count > 1 and span > 0 else None
            return {"packets": self.count, "seconds": round(span, 4), "kbps": None if kbps is None else round(kbps, 1)}


# ---------------------------------------------------------------------------------------------
def serve(args):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for _ in range(20):  # one port number for both
        udp.bind((args.bind, 0))
        port = udp.getsockname()[1]
        try:
            tcp.bind((args.bind, port))
            break
        except OSError:
            udp.close()
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp.listen(8)
    pings = {}  # session -> count
    trains = {}  # session -> Arrivals
    peers = {}  # session -> its address as seen here (after any NAT)
    lock = threading.Lock()

    def receive():
        while True:
            data, addr = udp.recvfrom(65536)
            now = time.monotonic()
            kind, session = data[:1], data[1:9]
            with lock:
                peers[session] = addr
            if kind == b"P":
                with lock:
                    pings[session] = pings.get(session, 0) + 1
                udp.sendto(b"O" + data[1:], addr)
            elif kind == b"T":
                with lock:
                    train = trains.setdefault(session, Arrivals())
                train.add(now)

    def control(conn):
        f = conn.makefile("rwb")
        for line in f:
            msg = json.loads(line)
            session = bytes.fromhex(msg["session"])
            if msg["op"] == "stats":
                with lock:
                    train = trains.get(session)
                    answer = {"pings": pings.get(session, 0),
                              "train": train.result(msg.get("size", SIZE)) if train else None}
            elif msg["op"] == "send":
                with lock:
                    dest = peers.get(session)
                sent = paced_send(udp, dest, b"D", session, msg["kbps"], msg["seconds"], msg.get("size", SIZE)) if dest else 0
                answer = {"sent": sent}
            else:
                answer = {"error": "unknown op"}
            f.write(json.dumps(answer).encode() + b"\n")
            f.flush()
        conn.close()

    def accept():
        while True:
            conn, _ = tcp.accept()
            threading.Thread(target=control, args=(conn,), daemon=True).start()

    threading.Thread(target=receive, daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    print(json.dumps({"ready": True, "port": port}), flush=True)
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


# ---------------------------------------------------------------------------------------------
def client(args):
    session = os.urandom(8)
    server = (args.server, args.port)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.bind((args.bind, 0))
    tcp = socket.create_connection(server, timeout=15, source_address=(args.bind, 0))
    ctl = tcp.makefile("rwb")

    def ask(msg):
        ctl.write(json.dumps(dict(msg, session=session.hex())).encode() + b"\n")
        ctl.flush()
        line = ctl.readline()
        if not line:
            raise RuntimeError("the probe server closed the control connection")
        return json.loads(line)

    out = {}
    # Pings: the round trip, and loss each way.
    rtts = {}
    sent_at = {}
    interval = args.ping_interval_ms / 1000.0
    udp.settimeout(0.0005)
    t0 = time.monotonic()
    i = 0
    deadline = None
    while True:
        now = time.monotonic()
        if i < args.pings and now >= t0 + i * interval:
            sent_at[i] = now
            udp.sendto(b"P" + session + struct.pack("!I", i) + b"\0" * 51, server)
            i += 1
            if i == args.pings:
                deadline = None
        if i == args.pings and deadline is None:
            # Stragglers: a few round trips at most (a ping never waits in a full queue here).
            worst = max(rtts.values(), default=0.5)
            deadline = now + max(0.3, 3 * worst)
        if deadline is not None and now >= deadline:
            break
        wait = max(0.0, t0 + i * interval - now) if i < args.pings else deadline - now
        udp.settimeout(max(0.0001, min(wait, 0.05)))
        try:
            data, addr = udp.recvfrom(2048)
        except socket.timeout:
            continue
        if data[:1] == b"O" and data[1:9] == session:
            seq = struct.unpack("!I", data[9:13])[0]
            if seq in sent_at and seq not in rtts:
                rtts[seq] = time.monotonic() - sent_at[seq]
    samples = sorted(v * 1000 for v in rtts.values())
    stats = ask({"op": "stats"})
    out["pings"] = {
        "sent": args.pings,
        "atServer": stats["pings"],
        "replies": len(samples),
        "rttMedianMs": round(statistics.median(samples), 3) if samples else None,
        "rttMinMs": round(samples[0], 3) if samples else None,
        "rttP95Ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 3) if samples else None,
    }

    # Up: a train from here to the server, measured there.
    out["up"] = None
    if args.up_kbps > 0:
        # Asked right away: the rate is over the packets that arrived so far, and the link was
        # busy all along, so the tail still in its queue changes nothing.
        sent = paced_send(udp, server, b"T", session, args.up_kbps, args.seconds, SIZE)
        out["up"] = dict(ask({"op": "stats", "size": SIZE})["train"] or {"packets": 0, "kbps": None}, sent=sent)

    # Down: a train from the server to here, measured here.
    out["down"] = None
    if args.down_kbps > 0:
        arrivals = Arrivals()
        done = {}

        def request():
            done.update(ask({"op": "send", "kbps": args.down_kbps, "seconds": args.seconds, "size": SIZE}))

        asker = threading.Thread(target=request, daemon=True)
        asker.start()
        udp.settimeout(0.05)
        quiet_since = time.monotonic()
        while True:
            try:
                data, _ = udp.recvfrom(65536)
            except socket.timeout:
                now = time.monotonic()
                if done and now - max(quiet_since, arrivals.last) > args.drain:
                    break
                if now - quiet_since > args.seconds + 15:
                    break  # nothing came: say so in the figures
                continue
            if data[:1] == b"D" and data[1:9] == session:
                arrivals.add(time.monotonic())
        asker.join(5)
        out["down"] = dict(arrivals.result(SIZE), sent=done.get("sent", 0))
    print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", required=True)
    c = sub.add_parser("client")
    c.add_argument("--bind", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--pings", type=int, default=50)
    c.add_argument("--ping-interval-ms", type=float, default=20)
    c.add_argument("--up-kbps", type=float, default=0)
    c.add_argument("--down-kbps", type=float, default=0)
    c.add_argument("--seconds", type=float, default=1.0)
    c.add_argument("--drain", type=float, default=0.15, help="seconds without packets that end the down train")
    args = ap.parse_args()
    serve(args) if args.cmd == "serve" else client(args)


if __name__ == "__main__":
    main()
