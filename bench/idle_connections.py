#!/usr/bin/env python3
"""Holds N idle connections to the standalone daemon and prints the memory
they cost (resident and proportional set size of the daemon, per
connection) and how long a login takes meanwhile. Prints; asserts nothing.

    python3 bench/idle_connections.py [--connections 5000] [--model threads|fork]

Targets (issue 3): under 32 KiB per idle connection, a login under 1 s;
issue 21: at most 10 KiB PSS per idle connection in the threaded daemon,
500 and 5,000 connections. With --model threads it also prints where the
memory went: thread stacks, malloc heaps, shared files, libraries."""

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


STACK_KIB = 1024  # thread_stack_size's default, which the Env leaves as it is


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


def kind_of(name, perm, size_kib, stack_kib):
    if name == "[heap]":
        return "malloc, main heap"
    if name.startswith("/"):
        return "code and libraries" if (".so" in name or name.endswith("pop3d")) else "shared files (session registry...)"
    if name:
        return "other " + name
    if perm.startswith("rw") and size_kib == stack_kib:
        return "thread stacks (touched pages)"
    return "malloc arenas and other anonymous"


def breakdown(pid, stack_kib):
    """PSS in KiB by kind of mapping (thread stacks: anonymous mappings the
    size of thread_stack_size)."""
    totals = {}
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                kind = kind_of(parts[5] if len(parts) > 5 else "", parts[1], (hi - lo) // 1024, stack_kib)
            elif parts[0] == "Pss:":
                totals[kind] = totals.get(kind, 0) + int(parts[1])
    return totals


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
        kinds0 = breakdown(env.daemon_pid(), STACK_KIB) if args.model == "threads" else {}
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
        kinds1 = breakdown(env.daemon_pid(), STACK_KIB) if args.model == "threads" else {}
        login = timed_login(env.port)
        print(f"{n} idle connections opened and greeted in {setup:.2f} s")
        print(f"daemon RSS {rss0} KiB -> {rss1} KiB: {(rss1 - rss0) / n:.1f} KiB per connection")
        print(f"daemon PSS {pss0} KiB -> {pss1} KiB: {(pss1 - pss0) / n:.1f} KiB per connection")
        print(f"login with {n} idle connections open: {login * 1000:.1f} ms")
        for kind in sorted(set(kinds0) | set(kinds1), key=lambda k: kinds0.get(k, 0) - kinds1.get(k, 0)):
            delta = kinds1.get(kind, 0) - kinds0.get(kind, 0)
            if delta:
                print(f"  of which {kind}: {delta / n:.2f} KiB per connection")
        for s in held:
            s.close()
    finally:
        env.close()


if __name__ == "__main__":
    main()
