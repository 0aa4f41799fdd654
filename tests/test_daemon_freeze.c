/*
 * Closing a year (shared/DOMAIN.md): xxgkctl freeze publishes a year, after which a record that
 * would change one of its cells is FROZEN and changes nothing, while one that changes only later
 * years applies; report --published is the report as it was in every scope; unfreeze, a change
 * and freeze again leave an audit trail and restatements list exactly the changed cells; a
 * freeze killed midway leaves no freeze or the whole snapshot; unit keys cannot freeze; bad
 * command lines exit 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <zmq.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

#define KINDS 4

/* Runs xxgkctl against d's admin socket with args (NULL-terminated); returns its exit status. */
static int ctl(struct daemon *d, char **out, char **err, ...)
{
	const char *argv[32] = {XXGKCTL_PATH, "--admin", d ? d->admin : "ipc:///nonexistent"};
	int n = 3;
	va_list ap;
	va_start(ap, err);
	for (const char *a; n < 31 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_program(argv, out, err);
}

/* Pushes one record; returns its status code, with reason and message. */
static int push(struct daemon *d, struct trec *t, int *reason, char *message, size_t size)
{
	struct xxgk_client *c;
	Xxgk__V1__Record *r = &t->r;
	int status = 0, why = 0;
	const char *m = "";
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, &why, &m, 10000), 0);
	if (reason)
		*reason = why;
	if (message)
		snprintf(message, size, "%s", m ? m : "");
	xxgk_close(c);
	return status;
}

static void push_applied(struct daemon *d, struct trec *t)
{
	char msg[256];
	int status = push(d, t, NULL, msg, sizeof(msg));
	if (status != XXGK__V1__RECORD_STATUS__CODE__APPLIED)
		fail_msg("record %s not applied: %d %s", t->r.id, status, msg);
}

static void push_frozen(struct daemon *d, struct trec *t, const char *year)
{
	char msg[256];
	int reason = 0, status = push(d, t, &reason, msg, sizeof(msg));
	if (status != XXGK__V1__RECORD_STATUS__CODE__REJECTED ||
	    reason != XXGK__V1__RECORD_STATUS__REASON__FROZEN || strstr(msg, year) == NULL)
		fail_msg("record %s: want FROZEN naming %s, got status %d reason %d \"%s\"",
			 t->r.id, year, status, reason, msg);
}

/* Every scope of a city: the city, each kind, each unit. */
struct scopes {
	size_t n;
	Xxgk__V1__ReportQuery q[64];
	char name[64][48];
};

static void scopes_make(struct scopes *s, const struct city *c)
{
	s->n = 0;
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	snprintf(s->name[s->n], sizeof(s->name[0]), "city");
	s->q[s->n++] = q;
	static const char *const kinds[] = {"", "government", "department", "township",
					    "functional_zone"};
	for (int k = 1; k <= KINDS; k++) {
		q = (Xxgk__V1__ReportQuery)XXGK__V1__REPORT_QUERY__INIT;
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_KIND;
		q.kind = k;
		snprintf(s->name[s->n], sizeof(s->name[0]), "kind:%s", kinds[k]);
		s->q[s->n++] = q;
	}
	for (size_t i = 0; i < c->n && s->n < 64; i++) {
		q = (Xxgk__V1__ReportQuery)XXGK__V1__REPORT_QUERY__INIT;
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_UNIT;
		q.unit = c->ids[i];
		snprintf(s->name[s->n], sizeof(s->name[0]), "unit:%s", c->ids[i]);
		s->q[s->n++] = q;
	}
}

static void reports(struct daemon *d, const struct scopes *s, int year, int published,
		    struct cell_values *out)
{
	for (size_t i = 0; i < s->n; i++) {
		Xxgk__V1__ReportQuery q = s->q[i];
		q.has_published = published;
		q.published = published;
		daemon_report(d, year, &q, &out[i]);
	}
}

