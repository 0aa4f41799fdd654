#include "deadlines.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "date.h"
#include "deadline.h"
#include "error.h"
#include "log.h"

int deadlines_load(const struct config *c, struct calendar **out, char *err, size_t err_size)
{
	const char *paths[2] = {c->holidays, c->holidays_extra};
	size_t n = c->holidays_extra[0] ? 2 : 1;
	struct stat sb;
	if (!c->holidays_set && stat(c->holidays, &sb) != 0) {
		/* the shipped file not installed: periods are errors, never a weekday guess */
		log_warn("holidays: %s not found: no year is on the working-day calendar, so no "
			 "answer period can be counted (install data/holidays.conf there, or set "
			 "holidays)",
			 c->holidays);
		paths[0] = NULL;
	}
	if (paths[0] == NULL && n == 1) {
		*out = calendar_empty();
		if (*out == NULL)
			snprintf(err, err_size, "holidays: out of memory");
		return *out ? 0 : -1;
	}
	int rc = paths[0] ? calendar_load(out, paths, n, err, err_size)
			  : calendar_load(out, paths + 1, 1, err, err_size);
	if (rc) {
		log_error("holidays: %s", err);
		return -1;
	}
	int first, last, years = calendar_years(*out, &first, &last);
	if (years)
		log_info("holidays: the working-day calendar covers %d years, %d to %d", years,
			 first, last);
	return 0;
}

static int set_store_calendar(struct deadlines *d, const struct calendar *cal)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = store_set_calendar(d->st, cal);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc)
		log_error("holidays: the due dates could not be recomputed: %s", xxgk_strerror(rc));
	else if (s > 0.1)
		log_info("holidays: due dates recomputed in %.1f s", s);
	return rc;
}

/* ---- the midnight timer: applications that became overdue, on the live feed ---- */

struct overdue_item {
	const char *unit;
	char id[RECORD_ID_MAX + 1];
	int due;
};

struct overdue_list {
	struct overdue_item *v;
	size_t n, cap;
};

static int collect_overdue(void *ctx, const struct store_deadline *e)
{
	struct overdue_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct overdue_item *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return XXGK_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct overdue_item *it = &l->v[l->n++];
	it->unit = e->unit;
	snprintf(it->id, sizeof(it->id), "%s", e->id);
	it->due = e->due;
	return 0;
}

static int by_unit(const void *a, const void *b)
{
	const struct overdue_item *x = a, *y = b;
	int c = strcmp(x->unit, y->unit);
	return c ? c : (x->due > y->due) - (x->due < y->due);
}

/* One Changes message per unit, its overdue applications in it, the unit id as the topic. */
static void publish_overdue(struct deadlines *d, struct overdue_list *l)
{
	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), by_unit);
	for (size_t i = 0, j; i < l->n; i = j) {
		for (j = i; j < l->n && strcmp(l->v[j].unit, l->v[i].unit) == 0; j++)
			;
		size_t n = j - i;
		Xxgk__V1__Overdue *items = calloc(n, sizeof(*items));
		Xxgk__V1__Overdue **ptrs = calloc(n, sizeof(*ptrs));
		char(*due)[16] = calloc(n, sizeof(*due));
		if (items == NULL || ptrs == NULL || due == NULL) {
			log_warn("out of memory: overdue applications not published");
			free(items), free(ptrs), free(due);
			return;
		}
		for (size_t k = 0; k < n; k++) {
			items[k] = (Xxgk__V1__Overdue)XXGK__V1__OVERDUE__INIT;
			items[k].id = l->v[i + k].id;
			date_format(l->v[i + k].due, due[k], sizeof(due[k]));
			items[k].due = due[k];
			ptrs[k] = &items[k];
		}
		Xxgk__V1__Changes msg = XXGK__V1__CHANGES__INIT;
		msg.unit = (char *)l->v[i].unit;
		msg.n_overdue = n;
		msg.overdue = ptrs;
		size_t len = xxgk__v1__changes__get_packed_size(&msg);
		uint8_t *buf = malloc(len ? len : 1);
		if (buf) {
			xxgk__v1__changes__pack(&msg, buf);
			if (zmq_send(d->publish, msg.unit, strlen(msg.unit),
				     ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
				zmq_send(d->publish, buf, len, ZMQ_DONTWAIT);
		}
		free(buf), free(items), free(ptrs), free(due);
	}
}

/*
 * XXGK_TEST_DEADLINE_TICK_MS, for tests only: the midnight timer fires every that many
 * milliseconds, each time as the midnight that begins one more day, so that a test sees
 * applications become overdue without waiting for midnight. 0 when unset; -1 when bad (logged).
 */
static long test_tick_ms(void)
{
	const char *v = getenv("XXGK_TEST_DEADLINE_TICK_MS");
	char *end;
	if (v == NULL)
		return 0;
	long ms = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || ms < 1 || ms > 86400000) {
		log_error("XXGK_TEST_DEADLINE_TICK_MS=%s: want milliseconds from 1 to 86400000", v);
		return -1;
	}
	log_warn("XXGK_TEST_DEADLINE_TICK_MS=%ld: a day passes every %ld ms for the overdue feed "
		 "(for tests only)",
		 ms, ms);
	return ms;
}

