#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "arena.h"
#include "cells.h"
#include "error.h"
#include "log.h"
#include "store.h"
#include "xxgk.pb-c.h"
#include "zsock.h"

#define VERIFY_LINES_MAX 100

/* A ROUTER peer's envelope: its routing id and whether it sent an empty delimiter frame. */
struct envelope {
	zmq_msg_t routing;
	int delimiter;
};

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
	void *zmq;
	void *ingest, *admin, *publish;
	struct zsock ingest_watch, admin_watch;
	struct store *st;
	struct arena arena;
	/* the current ingest pass */
	struct pending_push *pushes;
	size_t n_pushes, cap_pushes;
	Xxgk__V1__Record **records;
	struct store_status *statuses;
	size_t n_records, cap_records;
	/* figures for status */
	uint64_t commits;
	time_t started;
	int stopping;
};

/* ---- sending ---- */

static int send_frame(void *socket, const void *data, size_t len, int more)
{
	return zmq_send(socket, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1 : 0;
}

/* Sends reply to the peer of env (ROUTER_MANDATORY: a gone peer fails instead of vanishing). */
static void send_reply(void *socket, struct envelope *env, uint64_t request_id,
		       Xxgk__V1__Reply *reply)
{
	reply->request_id = request_id;
	size_t len = xxgk__v1__reply__get_packed_size(reply);
	uint8_t stack[4096], *buf = len <= sizeof(stack) ? stack : malloc(len);
	if (buf == NULL) {
		log_error("out of memory for a reply of %zu bytes", len);
		return;
	}
	xxgk__v1__reply__pack(reply, buf);
	if (send_frame(socket, zmq_msg_data(&env->routing), zmq_msg_size(&env->routing), 1) ||
	    (env->delimiter && send_frame(socket, "", 0, 1)) || send_frame(socket, buf, len, 0))
		log_warn("reply not sent: %s (the peer resends what it has no answer for)",
			 zmq_strerror(zmq_errno()));
	if (buf != stack)
		free(buf);
}

static void send_error(void *socket, struct envelope *env, uint64_t request_id, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static void send_error(void *socket, struct envelope *env, uint64_t request_id, const char *fmt,
		       ...)
{
	char message[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	Xxgk__V1__Error error = XXGK__V1__ERROR__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	error.message = message;
	reply.body_case = XXGK__V1__REPLY__BODY_ERROR;
	reply.error = &error;
	send_reply(socket, env, request_id, &reply);
}

/* ---- receiving ---- */

/*
 * Receives one request: [routing id] ([empty]) [Request]. Returns the request decoded into the
 * arena; NULL after answering a malformed one with an error (or when nothing could be read).
 * The envelope is initialised whenever the return is non-NULL or *answered is set.
 */
static Xxgk__V1__Request *receive_request(struct server *s, void *socket, struct envelope *env)
{
	zmq_msg_t part;
	int more = 0, frames = 0;
	size_t more_len = sizeof(more);
	Xxgk__V1__Request *req = NULL;
	const char *problem = NULL;

	zmq_msg_init(&env->routing);
	env->delimiter = 0;
	if (zmq_msg_recv(&env->routing, socket, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&env->routing);
		return NULL;
	}
	zmq_msg_init(&part);
	zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_len);
	while (more) {
		zmq_msg_close(&part);
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, socket, 0) < 0)
			break;
		frames++;
		more = zmq_msg_more(&part);
		if (frames == 1 && zmq_msg_size(&part) == 0 && more) {
			env->delimiter = 1;
			frames = 0;
			continue;
		}
		if (frames == 1 && !more) {
			req = xxgk__v1__request__unpack(&s->arena.allocator, zmq_msg_size(&part),
							zmq_msg_data(&part));
			if (req == NULL)
				problem = "malformed request: not a xxgk.v1.Request";
		}
	}
	zmq_msg_close(&part);
	if (frames == 0)
		problem = "empty request: want one frame holding a xxgk.v1.Request";
	else if (frames > 1)
		problem = "unexpected multipart request: want one frame holding a xxgk.v1.Request";
	if (problem) {
		log_info("%s", problem);
		send_error(socket, env, 0, "%s", problem);
		zmq_msg_close(&env->routing);
		return NULL;
	}
	return req;
}

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
		if (r == NULL || st == NULL)
			return -1;
		s->cap_records = cap;
	}
	return 0;
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
		if (send_frame(s->publish, msg.unit, strlen(msg.unit), 1) == 0)
			send_frame(s->publish, buf, len, 0);
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
			send_error(
			    s->ingest, &p->env, p->request_id,
			    "not stored: %s; nothing of this batch was applied, send it again",
			    xxgk_strerror(rc));
		} else {
			Xxgk__V1__RecordStatus *st = calloc(p->n, sizeof(*st));
			Xxgk__V1__RecordStatus **ptrs = calloc(p->n, sizeof(*ptrs));
			Xxgk__V1__PushReply push = XXGK__V1__PUSH_REPLY__INIT;
			Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
			if ((st == NULL || ptrs == NULL) && p->n) {
				send_error(s->ingest, &p->env, p->request_id,
					   "out of memory for the statuses; the batch was applied, "
					   "send it again to learn them");
			} else {
				for (size_t j = 0; j < p->n; j++) {
					const struct store_status *ss = &s->statuses[p->first + j];
					st[j] =
					    (Xxgk__V1__RecordStatus)XXGK__V1__RECORD_STATUS__INIT;
					st[j].has_code = 1;
					st[j].code = ss->code;
					if (ss->code == XXGK__V1__RECORD_STATUS__CODE__REJECTED) {
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
				send_reply(s->ingest, &p->env, p->request_id, &reply);
			}
			free(st);
			free(ptrs);
		}
		zmq_msg_close(&p->env.routing);
	}
}