static void assert_same_reports(const struct scopes *s, const struct cell_values *a,
				const struct cell_values *b, const char *what)
{
	for (size_t i = 0; i < s->n; i++) {
		assert_int_equal(a[i].n, b[i].n);
		for (size_t j = 0; j < a[i].n; j++)
			if (strcmp(a[i].keys[j], b[i].keys[j]) || a[i].values[j] != b[i].values[j])
				fail_msg("%s: %s %s: %lld, not %lld", what, s->name[i],
					 a[i].keys[j], (long long)b[i].values[j],
					 (long long)a[i].values[j]);
	}
}

/* Records and counters of the store, read beside the running daemon. */
static uint64_t digest(struct daemon *d, uint64_t *records)
{
	struct store *st;
	struct store_stats stats;
	struct store_options opt = {.read_only = 1};
	assert_int_equal(store_open(&st, d->state, &opt), 0);
	uint64_t h = store_digest(st);
	assert_int_equal(store_stats(st, &stats), 0);
	*records = stats.records;
	store_close(st);
	return h;
}

static void the_city(struct city *c, struct daemon *d, const char *tag)
{
	city_make(c, 8);
	daemon_setup(d, tag, c, NULL);
	daemon_start(d);
}

/* The example: 2023 to 2025, with applications carried over both year ends. */
static void push_years(struct daemon *d, const struct city *c)
{
	struct trec t;
	trec_application(&t, c->ids[1], "a-1", 1, 1, "2023-11-01", "2024-01-10", 1);
	push_applied(d, &t);
	trec_application(&t, c->ids[1], "a-2", 1, 2, "2024-03-01", "2024-03-10", 1);
	push_applied(d, &t);
	trec_application(&t, c->ids[2], "a-3", 1, 1, "2024-12-20", NULL, 0);
	push_applied(d, &t);
	trec_application(&t, c->ids[3], "a-4", 1, 1, "2025-01-05", NULL, 0);
	push_applied(d, &t);
	trec_document(&t, c->ids[2], "d-1", 1, 2, "2023-05-01", "2023-05-02", NULL);
	push_applied(d, &t);
	trec_tally(&t, c->ids[3], "t-1", 1, 3, "2024-06-30", 5);
	push_applied(d, &t);
	trec_case(&t, c->ids[4], "c-1", 1, 1, "2024-04-01", "2024-05-01", 1);
	push_applied(d, &t);
}

/* The lines of text as a sorted list, for comparing sets of lines. */
static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t sorted_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(*lines), compare_lines);
	return n;
}

