#!/usr/bin/env python3
"""make bench: pop3d against popa3d and Dovecot on the same machine, in the
same run, with the same real PAM stack, and the figures side by side.

Needs root: every server runs as it does in production (setuid to the mail
user, the system's pam_unix). Nothing on the machine changes. The script
re-runs itself in a private mount namespace where /etc, /var/lib, /usr/lib
and /usr/bin are overlays (the bench users, PAM files and the peers' files
live only there), /var/mail is a spool directory under build/bench, and
everything vanishes when it ends. The peers come from Debian's packages,
fetched with apt-get download and unpacked with dpkg -x, never installed.
The servers listen on 127.0.0.1 only.

    python3 bench/run_bench.py [--quick] [--servers pop3d,popa3d,dovecot,dovecot-index]
    python3 bench/run_bench.py --report build/bench/results.json   # the last run's table again

--quick runs the 160 MB workload alone; --smoke checks that the whole
machinery works (2,000 messages, short runs, no valgrind or perf: the
system tests run it).

Ratios are pop3d's time over the peer's (below 1: pop3d is faster; the
Dovecot column takes the faster of its two setups). Prints figures and
the targets of issue 8; asserts nothing (a server that
fails a step gets "failed" in its column and the run goes on)."""

import argparse
import json
import os
import platform
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
TOOLS = os.path.join(BUILD, "bench")
WORK = os.path.join(TOOLS, "work")      # generated mailboxes, kept between runs
SPOOL = os.path.join(TOOLS, "spool")    # /var/mail inside the namespace
PEERS = os.path.join(TOOLS, "peers")    # unpacked Debian packages
POP3D = os.path.join(ROOT, "src", "pop3d")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from free_ports import free_port, greets, stop_server, wait_for_server  # noqa: E402 (ports reserved against concurrent test runs)
PEER_PACKAGES = ["popa3d", "dovecot-core", "dovecot-pop3d"]

USERS = [f"benchu{i}" for i in range(1, 9)]  # sessions/s: hashed as the system does (yescrypt)
# The opens are timed with users hashed with SHA-512 (5,000 rounds, still
# pam_unix): their login costs a steady few ms, where a yescrypt login
# (about 170 ms here) varies by more than a whole open of 160 MB takes.
MAILBOX_USER, LOGIN_USER = "benchbig", "benchsmall"
PASSWORD = "Bench-pw-7"
PAM_STACK = "@include common-auth\n@include common-account\n"

# name: (messages, median message bytes); sizes come out near 100 MB, 160 MB, 2 GB.
WORKLOADS = {"10k": (10_000, 6_400), "60k": (60_000, 1_700), "1m": (1_000_000, 1_250), "smoke": (2_000, 1_700)}
SERVERS = ["pop3d", "popa3d", "dovecot", "dovecot-index"]
IDLE_CONNECTIONS = 500
FLOOD_CLIENTS = 200  # PASS at the same moment: what a login flood costs in memory


def flood_users():  # one each: no client waits for another's maildrop lock
    return [f"benchf{i}" for i in range(1, FLOOD_CLIENTS + 1)]
SESSION_SECONDS = 20.0
FLOW_NEW = 10     # "leave mail on server": the messages a client has not seen yet
RETR_WINDOW = 16  # commands in flight for the windowed pipelining client
SMOKE = False  # --smoke: every step, tiny and short


def log(msg):
    print(msg, flush=True)


def run(*cmd, check=True, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stdout.strip()[-500:]}")
    return r.stdout


