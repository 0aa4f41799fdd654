#include "admin.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <zmq.h>

#include "admin_write.h"
#include "jobs.h"
#include "date.h"
#include "error.h"
#include "log.h"
#include "scheduling.h"
#include "store_guard.h"
#include "wire.h"

#define VERIFY_LINES_MAX STORE_GUARD_LINES_MAX
#define CELLS_MAX 512

struct cell_list {
	size_t n;
	Xxgk__V1__Cell cells[CELLS_MAX];
	Xxgk__V1__Cell *ptrs[CELLS_MAX];
	char keys[CELLS_MAX][96];
};

static void add_cell(void *ctx, const char *key, int64_t value)
{
	struct cell_list *l = ctx;
	if (l->n == CELLS_MAX)
		return;
	Xxgk__V1__Cell *c = &l->cells[l->n];
	*c = (Xxgk__V1__Cell)XXGK__V1__CELL__INIT;
	snprintf(l->keys[l->n], sizeof(l->keys[l->n]), "%s", key);
	c->key = l->keys[l->n];
	c->has_value = 1;
	c->value = value;
	l->ptrs[l->n++] = c;
}

/* Strings collected into the arena, e.g. the silent units or verify's lines. */
struct strings {
	size_t n, cap, max;
	char **v;
	struct arena *arena;
};

static void add_string(void *ctx, const char *s)
{
	struct strings *l = ctx;
	if (l->n == l->max)
		return;
	char **v = arena_grow(l->arena, l->v, l->n, &l->cap, sizeof(*v), 64);
	if (v == NULL)
		return;
	l->v = v;
	char *copy = arena_alloc(l->arena, strlen(s) + 1);
	if (copy) {
		memcpy(copy, s, strlen(s) + 1);
		l->v[l->n++] = copy;
	}
}

/* The columns where a live report's 上年结转 differs from the published 结转下年度 before. */
struct carry_list {
	size_t n;
	Xxgk__V1__CarryDifference v[APP_COLUMNS_WITH_TOTAL];
	Xxgk__V1__CarryDifference *ptrs[APP_COLUMNS_WITH_TOTAL];
	char keys[APP_COLUMNS_WITH_TOTAL][96];
};

static void add_carry(void *ctx, const char *key, int64_t published, int64_t live)
{
	struct carry_list *l = ctx;
	if (l->n == APP_COLUMNS_WITH_TOTAL)
		return;
	Xxgk__V1__CarryDifference *d = &l->v[l->n];
	*d = (Xxgk__V1__CarryDifference)XXGK__V1__CARRY_DIFFERENCE__INIT;
	snprintf(l->keys[l->n], sizeof(l->keys[l->n]), "%s", key);
	d->key = l->keys[l->n];
	d->has_published = d->has_live = 1;
	d->published = published;
	d->live = live;
	l->ptrs[l->n++] = d;
}