static void test_freeze_and_restate(void **state)
{
	(void)state;
	static struct city c;
	static struct daemon d;
	static struct scopes s;
	static struct cell_values before[64], now[64], before_2025[64];
	char *out, *err, msg[256];
	struct trec t;
	uint64_t records, records_after;
	the_city(&c, &d, "freeze");
	scopes_make(&s, &c);
	push_years(&d, &c);
	reports(&d, &s, 2024, 0, before);
	reports(&d, &s, 2025, 0, before_2025);

	/* a year not frozen has no published report */
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", "--published", NULL), 1);
	assert_non_null(strstr(err, "not frozen"));
	free(out);
	free(err);

	assert_int_equal(ctl(&d, &out, &err, "freeze", "--year", "2024", NULL), 0);
	assert_non_null(strstr(out, "frozen: 2024 by local"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "freeze", "--year", "2024", NULL), 1);
	assert_non_null(strstr(err, "frozen already"));
	free(out);
	free(err);

	/* whatever would change a cell of 2024 is FROZEN and changes nothing */
	uint64_t h = digest(&d, &records);
	trec_application(&t, c.ids[1], "a-2", 2, 2, "2024-03-01", "2024-03-10", 2);
	push_frozen(&d, &t, "2024"); /* another outcome */
	trec_application(&t, c.ids[5], "a-new", 1, 1, "2024-05-01", NULL, 0);
	push_frozen(&d, &t, "2024"); /* a late application */
	trec_tombstone(&t, c.ids[3], "t-1", 2, RECORD_TALLY);
	push_frozen(&d, &t, "2024"); /* a deletion */
	/* a 2023 change that moves 2024's 上年结转 (concluded in 2023 after all) */
	trec_application(&t, c.ids[1], "a-1", 2, 1, "2023-11-01", "2023-12-20", 1);
	push_frozen(&d, &t, "2024");
	/* a 2023 document repealed in 2023: 2024's 现行有效件数 would move */
	trec_document(&t, c.ids[2], "d-1", 2, 2, "2023-05-01", "2023-05-02", "2023-09-01");
	push_frozen(&d, &t, "2024");
	assert_true(digest(&d, &records_after) == h);
	assert_int_equal(records_after, records);

	/* concluding in 2025 an application received in 2024 changes no cell of 2024 */
	trec_application(&t, c.ids[2], "a-3", 2, 1, "2024-12-20", "2025-01-10", 1);
	push_applied(&d, &t);
	/* nor does an application received and concluded in 2023: 2024's 上年结转 stays */
	trec_application(&t, c.ids[6], "a-2023", 1, 1, "2023-02-01", "2023-02-20", 1);
	push_applied(&d, &t);

	reports(&d, &s, 2024, 1, now);
	assert_same_reports(&s, before, now, "published");
	reports(&d, &s, 2024, 0, now);
	assert_same_reports(&s, before, now, "live");
	for (const char *const *f =
		 (const char *const[]){"text", "markdown", "csv", "json", "html", NULL};
	     *f; f++) {
		assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", "--published",
				     "--kind", "department", "--format", *f, NULL),
				 0);
		assert_true(strlen(out) > 100);
		free(out);
		free(err);
	}
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", "--published", "--format",
			     "text", NULL),
			 0);
	assert_non_null(strstr(out, "已公开版本（第1版）"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "restatements", "--year", "2024", NULL), 0);
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* a restatement: reopen, change, freeze again */
	assert_int_equal(ctl(&d, &out, &err, "unfreeze", "--year", "2024", "--reason",
			     "补报一件漏报的申请", NULL),
			 0);
	free(out);
	free(err);
	trec_application(&t, c.ids[1], "a-2", 2, 2, "2024-03-01", "2024-03-10", 2);
	push_applied(&d, &t);
	trec_application(&t, c.ids[5], "a-late", 1, 3, "2024-12-30", NULL, 0);
	push_applied(&d, &t);
	/* the live 2025 now carries in more than 2024 published as carried out */
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2025", "--format", "json", NULL),
			 0);
	assert_non_null(strstr(out, "carry_differences"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2025", NULL), 0);
	assert_non_null(strstr(out, "注：本年"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "freeze", "--year", "2024", NULL), 0);
	assert_non_null(strstr(out, "version 2"));
	free(out);
	free(err);

	assert_int_equal(ctl(&d, &out, &err, "freezes", NULL), 0);
	char *lines[4096];
	size_t n = 0;
	for (char *p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_int_equal(n, 3);
	assert_non_null(strstr(out, "unfreeze 2024 version 1 by local: 补报一件漏报的申请"));
	free(out);
	free(err);

	/* exactly the cells that changed, in every scope */
	reports(&d, &s, 2024, 0, now);
	static char expected[8192];
	size_t used = 0, n_expected = 0;
	for (size_t i = 0; i < s.n; i++)
		for (size_t j = 0; j < now[i].n; j++)
			if (now[i].values[j] != before[i].values[j]) {
				used += (size_t)snprintf(
				    expected + used, sizeof(expected) - used,
				    "%s\t%s\t%lld\t%lld\n", s.name[i], now[i].keys[j],
				    (long long)before[i].values[j], (long long)now[i].values[j]);
				n_expected++;
			}
	assert_true(n_expected > 10);
	assert_int_equal(ctl(&d, &out, &err, "restatements", "--year", "2024", NULL), 0);
	char *want[4096];
	size_t n_want = sorted_lines(expected, want, 4096), n_got = sorted_lines(out, lines, 4096);
	assert_int_equal(n_got, n_want);
	for (size_t i = 0; i < n_got; i++)
		assert_string_equal(lines[i], want[i]);
	free(out);
	free(err);
	/* published again: 2025 carries in what 2024 now publishes */
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2025", "--format", "json", NULL),
			 0);
	assert_null(strstr(out, "carry_differences"));
	free(out);
	free(err);
	reports(&d, &s, 2024, 1, before);
	assert_same_reports(&s, before, now, "republished");
	(void)before_2025;
	(void)msg;

	/* restarted, the daemon still knows 2024 is frozen */
	daemon_stop(&d);
	daemon_start(&d);
	trec_application(&t, c.ids[5], "a-later", 1, 3, "2024-12-31", NULL, 0);
	push_frozen(&d, &t, "2024");
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&c);
}

