"""A systemd unit's sandbox, as steps a test takes by hand (systemd is not
PID 1 on the test machines): reads the [Service] settings of a unit file and
writes the spec that sandbox_exec.py applies inside `unshare`.

Every [Service] key of the unit must be known here, either applied or named
as not part of the sandbox: a unit that gains a setting fails the test until
this file learns it, so the by-hand run keeps following the unit.

x86_64 only (syscall numbers from the kernel headers)."""

import functools
import json
import os
import re
import shlex
import socket
import subprocess

from seccomp_bpf import (allow_list, deny_write_execute, fail, KILL_PROCESS, lock_personality, restrict_families,
                         restrict_namespaces, restrict_realtime, restrict_suid_sgid)

SYSCALL_HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
CAPABILITY_HEADER = "/usr/include/linux/capability.h"

# Keys that are not part of the sandbox, or that the launcher itself stands for.
NOT_SANDBOX = {"Type", "ExecReload", "Restart", "TasksMax", "LimitNOFILE", "RuntimeDirectoryPreserve",
               "StandardInput", "StandardOutput"}
# Applied through the system call filter (their syscalls are denied) and
# through the private /dev (no rtc, no kmsg) or /proc subset.
DENIED_SYSCALLS = {"ProtectClock": ["@clock"], "ProtectKernelModules": ["@module"],
                   "ProtectKernelLogs": ["syslog"], "ProtectHostname": ["sethostname", "setdomainname"]}
APPLIED = {"ExecStart", "StandardError", "RuntimeDirectory", "RuntimeDirectoryMode", "CacheDirectory",
           "CacheDirectoryMode", "CapabilityBoundingSet",
           "NoNewPrivileges", "UMask", "ProtectSystem", "ReadWritePaths", "ProtectHome", "PrivateTmp",
           "PrivateDevices", "PrivateIPC", "PrivateMounts", "ProtectKernelTunables", "ProtectControlGroups",
           "ProtectProc", "ProcSubset", "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime",
           "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute", "SystemCallArchitectures",
           "SystemCallFilter", "SystemCallErrorNumber", *DENIED_SYSCALLS}


def read_unit(path):
    """{key: [values in order]} of the [Service] section."""
    out, section = {}, None
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def last(settings, key, default=None):
    return settings[key][-1] if key in settings else default


def yes(settings, key):
    return last(settings, key, "no").lower() in ("yes", "true", "1", "on")


def header_numbers(path, pattern):
    with open(path) as f:
        return {m.group(1): int(m.group(2)) for m in re.finditer(pattern, f.read())}


@functools.lru_cache(None)
def syscall_numbers():
    return header_numbers(SYSCALL_HEADER, r"#define __NR_(\w+)\s+(\d+)")


@functools.lru_cache(None)
def capability_numbers():
    return header_numbers(CAPABILITY_HEADER, r"#define (CAP_\w+)\s+(\d+)\n")


@functools.lru_cache(None)
def syscall_group(name):
    """The syscall names of a systemd group, nested groups expanded."""
    r = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True)
    names = set()
    for line in r.stdout.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= syscall_group(item) if item.startswith("@") else {item}
    return frozenset(names)


def expand(items):
    names = set()
    for item in items:
        item = item.split(":")[0]  # name:errno
        names |= syscall_group(item) if item.startswith("@") else {item}
    return names


def allowed_syscalls(settings):
    """SystemCallFilter= as systemd reads it: an allow list (the first line
    has no ~; @default joins it), later ~lines take names out of it."""
    values = settings.get("SystemCallFilter", [])
    if not values or values[0].startswith("~"):
        raise NotImplementedError("the by-hand sandbox supports an allow-list SystemCallFilter only")
    allowed = expand(["@default"])
    for value in values:
        if value.startswith("~"):
            allowed -= expand(value[1:].split())
        else:
            allowed |= expand(value.split())
    for key, denied in DENIED_SYSCALLS.items():
        if yes(settings, key):
            allowed -= expand(denied)
    return allowed


def bounding_set(settings):
    """CapabilityBoundingSet= lines OR'd together (no ~ form)."""
    caps = set()
    for value in settings.get("CapabilityBoundingSet", []):
        if value.startswith("~") or not value:
            raise NotImplementedError("CapabilityBoundingSet=~... or an empty reset")
        caps |= set(value.split())
    return caps


