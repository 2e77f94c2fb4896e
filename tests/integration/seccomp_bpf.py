"""seccomp BPF programs for the by-hand sandbox (x86_64), one per systemd
setting, as systemd itself installs one filter per setting. Each program is
a list of (code, jt, jf, k); sandbox_exec.py installs them. The kernel runs
every filter and the strictest answer wins (kill > errno > allow).

Layout of struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (the
low 32 bits on little-endian x86_64: every argument checked here is an int
or a flag word that fits)."""

import errno

AUDIT_ARCH_X86_64 = 0xC000003E
KILL_PROCESS = 0x80000000
ALLOW = 0x7FFF0000
LD_W_ABS, ALU_AND_K, JEQ_K, JSET_K, RET_K = 0x20, 0x54, 0x15, 0x45, 0x06


def fail(e):
    return 0x00050000 | e  # SECCOMP_RET_ERRNO


def arg(i):
    return 16 + 8 * i


def check(program):
    assert len(program) < 4096 and all(jt < 256 and jf < 256 for _, jt, jf, _ in program)
    return program


def native_only(other_arch):
    """Loads the syscall number; another ABI gets other_arch."""
    return [(LD_W_ABS, 0, 0, 4), (JEQ_K, 1, 0, AUDIT_ARCH_X86_64), (RET_K, 0, 0, other_arch), (LD_W_ABS, 0, 0, 0)]


def allow_list(numbers, default):
    """SystemCallFilter= as an allow list; SystemCallArchitectures=native."""
    prog = native_only(KILL_PROCESS)
    for nr in sorted(numbers):
        prog += [(JEQ_K, 0, 1, nr), (RET_K, 0, 0, ALLOW)]
    return check(prog + [(RET_K, 0, 0, default)])


def per_syscall(rules):
    """rules: {syscall number: block}; a block ends in RET on every path.
    Other syscalls pass (the allow-list filter judges them)."""
    prog = native_only(ALLOW)
    for nr, block in rules.items():
        prog += [(JEQ_K, 0, len(block), nr)] + block
    return check(prog + [(RET_K, 0, 0, ALLOW)])


def always(action):
    return [(RET_K, 0, 0, action)]


def if_any_bit(i, mask, action):
    return [(LD_W_ABS, 0, 0, arg(i)), (JSET_K, 0, 1, mask), (RET_K, 0, 0, action), (RET_K, 0, 0, ALLOW)]


def if_all_bits(i, mask, action):
    return [(LD_W_ABS, 0, 0, arg(i)), (ALU_AND_K, 0, 0, mask), (JEQ_K, 0, 1, mask), (RET_K, 0, 0, action),
            (RET_K, 0, 0, ALLOW)]


def unless_one_of(i, values, action):
    n = len(values)
    jumps = [(JEQ_K, n - j, 0, v) for j, v in enumerate(values)]
    return [(LD_W_ABS, 0, 0, arg(i))] + jumps + [(RET_K, 0, 0, action), (RET_K, 0, 0, ALLOW)]


def if_created_with(flags_arg, mode_arg, create_bits, mode_bits, action):
    """open()-like: action when flags has create_bits and mode has mode_bits."""
    return [(LD_W_ABS, 0, 0, arg(flags_arg)), (JSET_K, 0, 3, create_bits), (LD_W_ABS, 0, 0, arg(mode_arg)),
            (JSET_K, 0, 1, mode_bits), (RET_K, 0, 0, action), (RET_K, 0, 0, ALLOW)]


CLONE_NEW = {"mnt": 0x20000, "cgroup": 0x02000000, "uts": 0x04000000, "ipc": 0x08000000, "user": 0x10000000,
             "pid": 0x20000000, "net": 0x40000000}
NEW_NS = sum(CLONE_NEW.values())


def restrict_namespaces(nr):
    """RestrictNamespaces=yes: no new namespace, no setns; clone3 (whose
    flags BPF cannot read) gets ENOSYS so that libc falls back to clone."""
    return per_syscall({nr["unshare"]: if_any_bit(0, NEW_NS, fail(errno.EPERM)),
                        nr["clone"]: if_any_bit(0, NEW_NS, fail(errno.EPERM)),
                        nr["setns"]: always(fail(errno.EPERM)),
                        nr["clone3"]: always(fail(errno.ENOSYS))})


def restrict_families(nr, families):
    """RestrictAddressFamilies= allow list: other families get EAFNOSUPPORT."""
    return per_syscall({nr["socket"]: unless_one_of(0, sorted(families), fail(errno.EAFNOSUPPORT))})


PROT_WRITE, PROT_EXEC, SHM_EXEC = 2, 4, 0o100000


def deny_write_execute(nr):
    """MemoryDenyWriteExecute=yes."""
    eperm = fail(errno.EPERM)
    return per_syscall({nr["mmap"]: if_all_bits(2, PROT_WRITE | PROT_EXEC, eperm),
                        nr["mprotect"]: if_any_bit(2, PROT_EXEC, eperm),
                        nr["pkey_mprotect"]: if_any_bit(2, PROT_EXEC, eperm),
                        nr["shmat"]: if_any_bit(2, SHM_EXEC, eperm)})


O_CREAT, O_TMPFILE_BIT, SUID_SGID = 0o100, 0o20000000, 0o6000


def restrict_suid_sgid(nr):
    """RestrictSUIDSGID=yes: no file gets set-user/group-ID bits."""
    eperm = fail(errno.EPERM)
    create = O_CREAT | O_TMPFILE_BIT
    rules = {nr["chmod"]: if_any_bit(1, SUID_SGID, eperm), nr["fchmod"]: if_any_bit(1, SUID_SGID, eperm),
             nr["fchmodat"]: if_any_bit(2, SUID_SGID, eperm), nr["creat"]: if_any_bit(1, SUID_SGID, eperm),
             nr["mknod"]: if_any_bit(1, SUID_SGID, eperm), nr["mknodat"]: if_any_bit(2, SUID_SGID, eperm),
             nr["open"]: if_created_with(1, 2, create, SUID_SGID, eperm),
             nr["openat"]: if_created_with(2, 3, create, SUID_SGID, eperm),
             nr["openat2"]: always(fail(errno.ENOSYS))}
    if "fchmodat2" in nr:
        rules[nr["fchmodat2"]] = if_any_bit(2, SUID_SGID, eperm)
    return per_syscall(rules)


SCHED_FIFO, SCHED_RR, SCHED_DEADLINE = 1, 2, 6


def restrict_realtime(nr):
    """RestrictRealtime=yes."""
    policy = [(LD_W_ABS, 0, 0, arg(1)), (JEQ_K, 3, 0, SCHED_FIFO), (JEQ_K, 2, 0, SCHED_RR),
              (JEQ_K, 1, 0, SCHED_DEADLINE), (RET_K, 0, 0, ALLOW), (RET_K, 0, 0, fail(errno.EPERM))]
    return per_syscall({nr["sched_setscheduler"]: policy})


def lock_personality(nr):
    """LockPersonality=yes: PER_LINUX and the query (0xffffffff) only."""
    return per_syscall({nr["personality"]: unless_one_of(0, [0, 0xFFFFFFFF], fail(errno.EPERM))})
