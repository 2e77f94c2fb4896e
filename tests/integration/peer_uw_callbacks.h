/* The callbacks c-client requires of its application, for the test
 * programs that stand in for UW ipop3d (peer_uw_probe.c, peer_uw_pop3.c):
 * only the log ones say anything. Include once, after c-client.h. */
void mm_searched(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_exists(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_expunged(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_flags(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_notify(MAILSTREAM *s, char *str, long e) { (void)s; fprintf(stderr, "notify %ld: %s\n", e, str); }
void mm_list(MAILSTREAM *s, int d, char *m, long a) { (void)s; (void)d; (void)m; (void)a; }
void mm_lsub(MAILSTREAM *s, int d, char *m, long a) { (void)s; (void)d; (void)m; (void)a; }
void mm_status(MAILSTREAM *s, char *m, MAILSTATUS *st) { (void)s; (void)m; (void)st; }
void mm_log(char *str, long e) { fprintf(stderr, "log %ld: %s\n", e, str); }
void mm_dlog(char *str) { fprintf(stderr, "debug: %s\n", str); }
void mm_login(NETMBX *mb, char *u, char *p, long t) { (void)mb; (void)t; u[0] = p[0] = '\0'; }
void mm_critical(MAILSTREAM *s) { (void)s; }
void mm_nocritical(MAILSTREAM *s) { (void)s; }
long mm_diskerror(MAILSTREAM *s, long e, long serious) { (void)s; (void)e; (void)serious; return 1; }
void mm_fatal(char *str) { fprintf(stderr, "fatal: %s\n", str); }