static void iso_time(int64_t at, char buf[32])
{
	struct tm tm;
	time_t t = (time_t)at;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void report(struct admin *a, struct envelope *env, uint64_t id,
		   const Xxgk__V1__ReportQuery *q)
{
	struct report_scope scope = {.type = SCOPE_CITY};
	struct report r;
	struct store_freeze_info info = {0};
	struct carry_list carry = {0};
	int published = q->has_published && q->published;
	char at[32];
	struct strings silent = {.max = SIZE_MAX, .arena = &a->arena};
	struct cell_list *cells;
	if (!q->has_year) {
		wire_error(a->socket, env, id, "report: a year is required");
		return;
	}
	if (q->scope_case == XXGK__V1__REPORT_QUERY__SCOPE_KIND) {
		scope.type = SCOPE_KIND;
		scope.kind = q->kind;
	} else if (q->scope_case == XXGK__V1__REPORT_QUERY__SCOPE_UNIT) {
		scope.type = SCOPE_UNIT;
		scope.unit = q->unit;
	}
	int rc;
	if (published) {
		rc = store_published_report(a->st, (int)q->year, &scope, &r, &info);
		if (rc == XXGK_ENOTFOUND && !info.frozen) {
			wire_error(a->socket, env, id,
				   "report: %u is not frozen, so not published (xxgkctl freeze "
				   "--year %u publishes it)",
				   q->year, q->year);
			return;
		}
		if (rc == 0 && q->has_template_ && (int)q->template_ != r.template_year) {
			wire_error(a->socket, env, id,
				   "report: %u was published in the %d template, not %d", q->year,
				   r.template_year, (int)q->template_);
			return;
		}
	} else {
		rc = store_report(a->st, (int)q->year, &scope, q->has_template_ ? q->template_ : 0,
				  &r);
		if (rc == 0)
			rc = store_carry_differences(a->st, &r, &scope, add_carry, &carry);
	}
	if (rc == XXGK_EINVAL) {
		wire_error(a->socket, env, id,
			   "report: want a year from 2000 to 2099, a known unit kind and template "
			   "2019 or 2021");
		return;
	}
	if (rc == XXGK_ENOTFOUND) {
		wire_error(a->socket, env, id, "report: no unit \"%s\"", q->unit ? q->unit : "");
		return;
	}
	/* published: the government and the silent units as the freeze stored them, since the
	 * configuration and the submissions may have moved since (a freeze from before they were
	 * kept has none: the live ones, as it printed then) */
	Xxgk__V1__Published *meta = NULL;
	struct strings silent_names = {.max = SIZE_MAX, .arena = &a->arena};
	const char *unit_name = NULL;
	if (rc == 0 && published)
		rc = store_published_meta(a->st, (int)q->year, info.generation, &meta);
	if (rc == 0 && meta) {
		for (size_t i = 0; i < meta->n_units; i++) {
			const Xxgk__V1__PublishedUnit *u = meta->units[i];
			if (u->id == NULL)
				continue;
			if (scope.type == SCOPE_UNIT && strcmp(u->id, scope.unit) == 0)
				unit_name = u->name;
			if (u->silent &&
			    (scope.type == SCOPE_CITY ||
			     (scope.type == SCOPE_KIND && (int)u->kind == scope.kind) ||
			     (scope.type == SCOPE_UNIT && strcmp(u->id, scope.unit) == 0))) {
				add_string(&silent, u->id);
				add_string(&silent_names, u->name ? u->name : u->id);
			}
		}
	} else if (rc == 0) {
		rc = store_silent_units(a->st, (int)q->year, &scope, add_string, &silent);
	}
	if (rc || (cells = calloc(1, sizeof(*cells))) == NULL) {
		wire_error(a->socket, env, id, "report: %s", xxgk_strerror(rc ? rc : XXGK_ENOMEM));
		if (meta)
			xxgk__v1__published__free_unpacked(meta, NULL);
		return;
	}
	report_foreach_cell(&r, add_cell, cells);
	Xxgk__V1__ReportReply body = XXGK__V1__REPORT_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.has_year = body.has_template_ = 1;
	body.year = (uint32_t)r.year;
	body.template_ = r.template_year;
	body.n_cells = cells->n;
	body.cells = cells->ptrs;
	body.n_silent_units = silent.n;
	body.silent_units = silent.v;
	/* a copy: a reload may replace them while the reply is built */
	char government[CONFIG_GOVERNMENT_NAME_MAX], region[CONFIG_GOVERNMENT_NAME_MAX];
	pthread_mutex_lock(&a->units_lock);
	memcpy(government, a->government_name, sizeof(government));
	memcpy(region, a->government_region, sizeof(region));
	body.level = (Xxgk__V1__GovernmentLevel)a->government_level;
	pthread_mutex_unlock(&a->units_lock);
	body.government = government;
	body.region = region;
	body.has_level = 1;
	if (meta) {
		body.government = meta->government ? meta->government : "";
		body.region = meta->region ? meta->region : "";
		body.level = meta->level;
		body.n_silent_unit_names = silent_names.n;
		body.silent_unit_names = silent_names.v;
		body.unit_name = (char *)unit_name;
	}
	body.n_carry_differences = carry.n;
	body.carry_differences = carry.ptrs;
	/* a published report keeps its cells only: the figure is live, and known only on a
	 * calendar that has the year */
	body.has_late_answers = !published && deadlines_covers(a->deadlines, r.year);
	body.late_answers = r.late_answers > 0 ? (uint64_t)r.late_answers : 0;
	if (published) {
		iso_time(info.at, at);
		body.published_at = at;
		body.frozen_by = info.by;
		body.has_generation = 1;
		body.generation = info.generation;
	}
	reply.body_case = XXGK__V1__REPLY__BODY_REPORT;
	reply.report = &body;
	wire_reply(a->socket, env, id, &reply);
	free(cells);
	if (meta)
		xxgk__v1__published__free_unpacked(meta, NULL);
}

static char *arena_strdup(struct arena *arena, const char *s);

static void status(struct admin *a, struct envelope *env, uint64_t id)
{
	struct store_stats stats;
	int rc = store_stats(a->st, &stats);
	if (rc) {
		wire_error(a->socket, env, id, "status: %s", xxgk_strerror(rc));
		return;
	}
	Xxgk__V1__StatusReply body = XXGK__V1__STATUS_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.has_schema_version = body.has_records = body.has_units = 1;
	body.has_map_size = body.has_map_used = body.has_commits = 1;
	body.has_uptime_seconds = body.has_pid = 1;
	body.schema_version = STORE_SCHEMA_VERSION;
	body.records = stats.records;
	body.units = stats.units;
	body.map_size = stats.map_size;
	body.map_used = stats.map_used;
	body.commits = atomic_load(a->commits);
	body.uptime_seconds = (uint64_t)(time(NULL) - a->started);
	body.version = (char *)XXGK_VERSION;
	body.pid = (uint32_t)getpid();
	/* per unit: open, due within 5 working days, overdue (deadlines.h) */
	struct deadlines_count *counts = NULL;
	size_t n_counts = 0;
	if ((rc = deadlines_counts(a->deadlines, &counts, &n_counts))) {
		wire_error(a->socket, env, id, "status: deadlines: %s", xxgk_strerror(rc));
		return;
	}
	Xxgk__V1__UnitDeadlines *per = arena_alloc(&a->arena, (n_counts + 1) * sizeof(*per));
	Xxgk__V1__UnitDeadlines **ptrs = arena_alloc(&a->arena, (n_counts + 1) * sizeof(*ptrs));
	for (size_t i = 0; per && ptrs && i < n_counts; i++) {
		per[i] = (Xxgk__V1__UnitDeadlines)XXGK__V1__UNIT_DEADLINES__INIT;
		per[i].unit = arena_strdup(&a->arena, counts[i].unit);
		per[i].has_open = per[i].has_due_soon = per[i].has_overdue = 1;
		per[i].open = counts[i].open;
		per[i].due_soon = counts[i].due_soon;
		per[i].overdue = counts[i].overdue;
		ptrs[i] = &per[i];
	}
	deadlines_counts_free(counts, n_counts);
	if (per && ptrs) {
		body.n_deadlines = n_counts;
		body.deadlines = ptrs;
	}
	struct job_state job;
	Xxgk__V1__Job job_body = XXGK__V1__JOB__INIT;
	jobs_state(&a->jobs, &job);
	if (job.kind != JOB_NONE) {
		job_body.kind = job.kind == JOB_VERIFY ? "verify" : "backup";
		job_body.has_started_at = job_body.has_done = job_body.has_total = 1;
		job_body.started_at = job.started;
		job_body.done = job.done;
		job_body.total = job.total;
		job_body.unit = job.unit[0] ? arena_strdup(&a->arena, job.unit) : NULL;
		job_body.has_year = job.year != 0;
		job_body.year = (uint32_t)job.year;
		body.job = &job_body;
	}
	reply.body_case = XXGK__V1__REPLY__BODY_STATUS;
	reply.status = &body;
	wire_reply(a->socket, env, id, &reply);
}

static void units(struct admin *a, struct envelope *env, uint64_t id, const Xxgk__V1__UnitsQuery *q)
{
	if (q && q->has_year && (q->year < DATE_YEAR_MIN || q->year > DATE_YEAR_MAX)) {
		wire_error(a->socket, env, id, "units: year: want a year from %d to %d, not %u",
			   DATE_YEAR_MIN, DATE_YEAR_MAX, (unsigned)q->year);
		return;
	}
	pthread_mutex_lock(&a->units_lock);
	size_t n = a->n_units;
	Xxgk__V1__Unit *list = arena_alloc(&a->arena, (n ? n : 1) * sizeof(*list));
	Xxgk__V1__Unit **ptrs = arena_alloc(&a->arena, (n ? n : 1) * sizeof(*ptrs));
	const char **ids = arena_alloc(&a->arena, (n ? n : 1) * sizeof(*ids));
	struct store_unit_year *years = arena_alloc(&a->arena, (n ? n : 1) * sizeof(*years));
	if (list == NULL || ptrs == NULL || ids == NULL || years == NULL) {
		pthread_mutex_unlock(&a->units_lock);
		wire_error(a->socket, env, id, "units: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = a->units[i].id;
	/* the year of every unit from one read transaction: one consistent state */
	int rc = q && q->has_year ? store_unit_years(a->st, (int)q->year, ids, n, years) : 0;
	if (rc) {
		pthread_mutex_unlock(&a->units_lock);
		wire_error(a->socket, env, id, "units: %s", xxgk_strerror(rc));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		list[i] = (Xxgk__V1__Unit)XXGK__V1__UNIT__INIT;
		list[i].id = a->units[i].id;
		list[i].name = a->units[i].name;
		list[i].has_kind = 1;
		list[i].kind = a->units[i].kind;
		if (q && q->has_year) {
			list[i].has_submitted = list[i].has_submitted_at = 1;
			list[i].has_records = list[i].has_last_record_at = 1;
			list[i].submitted = years[i].submitted;
			list[i].submitted_at = years[i].submitted_at;
			list[i].records = years[i].records;
			list[i].last_record_at = years[i].last_record_at;
		}
		ptrs[i] = &list[i];
	}
	Xxgk__V1__UnitsReply body = XXGK__V1__UNITS_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.n_units = n;
	body.units = ptrs;
	reply.body_case = XXGK__V1__REPLY__BODY_UNITS;
	reply.units = &body;
	wire_reply(a->socket, env, id, &reply);
	pthread_mutex_unlock(&a->units_lock);
}

/*
 * verify and backup: handed to the jobs thread (jobs.h), answered when they end (job_done), so
 * that this thread answers reports and status meanwhile. One at a time: a second is refused.
 */
static void start_job(struct admin *a, struct envelope *env, uint64_t id,
		      const struct job_request *q)
{
	char why[512];
	if (jobs_submit(&a->jobs, q, why, sizeof(why))) {
		wire_error(a->socket, env, id, "%s", why);
		return;
	}
	/* the requester's envelope, kept until the reply: the routing id is a copy */
	a->job_env = *env;
	zmq_msg_init(&a->job_env.routing);
	zmq_msg_copy(&a->job_env.routing, &env->routing);
	pthread_mutex_lock(&a->units_lock);
	a->job_limits = a->limits;
	pthread_mutex_unlock(&a->units_lock);
	a->job_env.limits = &a->job_limits;
	a->job_request_id = id;
	a->job_waiting = 1;
}

static void verify(struct admin *a, struct envelope *env, uint64_t id,
		   const Xxgk__V1__VerifyQuery *q)
{
	struct job_request job = {.kind = JOB_VERIFY};
	if (q && q->unit && (q->unit[0] == '\0' || strlen(q->unit) >= sizeof(job.unit))) {
		wire_error(a->socket, env, id, "verify: unit: want a unit id of 1 to %zu bytes",
			   sizeof(job.unit) - 1);
		return;
	}
	if (q && q->has_year && (q->year < DATE_YEAR_MIN || q->year > DATE_YEAR_MAX)) {
		wire_error(a->socket, env, id, "verify: year: want a year from %d to %d, not %u",
			   DATE_YEAR_MIN, DATE_YEAR_MAX, (unsigned)q->year);
		return;
	}
	if (q && q->unit)
		snprintf(job.unit, sizeof(job.unit), "%s", q->unit);
	if (q && q->has_year)
		job.year = (int)q->year;
	start_job(a, env, id, &job);
}

static void backup(struct admin *a, struct envelope *env, uint64_t id,
		   const Xxgk__V1__BackupQuery *q)
{
	struct job_request job = {.kind = JOB_BACKUP};
	if (q->dir == NULL || q->dir[0] != '/' || strlen(q->dir) >= sizeof(job.dir) - 16) {
		wire_error(a->socket, env, id,
			   "backup: want an absolute directory on the daemon's "
			   "machine");
		return;
	}
	snprintf(job.dir, sizeof(job.dir), "%s", q->dir);
	start_job(a, env, id, &job);
}

/* A job ended: its reply to whoever asked. */
static void job_done(struct admin *a)
{
	char *message = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!jobs_take(&a->jobs, &message, &buf, &len))
		return;
	if (a->job_waiting) {
		Xxgk__V1__Reply *reply = buf ? xxgk__v1__reply__unpack(NULL, len, buf) : NULL;
		if (reply)
			wire_reply(a->socket, &a->job_env, a->job_request_id, reply);
		else
			wire_error(a->socket, &a->job_env, a->job_request_id, "%s",
				   message ? message : "out of memory");
		if (reply)
			xxgk__v1__reply__free_unpacked(reply, NULL);
		envelope_close(&a->job_env);
		a->job_waiting = 0;
	}
	free(message);
	free(buf);
}

/*
 * Hands a write to the main loop (admin_write.h) and sends its reply. Waits for it, but hears
 * "stop" too: a daemon stopping does not wait for a write that will never be answered.
 */
static void forward_write(struct admin *a, struct envelope *env, const Xxgk__V1__Request *req,
			  const char *who)
{
	size_t len = xxgk__v1__request__get_packed_size(req);
	uint8_t *buf = arena_alloc(&a->arena, len ? len : 1);
	if (buf == NULL) {
		wire_error(a->socket, env, req->request_id, "out of memory");
		return;
	}
	xxgk__v1__request__pack(req, buf);
	if (zmq_send(a->writes, who, strlen(who), ZMQ_SNDMORE) < 0 ||
	    zmq_send(a->writes, buf, len, 0) < 0) {
		wire_error(a->socket, env, req->request_id, "the write could not be handed over");
		return;
	}
	for (;;) {
		zmq_pollitem_t items[2] = {{a->writes, 0, ZMQ_POLLIN, 0},
					   {a->control_peer, 0, ZMQ_POLLIN, 0}};
		if (zmq_poll(items, 2, -1) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			a->stop = 1;
			return;
		}
		/* the reply first: a stop request is answered, then "stop" follows at once */
		if (items[0].revents & ZMQ_POLLIN)
			break;
		if (items[1].revents & ZMQ_POLLIN) {
			a->stop = 1;
			return;
		}
	}
	zmq_msg_t m;
	zmq_msg_init(&m);
	Xxgk__V1__Reply *reply =
	    zmq_msg_recv(&m, a->writes, 0) >= 0
		? xxgk__v1__reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m))
		: NULL;
	zmq_msg_close(&m);
	if (reply == NULL || reply->body_case == XXGK__V1__REPLY__BODY__NOT_SET)
		wire_error(a->socket, env, req->request_id,
			   "the write failed; see the daemon's log");
	else
		wire_reply(a->socket, env, req->request_id, reply);
	if (reply)
		xxgk__v1__reply__free_unpacked(reply, NULL);
}

