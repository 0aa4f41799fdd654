#include "admin_write.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "date.h"
#include "error.h"
#include "log.h"
#include "record.h"

/* The admin thread packed the request itself: only a bound against a broken peer of ours. */
#define WRITE_REQUEST_MAX (64 * 1024)

int admin_write_is_write(const Xxgk__V1__Request *req)
{
	return req->body_case == XXGK__V1__REQUEST__BODY_FREEZE ||
	       req->body_case == XXGK__V1__REQUEST__BODY_UNFREEZE ||
	       req->body_case == XXGK__V1__REQUEST__BODY_RELOAD ||
	       req->body_case == XXGK__V1__REQUEST__BODY_STOP;
}

/* An error reply with message fmt. */
static void error_reply(Xxgk__V1__Reply *reply, Xxgk__V1__Error *error, char *buf, size_t size,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void error_reply(Xxgk__V1__Reply *reply, Xxgk__V1__Error *error, char *buf, size_t size,
			const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	*error = (Xxgk__V1__Error)XXGK__V1__ERROR__INIT;
	error->message = buf;
	reply->body_case = XXGK__V1__REPLY__BODY_ERROR;
	reply->error = error;
}

struct answer {
	Xxgk__V1__Reply reply;
	Xxgk__V1__Error error;
	Xxgk__V1__FreezeEvent event;
	Xxgk__V1__ReloadReply reloaded;
	Xxgk__V1__StopReply stopping;
	int stop; /* a stop was answered: the server stops once the answer is sent */
	char message[600], at[32], by[STORE_FREEZE_BY_MAX + 1];
};

static void event_reply(struct answer *a, const char *action, int year, const char *who, int64_t at,
			uint32_t generation)
{
	struct tm tm;
	time_t t = (time_t)at;
	gmtime_r(&t, &tm);
	strftime(a->at, sizeof(a->at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(a->by, sizeof(a->by), "%s", who);
	a->event = (Xxgk__V1__FreezeEvent)XXGK__V1__FREEZE_EVENT__INIT;
	a->event.at = a->at;
	a->event.by = a->by;
	a->event.action = (char *)action;
	a->event.has_year = a->event.has_generation = 1;
	a->event.year = (uint32_t)year;
	a->event.generation = generation;
	a->reply.body_case = XXGK__V1__REPLY__BODY_FREEZE;
	a->reply.freeze = &a->event;
}

static void freeze(struct admin_write *w, const char *who, const Xxgk__V1__FreezeRequest *q,
		   struct answer *a)
{
	uint32_t generation;
	uint64_t scopes;
	int64_t now = (int64_t)time(NULL);
	if (!q->has_year || q->year < DATE_YEAR_MIN || q->year > DATE_YEAR_MAX) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "freeze: year: want a year from %d to %d", DATE_YEAR_MIN,
			    DATE_YEAR_MAX);
		return;
	}
	/* what the published report prints besides the cells, as configured now: a copy, since a
	 * reload may replace them meanwhile */
	struct admin *ad = w->admin;
	pthread_mutex_lock(&ad->units_lock);
	size_t n = ad->n_units;
	char gov_name[CONFIG_GOVERNMENT_NAME_MAX], region[CONFIG_GOVERNMENT_NAME_MAX];
	const char **ids = calloc(n + 1, sizeof(*ids)), **names = calloc(n + 1, sizeof(*names));
	struct unit_config *units = calloc(n + 1, sizeof(*units));
	if (ids && names && units)
		memcpy(units, ad->units, n * sizeof(*units));
	memcpy(gov_name, ad->government_name, sizeof(gov_name));
	memcpy(region, ad->government_region, sizeof(region));
	struct store_government gov = {gov_name, region, ad->government_level, ids, names, n};
	pthread_mutex_unlock(&ad->units_lock);
	for (size_t i = 0; i < n && ids && names && units; i++) {
		ids[i] = units[i].id;
		names[i] = units[i].name;
	}
	int rc = ids && names && units
		     ? store_freeze(w->st, (int)q->year, who, now, &gov, &generation, &scopes)
		     : XXGK_ENOMEM;
	free(ids);
	free(names);
	free(units);
	if (rc == XXGK_EEXIST) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "freeze: %u is frozen already (xxgkctl freezes lists when and by whom)",
			    q->year);
		return;
	}
	if (rc) {
		log_error("freeze of %u failed: %s", q->year, xxgk_strerror(rc));
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "freeze of %u: %s (nothing was frozen)", q->year, xxgk_strerror(rc));
		return;
	}
	log_info("freeze: %u frozen by \"%s\", snapshot %u of %llu scopes", q->year, who,
		 generation, (unsigned long long)scopes);
	event_reply(a, "freeze", (int)q->year, who, now, generation);
	a->event.has_scopes = 1;
	a->event.scopes = scopes;
}

