"""Mailboxes with every edge case the conformance checklist names."""

from harness import mbox_message

D = "Thu Nov 26 10:00:{:02d} 2026"


def edge_messages():
    """(name, mbox bytes, expected canonical octets) in mailbox order; the
    message without a final newline must come last in a file."""
    big_body = b"".join(b"line %06d of a large message, long enough to matter\n" % i for i in range(4500))
    msgs = [
        ("m1-lf", mbox_message("a@example.org", D.format(1), ["Subject: plain LF", "Message-ID: <m1@example.org>"],
                               b"Hello,\nthis is stored with LF.\n"),
         b"Subject: plain LF\r\nMessage-ID: <m1@example.org>\r\n\r\nHello,\r\nthis is stored with LF.\r\n"),
        ("m2-dots", mbox_message("b@example.org", D.format(2), ["Subject: dots"], b".\n..\n.foo\nend\n"),
         b"Subject: dots\r\n\r\n.\r\n..\r\n.foo\r\nend\r\n"),
        ("m4-no-msgid", mbox_message("c@example.org", D.format(4), ["Subject: no message id"], b"body\n"),
         b"Subject: no message id\r\n\r\nbody\r\n"),
        ("m5-utf8", mbox_message("d@example.org", D.format(5), ["Subject: caf\u00e9 \u2713".encode()],
                                 "Gr\u00fc\u00dfe\n".encode()),
         "Subject: caf\u00e9 \u2713".encode() + b"\r\n\r\n" + "Gr\u00fc\u00dfe\r\n".encode()),
        ("m6-big", mbox_message("e@example.org", D.format(6), ["Subject: big"], big_body),
         b"Subject: big\r\n\r\n" + big_body.replace(b"\n", b"\r\n")),
        ("crlf", b"From f@example.org " + D.format(7).encode() + b"\r\nSubject: crlf stored\r\n\r\nline one\r\n"
                 b"line two\r\n\r\n",
         b"Subject: crlf stored\r\n\r\nline one\r\nline two\r\n"),
        ("nul", mbox_message("g@example.org", D.format(8), ["Subject: nul"], b"a\x00b\x00\n"),
         b"Subject: nul\r\n\r\na\x00b\x00\r\n"),
        ("longline", mbox_message("h@example.org", D.format(9), ["Subject: long"], b"x" * 150000 + b"\n"),
         b"Subject: long\r\n\r\n" + b"x" * 150000 + b"\r\n"),
        ("from-quoted", mbox_message("i@example.org", D.format(10), ["Subject: quoted"],
                                     b">From the start\n>>From deeper\nContent-Length: 2\n"),
         b"Subject: quoted\r\n\r\nFrom the start\r\n>From deeper\r\nContent-Length: 2\r\n"),
        ("m3-no-final-newline", b"From j@example.org " + D.format(11).encode() + b"\nSubject: unterminated\n\nlast line",
         b"Subject: unterminated\r\n\r\nlast line\r\n"),
    ]
    return msgs


def edge_mailbox():
    msgs = edge_messages()
    return b"".join(m[1] for m in msgs), [m[2] for m in msgs]


def simple(n, tag="msg"):
    """n small distinct messages."""
    return b"".join(
        mbox_message(f"sender{i}@example.org", D.format(i % 60), [f"Subject: {tag} {i}", f"Message-ID: <{tag}{i}@x>"],
                     f"body of {tag} {i}\n".encode())
        for i in range(1, n + 1))
