/*
 * The admin channel's writes (freeze, unfreeze, ...). The admin thread only reads; a request
 * that writes is handed to the main loop, the store's one writer, over an inproc PAIR: the
 * admin thread sends [who][packed Request] and waits for [packed Reply], which it sends to the
 * client itself, so that every socket stays with one thread. The loop runs it between ingest
 * passes. A new admin write is a case of admin_write_answer.
 */
#ifndef XXGK_ADMIN_WRITE_H
#define XXGK_ADMIN_WRITE_H

#include <event2/event.h>

#include "admin.h"
#include "store.h"
#include "xxgk.pb-c.h"
#include "zsock.h"

struct admin_write {
	struct zsock watch;
	void *socket; /* the loop's end of the PAIR */
	struct store *st;
	struct admin *admin; /* the government and units' names a freeze stores */
	/* xxgkctl reload and stop, carried out by the server (NULL: refused): reload returns 0 and
	 * the units in force, or -1 with why in err; stop is asked after its answer is sent */
	int (*reload)(void *ctx, unsigned *units, char *err, size_t err_size);
	void (*stop)(void *ctx);
	void *ctx;
};

/* Whether a request is one the main loop carries out. */
int admin_write_is_write(const Xxgk__V1__Request *req);

/* Watches the loop's end of the PAIR on base; 0 or -1. */
int admin_write_watch(struct admin_write *w, struct event_base *base, void *socket,
		      struct store *st, struct admin *admin);

void admin_write_unwatch(struct admin_write *w);

#endif
