#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "admin.h"
#include "admin_write.h"
#include "scheduling.h"
#include "arena.h"
#include "cells.h"
#include "commit_bound.h"
#include "connlimit.h"
#include "error.h"
#include "log.h"
#include "loglimit.h"
#include "memory.h"
#include "metrics.h"
#include "notify.h"
#include "record.h"
#include "store.h"
#include "store_guard.h"
#include "xxgk.pb-c.h"
#include "wire.h"
#include "zap.h"
#include "zsock.h"

/* A peer (a connection: its routing id's hash) and the messages taken from it in this pass. */
struct pass_peer {
	uint64_t route;
	size_t taken;
};
/* A pass takes pushes until it holds this many times batch_records_max records, or until what
 * it decoded passes this many times max_message_size. */
#define PASS_RECORDS_FACTOR 4
#define PASS_BYTES_FACTOR 4

/* A push waiting for the group commit. */
struct pending_push {
	struct envelope env;
	uint64_t request_id;
	size_t first, n; /* its records in the pass's record list */
};

struct server {
	struct server_sources sources;
	struct config cfg;
	struct event_base *base;
	struct event *signals[3];
	struct event *watchdog;
	struct event *readers; /* clears stale LMDB readers now and then */
	struct metrics metrics;
	struct evhttp *http;
	struct connlimit *connlimit;
	struct event *trim; /* gives memory back now and then */
	void *zmq;
	void *ingest, *publish;
	struct zsock ingest_watch;
	struct admin admin;
	struct deadlines deadlines;	 /* answer periods: calendar, index, midnight timer */
	struct admin_write admin_writes; /* the admin channel's writes, run by this loop */
	struct store *st;
	struct arena arena;
	struct commit_bound bound; /* the records of the next group commit, by LMDB pages */
	/* the current ingest pass */
	struct pending_push *pushes;
	size_t n_pushes, cap_pushes;
	Xxgk__V1__Record **records;
	struct store_status *statuses;
	/* records answered before the store: the sender's key may not write them, or a string
	 * of theirs holds a NUL byte */
	unsigned char *forbidden;
	Xxgk__V1__Record **allowed; /* the others, handed to the store */
	size_t *allowed_at;	    /* where each of them sits in records */
	struct store_status *allowed_statuses;
	size_t n_records, cap_records;
	struct pass_peer *pass_peers; /* the peers heard from in this pass */
	size_t n_pass_peers, cap_pass_peers;
	struct loglimit log;	   /* of the ingest's bad input */
	struct loglimit zap_log;   /* of refused handshakes, by address */
	struct wire_limits limits; /* of the ingest, from the configuration in force */
	int secure;		   /* CurveZMQ with a ZAP handler */
	void *zap;
	struct zsock zap_watch;
	atomic_uint_fast64_t commits;
	int stopping;
};

/* ---- ingest: group commit ---- */