/* Sends a freeze without waiting for its answer. */
static void send_freeze(void *zmq, const char *endpoint, int year)
{
	Xxgk__V1__FreezeRequest f = XXGK__V1__FREEZE_REQUEST__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	uint8_t buf[64];
	f.has_year = 1;
	f.year = (uint32_t)year;
	req.body_case = XXGK__V1__REQUEST__BODY_FREEZE;
	req.freeze = &f;
	size_t len = xxgk__v1__request__pack(&req, buf);
	void *s = dealer_connect(zmq, endpoint, 0);
	assert_int_equal(zmq_send(s, buf, len, 0), (int)len);
	/* until it is surely sent: the answer, or the daemon's death, ends the wait */
	zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
	zmq_poll(&item, 1, 0);
	usleep(1000);
	zmq_close(s);
}

static void test_freeze_killed(void **state)
{
	(void)state;
	static struct city c;
	static struct daemon d;
	static struct scopes s;
	static struct cell_values before[64], now[64];
	struct rng rng = {test_seed(11)};
	void *zmq = zmq_ctx_new();
	city_make(&c, 40);
	daemon_setup(&d, "freeze-kill", &c, NULL);
	daemon_start(&d);
	scopes_make(&s, &c);
	/* enough records that a freeze takes a while: many units, many years */
	{
		static struct trec t[2000];
		static Xxgk__V1__Record *batch[2000];
		static int statuses[2000];
		struct xxgk_client *cl;
		char id[32];
		for (size_t i = 0; i < 2000; i++) {
			snprintf(id, sizeof(id), "r-%zu", i);
			trec_random(&t[i], rng_next(&rng), -1, c.ids[i % c.n], id, 1, 2010, 2024);
			batch[i] = &t[i].r;
		}
		assert_int_equal(xxgk_connect(&cl, d.ingest), 0);
		for (size_t i = 0; i < 2000; i += 500)
			assert_int_equal(xxgk_push(cl, batch + i, 500, statuses, NULL, NULL, 20000),
					 0);
		xxgk_close(cl);
	}
	size_t frozen = 0, not_frozen = 0;
	for (int i = 0; i < 8; i++) {
		int year = 2015 + i;
		char *out, *err;
		reports(&d, &s, year, 0, before);
		send_freeze(zmq, d.admin, year);
		usleep(rng_below(&rng, 20000));
		daemon_kill(&d);
		daemon_start(&d);
		/* either no freeze at all, or the whole snapshot and its audit entry */
		assert_int_equal(ctl(&d, &out, &err, "freezes", NULL), 0);
		char line[64];
		snprintf(line, sizeof(line), "freeze   %d version 1", year);
		int logged = strstr(out, line) != NULL;
		free(out);
		free(err);
		char y[8];
		snprintf(y, sizeof(y), "%d", year);
		int rc = ctl(&d, &out, &err, "report", "--year", y, "--published", NULL);
		free(out);
		free(err);
		assert_int_equal(rc == 0, logged);
		if (logged) {
			reports(&d, &s, year, 1, now);
			assert_same_reports(&s, before, now, "published after kill");
			frozen++;
		} else {
			not_frozen++;
		}
	}
	printf("freeze killed: %zu frozen whole, %zu not frozen\n", frozen, not_frozen);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&c);
	zmq_ctx_term(zmq);
}

