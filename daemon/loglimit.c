#include "loglimit.h"

#include <stdio.h>
#include <string.h>

int loglimit_allow(struct loglimit *l, const char *peer, double now, double interval,
		   unsigned long *suppressed)
{
	struct loglimit_peer *p = NULL, *oldest = &l->peers[0];
	char key[LOGLIMIT_KEY_MAX];
	snprintf(key, sizeof(key), "%s", peer);
	*suppressed = 0;
	for (size_t i = 0; i < LOGLIMIT_PEERS && p == NULL; i++) {
		struct loglimit_peer *e = &l->peers[i];
		if (e->key[0] && strcmp(e->key, key) == 0)
			p = e;
		else if (e->key[0] == '\0' || (oldest->key[0] && e->last < oldest->last))
			oldest = e;
	}
	if (p == NULL) {
		/* what the replaced peer had not logged is lost with it: a bounded table */
		p = oldest;
		snprintf(p->key, sizeof(p->key), "%s", key);
		p->since = now;
		p->last = now;
		p->suppressed = 0;
		return 1;
	}
	p->last = now;
	if (interval > 0 && now - p->since < interval) {
		p->suppressed++;
		return 0;
	}
	*suppressed = p->suppressed;
	p->suppressed = 0;
	p->since = now;
	return 1;
}
