#!/usr/bin/env python3
"""Answer times of failed logins: an unknown user against a known user with
a wrong password, alternating, N tries each. Prints both medians and their
difference; asserts nothing.

    python3 bench/login_timing.py [--tries 50] [--delay 1] [--launcher tcpserver]

Target (issue 6): the medians differ by under 10%. The rising per-address
delay is held at --delay (login_fail_delay_max = login_fail_delay) and the
budget is off, so every try measures the same thing. PAM is pam_matrix
through pam_wrapper: the same code path as the system's PAM, with a
password file instead of /etc/shadow."""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from fixtures import simple  # noqa: E402
from harness import Env, Raw  # noqa: E402


def timed_failure(port, user):
    c = Raw(port)
    try:
        c.cmd(f"USER {user}")
        start = time.monotonic()
        reply = c.cmd("PASS not-the-password")
        elapsed = time.monotonic() - start
    finally:
        c.close()
    assert reply == b"-ERR [AUTH] authentication failed", reply
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=50)
    ap.add_argument("--delay", type=int, default=1, help="login_fail_delay in seconds")
    ap.add_argument("--launcher", default="threads")
    args = ap.parse_args()
    env = Env(config={"login_fail_delay": str(args.delay), "login_fail_delay_max": str(args.delay),
                      "auth_fail_budget": "0"})
    try:
        env.write_mailbox("alice", simple(1))
        env.start(args.launcher)
        unknown, wrong = [], []
        for _ in range(args.tries):
            unknown.append(timed_failure(env.port, "nosuchuser"))
            wrong.append(timed_failure(env.port, "alice"))
    finally:
        env.close()
    mu, mw = statistics.median(unknown), statistics.median(wrong)
    print(f"launcher {args.launcher}, login_fail_delay {args.delay} s, {args.tries} tries each")
    print(f"unknown user:   median {mu * 1000:.1f} ms (min {min(unknown) * 1000:.1f}, max {max(unknown) * 1000:.1f})")
    print(f"wrong password: median {mw * 1000:.1f} ms (min {min(wrong) * 1000:.1f}, max {max(wrong) * 1000:.1f})")
    print(f"difference of the medians: {abs(mu - mw) * 1000:.2f} ms = {abs(mu - mw) / max(mu, mw) * 100:.2f}%")


if __name__ == "__main__":
    main()