struct event_list {
	struct admin *a;
	size_t n, cap;
	Xxgk__V1__FreezeEvent **v;
};

static char *arena_strdup(struct arena *arena, const char *s)
{
	size_t len = s ? strlen(s) + 1 : 1;
	char *copy = arena_alloc(arena, len);
	if (copy)
		memcpy(copy, s ? s : "", len);
	return copy;
}

static int add_event(void *ctx, const Xxgk__V1__FreezeEvent *e)
{
	struct event_list *l = ctx;
	Xxgk__V1__FreezeEvent **v = arena_grow(&l->a->arena, l->v, l->n, &l->cap, sizeof(*v), 32);
	if (v == NULL)
		return XXGK_ENOMEM;
	l->v = v;
	Xxgk__V1__FreezeEvent *c = arena_alloc(&l->a->arena, sizeof(*c));
	if (c == NULL)
		return XXGK_ENOMEM;
	*c = *e;
	c->base.unknown_fields = NULL;
	c->base.n_unknown_fields = 0;
	if ((e->at && !(c->at = arena_strdup(&l->a->arena, e->at))) ||
	    (e->by && !(c->by = arena_strdup(&l->a->arena, e->by))) ||
	    (e->action && !(c->action = arena_strdup(&l->a->arena, e->action))) ||
	    (e->reason && !(c->reason = arena_strdup(&l->a->arena, e->reason))))
		return XXGK_ENOMEM;
	l->v[l->n++] = c;
	return 0;
}

