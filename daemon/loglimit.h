/*
 * Bad input is logged at most once per peer per interval, with the count of what was not
 * logged since: one peer sending garbage must not fill the journal. The table of peers is
 * fixed; a new peer takes the place of the one heard from least recently.
 */
#ifndef XXGK_LOGLIMIT_H
#define XXGK_LOGLIMIT_H

#define LOGLIMIT_PEERS 64
#define LOGLIMIT_KEY_MAX 80

struct loglimit_peer {
	char key[LOGLIMIT_KEY_MAX];
	double since;		  /* when its last line was logged */
	double last;		  /* when it was last heard from */
	unsigned long suppressed; /* not logged since */
};

/* One per thread that logs (it takes no lock); zeroed is empty. */
struct loglimit {
	struct loglimit_peer peers[LOGLIMIT_PEERS];
};

/*
 * Whether a line about peer may be logged at time now (seconds, monotonic): the first of each
 * interval is, the rest are counted. On 1, *suppressed is how many were not logged before it.
 * An interval of 0 or less logs every one.
 */
int loglimit_allow(struct loglimit *l, const char *peer, double now, double interval,
		   unsigned long *suppressed);

#endif
