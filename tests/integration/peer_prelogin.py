#!/usr/bin/env python3
"""The POP3 authorization state in front of Dovecot's pre-authenticated
pop3 (its standalone mode: no greeting, already in the transaction state),
so that a real client (fetchmail, getmail) can log in over socat.

    peer_prelogin.py USER PASSWORD PROGRAM [ARGS...]

Greets, answers CAPA, USER and PASS, and on the right USER + PASS answers
"+OK Logged in." and execs PROGRAM on the same stdin/stdout. stdin is
read one byte at a time, so nothing PROGRAM must read is consumed here."""

import os
import sys


def line():
    got = b""
    while not got.endswith(b"\n"):
        c = os.read(0, 1)
        if not c:
            sys.exit(0)
        got += c
    return got.rstrip(b"\r\n").decode(errors="replace")


def send(text):
    os.write(1, text.encode() + b"\r\n")


def main():
    user, password, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    send("+OK POP3 (Dovecot's pop3 behind a test login) ready.")
    given = None
    while True:
        cmd, _, arg = line().partition(" ")
        cmd = cmd.upper()
        if cmd == "CAPA":
            send("+OK\r\nTOP\r\nUIDL\r\nUSER\r\n.")
        elif cmd == "USER":
            given = arg
            send("+OK")
        elif cmd == "PASS" and given == user and arg == password:
            send("+OK Logged in.")
            os.execv(argv[0], argv)
        elif cmd == "QUIT":
            send("+OK Logging out.")
            return
        else:
            send("-ERR [AUTH] Authentication failed.")


if __name__ == "__main__":
    main()