/* Takes one message off the ingest socket into the pass; answers it at once if it is bad. */
static void take_push(struct server *s)
{
	struct envelope env;
	Xxgk__V1__Request *req = receive_request(s, s->ingest, &env);
	if (req == NULL)
		return;
	uint64_t id = req->request_id;
	if (req->body_case != XXGK__V1__REQUEST__BODY_PUSH || req->push == NULL) {
		send_error(s->ingest, &env, id, "the ingest socket takes push requests only");
	} else if (req->push->n_records > (size_t)s->cfg.batch_records_max) {
		send_error(s->ingest, &env, id, "a push of %zu records: at most %d in one request",
			   req->push->n_records, s->cfg.batch_records_max);
	} else if (reserve(s, s->n_pushes + 1, s->n_records + req->push->n_records)) {
		send_error(s->ingest, &env, id, "out of memory; send it again");
	} else {
		s->pushes[s->n_pushes++] =
		    (struct pending_push){env, id, s->n_records, req->push->n_records};
		memcpy(s->records + s->n_records, req->push->records,
		       req->push->n_records * sizeof(*s->records));
		s->n_records += req->push->n_records;
		return;
	}
	zmq_msg_close(&env.routing);
}

/*
 * Group commit: every push drained in this pass (up to batch_max) goes into ONE write
 * transaction; each sender hears its statuses only after the commit.
 */
static void on_ingest(void *arg)
{
	struct server *s = arg;
	s->n_pushes = s->n_records = 0;
	while (!s->stopping && s->n_pushes < (size_t)s->cfg.batch_max &&
	       zsock_readable(&s->ingest_watch))
		take_push(s);
	if (s->n_pushes) {
		int rc = store_apply(s->st, s->records, s->n_records, s->statuses);
		if (rc)
			log_error("a batch of %zu records from %zu pushes was not stored: %s",
				  s->n_records, s->n_pushes, xxgk_strerror(rc));
		else
			s->commits++;
		reply_pushes(s, rc);
		if (rc == 0)
			publish_changes(s);
		log_debug("committed %zu records from %zu pushes", s->n_records, s->n_pushes);
	}
	arena_reset(&s->arena);
	if (!s->stopping)
		zsock_rearm(&s->ingest_watch);
}

/* ---- admin ---- */

struct cell_list {
	size_t n;
	Xxgk__V1__Cell cells[512];
	Xxgk__V1__Cell *ptrs[512];
	char keys[512][96];
};