static void test_unit_key_cannot_freeze(void **state)
{
	(void)state;
	static struct daemon d;
	struct keypair server, dept, boss;
	struct city none = {0};
	char server_key[600], dept_secret[600], boss_secret[600];
	char *out, *err;
	daemon_setup(&d, "freeze-keys", &none, NULL);
	daemon_use_tcp(&d);
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "dept", &dept);
	daemon_make_key(&d, "boss", &boss);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"secret_key = %s/server.secret\n"
		"[unit u001]\nname = 一\nkind = department\n"
		"[client dept]\nkey_file = %s/dept.key\nunits = u001\n"
		"[client boss]\npublic_key = %s\nadmin = yes\n",
		d.state, d.ingest, d.admin, d.publish, d.dir, d.dir, boss.public_key);
	fclose(f);
	d.ready_by_log = 1;
	daemon_start(&d);
	snprintf(server_key, sizeof(server_key), "%s/server.key", d.dir);
	snprintf(dept_secret, sizeof(dept_secret), "%s/dept.secret", d.dir);
	snprintf(boss_secret, sizeof(boss_secret), "%s/boss.secret", d.dir);
	assert_int_equal(ctl(&d, &out, &err, "--server-key", server_key, "--key", dept_secret,
			     "freeze", "--year", "2024", NULL),
			 1);
	assert_non_null(strstr(err, "forbidden"));
	free(out);
	free(err);
	assert_int_equal(
	    ctl(&d, &out, &err, "--server-key", server_key, "--key", boss_secret, "freezes", NULL),
	    0);
	assert_string_equal(out, ""); /* the unit key froze nothing */
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "--server-key", server_key, "--key", dept_secret,
			     "unfreeze", "--year", "2024", "--reason", "x", NULL),
			 1);
	assert_non_null(strstr(err, "forbidden"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "--server-key", server_key, "--key", boss_secret,
			     "freeze", "--year", "2024", NULL),
			 0);
	assert_non_null(strstr(out, "frozen: 2024 by boss"));
	free(out);
	free(err);
	assert_int_equal(
	    ctl(&d, &out, &err, "--server-key", server_key, "--key", boss_secret, "freezes", NULL),
	    0);
	assert_non_null(strstr(out, "freeze   2024 version 1 by boss"));
	free(out);
	free(err);
	daemon_stop(&d);
	daemon_teardown(&d);
}

/* ---- the published report is what was frozen, whatever moves later ---- */

/* The configuration of c with the government given, unit skip (if any) removed and unit renamed
 * (if any) renamed; then, if the daemon runs, a SIGHUP and the wait for its reload. */
static void configure(struct daemon *d, const struct city *c, const char *government,
		      const char *skip, const char *renamed)
{
	FILE *f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f, "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n%s\n", d->state,
		d->ingest, d->admin, d->publish, government);
	for (size_t i = 0; i < c->n; i++) {
		static const char *const kinds[] = {"", "government", "department", "township",
						    "functional_zone"};
		if (skip && strcmp(c->ids[i], skip) == 0)
			continue;
		fprintf(f, "[unit %s]\nname = %s%zu\nkind = %s\n", c->ids[i],
			renamed && strcmp(c->ids[i], renamed) == 0 ? "改名单位" : "单位", i,
			kinds[c->units[i].kind]);
	}
	fclose(f);
	if (d->pid == 0)
		return;
	assert_int_equal(kill(d->pid, SIGHUP), 0);
	for (int i = 0; i < 400 && !daemon_log_says(d, "reloaded:"); i++)
		usleep(50 * 1000);
	assert_true(daemon_log_says(d, "reloaded:"));
}

