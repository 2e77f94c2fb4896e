#!/usr/bin/env python3
"""Times one POP3 session on a generated mbox: login to STAT (open + index),
UIDL (hashing), RETR of every message pipelined over loopback, and DELE of
half the messages + QUIT (expunge). Prints figures; asserts nothing.

    python3 bench/mbox_session.py [--messages 60000] [--avg-kb 2.7]

Uses the integration harness (pam_wrapper, nss_wrapper, tcpserver), so it
needs what `make check` needs. The issue-8 benchmark against popa3d and
Dovecot will build on this."""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Env, Raw  # noqa: E402


def generate(n, avg_kb, seed=1):
    rnd = random.Random(seed)
    words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"consectetur", b"adipiscing", b"elit", b".dot", b"From"]
    parts = []
    for i in range(n):
        size = int(min(100_000, max(600, rnd.expovariate(1 / (avg_kb * 1024)))))
        head = (f"From sender{i % 977}@example.org Thu Nov 26 10:{i // 60 % 60:02d}:{i % 60:02d} 2026\n"
                f"Received: from mx.example.org by host.example.org; Thu, 26 Nov 2026 10:00:00 +0000\n"
                f"From: Sender {i} <sender{i % 977}@example.org>\nTo: alice@example.org\n"
                f"Subject: message {i}\nMessage-ID: <{i}.bench@example.org>\n"
                f"Date: Thu, 26 Nov 2026 10:00:00 +0000\n\n").encode()
        body = []
        length = 0
        while length < size:
            line = b" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 14)))
            if line.startswith(b"From"):
                line = b">" + line
            body.append(line)
            length += len(line) + 1
        parts.append(head + b"\n".join(body) + b"\n\n")
    return b"".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=60000)
    ap.add_argument("--avg-kb", type=float, default=2.7)
    args = ap.parse_args()

    env = Env(config={"lock_timeout": "30"})
    try:
        data = generate(args.messages, args.avg_kb)
        env.write_mailbox("alice", data)
        env.start()
        mb = len(data) / 1e6
        print(f"mailbox: {args.messages} messages, {mb:.1f} MB")

        for attempt in ("first", "second"):
            c = Raw(env.port, timeout=600)
            c.cmd("USER alice")
            t0 = time.perf_counter()
            c.cmd("PASS secret")
            stat = c.cmd("STAT")
            t1 = time.perf_counter()
            print(f"open+index ({attempt}): {t1 - t0:.3f} s  ({mb / (t1 - t0):.0f} MB/s)  {stat.decode()}")
            if attempt == "first":
                t0 = time.perf_counter()
                c.multiline("UIDL")
                print(f"UIDL listing: {time.perf_counter() - t0:.3f} s")
                n = int(stat.split()[1])
                total = int(stat.split()[2])
                t0 = time.perf_counter()
                c.send("".join(f"RETR {i}\r\n" for i in range(1, n + 1)))
                received = 0
                for _ in range(n):
                    c.line()
                    received += len(c.multiline_raw())
                dt = time.perf_counter() - t0
                print(f"RETR all, pipelined: {dt:.3f} s  ({received / dt / 1e6:.0f} MB/s on the wire, "
                      f"{total / 1e6:.1f} MB of messages)")
            c.cmd("QUIT")
            c.close()

        c = Raw(env.port, timeout=600)
        c.login()
        n = int(c.cmd("STAT").split()[1])
        c.send("".join(f"DELE {i}\r\n" for i in range(1, n + 1, 2)))
        for _ in range(1, n + 1, 2):
            c.line()
        t0 = time.perf_counter()
        reply = c.cmd("QUIT")
        print(f"expunge half ({(n + 1) // 2} messages): {time.perf_counter() - t0:.3f} s  {reply.decode()}")
    finally:
        env.close()


if __name__ == "__main__":
    main()
