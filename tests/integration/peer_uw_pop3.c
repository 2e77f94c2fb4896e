/* A tiny inetd-style POP3 server over UW's mailbox library (Debian's
 * libc-client2007e), standing in for UW ipop3d, which left Debian with
 * uw-imapd (issue 22: a real client across the switch from UW).
 *
 * The POP3 framing here is ours (USER, PASS, CAPA, STAT, LIST, UIDL,
 * RETR, TOP, NOOP, RSET, QUIT; no DELE: the clients under test keep their
 * mail). What matters to a client that leaves mail on the server comes
 * from c-client as in ipop3d.c: the mailbox is opened read-write with
 * mail_open, messages flagged \Deleted are hidden and the rest renumbered
 * (mbxopen), UIDL is "%08lx%08lx" of the stream's UID validity and
 * mail_uid (ipop3d's UIDL), RETR reads the text without FT_PEEK (sets
 * \Seen), and QUIT closes the stream, so c-client writes back its
 * X-IMAPbase / X-UID / Status headers as ipop3d's QUIT does.
 *
 *   peer_uw_pop3 MBOX USER PASSWORD     (stdin/stdout: the connection)
 * MBOX is relative to HOME: Debian's c-client refuses absolute names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <c-client.h>

static MAILSTREAM *stream;
static unsigned long *shown; /* POP3 number -> c-client msgno */
static unsigned long nshown;

static void reply(const char *text) { printf("%s\r\n", text); }

/* Writes len bytes, dot-stuffed, stopping after `lines` body lines when
 * lines >= 0; returns whether the output ended with a line end. */
static int blat(const char *t, unsigned long len, long lines)
{
    int bol = 1;
    for (unsigned long i = 0; i < len; i++) {
        if (bol && lines == 0) return 1;
        if (bol && t[i] == '.') putchar('.');
        putchar(t[i]);
        bol = t[i] == '\n';
        if (bol && lines > 0) lines--;
    }
    return bol || len == 0;
}

static void send_message(unsigned long n, long body_lines)
{
    unsigned long hlen, tlen;
    char *h = mail_fetch_header(stream, shown[n], NIL, NIL, &hlen, FT_PEEK);
    blat(h, hlen, -1);
    char *t = mail_fetch_text(stream, shown[n], NIL, &tlen, body_lines < 0 ? 0 : FT_PEEK);
    if (!blat(t, tlen, body_lines)) printf("\r\n");
    printf(".\r\n");
}

static unsigned long msgno_arg(const char *arg)
{
    unsigned long n = arg ? strtoul(arg, NULL, 10) : 0;
    return n >= 1 && n <= nshown ? n : 0;
}

static void open_mailbox(const char *name)
{
    stream = mail_open(NIL, (char *)name, NIL);
    if (!stream || stream->rdonly) {
        reply("-ERR can't open the mailbox read-write");
        exit(1);
    }
    if (stream->nmsgs) mail_fetch_fast(stream, "1:*", NIL);
    shown = calloc(stream->nmsgs + 1, sizeof *shown);
    for (unsigned long i = 1; i <= stream->nmsgs; i++)
        if (!mail_elt(stream, i)->deleted) shown[++nshown] = i;
    printf("+OK Mailbox open, %lu messages\r\n", nshown);
}

static unsigned long size_of(unsigned long n) { return mail_elt(stream, shown[n])->rfc822_size; }

static void listing(const char *cmd, const char *arg, int uidl)
{
    unsigned long n = msgno_arg(arg);
    if (arg && !n) {
        reply("-ERR No such message");
        return;
    }
    if (n) {
        if (uidl) printf("+OK %lu %08lx%08lx\r\n", n, stream->uid_validity, mail_uid(stream, shown[n]));
        else printf("+OK %lu %lu\r\n", n, size_of(n));
        return;
    }
    printf("+OK %s follows\r\n", cmd);
    for (n = 1; n <= nshown; n++) {
        if (uidl) printf("%lu %08lx%08lx\r\n", n, stream->uid_validity, mail_uid(stream, shown[n]));
        else printf("%lu %lu\r\n", n, size_of(n));
    }
    printf(".\r\n");
}

static void transaction(char *cmd, char *arg)
{
    unsigned long n;
    if (!strcmp(cmd, "STAT")) {
        unsigned long total = 0;
        for (n = 1; n <= nshown; n++) total += size_of(n);
        printf("+OK %lu %lu\r\n", nshown, total);
    } else if (!strcmp(cmd, "LIST") || !strcmp(cmd, "UIDL")) {
        listing(cmd, arg, cmd[0] == 'U');
    } else if (!strcmp(cmd, "RETR") || !strcmp(cmd, "TOP")) {
        char *rest = NULL;
        n = arg ? strtoul(arg, &rest, 10) : 0;
        long lines = cmd[0] == 'R' ? -1 : (rest && *rest ? strtol(rest, NULL, 10) : -2);
        if (!msgno_arg(arg) || lines < -1) {
            reply("-ERR No such message or bad line count");
            return;
        }
        printf("+OK %lu octets\r\n", size_of(n));
        send_message(n, lines);
    } else if (!strcmp(cmd, "NOOP") || !strcmp(cmd, "RSET")) {
        reply("+OK");
    } else {
        reply("-ERR Unknown TRANSACTION state command");
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MBOX USER PASSWORD\n", argv[0]);
        return 2;
    }
#include "linkage.c"
    env_init(argv[2], getenv("HOME") ? getenv("HOME") : "/"); /* ipop3d's login does this */
    char line[1024], user[256] = "";
    reply("+OK POP3 test server over UW c-client ready");
    while (fflush(stdout), fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *arg = strchr(line, ' ');
        if (arg) *arg++ = '\0';
        for (char *c = line; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        if (!strcmp(line, "QUIT")) {
            if (stream) mail_close(stream); /* writes the headers back, as ipop3d's QUIT */
            reply("+OK Sayonara");
            return 0;
        } else if (!strcmp(line, "CAPA")) {
            printf("+OK Capability list follows:\r\nTOP\r\nUIDL\r\nUSER\r\n.\r\n");
        } else if (stream) {
            transaction(line, arg);
        } else if (!strcmp(line, "USER") && arg) {
            snprintf(user, sizeof user, "%s", arg);
            reply("+OK User name accepted, password please");
        } else if (!strcmp(line, "PASS") && arg && !strcmp(user, argv[2]) && !strcmp(arg, argv[3])) {
            open_mailbox(argv[1]);
        } else {
            reply("-ERR Bad login");
        }
    }
    return 1; /* the client went away without QUIT: no write-back, as ipop3d's hangup after rset */
}

#include "peer_uw_callbacks.h"
