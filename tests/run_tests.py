#!/usr/bin/env python3
"""Runs every test pop3d has and ends with one line: "N passed, M failed".

1. GoogleTest unit tests (build/unit_tests).
2. Integration tests (tests/integration): the real pop3d -i through real clients.
   When run as root they run a second time as the unprivileged user nobody,
   because pop3d must work both ways.
3. System tests (tests/system) against the machine's real PAM, users and
   /var/mail, only when POP3D_SYSTEM_TESTS=1 and root (CI sets it: a
   throw-away machine).

Skipped tests are listed, never hidden."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.skipped = []

    def merge(self, other):
        self.passed += other["passed"]
        self.failed += other["failed"]
        self.skipped += other["skipped"]

    def as_dict(self):
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped}


def run_unit(binary, tally, label=""):
    print(f"== {label}unit tests ({binary})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "gtest.json")
        r = subprocess.run([binary, f"--gtest_output=json:{report}"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if not os.path.exists(report):
            print(r.stdout[-4000:])
            tally.failed.append(f"unit tests did not run (exit {r.returncode})")
            return
        with open(report) as f:
            data = json.load(f)
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            name = f"{label}{suite['name']}.{t['name']}"
            if t.get("failures"):
                tally.failed.append(name)
                print(f"FAIL  {name}")
                for failure in t["failures"]:
                    print("      " + failure.get("failure", "").replace("\n", "\n      "))
            elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                reason = t.get("skipped", {}).get("message", "") if isinstance(t.get("skipped"), dict) else ""
                tally.skipped.append(f"{name} {reason}".strip())
            else:
                tally.passed += 1
    print(f"   {tally.passed} passed so far", flush=True)


def run_fuzz_replays(directory, tally, label=""):
    """Each fuzz target (built with g++, no libFuzzer) over its seed corpus
    and past crashes: one test per target."""
    print(f"== {label}fuzz corpora replayed ({os.path.relpath(directory, ROOT)})", flush=True)
    for target in sorted(os.listdir(os.path.join(HERE, "fuzz", "corpus"))):
        name = f"{label}fuzz.replay_{target}"
        inputs = [os.path.join(HERE, "fuzz", d, target) for d in ("corpus", "regressions")]
        inputs = [d for d in inputs if os.path.isdir(d)]
        r = subprocess.run([os.path.join(directory, f"replay_{target}")] + inputs, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        if r.returncode == 0:
            tally.passed += 1
        else:
            tally.failed.append(name)
            print(f"FAIL  {name}\n" + r.stdout[-3000:])


class CountingResult(unittest.TextTestResult):
    def __init__(self, stream, descriptions, verbosity, tally=None, label=""):
        super().__init__(stream, descriptions, verbosity)
        self.tally = tally
        self.label = label

    def _name(self, test):
        return self.label + test.id().replace("test_", "", 1)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.tally.passed += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.tally.failed.append(self._name(test))

    def addError(self, test, err):
        super().addError(test, err)
        name = self._name(test) if hasattr(test, "id") else str(test)
        self.tally.failed.append(name)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.tally.skipped.append(f"{self._name(test)} ({reason})")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.tally.failed.append(self._name(test))

    def addSubTest(self, test, subtest, err):
        # A failed subTest never reaches addFailure/addError: without this it
        # would not be counted at all (and the test not counted as passed).
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.tally.failed.append(self._name(subtest))


# The protocol suites that run again under every other launch mode.
PROTOCOL_SUITES = ["test_protocol", "test_auth", "test_clients", "test_sasl", "test_proxy",
                   "test_hardening.FailureBudgetTest", "test_local_user", "test_live_control.LiveControlTest",
                   "test_mailbox_access", "test_mailbox_locks.OneSessionPerMaildropTest", "test_mailbox_locks.LockTest",
                   "test_mailbox_expunge.ExpungeTest", "test_mailbox_delivery.DeliveryDuringSessionTest",
                   "test_uidl.UidlLargeMailboxTest", "test_uidl.UidlCompatTest"]
OTHER_LAUNCHERS = ["threads", "fork", "activate-listen", "activate-accept"]


def run_suite(directory, tally, label, modules=None):
    print(f"== {label}tests in {os.path.relpath(directory, ROOT)}", flush=True)
    sys.path.insert(0, directory)
    try:
        if modules:
            suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
        else:
            suite = unittest.defaultTestLoader.discover(directory, pattern="test_*.py", top_level_dir=directory)
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=1,
                                         resultclass=lambda *a, **k: CountingResult(*a, **k, tally=tally, label=label))
        runner.run(suite)
    finally:
        sys.path.remove(directory)


def fetch_peers():
    """The old servers the uidl_compat tests run (popa3d, Dovecot, UW's
    c-client: Debian packages, unpacked under build/bench), fetched by root
    before the two passes start (tests/integration/peer_servers.py)."""
    sys.path.insert(0, os.path.join(HERE, "integration"))
    try:
        import peer_servers
        if not peer_servers.prefetch():
            print("the old servers' packages could not be fetched: their tests skip")
    finally:
        sys.path.remove(os.path.join(HERE, "integration"))


class NobodyRun:
    """The unit and integration tests again as an ordinary user, run beside
    the root pass (the tests mostly wait, so two passes share two cores);
    its output is printed when it ends. It takes PAM through pam_confdir, so
    between them the two passes cover both ways of loading PAM."""
    label = "[as nobody] "

    def __init__(self, args, tally):
        self.tally = tally
        self.proc = None
        probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "test", "-x", os.path.abspath(args.pop3d), "-a", "-r", __file__],
                               capture_output=True)
        if probe.returncode != 0:
            tally.skipped.append(f"{self.label}unit and integration tests (the build tree is not readable by nobody)")
            return
        self.tmp = tempfile.TemporaryDirectory()
        os.chmod(self.tmp.name, 0o777)
        self.report = os.path.join(self.tmp.name, "report.json")
        # sys.executable may live under /root (pyenv); Debian's python3 does not.
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        # PAM through pam_start_confdir, not pam_wrapper: the two passes run
        # at once, and pam_wrapper's /tmp/pam.X names (one random character)
        # collide between concurrent processes.
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", "HOME=/tmp",
               "POP3D_PAM_MODE=confdir",
               python, "-W", "ignore", __file__, "--pop3d", os.path.abspath(args.pop3d),
               "--unit", os.path.abspath(args.unit), "--report", self.report, "--label", self.label]
        if args.fuzz_replays:
            cmd += ["--fuzz-replays", os.path.abspath(args.fuzz_replays)]
        self.output = open(os.path.join(self.tmp.name, "output"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.output, stderr=subprocess.STDOUT)

    def finish(self):
        if not self.proc:
            return
        rc = self.proc.wait()
        self.output.seek(0)
        sys.stdout.write(self.output.read())
        self.output.close()
        if not os.path.exists(self.report):
            self.tally.failed.append(f"{self.label}integration run crashed (exit {rc})")
        else:
            with open(self.report) as f:
                self.tally.merge(json.load(f))
        self.tmp.cleanup()


def print_summary(tally, started):
    """The end of every run: what was skipped, what failed, and the one line."""
    print()
    for s in tally.skipped:
        print(f"skipped: {s}")
    for f in tally.failed:
        print(f"FAILED: {f}")
    print(f"{len(tally.skipped)} skipped; took {time.monotonic() - started:.0f} s")
    print(f"{tally.passed} passed, {len(tally.failed)} failed")
    return 1 if tally.failed else 0


def sanitizer_reports(directory, tally):
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), errors="replace") as f:
            print(f.read())
        tally.failed.append(f"sanitizer report {name}")


def run_sanitized(args):
    """make tsan: the threaded daemon under ThreadSanitizer. make asan: every
    test against a daemon, unit tests and fuzz replays built with
    AddressSanitizer and UBSan. Any report fails the run."""
    started = time.monotonic()
    os.environ["POP3D_BINARY"] = os.path.abspath(args.pop3d)
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        # pam_wrapper cannot run under a sanitizer (RTLD_DEEPBIND): PAM
        # through pam_confdir instead; nss_wrapper is told not to deep-bind.
        os.environ["POP3D_PAM_MODE"] = "confdir"
        os.environ["NSS_WRAPPER_DISABLE_DEEPBIND"] = "1"
        integration = os.path.join(HERE, "integration")
        if args.sanitizer == "thread":
            os.environ["TSAN_OPTIONS"] = (f"log_path={tmp}/report exitcode=66 halt_on_error=0 "
                                          f"second_deadlock_stack=1 suppressions={HERE}/tsan.supp")
            os.environ["POP3D_TEST_CONFIG"] = "thread_stack_size=8m"  # TSan frames are much larger
            os.environ["POP3D_LAUNCHER"] = "threads"
            run_suite(integration, tally, "[tsan threads] ", PROTOCOL_SUITES + ["test_daemon"])
        else:
            # The preloaded wrappers come before the ASan runtime, which is fine.
            asan = f"log_path={tmp}/asan:verify_asan_link_order=0:abort_on_error=0:exitcode=66"
            os.environ["UBSAN_OPTIONS"] = f"log_path={tmp}/ubsan:print_stacktrace=1:halt_on_error=1"
            os.environ["POP3D_TEST_CONFIG"] = "thread_stack_size=4m"  # ASan frames are larger
            os.environ["ASAN_OPTIONS"] = asan + ":detect_leaks=1"
            if args.part == "launchers":  # the half that runs beside the other
                os.environ["ASAN_OPTIONS"] = asan + ":detect_leaks=0"
                for launcher in OTHER_LAUNCHERS:
                    os.environ["POP3D_LAUNCHER"] = launcher
                    run_suite(integration, tally, f"[asan {launcher}] ", PROTOCOL_SUITES)
                sanitizer_reports(tmp, tally)
                with open(args.report, "w") as f:
                    json.dump(tally.as_dict(), f)
                return 0
            # The other launch modes run at the same time, in a second process.
            other = tempfile.NamedTemporaryFile("w+", suffix=".log")
            report = os.path.join(tmp, "launchers.json")
            child = subprocess.Popen([sys.executable, __file__, "--pop3d", args.pop3d, "--sanitizer", "address",
                                      "--part", "launchers", "--report", report],
                                     stdout=other, stderr=subprocess.STDOUT)
            run_unit(args.unit, tally, "[asan] ")
            if args.fuzz_replays:
                run_fuzz_replays(args.fuzz_replays, tally, "[asan] ")
            # LeakSanitizer cannot inspect a process that changed its uid
            # (it is no longer dumpable): no leak checks in the daemon.
            os.environ["ASAN_OPTIONS"] = asan + ":detect_leaks=0"
            run_suite(integration, tally, "[asan] ")
            rc = child.wait()
            other.seek(0)
            sys.stdout.write(other.read())
            if os.path.exists(report):
                with open(report) as f:
                    tally.merge(json.load(f))
                os.unlink(report)
            else:
                tally.failed.append(f"[asan] launcher run crashed (exit {rc})")
        sanitizer_reports(tmp, tally)
    return print_summary(tally, started)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pop3d", default=os.path.join(ROOT, "src", "pop3d"))
    ap.add_argument("--unit", default=os.path.join(ROOT, "build", "unit_tests"))
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--fuzz-replays", help="directory of the replay_TARGET programs")
    ap.add_argument("--report")
    ap.add_argument("--label", default="")
    ap.add_argument("--only", help="comma-separated test names (module.Class[.test]) to run alone")
    ap.add_argument("--with-unit", action="store_true", help="with --only: run the unit tests too")
    ap.add_argument("--part", choices=["launchers"], help=argparse.SUPPRESS)
    ap.add_argument("--sanitizer", choices=["thread", "address"], help="run against an instrumented daemon "
                    "(thread: the threaded suites; address: everything) and count every report as a failure")
    args = ap.parse_args()
    if args.sanitizer:
        return run_sanitized(args)
    if args.only:
        os.environ["POP3D_BINARY"] = os.path.abspath(args.pop3d)
        started = time.monotonic()
        tally = Tally()
        if args.with_unit:
            run_unit(args.unit, tally)
        run_suite(os.path.join(HERE, "integration"), tally, "", args.only.split(","))
        return print_summary(tally, started)
    os.environ["POP3D_BINARY"] = os.path.abspath(args.pop3d)
    started = time.monotonic()
    tally = Tally()
    nobody = None
    if not args.report and os.geteuid() == 0 and os.environ.get("POP3D_SKIP_NOBODY") != "1":
        fetch_peers()
        nobody = NobodyRun(args, tally)

    if not args.integration_only:
        run_unit(args.unit, tally, args.label)
        if args.fuzz_replays:
            run_fuzz_replays(args.fuzz_replays, tally, args.label)
    integration = os.path.join(HERE, "integration")
    run_suite(integration, tally, args.label)
    for launcher in OTHER_LAUNCHERS:
        os.environ["POP3D_LAUNCHER"] = launcher
        run_suite(integration, tally, f"{args.label}[{launcher}] ", PROTOCOL_SUITES)
    os.environ.pop("POP3D_LAUNCHER", None)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(tally.as_dict(), f)
        return 0
    if nobody:
        nobody.finish()
    if os.environ.get("POP3D_SYSTEM_TESTS") == "1":
        if os.geteuid() == 0:
            run_suite(os.path.join(HERE, "system"), tally, "[system] ")
        else:
            tally.skipped.append("[system] tests (POP3D_SYSTEM_TESTS=1 needs root)")
    else:
        tally.skipped.append("[system] real PAM, users and /var/mail (set POP3D_SYSTEM_TESTS=1 on a "
                             "throw-away machine, as CI does)")

    return print_summary(tally, started)


if __name__ == "__main__":
    sys.exit(main())