/* xxgkctl report --year 2024 in scope s (0: the city, 1..4: a kind, then the units) as format. */
static char *report_as(struct daemon *d, const struct scopes *s, size_t i, const char *format,
		       int published)
{
	static const char *const kinds[] = {"", "government", "department", "township",
					    "functional_zone"};
	char *out, *err;
	const char *flag = NULL, *value = NULL;
	if (s->q[i].scope_case == XXGK__V1__REPORT_QUERY__SCOPE_KIND)
		flag = "--kind", value = kinds[s->q[i].kind];
	else if (s->q[i].scope_case == XXGK__V1__REPORT_QUERY__SCOPE_UNIT)
		flag = "--unit", value = s->q[i].unit;
	int rc = published ? ctl(d, &out, &err, "report", "--year", "2024", "--format", format,
				 "--published", flag, value, NULL)
			   : ctl(d, &out, &err, "report", "--year", "2024", "--format", format,
				 flag, value, NULL);
	if (rc != 0)
		fail_msg("report %s %s: exit %d: %s", s->name[i], format, rc, err);
	free(err);
	return out;
}

/* The text without the published mark, which only a published report has. */
static void drop_published_mark(char *text, const char *mark)
{
	char *p = strstr(text, mark), *end;
	if (p == NULL)
		return;
	if (strncmp(mark, "\n\"published\"", 12) == 0 || strncmp(mark, ",\n", 2) == 0) {
		end = strchr(p + 2, '}');
		assert_non_null(end);
		memmove(p, end + 1, strlen(end + 1) + 1);
		return;
	}
	end = strchr(p, '\n');
	memmove(p, end ? end + 1 : p + strlen(p), strlen(end ? end + 1 : p + strlen(p)) + 1);
}

static void push_office(struct daemon *d, const char *unit, const char *year, int withdraw,
			int want_rc, const char *want)
{
	char *out, *err;
	const char *argv[] = {XXGKCTL_PATH,
			      "--admin",
			      d->admin,
			      "--ingest",
			      d->ingest,
			      "submit",
			      "--unit",
			      unit,
			      "--year",
			      year,
			      withdraw ? "--withdraw" : NULL,
			      NULL};
	int rc = run_program(argv, &out, &err);
	printf("# xxgkctl submit --unit %s --year %s%s: exit %d: %s%s", unit, year,
	       withdraw ? " --withdraw" : "", rc, out, err);
	if (rc != want_rc || (want && strstr(out, want) == NULL && strstr(err, want) == NULL))
		fail_msg("submit %s %s%s: exit %d, want %d and \"%s\"", unit, year,
			 withdraw ? " --withdraw" : "", rc, want_rc, want ? want : "");
	free(out);
	free(err);
}