static void add_cell(void *ctx, const char *key, int64_t value)
{
	struct cell_list *l = ctx;
	if (l->n == 512)
		return;
	Xxgk__V1__Cell *c = &l->cells[l->n];
	*c = (Xxgk__V1__Cell)XXGK__V1__CELL__INIT;
	snprintf(l->keys[l->n], sizeof(l->keys[l->n]), "%s", key);
	c->key = l->keys[l->n];
	c->has_value = 1;
	c->value = value;
	l->ptrs[l->n++] = c;
}

struct unit_names {
	size_t n, cap;
	char **v;
	struct arena *arena;
};

static void add_silent(void *ctx, const char *unit)
{
	struct unit_names *u = ctx;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		char **v = arena_alloc(u->arena, cap * sizeof(*v));
		if (v == NULL)
			return;
		if (u->n)
			memcpy(v, u->v, u->n * sizeof(*v));
		u->v = v;
		u->cap = cap;
	}
	char *copy = arena_alloc(u->arena, strlen(unit) + 1);
	if (copy) {
		memcpy(copy, unit, strlen(unit) + 1);
		u->v[u->n++] = copy;
	}
}

static void admin_report(struct server *s, struct envelope *env, uint64_t id,
			 const Xxgk__V1__ReportQuery *q)
{
	struct report_scope scope = {.type = SCOPE_CITY};
	struct report r;
	struct cell_list *cells;
	struct unit_names silent = {.arena = &s->arena};
	int rc;
	if (!q->has_year) {
		send_error(s->admin, env, id, "report: a year is required");
		return;
	}
	switch (q->scope_case) {
	case XXGK__V1__REPORT_QUERY__SCOPE_KIND:
		scope.type = SCOPE_KIND;
		scope.kind = q->kind;
		break;
	case XXGK__V1__REPORT_QUERY__SCOPE_UNIT:
		scope.type = SCOPE_UNIT;
		scope.unit = q->unit;
		break;
	default:
		break;
	}
	rc = store_report(s->st, (int)q->year, &scope, q->has_template_ ? q->template_ : 0, &r);
	if (rc == XXGK_EINVAL) {
		send_error(s->admin, env, id,
			   "report: want a year from 2000 to 2099, a known unit kind and template "
			   "2019 or 2021");
		return;
	}
	if (rc == XXGK_ENOTFOUND) {
		send_error(s->admin, env, id, "report: no unit \"%s\"", q->unit ? q->unit : "");
		return;
	}
	if (rc == 0)
		rc = store_silent_units(s->st, (int)q->year, &scope, add_silent, &silent);
	if (rc || (cells = calloc(1, sizeof(*cells))) == NULL) {
		send_error(s->admin, env, id, "report: %s", xxgk_strerror(rc ? rc : XXGK_ENOMEM));
		return;
	}
	report_foreach_cell(&r, add_cell, cells);
	Xxgk__V1__ReportReply report = XXGK__V1__REPORT_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	report.has_year = report.has_template_ = 1;
	report.year = (uint32_t)r.year;
	report.template_ = r.template_year;
	report.n_cells = cells->n;
	report.cells = cells->ptrs;
	report.n_silent_units = silent.n;
	report.silent_units = silent.v;
	reply.body_case = XXGK__V1__REPLY__BODY_REPORT;
	reply.report = &report;
	send_reply(s->admin, env, id, &reply);
	free(cells);
}

static void admin_status(struct server *s, struct envelope *env, uint64_t id)
{
	struct store_stats stats;
	int rc = store_stats(s->st, &stats);
	if (rc) {
		send_error(s->admin, env, id, "status: %s", xxgk_strerror(rc));
		return;
	}
	Xxgk__V1__StatusReply status = XXGK__V1__STATUS_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	status.has_schema_version = status.has_records = status.has_units = 1;
	status.has_map_size = status.has_map_used = status.has_commits = 1;
	status.has_uptime_seconds = 1;
	status.schema_version = STORE_SCHEMA_VERSION;
	status.records = stats.records;
	status.units = stats.units;
	status.map_size = stats.map_size;
	status.map_used = stats.map_used;
	status.commits = s->commits;
	status.uptime_seconds = (uint64_t)(time(NULL) - s->started);
	status.version = (char *)XXGK_VERSION;
	status.has_pid = 1;
	status.pid = (uint32_t)getpid();
	reply.body_case = XXGK__V1__REPLY__BODY_STATUS;
	reply.status = &status;
	send_reply(s->admin, env, id, &reply);
}