static void arm_midnight(struct deadlines *d)
{
	if (d->tick_ms) {
		struct timeval tick = {(time_t)(d->tick_ms / 1000),
				       (suseconds_t)(d->tick_ms % 1000) * 1000};
		evtimer_add(d->midnight, &tick);
		return;
	}
	long long now = (long long)time(NULL);
	long long into = (now + 8 * 3600) % 86400;
	struct timeval tv = {(time_t)(86400 - into + 1), 0};
	evtimer_add(d->midnight, &tv);
}

static void on_midnight(evutil_socket_t fd, short what, void *arg)
{
	struct deadlines *d = arg;
	(void)fd, (void)what;
	int today = deadline_today((long long)time(NULL)) + (d->tick_ms ? ++d->ticks : 0);
	if (today > d->published_from) {
		struct overdue_list l = {0};
		int rc =
		    store_deadlines(d->st, d->published_from, today - 1, 0, collect_overdue, &l);
		if (rc)
			log_warn("overdue applications: the index cannot be read: %s",
				 xxgk_strerror(rc));
		else {
			if (l.n)
				log_info("%zu open applications became overdue", l.n);
			publish_overdue(d, &l);
			d->published_from = today;
		}
		free(l.v);
	}
	arm_midnight(d);
}

int deadlines_start(struct deadlines *d, struct event_base *base, struct store *st, void *publish,
		    struct calendar *cal)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->ready = 1;
	d->st = st;
	d->publish = publish;
	d->cal = cal;
	if (set_store_calendar(d, cal))
		return -1;
	d->published_from = deadline_today((long long)time(NULL));
	if ((d->tick_ms = test_tick_ms()) < 0)
		return -1;
	if ((d->midnight = evtimer_new(base, on_midnight, d)) == NULL)
		return -1;
	arm_midnight(d);
	return 0;
}