static void freezes(struct admin *a, struct envelope *env, uint64_t id)
{
	struct event_list l = {a, 0, 0, NULL};
	int rc = store_freeze_events(a->st, add_event, &l);
	if (rc) {
		wire_error(a->socket, env, id, "freezes: %s", xxgk_strerror(rc));
		return;
	}
	Xxgk__V1__FreezesReply body = XXGK__V1__FREEZES_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.n_events = l.n;
	body.events = l.v;
	reply.body_case = XXGK__V1__REPLY__BODY_FREEZES;
	reply.freezes = &body;
	wire_reply(a->socket, env, id, &reply);
}

static const char *const kind_keys[] = {"", "government", "department", "township",
					"functional_zone"};

struct restatement_list {
	struct admin *a;
	size_t n, cap;
	Xxgk__V1__Restatement **v;
};

static int add_restatement(void *ctx, const struct report_scope *scope, const char *key,
			   int64_t published, int64_t live)
{
	struct restatement_list *l = ctx;
	char name[128];
	Xxgk__V1__Restatement **v = arena_grow(&l->a->arena, l->v, l->n, &l->cap, sizeof(*v), 64);
	if (v == NULL)
		return XXGK_ENOMEM;
	l->v = v;
	Xxgk__V1__Restatement *r = arena_alloc(&l->a->arena, sizeof(*r));
	if (r == NULL)
		return XXGK_ENOMEM;
	*r = (Xxgk__V1__Restatement)XXGK__V1__RESTATEMENT__INIT;
	if (scope->type == SCOPE_CITY)
		snprintf(name, sizeof(name), "city");
	else if (scope->type == SCOPE_KIND)
		snprintf(name, sizeof(name), "kind:%s",
			 scope->kind >= 1 && scope->kind <= 4 ? kind_keys[scope->kind] : "?");
	else
		snprintf(name, sizeof(name), "unit:%s", scope->unit);
	if ((r->scope = arena_strdup(&l->a->arena, name)) == NULL ||
	    (r->key = arena_strdup(&l->a->arena, key)) == NULL)
		return XXGK_ENOMEM;
	r->has_published = r->has_live = 1;
	r->published = published;
	r->live = live;
	l->v[l->n++] = r;
	return 0;
}