static void admin_units(struct server *s, struct envelope *env, uint64_t id)
{
	size_t n = s->cfg.n_units;
	Xxgk__V1__Unit *units = calloc(n ? n : 1, sizeof(*units));
	Xxgk__V1__Unit **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	if (units == NULL || ptrs == NULL) {
		send_error(s->admin, env, id, "units: out of memory");
	} else {
		for (size_t i = 0; i < n; i++) {
			units[i] = (Xxgk__V1__Unit)XXGK__V1__UNIT__INIT;
			units[i].id = s->cfg.units[i].id;
			units[i].name = s->cfg.units[i].name;
			units[i].has_kind = 1;
			units[i].kind = s->cfg.units[i].kind;
			ptrs[i] = &units[i];
		}
		Xxgk__V1__UnitsReply list = XXGK__V1__UNITS_REPLY__INIT;
		Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
		list.n_units = n;
		list.units = ptrs;
		reply.body_case = XXGK__V1__REPLY__BODY_UNITS;
		reply.units = &list;
		send_reply(s->admin, env, id, &reply);
	}
	free(units);
	free(ptrs);
}

struct verify_lines {
	size_t n;
	char *v[VERIFY_LINES_MAX];
	struct arena *arena;
};

static void add_difference(void *ctx, const char *line)
{
	struct verify_lines *l = ctx;
	char *copy;
	if (l->n < VERIFY_LINES_MAX && (copy = arena_alloc(l->arena, strlen(line) + 1))) {
		memcpy(copy, line, strlen(line) + 1);
		l->v[l->n++] = copy;
	}
}

static void admin_verify(struct server *s, struct envelope *env, uint64_t id)
{
	struct verify_lines lines = {.arena = &s->arena};
	size_t differences = 0;
	int rc = store_verify(s->st, add_difference, &lines, &differences);
	if (rc) {
		send_error(s->admin, env, id, "verify: %s", xxgk_strerror(rc));
		return;
	}
	if (differences)
		log_error("verify found %zu differences, the first: %s", differences, lines.v[0]);
	Xxgk__V1__VerifyReply verify = XXGK__V1__VERIFY_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	verify.has_differences = 1;
	verify.differences = differences;
	verify.n_lines = lines.n;
	verify.lines = lines.v;
	reply.body_case = XXGK__V1__REPLY__BODY_VERIFY;
	reply.verify = &verify;
	send_reply(s->admin, env, id, &reply);
}