static int reserve(struct server *s, size_t pushes, size_t records)
{
	if (pushes > s->cap_pushes) {
		size_t cap = pushes > 2 * s->cap_pushes ? pushes : 2 * s->cap_pushes;
		struct pending_push *p = realloc(s->pushes, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->pushes = p;
		s->cap_pushes = cap;
	}
	if (records > s->cap_records) {
		size_t cap = records > 2 * s->cap_records ? records : 2 * s->cap_records;
		Xxgk__V1__Record **r = realloc(s->records, cap * sizeof(*r));
		if (r)
			s->records = r;
		struct store_status *st = realloc(s->statuses, cap * sizeof(*st));
		if (st)
			s->statuses = st;
		unsigned char *f = realloc(s->forbidden, cap);
		if (f)
			s->forbidden = f;
		Xxgk__V1__Record **a = realloc(s->allowed, cap * sizeof(*a));
		if (a)
			s->allowed = a;
		size_t *at = realloc(s->allowed_at, cap * sizeof(*at));
		if (at)
			s->allowed_at = at;
		struct store_status *as = realloc(s->allowed_statuses, cap * sizeof(*as));
		if (as)
			s->allowed_statuses = as;
		if (r == NULL || st == NULL || f == NULL || a == NULL || at == NULL || as == NULL)
			return -1;
		s->cap_records = cap;
	}
	return 0;
}

static int publish_frame(void *socket, const void *data, size_t len, int more)
{
	return zmq_send(socket, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1 : 0;
}

/* Publishes each unit's changed counters, with the unit id as the topic. */
static void publish_changes(struct server *s)
{
	const struct delta_list *d = store_changes(s->st);
	Xxgk__V1__CellChange *changes = NULL;
	Xxgk__V1__CellChange **pointers = NULL;
	char(*keys)[96] = NULL;
	size_t i = 0;
	/* unit-scope entries come last in key order and are grouped by unit */
	while (i < d->n && d->v[i].key.scope != SCOPE_UNIT)
		i++;
	if (i == d->n)
		return;
	changes = calloc(d->n - i, sizeof(*changes));
	pointers = calloc(d->n - i, sizeof(*pointers));
	keys = calloc(d->n - i, sizeof(*keys));
	if (changes == NULL || pointers == NULL || keys == NULL) {
		log_warn("out of memory: live changes not published");
		goto out;
	}
	while (i < d->n) {
		uint32_t unit = d->v[i].key.scope_id;
		size_t n = 0;
		for (; i < d->n && d->v[i].key.scope_id == unit; i++, n++) {
			Xxgk__V1__CellChange *c = &changes[n];
			*c = (Xxgk__V1__CellChange)XXGK__V1__CELL_CHANGE__INIT;
			counter_name(d->v[i].key.counter, keys[n], sizeof(keys[n]));
			c->has_year = c->has_delta = 1;
			c->year = d->v[i].key.year;
			c->key = keys[n];
			c->delta = d->v[i].value;
			pointers[n] = c;
		}
		const char *id = store_unit_id(s->st, unit);
		Xxgk__V1__Changes msg = XXGK__V1__CHANGES__INIT;
		msg.unit = (char *)(id ? id : "");
		msg.n_changes = n;
		msg.changes = pointers;
		size_t len = xxgk__v1__changes__get_packed_size(&msg);
		uint8_t *buf = malloc(len);
		if (buf == NULL)
			break;
		xxgk__v1__changes__pack(&msg, buf);
		/* PUB never blocks: a slow subscriber loses changes, never the ingest */
		if (publish_frame(s->publish, msg.unit, strlen(msg.unit), 1) == 0)
			publish_frame(s->publish, buf, len, 0);
		free(buf);
	}
out:
	free(changes);
	free(pointers);
	free(keys);
}

static void reply_pushes(struct server *s, int rc)
{
	for (size_t i = 0; i < s->n_pushes; i++) {
		struct pending_push *p = &s->pushes[i];
		if (rc) {
			wire_error(
			    s->ingest, &p->env, p->request_id,
			    "not stored: %s; nothing of this batch was applied, send it again",
			    xxgk_strerror(rc));
		} else {
			Xxgk__V1__RecordStatus *st = calloc(p->n, sizeof(*st));
			Xxgk__V1__RecordStatus **ptrs = calloc(p->n, sizeof(*ptrs));
			Xxgk__V1__PushReply push = XXGK__V1__PUSH_REPLY__INIT;
			Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
			if ((st == NULL || ptrs == NULL) && p->n) {
				wire_error(s->ingest, &p->env, p->request_id,
					   "out of memory for the statuses; the batch was applied, "
					   "send it again to learn them");
			} else {
				for (size_t j = 0; j < p->n; j++) {
					struct store_status *ss = &s->statuses[p->first + j];
					st[j] =
					    (Xxgk__V1__RecordStatus)XXGK__V1__RECORD_STATUS__INIT;
					st[j].has_code = 1;
					st[j].code = ss->code;
					if (ss->code == XXGK__V1__RECORD_STATUS__CODE__REJECTED) {
						/* reasons may quote what a peer sent */
						char clean[sizeof(ss->message)];
						utf8_sanitize(clean, sizeof(clean), ss->message,
							      strlen(ss->message));
						memcpy(ss->message, clean, sizeof(clean));
						st[j].has_reason = 1;
						st[j].reason = ss->reason;
						st[j].message = (char *)ss->message;
					}
					ptrs[j] = &st[j];
				}
				push.n_statuses = p->n;
				push.statuses = ptrs;
				reply.body_case = XXGK__V1__REPLY__BODY_PUSH;
				reply.push = &push;
				wire_reply(s->ingest, &p->env, p->request_id, &reply);
			}
			free(st);
			free(ptrs);
		}
		envelope_close(&p->env);
	}
}

/* Rejects a record before the store, with a reason that names the field. */
static void reject_early(struct server *s, size_t at, Xxgk__V1__RecordStatus__Reason reason,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reject_early(struct server *s, size_t at, Xxgk__V1__RecordStatus__Reason reason,
			 const char *fmt, ...)
{
	struct store_status *st = &s->statuses[at];
	va_list ap;
	s->forbidden[at] = 1;
	st->code = XXGK__V1__RECORD_STATUS__CODE__REJECTED;
	st->reason = reason;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

/*
 * Takes one message off the ingest socket into the pass; answers it at once if it is bad.
 * Returns 0 when there was none, else 1 with its connection's routing hash in *route.
 */
static int take_push(struct server *s, uint64_t *route)
{
	struct envelope env;
	struct prescan scan;
	Xxgk__V1__Request *req;
	enum wire_result got = wire_receive(s->ingest, &s->arena, &s->limits, &env, &req, &scan);
	if (got == WIRE_NOTHING)
		return 0;
	*route = env.route;
	if (got == WIRE_ANSWERED)
		return 1;
	uint64_t id = scan.request_id; /* the last on the wire, as decoding keeps it */
	if (got == WIRE_TOO_MANY) {
		/* counted on the wire and never decoded */
		wire_error_too_many(s->ingest, &env, id, (uint32_t)s->cfg.batch_records_max,
				    "a push of more than %d records: at most %d in one request",
				    s->cfg.batch_records_max, s->cfg.batch_records_max);
	} else if (req->body_case != XXGK__V1__REQUEST__BODY_PUSH || req->push == NULL) {
		wire_error(s->ingest, &env, id, "the ingest socket takes push requests only");
	} else if (scan.nul_field && req->push->n_records != scan.records) {
		/* the scan's records are not the decoded ones: the request is not as it seems */
		wire_log_peer(&env, LOG_INFO, "a push whose records are not as scanned");
		wire_error(s->ingest, &env, id, "malformed request: not a xxgk.v1.Request");
	} else if (reserve(s, s->n_pushes + 1, s->n_records + req->push->n_records)) {
		wire_error(s->ingest, &env, id, "out of memory; send it again");
	} else {
		s->pushes[s->n_pushes++] =
		    (struct pending_push){env, id, s->n_records, req->push->n_records};
		/* by the key the connection authenticated with, in the configuration in force */
		const struct client_config *cl =
		    s->secure ? config_client_by_key(&s->cfg, env.principal) : NULL;
		for (size_t i = 0; i < req->push->n_records; i++) {
			Xxgk__V1__Record *r = req->push->records[i];
			size_t at = s->n_records + i;
			s->records[at] = r;
			s->forbidden[at] = 0;
			/* decoding cut the string at its NUL: what is left must never be stored,
			 * not even a unit id that names another unit */
			if (scan.nul_field && scan.nul_field[i]) {
				reject_early(s, at, XXGK__V1__RECORD_STATUS__REASON__INVALID,
					     "%s: contains a NUL byte", scan.nul_field[i]);
				continue;
			}
			/* with keys, a sender writes only its own units, and an admin key the
			 * submission (报送) of any unit, the office's xxgkctl submit; unknown units
			 * and bad records are the store's to reject, with their own reasons */
			if (s->secure && r->unit &&
			    (cl == NULL ||
			     !(client_may_write(cl, r->unit) ||
			       (cl->admin && r->body_case == XXGK__V1__RECORD__BODY_SUBMISSION)))) {
				char name[48], unit[48];
				utf8_sanitize(unit, sizeof(unit), r->unit, strlen(r->unit));
				if (cl) {
					utf8_sanitize(name, sizeof(name), cl->name,
						      strlen(cl->name));
					reject_early(
					    s, at, XXGK__V1__RECORD_STATUS__REASON__FORBIDDEN,
					    "unit: the key of \"%s\" may not write unit \"%s\"",
					    name, unit);
				} else if (env.principal[0] == '\0') {
					reject_early(
					    s, at, XXGK__V1__RECORD_STATUS__REASON__FORBIDDEN,
					    "unit: with keys configured, a connection without "
					    "a key writes no unit");
				} else {
					reject_early(
					    s, at, XXGK__V1__RECORD_STATUS__REASON__FORBIDDEN,
					    "unit: this connection's key is no longer configured "
					    "(replaced or removed): it writes no unit; reconnect "
					    "with a configured key");
				}
			}
		}
		s->n_records += req->push->n_records;
		return 1;
	}
	envelope_close(&env);
	return 1;
}

/* Counts a message taken from the peer of route; returns how many it has had in this pass. */
static size_t count_peer(struct server *s, uint64_t route)
{
	for (size_t i = 0; i < s->n_pass_peers; i++)
		if (s->pass_peers[i].route == route)
			return ++s->pass_peers[i].taken;
	if (s->n_pass_peers == s->cap_pass_peers) {
		size_t cap = s->cap_pass_peers ? 2 * s->cap_pass_peers : 16;
		struct pass_peer *p = realloc(s->pass_peers, cap * sizeof(*p));
		if (p == NULL)
			return 1; /* uncounted: the pass's own cap still ends it */
		s->pass_peers = p;
		s->cap_pass_peers = cap;
	}
	s->pass_peers[s->n_pass_peers++] = (struct pass_peer){route, 1};
	return 1;
}

/*
 * Group commit: every push drained in this pass (up to batch_max messages, refused ones
 * included, so that a pass always ends) goes into ONE write transaction; each sender hears its
 * statuses only after the commit. One peer may have a quarter of a pass: its next message waits
 * for the next pass, so a peer flooding the socket cannot hold back another's acknowledgement.
 */
static void on_ingest(void *arg)
{
	struct server *s = arg;
	/* a pass's records cost their decoded form and two statuses each, so a pass takes a
	 * bounded number of them too, not batch_max times batch_records_max (gigabytes) */
	size_t records_max = (size_t)s->cfg.batch_records_max * PASS_RECORDS_FACTOR;
	/* and by the LMDB pages they would dirty, which stay in xxgkd's memory (commit_bound.c) */
	records_max = commit_bound_records(&s->bound, (size_t)s->cfg.commit_pages_max, records_max);
	/* and by bytes: pushes of few records with huge strings decode within their own budget
	 * each, but many of them must not fill the arena's whole cap */
	size_t bytes_max = (size_t)s->cfg.max_message_size * PASS_BYTES_FACTOR;
	size_t taken = 0, share = (size_t)s->cfg.batch_max / 4;
	uint64_t route;
	if (share == 0)
		share = 1;
	s->n_pushes = s->n_records = s->n_pass_peers = 0;
	s->limits = (struct wire_limits){(size_t)s->cfg.batch_records_max, &s->log,
					 (double)s->cfg.bad_input_log_interval};
	while (!s->stopping && taken < (size_t)s->cfg.batch_max && s->n_records < records_max &&
	       s->arena.used < bytes_max && zsock_readable(&s->ingest_watch) &&
	       take_push(s, &route)) {
		taken++;
		if (count_peer(s, route) >= share)
			break;
	}
	if (s->n_pushes) {
		size_t m = 0;
		for (size_t i = 0; i < s->n_records; i++)
			if (!s->forbidden[i]) {
				s->allowed[m] = s->records[i];
				s->allowed_at[m++] = i;
			}
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		commit_bound_start(&s->bound);
		int rc = store_apply(s->st, s->allowed, m, s->allowed_statuses);
		if (rc == 0)
			commit_bound_done(&s->bound, m);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (size_t j = 0; rc == 0 && j < m; j++)
			s->statuses[s->allowed_at[j]] = s->allowed_statuses[j];
		s->metrics.pushes += s->n_pushes;
		if (rc)
			s->metrics.failed_commits++;
		else
			metrics_commit(&s->metrics, s->st, s->records, s->statuses, s->n_records,
				       (double)(t1.tv_sec - t0.tv_sec) +
					   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (rc)
			log_error("a batch of %zu records from %zu pushes was not stored: %s",
				  s->n_records, s->n_pushes, xxgk_strerror(rc));
		else
			atomic_fetch_add(&s->commits, 1);
		reply_pushes(s, rc);
		if (rc == 0)
			publish_changes(s);
		log_debug("committed %zu records from %zu pushes", s->n_records, s->n_pushes);
	}
	int trim = s->arena.used > MEMORY_TRIM_AFTER;
	arena_reset(&s->arena);
	if (trim)
		memory_trim();
	if (!s->stopping)
		zsock_rearm(&s->ingest_watch);
}

/* ---- CurveZMQ: the ZAP handler ---- */

/*
 * ZeroMQ asks inproc://zeromq.zap.01 about every CURVE handshake: frames version, request id,
 * domain (which socket: ZAP_DOMAIN_*), address, routing id, mechanism, client public key. A
 * configured key is let in with the key itself as User-Id, so that each record and each admin
 * request is authorized by the key against the configuration in force: a key replaced or
 * removed by SIGHUP writes nothing more even on a connection it opened before. Keys are read
 * from the configuration in force, so such a key is refused from then on.
 */
static void on_zap(void *arg)
{
	struct server *s = arg;
	for (int n = 0; n < 64 && zsock_readable(&s->zap_watch); n++) {
		zmq_msg_t frames[8];
		int count = 0, more = 1;
		while (more && count < 8) {
			zmq_msg_init(&frames[count]);
			if (zmq_msg_recv(&frames[count], s->zap, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&frames[count]);
				break;
			}
			more = zmq_msg_more(&frames[count++]);
		}
		while (more) { /* more frames than ZAP has: drop them */
			zmq_msg_t extra;
			zmq_msg_init(&extra);
			more = zmq_msg_recv(&extra, s->zap, 0) >= 0 && zmq_msg_more(&extra);
			zmq_msg_close(&extra);
		}
		if (count < 2) {
			for (int i = 0; i < count; i++)
				zmq_msg_close(&frames[i]);
			continue;
		}
		const void *data[8];
		size_t sizes[8];
		char z85[KEY_Z85_LEN + 1];
		for (int i = 0; i < count; i++) {
			data[i] = zmq_msg_data(&frames[i]);
			sizes[i] = zmq_msg_size(&frames[i]);
		}
		const struct client_config *cl;
		enum zap_verdict v = zap_decide(&s->cfg, data, sizes, (size_t)count, z85, &cl);
		const char *text = "OK";
		/* a peer reconnecting with a refused key must not fill the journal: one line per
		 * address per interval, with the count of the others */
		char address[LOGLIMIT_KEY_MAX];
		unsigned long others = 0;
		int loud = 0;
		if (v != ZAP_LET_IN) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			snprintf(address, sizeof(address), "%.*s",
				 count > 3 ? (int)(sizes[3] < 64 ? sizes[3] : 64) : 0,
				 count > 3 ? (const char *)data[3] : "");
			loud = loglimit_allow(&s->zap_log, address,
					      (double)now.tv_sec + (double)now.tv_nsec / 1e9,
					      (double)s->cfg.bad_input_log_interval, &others);
		}
		if (v == ZAP_NOT_ADMIN) {
			text = "live changes are for admin keys";
			if (loud)
				log_info(
				    "refused the key of \"%s\" on the live changes from %s: they "
				    "are for admin keys, as the reports are (%lu more refusals "
				    "not logged)",
				    cl->name, address, others);
		} else if (v != ZAP_LET_IN) {
			text = "unknown key";
			if (loud)
				log_info(
				    "refused a connection with an unknown key %s from %s (%lu more "
				    "refusals not logged)",
				    z85[0] ? z85 : "(none)", address, others);
		}
		const char *status = v == ZAP_LET_IN ? "200" : "400";
		const char *user = v == ZAP_LET_IN ? z85 : "";
		/* the reply: version, request id, status code, status text, user id, metadata */
		zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(s->zap, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), ZMQ_SNDMORE);
		zmq_send(s->zap, status, 3, ZMQ_SNDMORE);
		zmq_send(s->zap, text, strlen(text), ZMQ_SNDMORE);
		zmq_send(s->zap, user, strlen(user), ZMQ_SNDMORE);
		zmq_send(s->zap, "", 0, 0);
		for (int i = 0; i < count; i++)
			zmq_msg_close(&frames[i]);
	}
	zsock_rearm(&s->zap_watch);
}

/*
 * Without keys, only loopback and local endpoints may be bound, unless insecure = yes. What
 * is no network transport at all is left for zmq_bind to refuse.
 */
static int endpoint_is_local(const char *ep)
{
	static const char *const network[] = {"tcp://", "ws://",   "wss://",  "udp://",
					      "pgm://", "epgm://", "tipc://", "vmci://"};
	int is_network = 0;
	for (size_t i = 0; i < sizeof(network) / sizeof(network[0]); i++)
		is_network |= strncmp(ep, network[i], strlen(network[i])) == 0;
	return !is_network || strncmp(ep, "tcp://127.", 10) == 0 ||
	       strncmp(ep, "tcp://localhost:", 16) == 0 || strncmp(ep, "tcp://[::1]:", 12) == 0;
}

/* A local socket with a file, whose permissions guard it; ipc://@NAME has none. */
static int file_socket(const char *ep)
{
	return strncmp(ep, "ipc://", 6) == 0 && ep[6] != '@';
}

static int check_exposure(const struct config *c)
{
	const char *eps[3] = {c->ingest, c->admin, c->publish};
	if (strncmp(c->admin, "ipc://@", 7) == 0)
		log_warn("%sadmin on %s, an abstract socket (admin_abstract = yes): anyone on this "
			 "host may connect to it%s",
			 c->secret_key[0] ? "" : "INSECURE: ", c->admin,
			 c->secret_key[0] ? "; it takes admin keys only" : " and administer xxgkd");
	if (c->secret_key[0])
		return 0;
	for (int i = 0; i < 3; i++) {
		if (endpoint_is_local(eps[i]))
			continue;
		if (!c->insecure) {
			log_error("refusing to bind %s without keys: configure secret_key and "
				  "[client] sections, or set insecure = yes",
				  eps[i]);
			return -1;
		}
		log_warn("INSECURE: %s is bound without keys (insecure = yes): anyone who reaches "
			 "it may write any unit",
			 eps[i]);
	}
	return 0;
}

/* ---- configuration and signals ---- */

static int apply_units(struct server *s, const struct config *c)
{
	struct store_unit *units = calloc(c->n_units, sizeof(*units));
	if (units == NULL)
		return XXGK_ENOMEM;
	for (size_t i = 0; i < c->n_units; i++)
		units[i] = (struct store_unit){c->units[i].id, c->units[i].kind};
	int rc = store_set_units(s->st, units, c->n_units);
	free(units);
	return rc;
}

/* Loads the configuration of sources; on error logs why, and leaves it in err. */
static int load_config(const struct server_sources *sources, struct config *c, char *err,
		       size_t err_size)
{
	if (config_load(c, sources->config_path, sources->units_path, err, err_size)) {
		log_error("%s", err);
		return -1;
	}
	if (sources->state_dir)
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", sources->state_dir);
	/* by default the admin channel is a local socket, owner and group only */
	if (c->admin[0] == '\0' && config_default_admin(c->state_dir, c->admin, sizeof(c->admin))) {
		snprintf(err, err_size,
			 "state_dir too long for the admin socket's path; set admin");
		log_error("%s", err);
		config_free(c);
		return -1;
	}
	log_set_priority_prefix(c->log_priority);
	return 0;
}

static int reload_config(struct server *s, char *err, size_t err_size);

/*
 * A PUB socket cannot drop one subscriber, so when an admin key is lost every subscription is
 * cut: unbinding the endpoint closes the connections accepted on it, and it is bound again at
 * once. Subscribers reconnect by themselves (a few changes may pass them by meanwhile, as
 * they may at any reconnect) and go through the ZAP handler under the configuration in force.
 */
static void cut_subscribers(struct server *s)
{
	char ep[CONFIG_ENDPOINT_MAX];
	size_t len = sizeof(ep);
	if (zmq_getsockopt(s->publish, ZMQ_LAST_ENDPOINT, ep, &len) || zmq_unbind(s->publish, ep)) {
		log_error("reload: cannot cut the live changes' subscribers (%s): a removed admin "
			  "key may still receive them until a restart",
			  zmq_strerror(zmq_errno()));
		return;
	}
	/* the listener closes on its I/O thread: its port may stay busy for a moment */
	int rc = -1;
	for (int i = 0;
	     i < 100 && (rc = zmq_bind(s->publish, ep)) != 0 && zmq_errno() == EADDRINUSE; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	if (rc)
		log_error(
		    "reload: cannot bind the live changes on %s again: %s; they are off until a "
		    "restart",
		    ep, zmq_strerror(zmq_errno()));
	else
		log_info(
		    "reload: an admin key was removed or replaced, or is no longer admin: every "
		    "subscriber of the live changes was cut off, and the others reconnect");
}

/* systemd is told a reload is under way, and when it is over (whether it took or not) */
static int reload(struct server *s, char *err, size_t err_size)
{
	char state[64];
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now.tv_sec * 1000000ULL +
		     (unsigned long long)now.tv_nsec / 1000);
	notify(state);
	int rc = reload_config(s, err, err_size);
	notify("READY=1");
	return rc;
}

static int reload_config(struct server *s, char *err, size_t err_size)
{
	struct config c;
	log_info("reloading the configuration");
	if (load_config(&s->sources, &c, err, err_size)) {
		log_warn("reload failed; keeping the configuration in force");
		log_set_priority_prefix(s->cfg.log_priority);
		return -1;
	}
	/* the calendar first: one that does not read refuses the whole reload, as it refuses a
	 * start and --check-config, rather than half of it answered as done */
	struct calendar *cal;
	if (deadlines_load(&c, &cal, err, err_size)) {
		log_warn("reload failed; keeping the configuration in force");
		config_free(&c);
		log_set_priority_prefix(s->cfg.log_priority);
		return -1;
	}
	int rc = apply_units(s, &c);
	if (rc) {
		log_warn("reload: the units could not be stored (%s); keeping the configuration in "
			 "force",
			 xxgk_strerror(rc));
		snprintf(err, err_size, "the units could not be stored: %s", xxgk_strerror(rc));
		calendar_free(cal);
		config_free(&c);
		log_set_priority_prefix(s->cfg.log_priority);
		return -1;
	}
	/* a calendar changed: every due date again, in one write transaction of this loop */
	deadlines_reload(&s->deadlines, cal);
	if (strcmp(c.ingest, s->cfg.ingest) || strcmp(c.admin, s->cfg.admin) ||
	    strcmp(c.publish, s->cfg.publish) || strcmp(c.state_dir, s->cfg.state_dir))
		log_warn("reload: endpoints and state_dir change only at a restart");
	snprintf(c.ingest, sizeof(c.ingest), "%s", s->cfg.ingest);
	snprintf(c.admin, sizeof(c.admin), "%s", s->cfg.admin);
	snprintf(c.publish, sizeof(c.publish), "%s", s->cfg.publish);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", s->cfg.state_dir);
	/* so are the sockets' queues, handshake and the connection caps */
	if (c.queue_max != s->cfg.queue_max || c.connections_max != s->cfg.connections_max ||
	    c.handshake_timeout != s->cfg.handshake_timeout)
		log_warn("reload: queue_max, connections_max and handshake_timeout change only at "
			 "a restart");
	c.queue_max = s->cfg.queue_max;
	c.connections_max = s->cfg.connections_max;
	c.handshake_timeout = s->cfg.handshake_timeout;
	/* the sockets' CurveZMQ setting is fixed when they are bound */
	if (strcmp(c.secret_key, s->cfg.secret_key))
		log_warn("reload: secret_key changes only at a restart");
	memcpy(c.secret_key, s->cfg.secret_key, sizeof(c.secret_key));
	c.server_key = s->cfg.server_key;
	int cut = s->secure && !file_socket(s->cfg.publish) && zap_admin_key_lost(&s->cfg, &c);
	config_free(&s->cfg);
	s->cfg = c;
	if (admin_set_units(&s->admin, &s->cfg))
		log_warn("reload: out of memory for the units query's copy");
	if (cut)
		cut_subscribers(s);
	log_set_level(c.log_level);
	log_info("reloaded: %zu units", c.n_units);
	return 0;
}

/* Signals and admin writes run between callbacks, so no transaction is ever in flight here:
 * the last one was committed and acknowledged before this ran. */
static void stop(struct server *s, const char *why)
{
	log_info("%s: stopping", why);
	notify("STOPPING=1");
	s->stopping = 1;
	event_base_loopbreak(s->base);
}

/* xxgkctl reload and stop, from the admin channel (admin_write.h) */
static int admin_reload(void *ctx, unsigned *units, char *err, size_t err_size)
{
	struct server *s = ctx;
	if (reload(s, err, err_size))
		return -1;
	*units = (unsigned)s->cfg.n_units;
	return 0;
}

static void admin_stop_server(void *ctx)
{
	stop(ctx, "xxgkctl stop");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	char err[CONFIG_ERROR_MAX];
	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP");
		reload(s, err, sizeof(err));
		return;
	}
	stop(s, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- sockets ---- */

/*
 * io_threads: the ZeroMQ I/O threads (a bit mask) that carry the socket's connections; hwm:
 * the messages each peer's queues hold, each way (ZeroMQ bounds them in messages only).
 */
static void *make_socket(struct server *s, int type, const char *endpoint, const char *what,
			 uint64_t io_threads, int hwm, const char *zap_domain)
{
	void *sock = zmq_socket(s->zmq, type);
	int one = 1, linger = 2000, ivl = 10000, timeout = 30000;
	int handshake = s->cfg.handshake_timeout;
	int64_t max = s->cfg.max_message_size;
	if (sock == NULL) {
		log_error("%s socket: %s", what, zmq_strerror(zmq_errno()));
		return NULL;
	}
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(sock, ZMQ_AFFINITY, &io_threads, sizeof(io_threads));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof(timeout));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &timeout, sizeof(timeout));
	/* a connection that has not completed its handshake (and authenticated) by then is
	 * dropped: idle ones must not hold descriptors and connection slots */
	zmq_setsockopt(sock, ZMQ_HANDSHAKE_IVL, &handshake, sizeof(handshake));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	/* with keys every TCP endpoint is a CURVE server; a local ipc:// socket is guarded by
	 * its file's permissions instead, but an abstract one has no file */
	if (s->secure && !file_socket(endpoint)) {
		zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, zap_domain, strlen(zap_domain));
		zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one));
		zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->cfg.server_key.secret_key,
			       KEY_Z85_LEN);
	}
	if (zmq_bind(sock, endpoint) != 0) {
		log_error("%s: cannot bind %s: %s", what, endpoint, zmq_strerror(zmq_errno()));
		zmq_close(sock);
		return NULL;
	}
	/* a local socket: the owner and the group only */
	if (file_socket(endpoint) && chmod(endpoint + 6, 0660) != 0)
		log_warn("%s: cannot restrict %s to owner and group", what, endpoint + 6);
	log_info("%s on %s%s", what, endpoint,
		 s->secure && !file_socket(endpoint) ? " (CurveZMQ)" : "");
	return sock;
}

