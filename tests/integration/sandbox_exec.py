#!/usr/bin/env python3
"""Applies a sandbox spec by hand and execs a program in it, the way systemd
would start a unit's ExecStart (systemd is not PID 1 on the test machines).

Run as root inside `unshare --mount --propagation private` (plus --uts/--ipc
as the spec asks): python3 sandbox_exec.py SPEC.json. The spec (written by
unit_sandbox.py from a unit file) holds, in order:
  mounts       steps that build the file system view (bind, tmpfs, remount_ro...)
  keep_caps    the capability bounding set (numbers); inheritable and ambient go
  umask, no_new_privs, stderr_null
  seccomp      BPF programs, each a list of [code, jt, jf, k], installed in order
  argv, env    what to exec
Every step is checked; any failure exits 121 before the program runs.
Only stdlib: this runs before anything else in the new namespace."""

import ctypes
import json
import os
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
# statvfs f_flag bits -> mount flags to keep when a mount is remounted
KEEP_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
              os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME, os.ST_RELATIME: MS_RELATIME}
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def die(what):
    sys.stderr.write(f"sandbox_exec: {what}\n")
    sys.exit(121)


def mount(source, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if s is not None else None)
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        e = ctypes.get_errno()
        die(f"mount({source}, {target}, {fstype}, {flags:#x}, {data}): {os.strerror(e)}")


def kept_flags(path):
    f = os.statvfs(path).f_flag
    return sum(ms for st, ms in KEEP_FLAGS.items() if f & st)


def remount(path, read_only):
    mount(None, path, None, MS_REMOUNT | MS_BIND | kept_flags(path) | (MS_RDONLY if read_only else 0))


def mount_points():
    """Mount points in this namespace, parents first (octal escapes decoded)."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            raw = line.split()[4]
            points.append(raw.encode().decode("unicode_escape").encode("latin-1").decode())
    return sorted(set(points), key=lambda p: (p.count("/"), p))


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def step_remount_ro(s):
    for p in mount_points():
        if under(p, s["under"]) and not any(under(p, x) for x in s.get("skip", [])) and os.path.exists(p):
            remount(p, True)


def step_bind(s, early):
    src = f"/proc/self/fd/{early[s['src']]}" if s.get("early") else s["src"]
    if s.get("if_exists") and not os.path.exists(src):
        return
    dst = s["dst"]
    if s.get("create") and not os.path.lexists(dst):  # only inside a tmpfs made here
        if os.path.isdir(src):
            os.makedirs(dst, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "a").close()
    mount(src, dst, None, MS_BIND | MS_REC)
    remount(dst, s.get("ro", False))


def step_tmpfs(s):
    if s.get("if_exists") and not os.path.isdir(s["dst"]):
        return
    flags = MS_NOSUID | (MS_NODEV if s.get("nodev", True) else 0) | (MS_NOEXEC if s.get("noexec") else 0)
    mount("tmpfs", s["dst"], "tmpfs", flags, f"mode={s['mode']:o}")
    if s.get("ro"):
        remount(s["dst"], True)


def run_step(s, early):
    op = s["op"]
    if op == "remount_ro":
        step_remount_ro(s)
    elif op == "bind":
        step_bind(s, early)
    elif op == "tmpfs":
        step_tmpfs(s)
    elif op == "mkdir":
        os.mkdir(s["path"], s["mode"])
        os.chmod(s["path"], s["mode"])
    elif op == "touch":
        open(s["path"], "a").close()
    elif op == "symlink":
        os.symlink(s["target"], s["path"])
    elif op == "proc":
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, s["options"])
    else:
        die(f"unknown step {op}")


def drop_capabilities(keep, last_cap):
    for cap in range(last_cap + 1):
        if cap not in keep and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            die(f"PR_CAPBSET_DROP {cap}: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0:
        die("PR_CAP_AMBIENT_CLEAR_ALL failed")
    # Inheritable caps would survive exec outside the bounding set: clear them.
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capget(header, data) != 0:
        die("capget failed")
    data[2] = data[5] = 0
    if libc.capset(header, data) != 0:
        die("capset failed")


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def install_seccomp(program):
    insns = (SockFilter * len(program))(*[SockFilter(c, jt, jf, k) for c, jt, jf, k in program])
    prog = SockFprog(len(program), insns)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        die(f"seccomp: {os.strerror(ctypes.get_errno())}")


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    # Never touch the caller's mounts: this must be a namespace of its own.
    if os.readlink("/proc/self/ns/mnt") == spec["outer_mnt_ns"]:
        die("not in a new mount namespace")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Sources that later steps hide (under /tmp, /dev): opened now.
    early = {s["src"]: os.open(s["src"], os.O_PATH | os.O_CLOEXEC)
             for s in spec["mounts"] if s["op"] == "bind" and s.get("early")}
    for s in spec["mounts"]:
        run_step(s, early)
    for fd in early.values():
        os.close(fd)
    os.chdir("/")
    os.umask(spec["umask"])
    if spec.get("stderr_null"):
        fd = os.open("/dev/null", os.O_WRONLY)
        if not stat.S_ISCHR(os.fstat(fd).st_mode):
            die("/dev/null is not a device")
        os.dup2(fd, 2)
        os.close(fd)
    drop_capabilities(set(spec["keep_caps"]), last_cap)
    if spec.get("no_new_privs") and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("PR_SET_NO_NEW_PRIVS failed")
    for program in spec["seccomp"]:
        install_seccomp(program)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    main()