static void restatements(struct admin *a, struct envelope *env, uint64_t id,
			 const Xxgk__V1__RestatementsQuery *q)
{
	struct restatement_list l = {a, 0, 0, NULL};
	uint32_t generation = 0;
	if (!q->has_year || q->year < DATE_YEAR_MIN || q->year > DATE_YEAR_MAX) {
		wire_error(a->socket, env, id, "restatements: year: want a year from %d to %d",
			   DATE_YEAR_MIN, DATE_YEAR_MAX);
		return;
	}
	int rc = store_restatements(a->st, (int)q->year, add_restatement, &l, &generation);
	if (rc) {
		wire_error(a->socket, env, id, "restatements: %s", xxgk_strerror(rc));
		return;
	}
	Xxgk__V1__RestatementsReply body = XXGK__V1__RESTATEMENTS_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.has_year = body.has_generation = 1;
	body.year = q->year;
	body.generation = generation;
	body.n_cells = l.n;
	body.cells = l.v;
	reply.body_case = XXGK__V1__REPLY__BODY_RESTATEMENTS;
	reply.restatements = &body;
	wire_reply(a->socket, env, id, &reply);
}

static int unit_kind_of(void *ctx, const char *unit)
{
	struct admin *a = ctx; /* units_lock held by deadlines() */
	for (size_t i = 0; i < a->n_units; i++)
		if (strcmp(a->units[i].id, unit) == 0)
			return a->units[i].kind;
	return 0;
}