static void clear_readers(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	(void)fd, (void)what;
	int dead = store_clear_stale_readers(s->st);
	if (dead)
		log_info("cleared %d stale LMDB readers of dead processes", dead);
}

static void trim_memory(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	memory_trim();
}

static void feed_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	notify("WATCHDOG=1");
}

int server_start(struct server **out, const struct server_sources *sources)
{
	struct server *s = calloc(1, sizeof(*s));
	int rc;
	if (s == NULL) {
		log_error("out of memory");
		return -1;
	}
	s->sources = *sources;
	memory_setup();
	arena_init(&s->arena, (size_t)1 << 30);
	char err[CONFIG_ERROR_MAX];
	if (load_config(&s->sources, &s->cfg, err, sizeof(err))) {
		free(s);
		return -1;
	}
	log_set_level(s->cfg.log_level);
	connlimit_raise_nofile();
	struct store_options opt = {.map_size = (size_t)s->cfg.map_size};
	/* for bench/ only: the cost of the deadlines index, measured against a store without one */
	if ((opt.no_deadlines = getenv("XXGK_BENCH_NO_DEADLINES") != NULL))
		log_error(
		    "XXGK_BENCH_NO_DEADLINES is set: this store's deadlines index is not kept");
	if (store_guard_test_limit(&opt.counter_max))
		goto fail;
	if (store_guard_start(s->cfg.state_dir))
		goto fail;
	if ((rc = store_open(&s->st, s->cfg.state_dir, &opt)) == XXGK_ESCHEMA) {
		log_error(
		    "the store in %s was written by another schema version than this xxgkd's "
		    "(%d): refusing to start; run the xxgkd that wrote it, or restore a backup "
		    "made by this version",
		    s->cfg.state_dir, STORE_SCHEMA_VERSION);
		goto fail;
	} else if (rc == XXGK_ECORRUPT) {
		/* what the walk could not tell (e.g. a stored value of the right size but not its
		 * form) is still damage, and the operator needs the same way out */
		log_error(
		    "the store %s/data.mdb is damaged: %s. Move the state directory %s aside "
		    "and restore the last backup made with `xxgkctl backup` (see \"Restoring a "
		    "damaged store\" in the README and xxgkd(8))",
		    s->cfg.state_dir, xxgk_strerror(rc), s->cfg.state_dir);
		goto fail;
	} else if (rc) {
		log_error("cannot open the store in %s: %s", s->cfg.state_dir, xxgk_strerror(rc));
		goto fail;
	}
	if ((rc = apply_units(s, &s->cfg))) {
		log_error("cannot store the units: %s", xxgk_strerror(rc));
		goto fail;
	}
	s->base = event_base_new();
	s->zmq = zmq_ctx_new();
	/* two I/O threads: the admin channel's traffic never queues behind the ingest's */
	if (s->zmq)
		zmq_ctx_set(s->zmq, ZMQ_IO_THREADS, 2);
	if (s->base == NULL || s->zmq == NULL) {
		log_error("cannot create the event loop or the ZeroMQ context");
		goto fail;
	}
	if (check_exposure(&s->cfg))
		goto fail;
	s->secure = s->cfg.secret_key[0] != '\0';
	if (s->secure) {
		/* the ZAP handler first: with no handler, CURVE would let every key in */
		s->zap = zmq_socket(s->zmq, ZMQ_REP);
		if (s->zap == NULL || zmq_bind(s->zap, "inproc://zeromq.zap.01") != 0 ||
		    zsock_watch(&s->zap_watch, s->base, s->zap, on_zap, s) != 0) {
			log_error("cannot start the ZAP handler: %s; refusing to start without "
				  "authentication",
				  zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	void *admin;
	/* on ingest a push and its reply may each take megabytes: a few of them per peer, so
	 * that what peers that never read make xxgkd hold is bounded by the configuration (a
	 * reply that finds its queue full is dropped; the peer resends) */
	if (!(s->ingest = make_socket(s, ZMQ_ROUTER, s->cfg.ingest, "ingest", 1, s->cfg.queue_max,
				      ZAP_DOMAIN_INGEST)) ||
	    !(s->publish = make_socket(s, ZMQ_PUB, s->cfg.publish, "live changes", 1, 1000,
				       ZAP_DOMAIN_LIVE)) ||
	    !(admin = make_socket(s, ZMQ_ROUTER, s->cfg.admin, "admin", 2, 1000, ZAP_DOMAIN_ADMIN)))
		goto fail;
	/* the working-day calendar, and the due dates computed on it if it changed */
	struct calendar *cal;
	if (deadlines_load(&s->cfg, &cal, err, sizeof(err)) ||
	    deadlines_start(&s->deadlines, s->base, s->st, s->publish, cal)) {
		log_error("cannot start the answer periods (deadlines)");
		zmq_close(admin);
		goto fail;
	}
	/* every listener's connections are capped, the admin socket's too, so that descriptors
	 * never run out (see connlimit.h); before the admin socket goes to its thread */
	const struct connlimit_listener listeners[3] = {{s->ingest, "ingest", &s->metrics.peers},
							{s->publish, "live changes", NULL},
							{admin, "admin", NULL}};
	if ((rc = connlimit_start(&s->connlimit, s->zmq, listeners, 3, s->cfg.connections_max))) {
		log_error("cannot watch the listeners' connections: %s", xxgk_strerror(rc));
		zmq_close(admin);
		goto fail;
	}
	if (admin_start(&s->admin, s->zmq, admin, s->st, &s->cfg, &s->commits,
			s->secure && !file_socket(s->cfg.admin), &s->deadlines)) {
		log_error("cannot start the admin thread");
		goto fail;
	}
	/* freeze and the other admin writes: run here, by the store's one writer */
	s->admin_writes.reload = admin_reload;
	s->admin_writes.stop = admin_stop_server;
	s->admin_writes.ctx = s;
	if (admin_write_watch(&s->admin_writes, s->base, s->admin.writes_loop, s->st, &s->admin)) {
		log_error("cannot watch the admin channel's writes");
		goto fail;
	}
	if (zsock_watch(&s->ingest_watch, s->base, s->ingest, on_ingest, s)) {
		log_error("cannot watch the ingest socket");
		goto fail;
	}
	const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		s->signals[i] = evsignal_new(s->base, sigs[i], on_signal, s);
		if (s->signals[i] == NULL || event_add(s->signals[i], NULL)) {
			log_error("cannot handle signal %d", sigs[i]);
			goto fail;
		}
	}
	/* Bulk ingest yields to queries (see sched.h): the loop thread and the ingest's ZeroMQ
	 * I/O thread (IO/0) are bulk; the admin thread and its I/O thread (IO/1) scheduled
	 * themselves when they started. */
	if (sched_set_role(0, SCHED_ROLE_BULK) < 0)
		log_debug("no scheduling hint for the ingest thread");
	if (sched_set_role_threads("ZMQbg/IO/0", SCHED_ROLE_BULK, 1000) < 0)
		log_debug("no scheduling hint for the ingest's I/O thread");
	s->metrics.deadlines = &s->deadlines;
	s->metrics.jobs = &s->admin.jobs;
	if (s->cfg.http[0] &&
	    (s->http = metrics_serve(s->base, s->cfg.http, &s->metrics, s->st)) == NULL)
		goto fail;
	struct timeval minute = {60, 0};
	s->readers = event_new(s->base, -1, EV_PERSIST, clear_readers, s);
	if (s->readers == NULL || event_add(s->readers, &minute)) {
		log_error("cannot start the reader check");
		goto fail;
	}
	struct timeval trim_period = {MEMORY_TRIM_SECONDS, 0};
	s->trim = event_new(s->base, -1, EV_PERSIST, trim_memory, s);
	if (s->trim == NULL || event_add(s->trim, &trim_period)) {
		log_error("cannot start the memory trim timer");
		goto fail;
	}
	/* the watchdog is fed from the loop: a loop that hangs stops feeding it */
	uint64_t usec = notify_watchdog_usec();
	if (usec) {
		struct timeval half = {(time_t)(usec / 2 / 1000000),
				       (suseconds_t)(usec / 2 % 1000000)};
		s->watchdog = event_new(s->base, -1, EV_PERSIST, feed_watchdog, s);
		if (s->watchdog == NULL || event_add(s->watchdog, &half)) {
			log_error("cannot start the watchdog timer");
			goto fail;
		}
	}
	log_info("ready: %zu units, store in %s", s->cfg.n_units, s->cfg.state_dir);
	notify("READY=1\nSTATUS=ready");
	*out = s;
	return 0;
fail:
	server_free(s);
	return -1;
}

int server_check_config(const struct server_sources *sources)
{
	struct config c;
	struct calendar *cal;
	char err[CONFIG_ERROR_MAX];
	if (load_config(sources, &c, err, sizeof(err)))
		return -1;
	int rc = check_exposure(&c) || deadlines_load(&c, &cal, err, sizeof(err)) ? -1 : 0;
	if (rc == 0)
		calendar_free(cal);
	config_free(&c);
	return rc;
}

int server_run(struct server *s)
{
	int rc = event_base_dispatch(s->base);
	if (rc < 0) {
		log_error("the event loop failed");
		return -1;
	}
	log_info("stopped after %llu commits", (unsigned long long)atomic_load(&s->commits));
	return 0;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	zsock_unwatch(&s->ingest_watch);
	zsock_unwatch(&s->zap_watch);
	commit_bound_close(&s->bound);
	admin_write_unwatch(&s->admin_writes);
	admin_stop(&s->admin);
	deadlines_stop(&s->deadlines);
	if (s->zap)
		zmq_close(s->zap);
	for (int i = 0; i < 3; i++)
		if (s->signals[i])
			event_free(s->signals[i]);
	if (s->watchdog)
		event_free(s->watchdog);
	if (s->readers)
		event_free(s->readers);
	if (s->trim)
		event_free(s->trim);
	connlimit_stop(s->connlimit);
	if (s->http)
		evhttp_free(s->http);
	metrics_free(&s->metrics);
	if (s->ingest)
		zmq_close(s->ingest);
	if (s->publish)
		zmq_close(s->publish);
	if (s->zmq)
		zmq_ctx_term(s->zmq);
	if (s->base)
		event_base_free(s->base);
	store_close(s->st);
	config_free(&s->cfg);
	arena_free(&s->arena);
	free(s->pushes);
	free(s->records);
	free(s->statuses);
	free(s->forbidden);
	free(s->allowed);
	free(s->allowed_at);
	free(s->allowed_statuses);
	free(s->pass_peers);
	free(s);
}
