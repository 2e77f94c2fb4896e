"""What the bench scripts share: the path to the test harness and a timed login."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Raw  # noqa: E402


def timed_login(port, timeout=60):
    """Connect, USER/PASS, QUIT: returns (seconds to the PASS answer, that answer)."""
    start = time.perf_counter()
    c = Raw(port, timeout=timeout)
    reply = c.login()
    elapsed = time.perf_counter() - start
    c.cmd("QUIT")
    c.close()
    return elapsed, reply