int deadlines_reload(struct deadlines *d, struct calendar *cal)
{
	if (set_store_calendar(d, cal)) {
		calendar_free(cal);
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	struct calendar *old = d->cal;
	d->cal = cal;
	pthread_mutex_unlock(&d->lock);
	calendar_free(old);
	return 0;
}

int deadlines_covers(struct deadlines *d, int year)
{
	if (!d->ready)
		return 0;
	pthread_mutex_lock(&d->lock);
	int covers = d->cal && calendar_notice(d->cal, year) != NULL;
	pthread_mutex_unlock(&d->lock);
	return covers;
}

void deadlines_stop(struct deadlines *d)
{
	if (!d->ready)
		return;
	if (d->midnight)
		event_free(d->midnight);
	calendar_free(d->cal);
	pthread_mutex_destroy(&d->lock);
	d->ready = 0;
}

/* ---- counts by unit ---- */

struct counting {
	struct deadlines_count *v;
	size_t n, cap;
	int today, soon; /* soon: the last due date within DEADLINES_SOON, 0 when unknown */
	size_t last;	 /* the entry of the previous unit: entries of a unit come in runs */
};

static int compare_count(const void *key, const void *entry)
{
	return strcmp(key, ((const struct deadlines_count *)entry)->unit);
}

static int count_one(void *ctx, const struct store_deadline *e)
{
	struct counting *c = ctx;
	struct deadlines_count *u = NULL;
	if (c->n && strcmp(c->v[c->last].unit, e->unit) == 0)
		u = &c->v[c->last];
	else if (c->n == 0 ||
		 (u = bsearch(e->unit, c->v, c->n, sizeof(*c->v), compare_count)) == NULL) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 64;
			struct deadlines_count *v = realloc(c->v, cap * sizeof(*v));
			if (v == NULL)
				return XXGK_ENOMEM;
			c->v = v;
			c->cap = cap;
		}
		/* a copy: the store's unit table may be replaced once the read is over */
		char *id = strdup(e->unit);
		if (id == NULL)
			return XXGK_ENOMEM;
		size_t at = 0;
		while (at < c->n && strcmp(c->v[at].unit, e->unit) < 0)
			at++;
		memmove(c->v + at + 1, c->v + at, (c->n - at) * sizeof(*c->v));
		c->v[at] = (struct deadlines_count){.unit = id};
		c->n++;
		u = &c->v[at];
	}
	c->last = (size_t)(u - c->v);
	u->open++;
	if (e->state == DEADLINE_ERROR)
		u->uncountable++;
	else if (e->state == DEADLINE_DUE && e->due < c->today)
		u->overdue++;
	else if (e->state == DEADLINE_DUE && c->soon && e->due <= c->soon)
		u->due_soon++;
	return 0;
}

int deadlines_counts(struct deadlines *d, struct deadlines_count **out, size_t *n)
{
	struct counting c = {.today = deadline_today((long long)time(NULL))};
	int year;
	pthread_mutex_lock(&d->lock);
	if (deadline_add_working(d->cal, c.today, DEADLINES_SOON, &c.soon, &year))
		c.soon = 0;
	pthread_mutex_unlock(&d->lock);
	int rc = store_deadlines(d->st, 1, INT_MAX, 1, count_one, &c);
	if (rc) {
		deadlines_counts_free(c.v, c.n);
		return rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

void deadlines_counts_free(struct deadlines_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].unit);
	free(v);
}

/* ---- the deadlines query ---- */

struct listing {
	struct deadlines *d;
	const Xxgk__V1__DeadlinesQuery *q;
	deadlines_kind_fn kind_of;
	void *kind_ctx;
	struct arena *arena;
	int as_of;
	size_t max, total;
	Xxgk__V1__Deadline **v;
	size_t n;
	int failed;
};

static char *arena_copy(struct arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	char *c = arena_alloc(a, len);
	if (c)
		memcpy(c, s, len);
	return c;
}

static char *arena_day(struct arena *a, int day)
{
	char buf[16];
	date_format(day, buf, sizeof(buf));
	return arena_copy(a, buf);
}

static int list_one(void *ctx, const struct store_deadline *e)
{
	struct listing *l = ctx;
	const Xxgk__V1__DeadlinesQuery *q = l->q;
	if (q->scope_case == XXGK__V1__DEADLINES_QUERY__SCOPE_UNIT && strcmp(q->unit, e->unit))
		return 0;
	if (q->scope_case == XXGK__V1__DEADLINES_QUERY__SCOPE_KIND &&
	    l->kind_of(l->kind_ctx, e->unit) != (int)q->kind)
		return 0;
	if (l->total++ >= l->max)
		return 0; /* counted, not listed */
	Xxgk__V1__Deadline *x = arena_alloc(l->arena, sizeof(*x));
	if (x == NULL) {
		l->failed = 1;
		return XXGK_ENOMEM;
	}
	*x = (Xxgk__V1__Deadline)XXGK__V1__DEADLINE__INIT;
	x->unit = arena_copy(l->arena, e->unit);
	x->id = arena_copy(l->arena, e->id);
	x->received = arena_day(l->arena, e->received);
	x->has_extended = x->has_suspended = 1;
	x->extended = e->extended;
	x->suspended = e->state == DEADLINE_SUSPENDED;
	x->has_suspended_days = e->suspended > 0;
	x->suspended_days = (uint32_t)e->suspended;
	char why[128] = "";
	if (e->state == DEADLINE_ERROR) {
		snprintf(why, sizeof(why),
			 "the working-day calendar does not cover %d: add the year's holidays "
			 "(holidays_extra)",
			 e->error_year);
	} else if (e->state == DEADLINE_DUE) {
		int left, year;
		x->due = arena_day(l->arena, e->due);
		/* the calendar of the index: the admin thread reads it under the lock */
		pthread_mutex_lock(&l->d->lock);
		int rc = deadline_days_left(l->d->cal, e->due, l->as_of, &left, &year);
		pthread_mutex_unlock(&l->d->lock);
		if (rc)
			snprintf(why, sizeof(why),
				 "days left: the working-day calendar does not cover %d", year);
		else
			x->has_days_left = 1, x->days_left = left;
	}
	if (why[0])
		x->error = arena_copy(l->arena, why);
	if (x->unit == NULL || x->id == NULL || x->received == NULL ||
	    (e->state == DEADLINE_DUE && x->due == NULL) || (why[0] && x->error == NULL)) {
		l->failed = 1;
		return XXGK_ENOMEM;
	}
	l->v[l->n++] = x;
	return 0;
}

