#!/usr/bin/env python3
"""Denial of service by many connections: N idle connections (spread over
client addresses, within max_connections_per_address) plus M slowloris
connections that send one byte every few seconds and never finish a line,
against the threaded daemon with its default limits. Meanwhile a real client
logs in again and again; prints its login times, how many slowloris
connections the per-address limit refused and how many the pre-auth timeout
(login_timeout) cut. Prints; asserts nothing.

    python3 bench/slowloris.py [--idle 5000] [--slow 200] [--slow-addresses 4]
                               [--login-timeout 20] [--duration 40]

Target (issue 6): no login past 1 s."""

import argparse
import os
import resource
import selectors
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from fixtures import simple  # noqa: E402
from harness import Env  # noqa: E402
import bench_common  # noqa: E402


def connect_from(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s


def timed_login(port):
    elapsed, reply = bench_common.timed_login(port, timeout=30)
    return elapsed, reply.startswith(b"+OK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--slow", type=int, default=200)
    ap.add_argument("--slow-addresses", type=int, default=4, help="client addresses the slowloris connections use")
    ap.add_argument("--login-timeout", type=int, default=30)
    ap.add_argument("--duration", type=int, default=25, help="seconds of logins while everything is held")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.idle + args.slow + 1000), hard))
    per_address = 32  # the default max_connections_per_address
    env = Env(config={"max_connections": str(args.idle + args.slow + 100), "login_timeout": str(args.login_timeout)})
    try:
        env.write_mailbox("alice", simple(10))
        env.start("threads")
        idle = []
        for i in range(args.idle):  # 127.0.1.1, 127.0.1.2, ...: 32 per address
            a = i // per_address
            idle.append(connect_from(env.port, f"127.0.{1 + a // 250}.{1 + a % 250}"))
        for s in idle:
            s.recv(100)
        print(f"{args.idle} idle connections open (from {(args.idle + per_address - 1) // per_address} addresses)")

        sel = selectors.DefaultSelector()
        slow, refused = [], 0
        for i in range(args.slow):
            s = connect_from(env.port, f"127.0.200.{1 + i % args.slow_addresses}")
            greeting = s.recv(200)
            if greeting.startswith(b"-ERR"):
                refused += 1
                s.close()
                continue
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            slow.append(s)
        print(f"slowloris: {args.slow} from {args.slow_addresses} addresses: {len(slow)} served, "
              f"{refused} refused by max_connections_per_address ({per_address})")

        times, failures, cut, last_byte = [], 0, 0, 0.0
        start = time.monotonic()
        open_slow = set(slow)
        while time.monotonic() - start < args.login_timeout + 5:
            measuring = time.monotonic() - start < args.duration
            if time.monotonic() - last_byte > 3:  # one byte every 3 s, never a whole line
                for s in list(open_slow):
                    try:
                        s.send(b"U")
                    except OSError:
                        open_slow.discard(s)
                last_byte = time.monotonic()
            for key, _ in sel.select(timeout=0):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data and key.fileobj in open_slow:
                    open_slow.discard(key.fileobj)
                    sel.unregister(key.fileobj)
                    cut += 1
            if measuring:
                elapsed, ok = timed_login(env.port)
                times.append(elapsed)
                failures += not ok
            time.sleep(0.25)
        print(f"{len(times)} logins during the first {args.duration} s: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms, failed {failures}")
        print(f"slowloris connections closed by the server by {args.login_timeout + 5} s "
              f"(login_timeout {args.login_timeout} s): {cut} of {len(slow)}")
        for s in idle + slow:
            s.close()
    finally:
        env.close()


if __name__ == "__main__":
    main()
