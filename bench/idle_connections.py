#!/usr/bin/env python3
"""Holds N idle connections to the standalone daemon and prints the memory
they cost (resident and proportional set size of the daemon, per
connection) and how long a login takes meanwhile. Prints; asserts nothing.

    python3 bench/idle_connections.py [--connections 5000] [--model threads|fork]

Targets (issue 3): under 32 KiB per idle connection, a login under 1 s."""

import argparse
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from fixtures import simple  # noqa: E402
from harness import Env  # noqa: E402
import bench_common  # noqa: E402


def memory_kib(pids):
    rss = pss = 0
    for pid in pids:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss, pss


def daemon_pids(env):
    root = env.daemon_pid()
    pids = [root]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == root:
                        pids.append(int(pid))
            except OSError:
                pass
    return pids


def timed_login(port):
    elapsed, reply = bench_common.timed_login(port)
    assert reply.startswith(b"+OK"), reply
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--model", default="threads", choices=["threads", "fork"])
    args = ap.parse_args()
    n = args.connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))

    env = Env(config={"max_connections": str(n + 100), "max_connections_per_address": str(n + 100),
                      "login_timeout": "600"})
    try:
        env.write_mailbox("alice", simple(10))
        env.start(args.model)
        print(f"model: {args.model}, login before load: {timed_login(env.port) * 1000:.1f} ms")
        time.sleep(0.5)
        rss0, pss0 = memory_kib(daemon_pids(env))
        held = []
        t0 = time.perf_counter()
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", env.port), timeout=60)
            held.append(s)
        for s in held:
            s.recv(100)  # every one greeted: its thread or process is up
        setup = time.perf_counter() - t0
        time.sleep(1)
        rss1, pss1 = memory_kib(daemon_pids(env))
        login = timed_login(env.port)
        print(f"{n} idle connections opened and greeted in {setup:.2f} s")
        print(f"daemon RSS {rss0} KiB -> {rss1} KiB: {(rss1 - rss0) / n:.1f} KiB per connection")
        print(f"daemon PSS {pss0} KiB -> {pss1} KiB: {(pss1 - pss0) / n:.1f} KiB per connection")
        print(f"login with {n} idle connections open: {login * 1000:.1f} ms")
        for s in held:
            s.close()
    finally:
        env.close()


if __name__ == "__main__":
    main()