static void test_published_is_what_was_frozen(void **state)
{
	(void)state;
	static struct city c;
	static struct daemon d;
	static struct scopes s;
	static char *text[64], *json[64];
	char *out, *err;
	struct trec t;
	city_make(&c, 8);
	daemon_setup(&d, "published", &c, NULL);
	configure(&d, &c, "name = 甲市人民政府\nregion = 甲市\nlevel = city", NULL, NULL);
	daemon_start(&d);
	scopes_make(&s, &c);
	push_years(&d, &c);
	/* u000..u003 submit 2024 through the office; u004 submits and withdraws; u005..u007 not */
	for (int i = 0; i < 5; i++)
		push_office(&d, c.ids[i], "2024", 0, 0, "submitted 2024");
	push_office(&d, c.ids[4], "2024", 1, 0, "withdrew");
	for (size_t i = 0; i < s.n; i++) {
		text[i] = report_as(&d, &s, i, "text", 0);
		json[i] = report_as(&d, &s, i, "json", 0);
	}
	assert_non_null(strstr(text[0], "（4）：单位4、单位5、单位6、单位7"));

	assert_int_equal(ctl(&d, &out, &err, "freeze", "--year", "2024", NULL), 0);
	printf("# %s", out);
	assert_non_null(strstr(out, "+08:00"));
	free(out);
	free(err);

	/* a late submission or withdrawal of 2024 would move the published 未报送 list */
	push_office(&d, c.ids[5], "2024", 0, 1, "frozen");
	push_office(&d, c.ids[0], "2024", 1, 1, "frozen");
	trec_submission(&t, c.ids[6], 2024, 1);
	push_frozen(&d, &t, "2024");
	/* a submission of 2025 is another year's */
	push_office(&d, c.ids[6], "2025", 0, 0, "submitted 2025");

	/* the configuration moves: another government, a silent unit renamed, one removed */
	configure(&d, &c, "name = 乙县人民政府\nregion = 乙县\nlevel = county", c.ids[6], c.ids[5]);
	for (size_t i = 0; i < s.n; i++) {
		char *p = report_as(&d, &s, i, "text", 1), *j = report_as(&d, &s, i, "json", 1);
		assert_non_null(strstr(p, "已公开版本（第1版）"));
		drop_published_mark(p, "已公开版本");
		drop_published_mark(j, ",\n  \"published\"");
		if (strcmp(p, text[i]) != 0)
			fail_msg("published text of %s:\n%s\nnot as before the freeze:\n%s",
				 s.name[i], p, text[i]);
		if (strcmp(j, json[i]) != 0)
			fail_msg("published json of %s:\n%s\nnot as before the freeze:\n%s",
				 s.name[i], j, json[i]);
		free(p);
		free(j);
	}
	/* the live report speaks for the government now */
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", NULL), 0);
	assert_non_null(strstr(out, "乙县2024年"));
	free(out);
	free(err);

	/* the published mark in China Standard Time, by 本机管理端, in every layout */
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", "--published", NULL), 0);
	printf("# %s", strstr(out, "已公开版本"));
	assert_non_null(strstr(out, "+08:00 由 本机管理端 冻结"));
	free(out);
	free(err);
	assert_int_equal(
	    ctl(&d, &out, &err, "report", "--year", "2024", "--published", "--format", "csv", NULL),
	    0);
	char *row = strstr(out, "\r\n\"本年度未报送数据的单位（4）");
	assert_non_null(row);
	row = strstr(row + 2, "\r\n");
	assert_non_null(row);
	printf("# csv: %.*s\n", (int)(strchr(row + 2, '\r') - row - 2), row + 2);
	assert_true(strncmp(row + 2, "已公开版本（第1版）", strlen("已公开版本（第1版）")) == 0 ||
		    strncmp(row + 2, "\"已公开版本（第1版）", strlen("\"已公开版本（第1版）")) ==
			0);
	free(out);
	free(err);
	char xlsx[600];
	snprintf(xlsx, sizeof(xlsx), "%s/published.xlsx", d.dir);
	assert_int_equal(ctl(&d, &out, &err, "report", "--year", "2024", "--published", "--format",
			     "xlsx", "--output", xlsx, NULL),
			 0);
	free(out);
	free(err);
	/* the last sheet: the silent units' row, then the published mark's */
	const char *py[] = {
	    "/usr/bin/python3", "-c",
	    "import sys, openpyxl\n"
	    "ws = openpyxl.load_workbook(sys.argv[1]).worksheets[-1]\n"
	    "rows = [r[0] for r in ws.iter_rows(values_only=True) if r[0]]\n"
	    "i = [k for k, v in enumerate(rows) if str(v).startswith('本年度未报送')]\n"
	    "print(rows[i[0] + 1])\n",
	    xlsx, NULL};
	int rc = run_program(py, &out, &err);
	if (rc != 0)
		fail_msg("openpyxl: %s", err);
	printf("# xlsx: %s", out);
	assert_true(strncmp(out, "已公开版本（第1版）", strlen("已公开版本（第1版）")) == 0);
	assert_non_null(strstr(out, "+08:00 由 本机管理端 冻结"));
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "freezes", NULL), 0);
	assert_non_null(strstr(out, "+08:00 freeze"));
	free(out);
	free(err);

	/* a restatement of the silent units: u005 submits late, listed as a change */
	assert_int_equal(
	    ctl(&d, &out, &err, "unfreeze", "--year", "2024", "--reason", "补报送", NULL), 0);
	assert_non_null(strstr(out, "+08:00"));
	free(out);
	free(err);
	push_office(&d, c.ids[5], "2024", 0, 0, "submitted 2024");
	assert_int_equal(ctl(&d, &out, &err, "freeze", "--year", "2024", NULL), 0);
	free(out);
	free(err);
	assert_int_equal(ctl(&d, &out, &err, "restatements", "--year", "2024", NULL), 0);
	printf("# restatements:\n%s", out);
	assert_non_null(strstr(out, "city\tsilent_units\t4\t2\n"));
	assert_non_null(strstr(out, "unit:u005\tsilent_units\t1\t0\n"));
	free(out);
	free(err);
	daemon_check_verify(&d);
	daemon_stop(&d);
	for (size_t i = 0; i < s.n; i++) {
		free(text[i]);
		free(json[i]);
	}
	daemon_teardown(&d);
	city_free(&c);
}