def figures(text):
    """The "key value" lines the bench tools print."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def tool(name):
    return os.path.join(TOOLS, name)




# ---- outside the namespace: peers and workloads ------------------------------

def fetch_peers(packages=None, dest=None, marks=("usr/sbin/dovecot", "usr/sbin/popa3d")):
    """Unpacks Debian packages (the peers' by default) under dest/root
    (build/bench/peers); False if they cannot be had (the run goes on with
    pop3d alone). Nothing is fetched when every file of marks is there."""
    packages, dest = packages or PEER_PACKAGES, dest or PEERS
    root = os.path.join(dest, "root")
    if all(os.path.exists(os.path.join(root, m)) for m in marks):
        return True
    debs = os.path.join(dest, "debs")
    os.makedirs(debs, exist_ok=True)
    for attempt in range(2):
        r = subprocess.run(["apt-get", "download", *packages], cwd=debs, capture_output=True, text=True)
        if r.returncode == 0:
            break
        if attempt == 0:
            log("apt-get download failed; running apt-get update once")
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    else:
        log(f"peers unavailable (apt-get download {' '.join(packages)}: {r.stderr.strip()[-300:]})")
        return False
    shutil.rmtree(root, ignore_errors=True)
    for deb in sorted(os.listdir(debs)):
        run("dpkg-deb", "-x", os.path.join(debs, deb), root)
    return True


def make_workloads(names):
    os.makedirs(WORK, exist_ok=True)
    for name in names + ["callgrind"]:
        n, median = WORKLOADS.get(name, (5_000, 1_700))
        path = os.path.join(WORK, f"{name}.mbox")
        if not os.path.exists(path):
            log(run(tool("gen_mbox"), path + ".tmp", str(n), str(median)).strip())
            os.rename(path + ".tmp", path)
    os.sync()  # a fresh 2 GB file would be written back during the first measurements


# ---- inside the namespace: the private system ---------------------------------

class System:
    """Overlays and bind mounts that make a private /etc, /var/mail and so on."""

    def __init__(self, peers):
        self.scratch = tempfile.mkdtemp(prefix="pop3d-bench-")
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", self.scratch)
        for d in ("etc", "varlib", "usrlib", "usrbin"):
            os.makedirs(f"{self.scratch}/{d}-up")
            os.makedirs(f"{self.scratch}/{d}-work")
        self.overlay("/etc", ["/etc"], "etc")
        self.overlay("/var/lib", ["/var/lib"], "varlib")
        if peers:
            peer_root = os.path.join(PEERS, "root")
            self.overlay("/usr/lib", ["/usr/lib", f"{peer_root}/usr/lib"], "usrlib")
            self.overlay("/usr/bin", ["/usr/bin", f"{peer_root}/usr/bin"], "usrbin")
        shutil.rmtree(SPOOL, ignore_errors=True)
        os.makedirs(SPOOL)
        os.chown(SPOOL, 0, 8)  # root:mail 2775, as on Debian
        os.chmod(SPOOL, 0o2775)
        run("mount", "--bind", SPOOL, "/var/mail")
        os.makedirs("/var/lib/popa3d", exist_ok=True)
        for user in ("popa3d", "dovecot", "dovenull"):
            if not self.has_user(user):
                run("useradd", "--system", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user)
        for user in USERS + [MAILBOX_USER, LOGIN_USER]:
            run("useradd", "--create-home", "--home-dir", f"{self.scratch}/home/{user}", "--shell", "/bin/sh", user)
        for user in flood_users():
            run("useradd", "--create-home", "--home-dir", f"{self.scratch}/home/{user}", "--shell", "/bin/sh", user)
        # chpasswd hashes as the system does (yescrypt on Debian 12).
        run("chpasswd", input="".join(f"{u}:{PASSWORD}\n" for u in USERS + flood_users()))
        run("chpasswd", "-c", "SHA512", input="".join(f"{u}:{PASSWORD}\n" for u in (MAILBOX_USER, LOGIN_USER)))
        for service in ("pop3", "popa3d", "dovecot", "pop3bench"):
            with open(f"/etc/pam.d/{service}", "w") as f:
                f.write(PAM_STACK)
        self.hash_scheme = run("sh", "-c", f"grep '^{USERS[0]}:' /etc/shadow | cut -d'$' -f2").strip()

    def overlay(self, target, lowers, name):
        run("mount", "-t", "overlay", "overlay", "-o",
            f"lowerdir={':'.join(lowers)},upperdir={self.scratch}/{name}-up,workdir={self.scratch}/{name}-work",
            target)

    @staticmethod
    def has_user(name):
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    def install_mailbox(self, user, source=None, data=None, sync=True):
        path = f"/var/mail/{user}"
        if source:
            shutil.copyfile(source, path)
        else:
            with open(path, "wb") as f:
                f.write(data)
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, 8)
        os.chmod(path, 0o600)
        shutil.rmtree(f"{self.scratch}/home/{user}/mail", ignore_errors=True)  # Dovecot's
        if sync:
            os.sync()  # no writeback during the measurement
        return path


def process_tree(root_pid):
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(pid))
            except (OSError, ValueError):
                pass
    out, todo = [], [root_pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Server:
    """One server under test, started and stopped around each workload."""

    def __init__(self, name, system):
        self.name, self.system = name, system
        self.proc = None
        self.port = None
        self.dir = f"{system.scratch}/{name}"
        os.makedirs(self.dir, exist_ok=True)

    def command(self):
        p = self.port
        if self.name == "pop3d":
            conf = f"{self.dir}/pop3d.conf"
            with open(conf, "w") as f:
                f.write(f"log_file = {self.dir}/pop3d.log\npid_file = {self.dir}/pop3d.pid\n"
                        f"session_lock_dir = {self.dir}/locks\nindex_cache_dir = {self.dir}/cache\nmax_connections_per_address = 5000\n"
                        "login_fail_delay = 0\n")
            return [POP3D, "-f", "-c", conf, "-l", f"127.0.0.1:{p}"]
        peer = os.path.join(PEERS, "root", "usr", "sbin")
        if self.name == "popa3d":
            return ["systemd-socket-activate", "-l", f"127.0.0.1:{p}", "-a", "--inetd", f"{peer}/popa3d"]
        index = f":INDEX={self.dir}/index/%u" if self.name == "dovecot-index" else ":INDEX=MEMORY"
        os.makedirs(f"{self.dir}/run", exist_ok=True)
        os.makedirs(f"{self.dir}/index", mode=0o1777, exist_ok=True)
        os.chmod(f"{self.dir}/index", 0o1777)
        conf = f"{self.dir}/dovecot.conf"
        with open(conf, "w") as f:
            f.write(f"""protocols = pop3
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = mbox:~/mail:INBOX=/var/mail/%u{index}
mail_privileged_group = mail
pop3_uidl_format = %08Xu%08Xv
default_process_limit = {IDLE_CONNECTIONS + 100}
default_client_limit = {2 * IDLE_CONNECTIONS + 200}
passdb {{
  driver = pam
  args = dovecot
}}
userdb {{
  driver = passwd
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {p}
  }}
}}
service anvil {{
  chroot =
}}
""")
        return [f"{peer}/dovecot", "-F", "-c", conf]

    def start(self):
        self.port = free_port()
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/stderr", "ab"),
                                     start_new_session=True)
        if wait_for_server(lambda: greets(self.port), self.proc, 15) != "ready":
            raise RuntimeError(f"{self.name} did not start (see {self.dir})")

    def stop(self):
        if self.proc:
            stop_server(self.proc, 10)
            self.proc = None


def message_count(path):
    with open(path, "rb") as f:
        data = f.read()
    return data.count(b"\nFrom ") + data.startswith(b"From ")


def bench_workload(server, system, name, results):
    """Open, second open, UIDL, RETR-all, expunge of half: one workload,
    three times unless it is large (the quickest of each figure: this is a
    shared machine)."""
    source = os.path.join(WORK, f"{name}.mbox")
    repeats = 1 if SMOKE or os.path.getsize(source) > 500_000_000 else 3
    r = results.setdefault(name, {})

    def keep_quickest(found):
        for k, v in found.items():
            r[k] = min(r[k], v) if k.endswith("_s") and k in r else v

    def fresh_copy():
        shutil.rmtree(f"{server.dir}/index/{MAILBOX_USER}", ignore_errors=True)  # Dovecot's, built anew
        shutil.rmtree(f"{server.dir}/cache", ignore_errors=True)  # pop3d's saved indexes, likewise
        return system.install_mailbox(MAILBOX_USER, source)

    for _ in range(repeats):
        fresh_copy()
        keep_quickest(figures(run(tool("pop3_bench"), "mailbox", str(server.port), MAILBOX_USER, PASSWORD, timeout=3600)))
    for _ in range(repeats):
        fresh_copy()  # a first session on this file, then a repeated one
        keep_quickest(figures(run(tool("pop3_bench"), "flow", str(server.port), MAILBOX_USER, PASSWORD,
                                  str(FLOW_NEW), timeout=3600)))
        keep_quickest(figures(run(tool("pop3_bench"), "retr-bulk", str(server.port), MAILBOX_USER, PASSWORD,
                                  timeout=3600)))
    # Once: a server that answers a window of commands slowly (popa3d takes
    # some 3 ms a message) would take minutes a repeat.
    keep_quickest(figures(run(tool("pop3_bench"), "retr-window", str(server.port), MAILBOX_USER, PASSWORD,
                              str(RETR_WINDOW), timeout=3600)))
    for _ in range(repeats):
        path = fresh_copy()  # Dovecot may have rewritten headers into the file
        before = message_count(path)
        keep_quickest(figures(run(tool("pop3_bench"), "expunge", str(server.port), MAILBOX_USER, PASSWORD, timeout=3600)))
        time.sleep(0.2)  # popa3d and Dovecot finish writing after the +OK
        r["expunge_ok"] = r.get("expunge_ok", True) and message_count(path) == before - int(r.get("deleted", -1))


SMALL_MAILBOX = (b"From sender@example.org Thu Nov 26 10:00:00 2026\nSubject: hello\n\n"
                 + b"a short message\n" * 20 + b"\n") * 10


def bench_login(server, system, results):
    """PASS to STAT on a 10-message mailbox: what authentication costs, to
    take out of the open times."""
    system.install_mailbox(LOGIN_USER, data=SMALL_MAILBOX)
    results.update(figures(run(tool("pop3_bench"), "login", str(server.port), LOGIN_USER, PASSWORD, "7", timeout=300)))


def bench_sessions(server, system, results):
    for user in USERS:
        system.install_mailbox(user, data=SMALL_MAILBOX, sync=False)
    os.sync()
    out = run(tool("pop3_bench"), "sessions", str(server.port), PASSWORD, str(SESSION_SECONDS), *USERS, timeout=120)
    results.update(figures(out))


def bench_idle(server, results):
    time.sleep(0.5)
    pids = process_tree(server.proc.pid)
    before = pss_kib(pids)
    holder = subprocess.Popen([tool("pop3_bench"), "idle", str(server.port), str(IDLE_CONNECTIONS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"idle connections: {line!r}")
        time.sleep(1)
        after = pss_kib(process_tree(server.proc.pid))
        results["idle_pss_kib"] = (after - before) / IDLE_CONNECTIONS
    finally:
        holder.stdin.close()
        holder.wait()


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def bench_login_flood(server, results):
    """FLOOD_CLIENTS connections send PASS at the same moment (real PAM,
    yescrypt users): the time until every one is answered, and the most
    memory the host used meanwhile (the drop of MemAvailable; the
    connections are open and greeted before the baseline is taken)."""
    for user in flood_users():
        server.system.install_mailbox(user, data=SMALL_MAILBOX, sync=False)
    os.sync()
    flood = subprocess.Popen([tool("pop3_bench"), "flood", str(server.port), PASSWORD, str(FLOOD_CLIENTS),
                              *flood_users()],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = flood.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"login flood: {line!r}")
        base = low = mem_available_kib()
        while flood.poll() is None:
            low = min(low, mem_available_kib())
            time.sleep(0.02)
        if flood.returncode != 0:
            raise RuntimeError(f"login flood: exit {flood.returncode}")
        results.update(figures(flood.stdout.read()))
        results["flood_peak_mib"] = (base - low) / 1024
    finally:
        if flood.poll() is None:
            flood.kill()
        flood.wait()


def bench_server(name, system, workloads):
    results = {}
    server = Server(name, system)
    try:
        os.sync()  # the previous server's writes are on disk before this one's clock starts
        server.start()
        bench_login(server, system, results)
        # Sessions and idle connections first: a big expunge's writeback
        # would take CPU from them.
        try:
            bench_sessions(server, system, results)
            bench_idle(server, results)
            bench_login_flood(server, results)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            results["error"] = str(e)[:200]
            log(f"  {name}: {e}")
        for w in workloads:
            try:
                bench_workload(server, system, w, results)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                results.setdefault(w, {})["error"] = str(e)[:200]
                log(f"  {name} {w}: {e}")
            log(f"  {name}: {w} done")
    except RuntimeError as e:
        results["error"] = str(e)
        log(f"  {name}: {e}")
    finally:
        server.stop()
    return results


def bench_limits(system):
    """What the hardware and PAM allow, and pop3d's code without the network."""
    lim = {}
    mbox = os.path.join(WORK, "60k.mbox") if os.path.exists(os.path.join(WORK, "60k.mbox")) else None
    copy = f"{system.scratch}/kernels/mbox"
    os.makedirs(os.path.dirname(copy))
    shutil.copyfile(mbox or os.path.join(WORK, "callgrind.mbox"), copy)
    for mode in ("memchr", "open", "uidl", "retr"):
        f = figures(run(tool("mbox_kernels"), mode, copy))
        lim[f"kernel_{mode}_gbs"] = f["bytes"] / f[f"{mode}_s"] / 1e9
        if mode == "open":
            lim["index_bytes_per_message"] = f["index_bytes_per_message"]
    # Expunge on the spool's file system (fsync matters), not the scratch tmpfs.
    f = figures(run(tool("mbox_kernels"), "expunge", mbox or copy, "1" if SMOKE else "3"))
    lim["kernel_expunge_s"] = f["expunge_s"]
    lim["kernel_expunge_mb"] = f["bytes"] / 1e6
    # UIDL when every message carries the same X-UIDL or the same bytes (anyone
    # can mail such copies) against distinct messages: the same order of time.
    lim["uidl_messages"] = 20_000 if SMOKE else 1_000_000
    for mode in ("distinct", "shared", "identical"):
        f = figures(run(tool("uidl_dups"), mode, str(lim["uidl_messages"]), os.path.dirname(copy), "1" if SMOKE else "3"))
        lim[f"uidl_{mode}_s"] = f["uidl_s"]
        lim[f"uidl_{mode}_peak_mib"] = f["uidl_peak_mib"]
    f = figures(run(tool("pop3_bench"), "tcp-limit"))
    lim["tcp_gbs"] = f["tcp_bytes"] / f["tcp_s"] / 1e9
    cores = os.cpu_count() or 1
    for procs in sorted({1, cores}):
        # A session of its own, as every server has: with the kernel's
        # autogroups, CPU is shared between sessions before nice values.
        f = figures(run(tool("pam_loop"), "pop3bench", str(SESSION_SECONDS / 2), str(procs), USERS[0], PASSWORD,
                        start_new_session=True))
        lim[f"pam_{procs}"] = f["pam_logins_per_s"]
    lim["pam_best"] = max(v for k, v in lim.items() if k.startswith("pam_"))
    if shutil.which("perf") and not SMOKE:
        data = f"{system.scratch}/kernels/perf.data"
        r = subprocess.run(["perf", "record", "-q", "-o", data, tool("mbox_kernels"), "retr", copy, "3"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            report = run("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", check=False)
            lim["perf_retr"] = [line.strip() for line in report.splitlines()
                                if line.strip() and not line.startswith("#")][:6]
    if shutil.which("valgrind") and not SMOKE:
        small = f"{system.scratch}/kernels/small"
        shutil.copyfile(os.path.join(WORK, "callgrind.mbox"), small)
        size = os.path.getsize(small)
        for mode in ("memchr", "open", "retr"):
            out_file = f"{system.scratch}/kernels/callgrind.{mode}"
            run("valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", tool("mbox_kernels"), mode, small, "1")
            with open(out_file) as fh:
                total = next(int(line.split()[1]) for line in fh if line.startswith(("summary:", "totals:")))
            lim[f"ir_per_byte_{mode}"] = total / size
    return lim


def inside(args):
    workloads = args.workloads.split(",")
    servers = args.servers.split(",")
    system = System(args.peers)
    log(f"private system ready: {len(USERS)} users for sessions/s, passwords hashed with ${system.hash_scheme}$ "
        f"(system default); {MAILBOX_USER} and {LOGIN_USER} for the opens, with SHA-512")
    limits = bench_limits(system)
    log("limits measured")
    results = {}
    for s in servers:
        if s != "pop3d" and not args.peers:
            continue
        log(f"benchmarking {s}")
        results[s] = bench_server(s, system, workloads)
    with open(args.results, "w") as f:
        json.dump({"limits": limits, "servers": results}, f)


# ---- the table --------------------------------------------------------------

def fmt_s(v):
    return "-" if v is None else f"{v:.3f} s" if v < 10 else f"{v:.1f} s"


def report(data, workloads, servers):
    lim, res = data["limits"], data["servers"]
    servers = [s for s in servers if s in res]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print()
    print(f"pop3d benchmark: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, loopback, page cache warm,")
    print("real PAM (pam_unix through common-auth and common-account, the same stack for every server)")
    print(f"limits: memchr pass {lim['kernel_memchr_gbs']:.2f} GB/s, loopback TCP stream {lim['tcp_gbs']:.2f} GB/s, "
          f"PAM alone {lim['pam_best']:.0f} logins/s "
          f"({', '.join(f'{k[4:]} proc {v:.0f}/s' for k, v in lim.items() if k.startswith('pam_') and k != 'pam_best')})")
    print(f"pop3d's code without the network: open {lim['kernel_open_gbs']:.2f} GB/s, UIDs {lim['kernel_uidl_gbs']:.2f} GB/s, "
          f"RETR encoding {lim['kernel_retr_gbs']:.2f} GB/s; index {lim['index_bytes_per_message']:.0f} bytes/message")
    print(f"expunge of every other message without the network: {lim['kernel_expunge_s']:.3f} s "
          f"({lim['kernel_expunge_mb']:.0f} MB mailbox, on the spool's disk, fsync included)")
    if "uidl_shared_s" in lim:
        print(f"UIDL of {lim['uidl_messages']:,} tiny messages without the network: distinct "
              f"{lim['uidl_distinct_s']:.2f} s, all with one X-UIDL {lim['uidl_shared_s']:.2f} s, byte-identical "
              f"{lim['uidl_identical_s']:.2f} s (memory at the peak: {lim['uidl_distinct_peak_mib']:.0f}, "
              f"{lim['uidl_shared_peak_mib']:.0f}, {lim['uidl_identical_peak_mib']:.0f} MiB)")
    if lim.get("perf_retr"):
        print("perf, open and RETR of every message without the network, top symbols:")
        for line in lim["perf_retr"]:
            print(f"    {line}")
    if "ir_per_byte_open" in lim:
        print(f"callgrind, instructions per mailbox byte: open {lim['ir_per_byte_open']:.2f}, RETR "
              f"{lim['ir_per_byte_retr']:.2f} (a memchr pass: {lim['ir_per_byte_memchr']:.2f})")
    width = 16
    head = (f"{'':28}" + "".join(f"{s:>{width}}" for s in servers) + f"{'pop3d/popa3d':>{width}}"
            + f"{'pop3d/dovecot':>{width}}")
    rows = []
    for w in workloads:
        base = next((res[s][w] for s in servers if w in res[s] and "messages" in res[s][w]), None)
        if not base:
            continue
        mb = base["octets"] / 1e6
        print()
        print(f"workload {w}: {int(base['messages']):,} messages, {mb:.0f} MB (RFC 822 octets)")
        print(head)

        def row(label, key, kind):
            cells, vals = [], {}
            for s in servers:
                r = res[s].get(w, {})
                v = r.get(key)
                vals[s] = v
                if v is None:
                    cells.append("failed" if "error" in r else "-")
                elif kind == "time":
                    cells.append(f"{fmt_s(v)}")
                else:
                    cells.append(f"{v:.0f}")
            ratio = ""
            if vals.get("pop3d") and vals.get("popa3d"):
                ratio = f"{vals['pop3d'] / vals['popa3d']:.2f}x"
            dovecots = [v for k, v in vals.items() if k.startswith("dovecot") and v]
            ratio2 = f"{vals['pop3d'] / min(dovecots):.2f}x" if vals.get("pop3d") and dovecots else ""
            print(f"{label:28}" + "".join(f"{c:>{width}}" for c in cells) + f"{ratio:>{width}}{ratio2:>{width}}")
            return vals

        row("open (PASS to STAT answer)", "open_s", "time")
        # Less what logging in costs on a small mailbox: the mailbox's share
        # (the quickest of both opens less the quickest of 7 logins, as
        # PAM's time varies by more than a fast open takes).
        for s in servers:
            r = res[s].get(w, {})
            if "open_s" in r and "open2_s" in r and "login_min_s" in res[s]:
                net = min(r["open_s"], r["open2_s"]) - res[s]["login_min_s"]
                if net >= 0.001:  # else lost in PAM's noise: shown as "-"
                    r["open_net_s"] = net
        o = row("  less authentication", "open_net_s", "time")
        row("second open", "open2_s", "time")
        u = row("UIDL listing", "uidl_s", "time")
        f = row("leave on server: PASS to UIDL", "flow_uidl_s", "time")
        f2 = row("  repeated session", "flow2_uidl_s", "time")
        row(f"  whole flow, {FLOW_NEW} new + QUIT", "flow_s", "time")
        t = row("RETR all, pipelined", "retr_s", "time")
        tb = row("RETR all, one-write client", "retr_bulk_s", "time")
        tw = row(f"RETR all, window of {RETR_WINDOW}", "retr_window_s", "time")
        e = row("DELE half + QUIT", "expunge_s", "time")
        gbs = {s: (res[s][w]["retr_wire_bytes"] / v / 1e9 if v else None) for s, v in t.items()}
        print(f"{'  RETR throughput':28}" + "".join(f"{(f'{v:.2f} GB/s' if v else '-'):>{width}}" for v in gbs.values()))
        bgbs = {s: (res[s][w]["retr_bulk_bytes"] / v / 1e9 if v else None) for s, v in tb.items()}
        print(f"{'  one-write client':28}" + "".join(f"{(f'{v:.2f} GB/s' if v else '-'):>{width}}" for v in bgbs.values()))
        wgbs = {s: (res[s][w]["retr_window_bytes"] / v / 1e9 if v else None) for s, v in tw.items()}
        print(f"{'  window client':28}" + "".join(f"{(f'{v:.2f} GB/s' if v else '-'):>{width}}" for v in wgbs.values()))
        # Below 5 ms the difference of two noisy times says nothing.
        ogbs = {s: (res[s][w]["octets"] / v / 1e9 if v and v >= 0.005 else None) for s, v in o.items()}
        print(f"{'  open throughput':28}" + "".join(f"{(f'{v:.2f} GB/s' if v else '-'):>{width}}" for v in ogbs.values()))
        print(f"{'  mailbox right after QUIT':28}" + "".join(
            f"{('ok' if res[s][w].get('expunge_ok') else 'WRONG' if 'expunge_s' in res[s][w] else '-'):>{width}}"
            for s in servers))
        rows.append((w, o, t, e, gbs, ogbs, u, f, f2, bgbs))
    print()
    print(head)
    login = {s: res[s].get("login_s") for s in servers}
    print(f"{'login (PASS to STAT, small)':28}" + "".join(f"{fmt_s(v):>{width}}" for v in login.values()))
    sess = {s: res[s].get("sessions_per_s") for s in servers}
    idle = {s: res[s].get("idle_pss_kib") for s in servers}
    print(f"{f'sessions/s ({len(USERS)} clients)':28}" + "".join(f"{(f'{v:.0f}' if v else '-'):>{width}}" for v in sess.values()))
    print(f"{f'PSS per idle connection':28}" + "".join(f"{(f'{v:.1f} KiB' if v is not None else '-'):>{width}}" for v in idle.values()))
    flood = {s: (res[s].get("flood_s"), res[s].get("flood_peak_mib")) for s in servers}
    print(f"{f'{FLOOD_CLIENTS} users PASS at once':28}" +
          "".join(f"{fmt_s(t):>{width}}" for t, _ in flood.values()))
    print(f"{'  memory used at the peak':28}" +
          "".join(f"{(f'{m:.0f} MiB' if m is not None else '-'):>{width}}" for _, m in flood.values()))
    for s in servers:
        if "error" in res[s]:
            print(f"{s}: {res[s]['error']}")
    targets(lim, rows, sess, idle)


def targets(lim, rows, sess, idle):
    print()
    print("targets (issues 8 and 21)")
    checks = []
    ref = next((r for r in rows if r[0] == "60k"), rows[0] if rows else None)  # the workload
    if ref:
        w, o, t, e, gbs, ogbs, u, f, f2, bgbs = ref
        if ogbs.get("pop3d"):
            checks.append((f"open at >= 4 GB/s, authentication aside ({w})", f"{ogbs['pop3d']:.2f} GB/s", ogbs["pop3d"] >= 4))
        if o.get("pop3d") and o.get("popa3d"):
            checks.append((f"open in <= 0.5x popa3d's time, authentication aside ({w})", f"{o['pop3d'] / o['popa3d']:.2f}x",
                           o["pop3d"] <= 0.5 * o["popa3d"]))
        if gbs.get("pop3d"):
            checks.append((f"RETR-all at >= 1.5 GB/s ({w})", f"{gbs['pop3d']:.2f} GB/s", gbs["pop3d"] >= 1.5))
        if bgbs.get("pop3d"):
            checks.append((f"RETR-all at >= 1.5 GB/s, one-write client ({w})", f"{bgbs['pop3d']:.2f} GB/s",
                           bgbs["pop3d"] >= 1.5))
        peers_u = [v for s, v in u.items() if s != "pop3d" and v]
        if u.get("pop3d") and peers_u:
            checks.append((f"UIDL no slower than the fastest peer ({w})", f"{u['pop3d']:.3f} s vs {min(peers_u):.3f} s",
                           u["pop3d"] <= min(peers_u)))
        for label, ff in (("first", f), ("repeated", f2)):
            if ff.get("pop3d") and ff.get("popa3d"):
                checks.append((f"PASS to UIDL answer <= 0.5x popa3d, {label} session ({w})",
                               f"{ff['pop3d'] / ff['popa3d']:.2f}x", ff["pop3d"] <= 0.5 * ff["popa3d"]))
        if gbs.get("pop3d") and gbs.get("popa3d"):
            checks.append((f"RETR-all >= 4x popa3d ({w})", f"{gbs['pop3d'] / gbs['popa3d']:.2f}x",
                           gbs["pop3d"] >= 4 * gbs["popa3d"]))
        if e.get("pop3d") and e.get("popa3d"):
            checks.append((f"expunge of half no slower than popa3d ({w})", f"{e['pop3d']:.3f} s vs {e['popa3d']:.3f} s",
                           e["pop3d"] <= e["popa3d"]))
    peers = [v for s, v in sess.items() if s != "pop3d" and v]
    if sess.get("pop3d") and peers:
        checks.append(("sessions/s >= the best peer's", f"{sess['pop3d']:.0f} vs {max(peers):.0f}",
                       sess["pop3d"] >= max(peers)))
    if sess.get("pop3d"):
        checks.append(("sessions/s within 10% of PAM alone", f"{sess['pop3d']:.1f} vs {lim['pam_best']:.1f}",
                       sess["pop3d"] >= 0.9 * lim["pam_best"]))
    checks.append(("index <= 64 bytes per message", f"{lim['index_bytes_per_message']:.0f} bytes",
                   lim["index_bytes_per_message"] <= 64))
    if idle.get("pop3d") is not None:
        checks.append(("PSS <= 10 KiB per idle connection", f"{idle['pop3d']:.1f} KiB", idle["pop3d"] <= 10))
    for label, value, ok in checks:
        print(f"  {'met    ' if ok else 'NOT MET'}  {label}: {value}")
    print(f"{sum(ok for _, _, ok in checks)} of {len(checks)} targets met")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 60k workload")
    ap.add_argument("--smoke", action="store_true", help="a quick check that everything runs (tiny workload)")
    ap.add_argument("--workloads", default=None, help=f"comma-separated, of {','.join(WORKLOADS)}")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--report", metavar="FILE", help="print the table of a saved run (build/bench/results.json)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--peers", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--results", help=argparse.SUPPRESS)
    args = ap.parse_args()
    # A TERM ends the run through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    global SMOKE, IDLE_CONNECTIONS, SESSION_SECONDS, FLOOD_CLIENTS
    if args.smoke:
        SMOKE, IDLE_CONNECTIONS, SESSION_SECONDS, FLOOD_CLIENTS = True, 50, 2.0, 4
    args.workloads = args.workloads or ("smoke" if args.smoke else "60k" if args.quick
                                        else ",".join(w for w in WORKLOADS if w != "smoke"))
    if args.inside:
        return inside(args)
    if args.report:
        with open(args.report) as f:
            data = json.load(f)
        report(data, data["workloads"], data["server_order"])
        return 0
    if os.geteuid() != 0:
        print("make bench needs root: the servers run as in production (setuid, the system's PAM) inside a "
              "private mount namespace")
        return 1
    for t in ("gen_mbox", "pop3_bench", "pam_loop", "mbox_kernels", "uidl_dups"):
        if not os.access(tool(t), os.X_OK):
            print(f"{tool(t)} missing: run make bench")
            return 1
    load = os.getloadavg()[0]
    if load > 0.5:
        log(f"warning: load average {load:.2f}: other work on this machine skews the timings")
    peers = "pop3d" != args.servers and fetch_peers()
    make_workloads(args.workloads.split(","))
    results = os.path.join(TOOLS, "results.json")
    cmd = ["unshare", "--mount", "--propagation", "private", sys.executable, os.path.abspath(__file__),
           "--inside", "--workloads", args.workloads, "--servers", args.servers, "--results", results]
    if args.smoke:
        cmd.append("--smoke")
    if peers:
        cmd.append("--peers")
    rc = subprocess.call(cmd)
    if rc != 0:
        print(f"benchmark failed (exit {rc})")
        return rc
    with open(results) as f:
        data = json.load(f)
    data["workloads"], data["server_order"] = args.workloads.split(","), args.servers.split(",")
    with open(results, "w") as f:
        json.dump(data, f)
    report(data, data["workloads"], data["server_order"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