static void unfreeze(struct admin_write *w, const char *who, const Xxgk__V1__UnfreezeRequest *q,
		     struct answer *a)
{
	uint32_t generation;
	int64_t now = (int64_t)time(NULL);
	const char *reason = q->reason ? q->reason : "";
	size_t len = strlen(reason);
	if (!q->has_year || q->year < DATE_YEAR_MIN || q->year > DATE_YEAR_MAX) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "unfreeze: year: want a year from %d to %d", DATE_YEAR_MIN,
			    DATE_YEAR_MAX);
		return;
	}
	if (len == 0 || len > STORE_FREEZE_REASON_MAX || !utf8_valid(reason, len)) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "unfreeze: reason: want 1 to %d bytes of UTF-8 saying why the year is "
			    "restated",
			    STORE_FREEZE_REASON_MAX);
		return;
	}
	int rc = store_unfreeze(w->st, (int)q->year, reason, who, now, &generation);
	if (rc == XXGK_ENOTFOUND) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "unfreeze: %u is not frozen", q->year);
		return;
	}
	if (rc) {
		log_error("unfreeze of %u failed: %s", q->year, xxgk_strerror(rc));
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "unfreeze of %u: %s (it stays frozen)", q->year, xxgk_strerror(rc));
		return;
	}
	log_info("unfreeze: %u reopened by \"%s\" for a restatement of snapshot %u: %s", q->year,
		 who, generation, reason);
	event_reply(a, "unfreeze", (int)q->year, who, now, generation);
	a->event.reason = (char *)reason;
}

/* xxgkctl reload: SIGHUP's work, and whether it took. */
static void reload(struct admin_write *w, const char *who, struct answer *a)
{
	char err[CONFIG_ERROR_MAX];
	unsigned units = 0;
	if (w->reload == NULL) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "reload: not available");
		return;
	}
	log_info("reload asked by \"%s\"", who);
	if (w->reload(w->ctx, &units, err, sizeof(err))) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "reload failed, the configuration in force stays: %s", err);
		return;
	}
	a->reloaded = (Xxgk__V1__ReloadReply)XXGK__V1__RELOAD_REPLY__INIT;
	a->reloaded.has_units = 1;
	a->reloaded.units = units;
	a->reply.body_case = XXGK__V1__REPLY__BODY_RELOAD;
	a->reply.reload = &a->reloaded;
}

static void stop(struct admin_write *w, const char *who, struct answer *a)
{
	if (w->stop == NULL) {
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "stop: not available");
		return;
	}
	log_info("stop asked by \"%s\"", who);
	a->stopping = (Xxgk__V1__StopReply)XXGK__V1__STOP_REPLY__INIT;
	a->reply.body_case = XXGK__V1__REPLY__BODY_STOP;
	a->reply.stop = &a->stopping;
	a->stop = 1;
}

/* Carries out one admin write; the reply goes back to the admin thread. */
static void answer(struct admin_write *w, const char *who, const Xxgk__V1__Request *req,
		   struct answer *a)
{
	a->reply = (Xxgk__V1__Reply)XXGK__V1__REPLY__INIT;
	switch (req->body_case) {
	case XXGK__V1__REQUEST__BODY_FREEZE:
		freeze(w, who, req->freeze, a);
		break;
	case XXGK__V1__REQUEST__BODY_UNFREEZE:
		unfreeze(w, who, req->unfreeze, a);
		break;
	case XXGK__V1__REQUEST__BODY_RELOAD:
		reload(w, who, a);
		break;
	case XXGK__V1__REQUEST__BODY_STOP:
		stop(w, who, a);
		break;
	default:
		error_reply(&a->reply, &a->error, a->message, sizeof(a->message),
			    "not an admin write");
	}
}

static void send_reply(struct admin_write *w, const Xxgk__V1__Reply *reply)
{
	size_t len = xxgk__v1__reply__get_packed_size(reply);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		/* the admin thread must hear something: an empty reply is "failed" */
		zmq_send(w->socket, "", 0, 0);
		return;
	}
	xxgk__v1__reply__pack(reply, buf);
	zmq_send(w->socket, buf, len, 0);
	free(buf);
}

static void on_write(void *arg)
{
	struct admin_write *w = arg;
	int stopping = 0;
	/* one request at a time: the admin thread waits for each reply before the next */
	while (zsock_readable(&w->watch)) {
		char who[STORE_FREEZE_BY_MAX + 1];
		zmq_msg_t m;
		int more = 0;
		size_t more_len = sizeof(more);
		int n = zmq_recv(w->socket, who, sizeof(who) - 1, ZMQ_DONTWAIT);
		if (n < 0)
			break;
		who[n < (int)sizeof(who) - 1 ? n : (int)sizeof(who) - 1] = '\0';
		zmq_getsockopt(w->socket, ZMQ_RCVMORE, &more, &more_len);
		if (!more) {
			send_reply(w, &(Xxgk__V1__Reply)XXGK__V1__REPLY__INIT);
			continue;
		}
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, w->socket, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		Xxgk__V1__Request *req =
		    zmq_msg_size(&m) <= WRITE_REQUEST_MAX
			? xxgk__v1__request__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m))
			: NULL;
		zmq_msg_close(&m);
		struct answer *a = calloc(1, sizeof(*a));
		if (req && a) {
			answer(w, who, req, a);
			send_reply(w, &a->reply);
			stopping = a->stop;
		} else {
			send_reply(w, &(Xxgk__V1__Reply)XXGK__V1__REPLY__INIT);
		}
		free(a);
		if (req)
			xxgk__v1__request__free_unpacked(req, NULL);
		if (stopping)
			break;
	}
	zsock_rearm(&w->watch);
	/* the answer is on its way: the admin thread sends it before it hears "stop" */
	if (stopping)
		w->stop(w->ctx);
}

int admin_write_watch(struct admin_write *w, struct event_base *base, void *socket,
		      struct store *st, struct admin *admin)
{
	w->socket = socket;
	w->st = st;
	w->admin = admin;
	return zsock_watch(&w->watch, base, socket, on_write, w);
}

void admin_write_unwatch(struct admin_write *w)
{
	zsock_unwatch(&w->watch);
}