/* A STALE xxgkctl submit says whether the year is as asked: a stored later withdrawal (a unit's
 * huge revision counter) is not "nothing changed". */
static void test_submit_stale(void **state)
{
	(void)state;
	static struct city c;
	static struct daemon d;
	struct trec t;
	the_city(&c, &d, "submit-stale");
	const uint64_t huge = (uint64_t)1 << 62;
	trec_submission(&t, c.ids[1], 2024, huge);
	push_applied(&d, &t);
	push_office(&d, c.ids[1], "2024", 0, 0, "submitted 2024 already");
	trec_tombstone(&t, c.ids[1], "报送-2024", huge + 1, RECORD_SUBMISSION);
	push_applied(&d, &t);
	push_office(&d, c.ids[1], "2024", 0, 1, "NOT submitted: a later withdrawal of 2024");
	push_office(&d, c.ids[1], "2024", 1, 0, "has not submitted 2024 already");
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&c);
}

static void test_bad_command_lines(void **state)
{
	(void)state;
	static char long_reason[600];
	memset(long_reason, 'x', 501);
	const char *const cases[][8] = {
	    {"freeze", NULL},
	    {"freeze", "--year", "1999", NULL},
	    {"freeze", "--year", "2024", "--reason", "x", NULL},
	    {"unfreeze", "--year", "2024", NULL},
	    {"unfreeze", "--year", "2024", "--reason", "", NULL},
	    {"unfreeze", "--year", "2024", "--reason", long_reason, NULL},
	    {"unfreeze", "--year", "2024", "--reason", "\xff\xfe", NULL},
	    {"unfreeze", "--reason", "why", NULL},
	    {"freezes", "--year", "2024", NULL},
	    {"restatements", NULL},
	    {"restatements", "--year", "2024", "--published", NULL},
	    {"report", "--published", NULL},
	    {"status", "--published", NULL},
	    {"freeze", "--year", "2024", "2025", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[16] = {XXGKCTL_PATH, "--admin", "ipc:///nonexistent/admin.sock"};
		int n = 3;
		for (int j = 0; cases[i][j]; j++)
			argv[n++] = cases[i][j];
		argv[n] = NULL;
		char *out, *err;
		int rc = run_program(argv, &out, &err);
		if (rc != 2)
			fail_msg("xxgkctl %s %s: exit %d, not 2 (%s)", cases[i][0],
				 cases[i][1] ? cases[i][1] : "", rc, err);
		assert_non_null(strstr(err, "xxgkctl: "));
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_command_lines),
	    cmocka_unit_test(test_freeze_and_restate),
	    cmocka_unit_test(test_unit_key_cannot_freeze),
	    cmocka_unit_test(test_published_is_what_was_frozen),
	    cmocka_unit_test(test_submit_stale),
	    cmocka_unit_test(test_freeze_killed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