static void deadlines(struct admin *a, struct envelope *env, uint64_t id,
		      const Xxgk__V1__DeadlinesQuery *q)
{
	Xxgk__V1__DeadlinesReply body = XXGK__V1__DEADLINES_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	char msg[256];
	pthread_mutex_lock(&a->units_lock);
	int rc = deadlines_query(a->deadlines, q, (size_t)a->deadlines_max, unit_kind_of, a,
				 &a->arena, &body, msg, sizeof(msg));
	pthread_mutex_unlock(&a->units_lock);
	if (rc) {
		wire_error(a->socket, env, id, "%s", msg);
		return;
	}
	reply.body_case = XXGK__V1__REPLY__BODY_DEADLINES;
	reply.deadlines = &body;
	wire_reply(a->socket, env, id, &reply);
}

static void answer(struct admin *a)
{
	struct envelope env;
	struct prescan scan;
	Xxgk__V1__Request *req;
	/* a copy: a reload replaces the limits under the lock while this thread reads */
	pthread_mutex_lock(&a->units_lock);
	struct wire_limits limits = a->limits;
	pthread_mutex_unlock(&a->units_lock);
	switch (wire_receive(a->socket, &a->arena, &limits, &env, &req, &scan)) {
	case WIRE_NOTHING:
	case WIRE_ANSWERED:
		arena_reset(&a->arena);
		return;
	case WIRE_TOO_MANY: /* a push, not decoded: no push is taken here */
		wire_error(a->socket, &env, scan.request_id,
			   "the admin socket takes report, status, units, verify, backup, freeze, "
			   "unfreeze, freezes, restatements, deadlines, reload and stop; push "
			   "records on the ingest socket");
		envelope_close(&env);
		arena_reset(&a->arena);
		return;
	case WIRE_REQUEST:
		break;
	}
	if (scan.query_nul) { /* decoding cut the string there: never act on what is left */
		wire_error(a->socket, &env, scan.request_id, "%s: contains a NUL byte",
			   scan.query_nul);
		envelope_close(&env);
		arena_reset(&a->arena);
		return;
	}
	/* by the key the connection authenticated with (its User-Id), in the configuration in
	 * force: an admin key removed or demoted by SIGHUP asks nothing more, even on a
	 * connection it opened before */
	int allowed = !a->secure, known = 0;
	char name[sizeof(a->clients[0].name)] = "";
	pthread_mutex_lock(&a->units_lock);
	for (size_t i = 0; i < a->n_clients && a->secure && !known; i++)
		if (strcmp(a->clients[i].public_key, env.principal) == 0) {
			known = 1;
			allowed = a->clients[i].admin;
			memcpy(name, a->clients[i].name, sizeof(name));
		}
	pthread_mutex_unlock(&a->units_lock);
	if (!allowed && known) {
		log_info("admin: refused a request from \"%s\", not an admin key", name);
		wire_error(a->socket, &env, req->request_id,
			   "forbidden: the key of \"%s\" is not an admin key", name);
	} else if (!allowed) {
		log_info("admin: refused a request on a connection whose key %s is no longer "
			 "configured",
			 env.principal[0] ? env.principal : "(none)");
		wire_error(a->socket, &env, req->request_id,
			   "forbidden: this connection's key is no longer configured (replaced or "
			   "removed); reconnect with an admin key");
	}
	if (!allowed) {
		envelope_close(&env);
		arena_reset(&a->arena);
		return;
	}
	switch (req->body_case) {
	case XXGK__V1__REQUEST__BODY_REPORT:
		report(a, &env, req->request_id, req->report);
		break;
	case XXGK__V1__REQUEST__BODY_STATUS:
		status(a, &env, req->request_id);
		break;
	case XXGK__V1__REQUEST__BODY_UNITS:
		units(a, &env, req->request_id, req->units);
		break;
	case XXGK__V1__REQUEST__BODY_VERIFY:
		verify(a, &env, req->request_id, req->verify);
		break;
	case XXGK__V1__REQUEST__BODY_BACKUP:
		backup(a, &env, req->request_id, req->backup);
		break;
	case XXGK__V1__REQUEST__BODY_FREEZE:
	case XXGK__V1__REQUEST__BODY_UNFREEZE:
	case XXGK__V1__REQUEST__BODY_RELOAD: /* the configuration belongs to the loop */
	case XXGK__V1__REQUEST__BODY_STOP:
		/* who froze, for the audit log: the admin key's name, or the local socket */
		forward_write(a, &env, req, a->secure ? name : "local");
		break;
	case XXGK__V1__REQUEST__BODY_FREEZES:
		freezes(a, &env, req->request_id);
		break;
	case XXGK__V1__REQUEST__BODY_RESTATEMENTS:
		restatements(a, &env, req->request_id, req->restatements);
		break;
	case XXGK__V1__REQUEST__BODY_DEADLINES:
		deadlines(a, &env, req->request_id, req->deadlines);
		break;
	default:
		wire_error(a->socket, &env, req->request_id,
			   "the admin socket takes report, status, units, verify, backup, freeze, "
			   "unfreeze, freezes, restatements, deadlines, reload and stop; push "
			   "records on the ingest socket");
	}
	envelope_close(&env);
	arena_reset(&a->arena);
}

