"""Fixture mailboxes for UIDL compatibility with the real peers (issue 22):
the cases where popa3d, Dovecot and UW could disagree with a naive reading.
Every fixture is fixed bytes (no clock, no randomness): the peers' answers
recorded from them are the expected values of tests/unit/test_uid_compat.cpp."""


def msg(sender, date, headers, body, final_newline=True):
    """One mbox entry: From_ line, header lines, blank line, body, and the
    blank separator line unless final_newline is False (a file that ends
    without its last LF)."""
    out = f"From {sender} {date}\n".encode()
    for h in headers:
        out += (h if isinstance(h, bytes) else h.encode()) + b"\n"
    out += b"\n" + body
    if final_newline:
        if not body.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    return out


D = "Mon Nov 30 10:00:{:02d} 2026"
RCVD = "Received: from mx.example.org (mx.example.org [192.0.2.1])\n\tby host.example.net with ESMTP id {}\n\tfor <u@example.net>; Mon, 30 Nov 2026 10:00:{:02d} +0000"


def tricky():
    """The main fixture: one message per edge case, in this order."""
    m1 = msg("a@example.org", D.format(1), [RCVD.format("A1", 1), "Received: from inner by mx; Mon, 30 Nov 2026",
                                             "Date: Mon, 30 Nov 2026 10:00:01 +0000", "Message-ID: <m1@example.org>",
                                             "Subject: plain, folded Received first"], b"one\n")
    m3 = msg("b@example.org", D.format(3), ["Date: Mon, 30 Nov 2026 10:00:03 +0000", "Message-ID: <m3@example.org>",
                                             "Subject: no Received: Date and Message-ID"], b"three\n")
    m4 = msg("c@example.org", D.format(4), ["Subject: no fixed header at all"], b"four\n")
    m5 = msg("c@example.org", D.format(5), ["Subject: no fixed header at all, other body"], b"five\n")
    m6 = msg("d@example.org", D.format(6), [RCVD.format("D6", 6), "Content-Length: 6", "Subject: Content-Length"],
             b"six!!\n")
    m7 = msg("e@example.org", D.format(7), [RCVD.format("E7", 7), "Subject: >From quoting"],
             b"body\n>From the start\n>>From deeper\n")
    m8 = msg("f@example.org", D.format(8), [RCVD.format("F8", 8), "X-UIDL: qpopper-7f3a9c", "Subject: X-UIDL"],
             b"eight\n")
    m9 = msg("g@example.org", D.format(9), ["Delivered-To: u@example.net", RCVD.format("G9", 9),
                                             "X-Delivery-ID: 20261130.G9", "x-delivery-id: lower-case-x",
                                             "Subject: Delivered-To and X-Delivery-ID"], b"nine\n")
    m10 = msg("h@example.org", D.format(10), ["received: from lower.example (lower case)",
                                               "Subject: lower-case received"], b"ten\n")
    m11 = msg("i@example.org", D.format(11), [RCVD.format("I11", 11), "Subject: no final newline"], b"eleven",
              final_newline=False)
    return m1 + m1 + m3 + m4 + m5 + m6 + m7 + m8 + m9 + m10 + m11


def content_length_from(valid_from_line=False):
    """A Content-Length that covers an unquoted "From " line after a blank
    line: one message for a reader that trusts Content-Length, two for one
    that does not. valid_from_line: that line is a well-formed From_ line
    (sender and date), which Dovecot and c-client require of a separator."""
    inner = f"From x@example.org {D.format(20)}" if valid_from_line else "From inside the body, not quoted"
    body = b"before\n\n" + inner.encode() + b"\nafter\n"
    m1 = msg("a@example.org", D.format(21), [RCVD.format("CL1", 21), f"Content-Length: {len(body)}",
                                              "Subject: Content-Length covers a From line"], body)
    m2 = msg("b@example.org", D.format(22), [RCVD.format("CL2", 22), "Subject: after it"], b"next\n")
    return m1 + m2


def stamped():
    """Headers as Dovecot and UW c-client leave them (X-IMAPbase in the first
    message, X-UID in each), with the cases they treat specially: a gap,
    a message without X-UID (delivered after the old server's last session),
    an X-UID above the X-IMAPbase's last UID, and one that goes backwards."""
    def m(n, extra, body):
        return msg("s@example.org", D.format(30 + n), [RCVD.format(f"S{n}", 30 + n)] + extra + [f"Subject: s{n}"],
                   body)
    return (m(1, ["X-IMAPbase: 1764496800 0000000005", "X-UID: 1", "Status: RO", "X-Keywords:"], b"a\n")
            + m(2, ["X-UID: 3", "Status: O"], b"b\n")
            + m(3, [], b"c\n")
            + m(4, ["X-UID: 4"], b"d\n")
            + m(5, ["X-UID: 9"], b"e\n")
            + m(6, ["X-UID: 2"], b"f\n"))


def pseudo():
    """UW c-client's layout after it emptied a mailbox once: a first
    "pseudo" message holding X-IMAP, hidden from clients, then messages
    with X-UID."""
    p = msg("MAILER-DAEMON", D.format(40), ["Date: Mon, 30 Nov 2026 10:00:40 +0000",
                                             "From: Mail System Internal Data <MAILER-DAEMON@host>",
                                             "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA",
                                             "Message-ID: <1764496840@host>", "X-IMAP: 1764496840 0000000007",
                                             "Status: RO"], b"This text is part of the internal format of your mail folder.\n")
    a = msg("s@example.org", D.format(41), [RCVD.format("P1", 41), "X-UID: 6", "Subject: p1"], b"p1\n")
    b = msg("s@example.org", D.format(42), [RCVD.format("P2", 42), "X-UID: 7", "Subject: p2"], b"p2\n")
    return p + a + b


def no_blank_before_from():
    """A From_ line right after a body line, no empty line before it."""
    return (f"From a@example.org {D.format(51)}\nReceived: by a\nSubject: one\n\nbody\n"
            f"From b@example.org {D.format(52)}\nReceived: by b\nSubject: two\n\nbody2\n").encode()


def imap_deleted():
    """The first message flagged \\Deleted by an IMAP client (X-Status: D)."""
    return (msg("a@example.org", D.format(61), ["Received: by a", "X-Status: D", "Subject: imap-deleted"], b"a\n")
            + msg("b@example.org", D.format(62), ["Received: by b", "Status: RO", "Subject: seen"], b"b\n"))


def crlf():
    """Every line ends in CRLF, the separator lines too: for popa3d no line
    is empty, so the file is one message."""
    return (f"From a@example.org {D.format(71)}\r\nReceived: by a\r\nSubject: one\r\n\r\nbody\r\n"
            f"Received: in the body\r\n\r\nFrom b@example.org {D.format(72)}\r\nReceived: by b\r\n"
            "Subject: two\r\n\r\nbody2\r\n\r\n").encode()


FIXTURES = {"tricky": tricky(), "content-length-from": content_length_from(),
            "content-length-valid-from": content_length_from(valid_from_line=True), "stamped": stamped(),
            "pseudo": pseudo(), "no-blank-before-from": no_blank_before_from(), "imap-deleted": imap_deleted(), "crlf": crlf()}