def address_families(settings):
    values = " ".join(settings.get("RestrictAddressFamilies", []))
    if not values or values.startswith("~"):
        raise NotImplementedError("RestrictAddressFamilies= must be an allow list")
    return {getattr(socket, name) for name in values.split()}


def seccomp_programs(settings):
    nr = syscall_numbers()
    if last(settings, "SystemCallArchitectures") != "native":
        raise NotImplementedError("SystemCallArchitectures=native only")
    errno_name = last(settings, "SystemCallErrorNumber")
    default = fail(getattr(__import__("errno"), errno_name)) if errno_name else KILL_PROCESS
    numbers = {nr[n] for n in allowed_syscalls(settings) if n in nr}  # others do not exist on x86_64
    programs = [allow_list(numbers, default), restrict_families(nr, address_families(settings))]
    for key, build in (("RestrictNamespaces", restrict_namespaces), ("MemoryDenyWriteExecute", deny_write_execute),
                       ("RestrictSUIDSGID", restrict_suid_sgid), ("RestrictRealtime", restrict_realtime),
                       ("LockPersonality", lock_personality)):
        if yes(settings, key):
            programs.append(build(nr))
    return programs


def unknown_keys(settings):
    return sorted(set(settings) - NOT_SANDBOX - APPLIED)


def unshare_options(settings):
    """What `unshare` must create: the mount namespace always (PrivateMounts
    and every file system setting), UTS for ProtectHostname, IPC for PrivateIPC."""
    opts = ["--mount", "--propagation", "private"]
    if yes(settings, "ProtectHostname"):
        opts.append("--uts")
    if yes(settings, "PrivateIPC"):
        opts.append("--ipc")
    return opts


DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2", "log": "/run/systemd/journal/dev-log"}