static void on_admin(void *arg)
{
	struct server *s = arg;
	for (int i = 0; i < s->cfg.batch_max && !s->stopping && zsock_readable(&s->admin_watch);
	     i++) {
		struct envelope env;
		Xxgk__V1__Request *req = receive_request(s, s->admin, &env);
		if (req == NULL)
			continue;
		switch (req->body_case) {
		case XXGK__V1__REQUEST__BODY_REPORT:
			admin_report(s, &env, req->request_id, req->report);
			break;
		case XXGK__V1__REQUEST__BODY_STATUS:
			admin_status(s, &env, req->request_id);
			break;
		case XXGK__V1__REQUEST__BODY_UNITS:
			admin_units(s, &env, req->request_id);
			break;
		case XXGK__V1__REQUEST__BODY_VERIFY:
			admin_verify(s, &env, req->request_id);
			break;
		default:
			send_error(s->admin, &env, req->request_id,
				   "the admin socket takes report, status, units and verify; push "
				   "records on the ingest socket");
		}
		zmq_msg_close(&env.routing);
		arena_reset(&s->arena);
	}
	if (!s->stopping)
		zsock_rearm(&s->admin_watch);
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

static int load_config(struct server *s, struct config *c)
{
	char err[CONFIG_ERROR_MAX];
	if (config_load(c, s->sources.config_path, s->sources.units_path, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (s->sources.state_dir)
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", s->sources.state_dir);
	return 0;
}

static void reload(struct server *s)
{
	struct config c;
	log_info("SIGHUP: reloading the configuration");
	if (load_config(s, &c)) {
		log_warn("reload failed; keeping the configuration in force");
		return;
	}
	int rc = apply_units(s, &c);
	if (rc) {
		log_warn("reload: the units could not be stored (%s); keeping the configuration in "
			 "force",
			 xxgk_strerror(rc));
		config_free(&c);
		return;
	}
	if (strcmp(c.ingest, s->cfg.ingest) || strcmp(c.admin, s->cfg.admin) ||
	    strcmp(c.publish, s->cfg.publish) || strcmp(c.state_dir, s->cfg.state_dir))
		log_warn("reload: endpoints and state_dir change only at a restart");
	snprintf(c.ingest, sizeof(c.ingest), "%s", s->cfg.ingest);
	snprintf(c.admin, sizeof(c.admin), "%s", s->cfg.admin);
	snprintf(c.publish, sizeof(c.publish), "%s", s->cfg.publish);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", s->cfg.state_dir);
	config_free(&s->cfg);
	s->cfg = c;
	log_set_level(c.log_level);
	log_info("reloaded: %zu units", c.n_units);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	(void)what;
	if (sig == SIGHUP) {
		reload(s);
		return;
	}
	/* Signals run between callbacks, so no transaction is ever in flight here: the last one
	 * was committed and acknowledged before this ran. */
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	s->stopping = 1;
	event_base_loopbreak(s->base);
}

/* ---- sockets ---- */

static void *make_socket(struct server *s, int type, const char *endpoint, const char *what)
{
	void *sock = zmq_socket(s->zmq, type);
	int one = 1, hwm = 1000, linger = 2000, ivl = 10000, timeout = 30000;
	int64_t max = s->cfg.max_message_size;
	if (sock == NULL) {
		log_error("%s socket: %s", what, zmq_strerror(zmq_errno()));
		return NULL;
	}
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof(timeout));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &timeout, sizeof(timeout));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	if (zmq_bind(sock, endpoint) != 0) {
		log_error("%s: cannot bind %s: %s", what, endpoint, zmq_strerror(zmq_errno()));
		zmq_close(sock);
		return NULL;
	}
	log_info("%s on %s", what, endpoint);
	return sock;
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
	s->started = time(NULL);
	arena_init(&s->arena, (size_t)1 << 30);
	if (load_config(s, &s->cfg)) {
		free(s);
		return -1;
	}
	log_set_level(s->cfg.log_level);
	struct store_options opt = {.map_size = (size_t)s->cfg.map_size};
	if ((rc = store_open(&s->st, s->cfg.state_dir, &opt))) {
		log_error("cannot open the store in %s: %s", s->cfg.state_dir, xxgk_strerror(rc));
		goto fail;
	}
	if ((rc = apply_units(s, &s->cfg))) {
		log_error("cannot store the units: %s", xxgk_strerror(rc));
		goto fail;
	}
	s->base = event_base_new();
	s->zmq = zmq_ctx_new();
	if (s->base == NULL || s->zmq == NULL) {
		log_error("cannot create the event loop or the ZeroMQ context");
		goto fail;
	}
	if (!(s->ingest = make_socket(s, ZMQ_ROUTER, s->cfg.ingest, "ingest")) ||
	    !(s->admin = make_socket(s, ZMQ_ROUTER, s->cfg.admin, "admin")) ||
	    !(s->publish = make_socket(s, ZMQ_PUB, s->cfg.publish, "live changes")))
		goto fail;
	if (zsock_watch(&s->ingest_watch, s->base, s->ingest, on_ingest, s) ||
	    zsock_watch(&s->admin_watch, s->base, s->admin, on_admin, s)) {
		log_error("cannot watch the sockets");
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
	log_info("ready: %zu units, store in %s", s->cfg.n_units, s->cfg.state_dir);
	*out = s;
	return 0;
fail:
	server_free(s);
	return -1;
}

int server_run(struct server *s)
{
	int rc = event_base_dispatch(s->base);
	if (rc < 0) {
		log_error("the event loop failed");
		return -1;
	}
	log_info("stopped after %llu commits", (unsigned long long)s->commits);
	return 0;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	zsock_unwatch(&s->ingest_watch);
	zsock_unwatch(&s->admin_watch);
	for (int i = 0; i < 3; i++)
		if (s->signals[i])
			event_free(s->signals[i]);
	if (s->ingest)
		zmq_close(s->ingest);
	if (s->admin)
		zmq_close(s->admin);
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
	free(s);
}