static void *run(void *arg)
{
	struct admin *a = arg;
	prctl(PR_SET_NAME, "xxgkd-admin"); /* as top -H and ps -L show it */
	/* a query is short and someone waits for it: run as soon as it arrives */
	int realtime = sched_set_role(0, SCHED_ROLE_QUERY) == 1;
	if (realtime && a->io_priority == IO_REALTIME)
		log_info("admin queries run at real-time priority 1");
	else if (realtime && a->io_priority == IO_NORMAL_TCP)
		log_info("admin queries run at real-time priority 1, their ZeroMQ I/O thread at "
			 "normal priority (the admin channel is not a local socket)");
	else if (realtime)
		log_info("admin queries run at real-time priority 1, their ZeroMQ I/O thread at "
			 "normal priority (it could not be found or set)");
	else
		log_info("admin queries run at normal priority (real-time priority needs "
			 "RLIMIT_RTPRIO 1, e.g. LimitRTPRIO=1 in the unit, or CAP_SYS_NICE)");
	zmq_send(a->control_peer, "started", 7, 0); /* admin_start waits for this */
	for (;;) {
		zmq_pollitem_t items[3] = {{a->socket, 0, ZMQ_POLLIN, 0},
					   {a->control_peer, 0, ZMQ_POLLIN, 0},
					   {NULL, jobs_fd(&a->jobs), ZMQ_POLLIN, 0}};
		if (zmq_poll(items, 3, -1) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			log_error("admin: poll: %s", zmq_strerror(zmq_errno()));
			break;
		}
		if (items[1].revents & ZMQ_POLLIN)
			break; /* stop */
		if (items[2].revents & ZMQ_POLLIN)
			job_done(a);
		for (int i = 0; i < a->batch_max && !a->stop && (items[0].revents & ZMQ_POLLIN);
		     i++) {
			int events = 0;
			size_t len = sizeof(events);
			answer(a);
			zmq_getsockopt(a->socket, ZMQ_EVENTS, &events, &len);
			if (!(events & ZMQ_POLLIN))
				break;
		}
		if (a->stop)
			break;
	}
	if (a->job_waiting) /* stopping: the job's requester gets no reply */
		envelope_close(&a->job_env);
	a->job_waiting = 0;
	zmq_close(a->socket);
	zmq_close(a->control_peer);
	zmq_close(a->writes);
	return NULL;
}