def file_system_steps(settings, host, keep):
    """Mount steps in systemd's order of effect. host: {path: test file or
    directory} bound over the host's own (its users, PAM and NSS files under
    /etc, its spool for /var/mail, its run directory for /run/pop3d): the
    machine as the test makes it look, read-only like the rest unless the
    unit makes the path writable. keep: [(path, read_only)] of the test's own
    files under /tmp that the program needs (its -c config, its log), bound
    back after PrivateTmp."""
    if last(settings, "ProtectSystem") != "strict":
        raise NotImplementedError("ProtectSystem=strict only")
    if yes(settings, "ProtectKernelLogs") and not yes(settings, "PrivateDevices"):
        raise NotImplementedError("ProtectKernelLogs hides /dev/kmsg here only through PrivateDevices")

    def bind_host(paths):
        return [{"op": "bind", "src": host[p], "dst": p, "ro": True, "early": True} for p in paths]

    steps = bind_host(p for p in host if not under(p, "/run"))
    # /run: a fresh tmpfs, nothing of the host's; systemd creates the RuntimeDirectory in it.
    runtime = ["/run/" + name for name in " ".join(settings.get("RuntimeDirectory", [])).split()]
    steps.append({"op": "tmpfs", "dst": "/run", "mode": 0o755})
    steps += [{"op": "mkdir", "path": p, "mode": 0o755} for p in runtime]
    steps += bind_host(p for p in host if under(p, "/run"))
    # The CacheDirectory: systemd makes it under /var/cache and keeps it
    # writable; here in a tmpfs of the namespace's own, the host's untouched.
    cache = ["/var/cache/" + name for name in " ".join(settings.get("CacheDirectory", [])).split()]
    if cache:
        steps.append({"op": "tmpfs", "dst": "/var/cache", "mode": 0o755})
        steps += [{"op": "mkdir", "path": p, "mode": int(last(settings, "CacheDirectoryMode", "0755"), 8)}
                  for p in cache]
    steps.append({"op": "remount_ro", "under": "/", "skip": ["/proc", "/dev", "/sys"]})
    if yes(settings, "ProtectKernelTunables"):
        steps.append({"op": "remount_ro", "under": "/sys"})
    elif yes(settings, "ProtectControlGroups"):
        steps.append({"op": "remount_ro", "under": "/sys/fs/cgroup"})
    for path in " ".join(settings.get("ReadWritePaths", [])).split() + runtime + cache:
        optional = path.startswith("-")  # systemd: a missing path is no error
        path = path.lstrip("-")
        steps.append({"op": "bind", "src": path, "dst": path, "ro": False, "if_exists": optional})
    steps += protect_home(last(settings, "ProtectHome", "no"))
    if yes(settings, "PrivateTmp"):
        steps += [{"op": "tmpfs", "dst": d, "mode": 0o1777} for d in ("/tmp", "/var/tmp")]
    steps += [{"op": "bind", "src": p, "dst": p, "ro": ro, "early": True, "create": True} for p, ro in keep]
    if yes(settings, "ProtectKernelModules"):
        steps.append({"op": "tmpfs", "dst": "/usr/lib/modules", "mode": 0, "ro": True, "if_exists": True})
    if yes(settings, "PrivateDevices"):
        steps += private_dev()
    steps.append({"op": "proc", "options": proc_options(settings)})
    if yes(settings, "ProtectKernelTunables") and last(settings, "ProcSubset", "all") == "all":
        steps += [{"op": "bind", "src": p, "dst": p, "ro": True, "if_exists": True}
                  for p in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")]
    return steps


def protect_home(value):
    if value in ("yes", "true"):
        return [{"op": "tmpfs", "dst": d, "mode": 0, "ro": True, "if_exists": True} for d in ("/home", "/root")]
    if value in ("no", "false", "read-only"):  # read-only: ProtectSystem=strict did it
        return []
    raise NotImplementedError(f"ProtectHome={value}")


def private_dev():
    """A /dev of pseudo devices only, like PrivateDevices=yes."""
    steps = [{"op": "tmpfs", "dst": "/dev", "mode": 0o755, "nodev": False, "noexec": True}]
    for name in DEVICES:
        steps.append({"op": "bind", "src": "/dev/" + name, "dst": "/dev/" + name, "ro": False, "early": True,
                      "create": True})
    steps += [{"op": "mkdir", "path": "/dev/shm", "mode": 0o1777},
              {"op": "tmpfs", "dst": "/dev/shm", "mode": 0o1777}]
    steps += [{"op": "symlink", "target": target, "path": "/dev/" + name} for name, target in DEV_LINKS.items()]
    return steps


def proc_options(settings):
    subset = last(settings, "ProcSubset", "all")
    if subset not in ("all", "pid"):
        raise NotImplementedError(f"ProcSubset={subset}")
    options = ["subset=pid"] if subset == "pid" else []
    protect = last(settings, "ProtectProc", "default")
    if protect != "default":
        options.append("hidepid=" + protect)
    return ",".join(options)


def exec_argv(settings, binary, extra_args):
    """ExecStart with the installed path replaced by the built binary."""
    argv = shlex.split(last(settings, "ExecStart"))
    argv[0] = argv[0].lstrip("-@:+!")
    assert argv[0] == "/usr/sbin/pop3d", argv
    return [binary, *argv[1:], *extra_args]


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def spec(unit_path, binary, extra_args=(), env=None, host=None, keep=(), drop_caps=()):
    """Everything sandbox_exec.py needs to start the unit's ExecStart by hand.
    drop_caps: names taken out of the unit's bounding set (sanity checks)."""
    settings = read_unit(unit_path)
    unknown = unknown_keys(settings)
    if unknown:
        raise NotImplementedError(f"{unit_path}: the by-hand sandbox does not know {unknown}")
    caps = capability_numbers()
    runtime = " ".join(settings.get("RuntimeDirectory", [])).split()
    variables = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    if runtime:
        variables["RUNTIME_DIRECTORY"] = ":".join("/run/" + r for r in runtime)
    variables.update(env or {})
    return {
        "outer_mnt_ns": os.readlink("/proc/self/ns/mnt"),
        "unshare": unshare_options(settings),
        "mounts": file_system_steps(settings, host or {}, keep),
        "keep_caps": sorted(caps[c] for c in bounding_set(settings) - set(drop_caps)),
        "umask": int(last(settings, "UMask", "0022"), 8),
        "no_new_privs": yes(settings, "NoNewPrivileges"),
        "stderr_null": last(settings, "StandardError") == "null",
        "seccomp": seccomp_programs(settings),
        "argv": exec_argv(settings, binary, extra_args),
        "env": variables,
    }


def write_spec(path, the_spec):
    with open(path, "w") as f:
        json.dump(the_spec, f)
    return path


def runtime_directory_mode(unit_path):
    return int(last(read_unit(unit_path), "RuntimeDirectoryMode", "0755"), 8)