int deadlines_query(struct deadlines *d, const Xxgk__V1__DeadlinesQuery *q, size_t max,
		    deadlines_kind_fn kind_of, void *ctx, struct arena *arena,
		    Xxgk__V1__DeadlinesReply *reply, char *msg, size_t size)
{
	struct listing l = {
	    .d = d, .q = q, .kind_of = kind_of, .kind_ctx = ctx, .arena = arena, .max = max};
	int from = 1, to = INT_MAX, others = 0, year;
	if (q->as_of) {
		struct date day;
		enum date_error e = date_parse(q->as_of, &day);
		if (e != DATE_OK) {
			snprintf(msg, size, "deadlines: as_of: %s", date_strerror(e));
			return XXGK_EINVAL;
		}
		l.as_of = day.day;
	} else {
		l.as_of = deadline_today((long long)time(NULL));
	}
	if (q->scope_case == XXGK__V1__DEADLINES_QUERY__SCOPE_UNIT &&
	    (q->unit == NULL || q->unit[0] == '\0')) {
		snprintf(msg, size, "deadlines: unit: empty");
		return XXGK_EINVAL;
	}
	if (q->scope_case == XXGK__V1__DEADLINES_QUERY__SCOPE_KIND &&
	    (q->kind < 1 || q->kind > 4)) {
		snprintf(msg, size, "deadlines: kind: unknown value %d", (int)q->kind);
		return XXGK_EINVAL;
	}
	if (q->has_within && q->within > 366) {
		snprintf(msg, size, "deadlines: within: at most 366 working days, not %u",
			 (unsigned)q->within);
		return XXGK_EINVAL;
	}
	if (q->has_within) {
		pthread_mutex_lock(&d->lock);
		int rc = deadline_add_working(d->cal, l.as_of, (int)q->within, &to, &year);
		pthread_mutex_unlock(&d->lock);
		if (rc) {
			snprintf(msg, size,
				 "deadlines: within: the working-day calendar does not cover %d",
				 year);
			return XXGK_EINVAL;
		}
		if (!(q->has_overdue && q->overdue))
			from = l.as_of;
	} else if (q->has_overdue && q->overdue) {
		to = l.as_of - 1;
	} else {
		others = 1;
	}
	l.v = arena_alloc(arena, (max ? max : 1) * sizeof(*l.v));
	if (l.v == NULL) {
		snprintf(msg, size, "deadlines: out of memory");
		return XXGK_ENOMEM;
	}
	int rc = store_deadlines(d->st, from, to, others, list_one, &l);
	if (rc) {
		snprintf(msg, size, "deadlines: %s", xxgk_strerror(rc));
		return rc;
	}
	reply->as_of = arena_day(arena, l.as_of);
	reply->n_deadlines = l.n;
	reply->deadlines = l.v;
	reply->has_total = reply->has_truncated = 1;
	reply->total = l.total;
	reply->truncated = l.total > l.n;
	return 0;
}