int admin_set_units(struct admin *a, const struct config *cfg)
{
	struct unit_config *copy = malloc((cfg->n_units ? cfg->n_units : 1) * sizeof(*copy));
	struct client_config *clients =
	    malloc((cfg->n_clients ? cfg->n_clients : 1) * sizeof(*clients));
	if (copy == NULL || clients == NULL) {
		free(copy);
		free(clients);
		/* fail closed: no key may query over TCP rather than one that was just removed */
		pthread_mutex_lock(&a->units_lock);
		a->n_clients = 0;
		pthread_mutex_unlock(&a->units_lock);
		return -1;
	}
	memcpy(copy, cfg->units, cfg->n_units * sizeof(*copy));
	if (cfg->n_clients)
		memcpy(clients, cfg->clients, cfg->n_clients * sizeof(*clients));
	pthread_mutex_lock(&a->units_lock);
	free(a->units);
	a->units = copy;
	a->n_units = cfg->n_units;
	free(a->clients);
	a->clients = clients;
	a->n_clients = cfg->n_clients;
	memcpy(a->government_name, cfg->government_name, sizeof(a->government_name));
	memcpy(a->government_region, cfg->government_region, sizeof(a->government_region));
	a->government_level = cfg->government_level;
	a->batch_max = cfg->batch_max;
	a->deadlines_max = cfg->deadlines_max;
	atomic_store(&a->jobs.verify_rate, (uint64_t)cfg->verify_rate);
	atomic_store(&a->jobs.backup_rate, (uint64_t)cfg->backup_rate);
	/* no push is taken here: a push of any records is refused undecoded */
	a->limits = (struct wire_limits){0, &a->log, cfg->bad_input_log_interval};
	pthread_mutex_unlock(&a->units_lock);
	return 0;
}

int admin_start(struct admin *a, void *zmq, void *socket, struct store *st,
		const struct config *cfg, atomic_uint_fast64_t *commits, int secure,
		struct deadlines *deadlines)
{
	char endpoint[64];
	sigset_t all, old;
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->units_lock, NULL);
	a->ready = 1;
	if (jobs_start(&a->jobs, cfg->state_dir, (uint64_t)cfg->verify_rate,
		       (uint64_t)cfg->backup_rate))
		return -1;
	a->socket = socket;
	a->secure = secure;
	a->st = st;
	a->deadlines = deadlines;
	snprintf(a->state_dir, sizeof(a->state_dir), "%s", cfg->state_dir);
	a->commits = commits;
	a->started = time(NULL);
	arena_init(&a->arena, (size_t)64 << 20);
	snprintf(endpoint, sizeof(endpoint), "inproc://admin-control-%p", (void *)a);
	a->control = zmq_socket(zmq, ZMQ_PAIR);
	a->control_peer = zmq_socket(zmq, ZMQ_PAIR);
	if (a->control == NULL || a->control_peer == NULL || zmq_bind(a->control, endpoint) ||
	    zmq_connect(a->control_peer, endpoint) || admin_set_units(a, cfg))
		return -1;
	snprintf(endpoint, sizeof(endpoint), "inproc://admin-writes-%p", (void *)a);
	a->writes = zmq_socket(zmq, ZMQ_PAIR);
	a->writes_loop = zmq_socket(zmq, ZMQ_PAIR);
	if (a->writes == NULL || a->writes_loop == NULL || zmq_bind(a->writes, endpoint) ||
	    zmq_connect(a->writes_loop, endpoint))
		return -1;
	/* the admin socket's ZeroMQ I/O thread (see make_socket's affinity) carries the
	 * queries and their replies; on TCP it also does the handshake of whoever connects,
	 * which must not outrank the ingest: there it stays normal */
	a->io_priority = strncmp(cfg->admin, "ipc://", 6) != 0 ? IO_NORMAL_TCP
			 : sched_set_role_threads("ZMQbg/IO/1", SCHED_ROLE_QUERY, 1000) > 0
			     ? IO_REALTIME
			     : IO_NOT_SET;
	/* signals are the main loop's: the thread blocks them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&a->thread, NULL, run, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -1;
	a->running = 1;
	/* once it runs as it will (xxgkd is ready only after) */
	char started[8];
	if (zmq_recv(a->control, started, sizeof(started), 0) < 0)
		return -1;
	return 0;
}

void admin_stop(struct admin *a)
{
	if (!a->ready)
		return;
	a->ready = 0;
	/* first the job: its child is killed, so this is prompt whatever the store's size */
	jobs_stop(&a->jobs);
	if (a->running) {
		zmq_send(a->control, "stop", 4, 0);
		pthread_join(a->thread, NULL);
		a->running = 0;
	} else {
		if (a->socket)
			zmq_close(a->socket);
		if (a->control_peer)
			zmq_close(a->control_peer);
		if (a->writes)
			zmq_close(a->writes);
	}
	jobs_free(&a->jobs); /* the admin thread that polled its pipe has ended */
	if (a->control)
		zmq_close(a->control);
	if (a->writes_loop)
		zmq_close(a->writes_loop);
	a->socket = a->control = a->control_peer = a->writes = a->writes_loop = NULL;
	free(a->units);
	a->units = NULL;
	free(a->clients);
	a->clients = NULL;
	arena_free(&a->arena);
	pthread_mutex_destroy(&a->units_lock);
}
