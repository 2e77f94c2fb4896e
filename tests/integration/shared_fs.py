"""A directory on a FUSE filesystem, the kind pop3d takes for storage that
other hosts may share (common/filesystem_kind.cpp: FUSE is GlusterFS and
the like, so it assumes the worst). Nothing here needs a FUSE package: the
kernel's /dev/fuse protocol is spoken directly, for the few requests that
stat() and statfs() of the mount's root make.

Run as root, through unshare -m, so that the mount lives and dies with a
private mount namespace:
    unshare -m python3 shared_fs.py MOUNTPOINT MODE UID GID -- COMMAND...
mounts a directory owned by UID:GID with MODE (octal) at MOUNTPOINT, runs
COMMAND there, copies its output and exits with its status."""

import ctypes
import os
import struct
import subprocess
import sys
import threading

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_STATFS, FUSE_INIT = 1, 2, 3, 17, 26
FUSE_INTERRUPT, FUSE_BATCH_FORGET = 36, 42
NO_REPLY = (FUSE_FORGET, FUSE_INTERRUPT, FUSE_BATCH_FORGET)
IN_HEADER = struct.Struct("<IIQQIIIHH")  # len, opcode, unique, nodeid, uid, gid, pid, extlen, padding
OUT_HEADER = struct.Struct("<IiQ")       # len, error, unique
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2


class Server:
    def __init__(self, fd, mode, uid, gid):
        self.fd, self.mode, self.uid, self.gid = fd, mode, uid, gid

    def reply(self, unique, error=0, body=b""):
        os.write(self.fd, OUT_HEADER.pack(OUT_HEADER.size + len(body), error, unique) + body)

    def answer(self, opcode, unique, payload):
        if opcode == FUSE_INIT:
            major, minor, readahead = struct.unpack_from("<III", payload)
            # 7.31's 64-byte fuse_init_out; no optional features.
            body = struct.pack("<IIIIHHIIHHI7I", 7, min(minor, 31), readahead, 0, 16, 12, 65536, 1, 0, 0, 0,
                               *[0] * 7)
            self.reply(unique, 0, body)
        elif opcode == FUSE_GETATTR:
            attr = struct.pack("<QQQQQQIIIIIIIIII", 1, 4096, 8, 0, 0, 0, 0, 0, 0, 0o040000 | self.mode, 2,
                               self.uid, self.gid, 0, 4096, 0)
            self.reply(unique, 0, struct.pack("<QII", 1, 0, 0) + attr)
        elif opcode == FUSE_STATFS:
            self.reply(unique, 0, struct.pack("<QQQQQIII I6I", 1000, 500, 500, 100, 50, 4096, 255, 4096, 0,
                                              *[0] * 6))
        elif opcode == FUSE_LOOKUP:
            self.reply(unique, -2)  # ENOENT: the directory is empty
        else:
            self.reply(unique, -38)  # ENOSYS

    def serve(self):
        while True:
            try:
                request = os.read(self.fd, 1 << 17)
            except OSError:  # ENODEV once unmounted
                return
            _, opcode, unique, *_ = IN_HEADER.unpack_from(request)
            if opcode not in NO_REPLY:
                try:
                    self.answer(opcode, unique, request[IN_HEADER.size:])
                except OSError:  # the request was interrupted meanwhile
                    pass


def main():
    mountpoint, mode, uid, gid = sys.argv[1], int(sys.argv[2], 8), int(sys.argv[3]), int(sys.argv[4])
    command = sys.argv[sys.argv.index("--") + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/fuse", os.O_RDWR)
    options = f"fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
    if libc.mount(b"pop3dtest", mountpoint.encode(), b"fuse.pop3dtest", MS_NOSUID | MS_NODEV, options) != 0:
        sys.exit(f"mount: {os.strerror(ctypes.get_errno())}")
    threading.Thread(target=Server(fd, mode, uid, gid).serve, daemon=True).start()
    r = subprocess.run(command, capture_output=True, text=True, timeout=60)
    libc.umount2(mountpoint.encode(), MNT_DETACH)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
