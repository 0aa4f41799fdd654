#include "daemon_harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "error.h"
#include "keyfile.h"
#include "sample_fixture.h"

int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static const char *const kind_names[] = {"", "government", "department", "township",
					 "functional_zone"};

void daemon_setup(struct daemon *d, const char *tag, const struct city *c, const char *extra)
{
	memset(d, 0, sizeof(*d));
	d->dir = tmpdir_make(tag);
	snprintf(d->config, sizeof(d->config), "%s/xxgkd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/xxgkd.log", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->ingest, sizeof(d->ingest), "ipc://%s/ingest", d->dir);
	snprintf(d->admin, sizeof(d->admin), "ipc://%s/admin", d->dir);
	snprintf(d->publish, sizeof(d->publish), "ipc://%s/publish", d->dir);
	FILE *f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f, "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n%s\n", d->state,
		d->ingest, d->admin, d->publish, extra ? extra : "");
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, "[unit %s]\nname = 单位%zu\nkind = %s\n", c->units[i].id, i,
			kind_names[c->units[i].kind]);
	fclose(f);
}

void daemon_print_log(struct daemon *d)
{
	char line[1024];
	FILE *f = fopen(d->log, "r");
	if (f == NULL)
		return;
	fprintf(stderr, "---- %s\n", d->log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

int daemon_log_says(struct daemon *d, const char *text)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen(d->log, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

void daemon_spawn(struct daemon *d)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a test that fails midway must not leave its daemon running */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		if (d->nofile) {
			struct rlimit l = {d->nofile, d->nofile};
			setrlimit(RLIMIT_NOFILE, &l);
		}
		execl(XXGKD_PATH, "xxgkd", "-f", "-c", d->config, (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
}

void daemon_start(struct daemon *d)
{
	daemon_spawn(d);
	pid_t pid = d->pid;
	if (d->ready_by_log) {
		for (int i = 0; i < 200; i++) {
			char line[1024];
			int status, ready = 0;
			FILE *f = fopen(d->log, "r");
			while (f && !ready && fgets(line, sizeof(line), f))
				ready = strstr(line, "xxgkd[info]: ready") != NULL;
			if (f)
				fclose(f);
			if (ready)
				return;
			if (waitpid(pid, &status, WNOHANG) == pid) {
				daemon_print_log(d);
				fail_msg("xxgkd exited at start (status %d)", status);
			}
			usleep(50000);
		}
		daemon_print_log(d);
		fail_msg("xxgkd did not log that it is ready within 10 s");
	}
	/* ready when it answers */
	struct xxgk_client *c;
	assert_int_equal(xxgk_connect(&c, d->admin), 0);
	for (int i = 0; i < 100; i++) {
		Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		Xxgk__V1__Reply *reply = NULL;
		req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
		req.status = &q;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			daemon_print_log(d);
			fail_msg("xxgkd exited at start (status %d)", status);
		}
		if (xxgk_call(c, &req, 100, &reply) == 0) {
			xxgk__v1__reply__free_unpacked(reply, NULL);
			xxgk_close(c);
			return;
		}
	}
	xxgk_close(c);
	daemon_print_log(d);
	fail_msg("xxgkd did not answer within 10 s");
}

void daemon_stop(struct daemon *d)
{
	int status;
	/* kill(0, ...) would signal the whole process group: the test itself */
	if (d->pid <= 0)
		fail_msg("no xxgkd to stop");
	assert_int_equal(kill(d->pid, SIGTERM), 0);
	assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		daemon_print_log(d);
		fail_msg("xxgkd did not exit 0 on SIGTERM (status %d)", status);
	}
}

void daemon_kill(struct daemon *d)
{
	int status;
	if (d->pid <= 0)
		fail_msg("no xxgkd to kill");
	assert_int_equal(kill(d->pid, SIGKILL), 0);
	assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
}

void daemon_teardown(struct daemon *d)
{
	if (d->pid > 0)
		daemon_kill(d);
	tmpdir_remove(d->dir);
	d->dir = NULL;
}

Xxgk__V1__Reply *daemon_admin_call(struct daemon *d, Xxgk__V1__Request *req, int body_case)
{
	struct xxgk_client *c;
	Xxgk__V1__Reply *reply = NULL;
	assert_int_equal(xxgk_connect(&c, d->admin), 0);
	int rc = xxgk_call(c, req, 10000, &reply);
	xxgk_close(c);
	if (rc)
		fail_msg("admin call: %s", xxgk_strerror(rc));
	if ((int)reply->body_case != body_case)
		fail_msg("admin call: reply %d, wanted %d (%s)", reply->body_case, body_case,
			 reply->body_case == XXGK__V1__REPLY__BODY_ERROR ? reply->error->message
									 : "");
	return reply;
}

void daemon_report(struct daemon *d, int year, const Xxgk__V1__ReportQuery *q,
		   struct cell_values *out)
{
	Xxgk__V1__ReportQuery query = *q;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	query.has_year = 1;
	query.year = (uint32_t)year;
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &query;
	Xxgk__V1__Reply *reply = daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_REPORT);
	out->n = 0;
	for (size_t i = 0; i < reply->report->n_cells && i < 512; i++) {
		snprintf(out->keys[i], sizeof(out->keys[i]), "%s", reply->report->cells[i]->key);
		out->values[i] = reply->report->cells[i]->value;
		out->n++;
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

static void collect(void *ctx, const char *key, int64_t value)
{
	struct cell_values *out = ctx;
	if (out->n == 512)
		return;
	snprintf(out->keys[out->n], sizeof(out->keys[out->n]), "%s", key);
	out->values[out->n++] = value;
}

void report_cells(const struct report *r, struct cell_values *out)
{
	out->n = 0;
	report_foreach_cell(r, collect, out);
}

#include <pthread.h>

struct batch {
	Xxgk__V1__Record **records;
	size_t n;
};

struct publisher {
	pthread_t thread;
	const char *endpoint;
	struct batch *batches;
	size_t n_batches;
	int resend, timeout_ms;
	struct publish_counts counts;
};

struct publishers {
	int n;
	struct publisher *v;
};

static void *publish(void *arg)
{
	struct publisher *p = arg;
	struct xxgk_client *c;
	int statuses[600], reasons[600];
	const char *messages[600];
	if (xxgk_connect(&c, p->endpoint)) {
		p->counts.failures = p->n_batches;
		return NULL;
	}
	for (size_t b = 0; b < p->n_batches; b++) {
		struct batch *batch = &p->batches[b];
		int rc;
		while ((rc = xxgk_push(c, batch->records, batch->n, statuses, reasons, messages,
				       p->timeout_ms)) != 0 &&
		       p->resend && rc != XXGK_EINVAL)
			p->counts.resends++;
		if (rc) {
			p->counts.failures++;
			continue;
		}
		p->counts.batches++;
		for (size_t i = 0; i < batch->n; i++) {
			switch (statuses[i]) {
			case XXGK__V1__RECORD_STATUS__CODE__APPLIED:
				p->counts.applied++;
				break;
			case XXGK__V1__RECORD_STATUS__CODE__DUPLICATE:
				p->counts.duplicate++;
				break;
			case XXGK__V1__RECORD_STATUS__CODE__STALE:
				p->counts.stale++;
				break;
			default:
				p->counts.rejected++;
				fprintf(stderr, "rejected %s: %s\n", batch->records[i]->id,
					messages[i]);
			}
		}
	}
	xxgk_close(c);
	return NULL;
}

struct publishers *publishers_start(const char *endpoint, Xxgk__V1__Record **entries, size_t n,
				    int publishers, int resend, int timeout_ms, uint64_t seed)
{
	struct rng rng = {seed};
	struct publishers *ps = calloc(1, sizeof(*ps));
	assert_non_null(ps);
	ps->n = publishers;
	ps->v = calloc((size_t)publishers, sizeof(*ps->v));
	for (int i = 0; i < publishers; i++) {
		ps->v[i].endpoint = endpoint;
		ps->v[i].resend = resend;
		ps->v[i].timeout_ms = timeout_ms;
		ps->v[i].batches = calloc(n / 100 + 1, sizeof(struct batch));
	}
	for (size_t i = 0, k = 0; i < n; k++) {
		size_t size = 100 + rng_below(&rng, 501);
		if (size > n - i)
			size = n - i;
		struct publisher *p = &ps->v[k % (size_t)publishers];
		p->batches[p->n_batches++] = (struct batch){entries + i, size};
		i += size;
	}
	for (int i = 0; i < publishers; i++)
		assert_int_equal(pthread_create(&ps->v[i].thread, NULL, publish, &ps->v[i]), 0);
	return ps;
}

void publishers_join(struct publishers *ps, struct publish_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ps->n; i++) {
		struct publish_counts *c = &ps->v[i].counts;
		pthread_join(ps->v[i].thread, NULL);
		out->applied += c->applied;
		out->duplicate += c->duplicate;
		out->stale += c->stale;
		out->rejected += c->rejected;
		out->resends += c->resends;
		out->failures += c->failures;
		out->batches += c->batches;
		free(ps->v[i].batches);
	}
	free(ps->v);
	free(ps);
}

struct model_filter {
	const struct city *city;
	int unit, kind;
};

static int in_filter(int unit, void *ctx)
{
	const struct model_filter *f = ctx;
	if (f->unit >= 0)
		return unit == f->unit;
	return f->kind <= 0 || f->city->units[unit].kind == f->kind;
}

static void compare_one(struct daemon *d, const struct model_record *m, size_t n, int year,
			int template_year, Xxgk__V1__ReportQuery *q, struct model_filter *filter,
			const char *what)
{
	static struct cell_values got, want;
	struct report expected;
	q->has_template_ = 1;
	q->template_ = template_year;
	daemon_report(d, year, q, &got);
	model_report(m, n, in_filter, filter, year, template_year, &expected);
	report_cells(&expected, &want);
	if (got.n != want.n)
		fail_msg("%s %d/%d: %zu cells, the model has %zu", what, year, template_year, got.n,
			 want.n);
	for (size_t i = 0; i < got.n; i++)
		if (strcmp(got.keys[i], want.keys[i]) || got.values[i] != want.values[i])
			fail_msg("%s %d/%d: %s = %lld, the model says %s = %lld", what, year,
				 template_year, got.keys[i], (long long)got.values[i], want.keys[i],
				 (long long)want.values[i]);
}

size_t daemon_check_model(struct daemon *d, const struct city *c, const struct model_record *m,
			  size_t n, int from, int to)
{
	size_t compared = 0;
	for (int year = from; year <= to; year++) {
		for (int t = 2019; t <= 2021; t += 2) {
			Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
			struct model_filter f = {c, -1, 0};
			q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
			q.city = 1;
			compare_one(d, m, n, year, t, &q, &f, "city");
			compared++;
			for (int k = 1; k <= 4; k++) {
				q = (Xxgk__V1__ReportQuery)XXGK__V1__REPORT_QUERY__INIT;
				q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_KIND;
				q.kind = k;
				f = (struct model_filter){c, -1, k};
				compare_one(d, m, n, year, t, &q, &f, "kind");
				compared++;
			}
			for (size_t u = 0; u < c->n; u++) {
				q = (Xxgk__V1__ReportQuery)XXGK__V1__REPORT_QUERY__INIT;
				q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_UNIT;
				q.unit = (char *)c->ids[u];
				f = (struct model_filter){c, (int)u, 0};
				compare_one(d, m, n, year, t, &q, &f, c->ids[u]);
				compared++;
			}
		}
	}
	return compared;
}

void daemon_check_verify(struct daemon *d)
{
	Xxgk__V1__VerifyQuery q = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_VERIFY);
	if (reply->verify->differences)
		fail_msg("verify: %llu differences, the first: %s",
			 (unsigned long long)reply->verify->differences,
			 reply->verify->n_lines ? reply->verify->lines[0] : "");
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

void daemon_setup_units_file(struct daemon *d, const char *tag, const char *units_file)
{
	struct city none = {0};
	char extra[600];
	snprintf(extra, sizeof(extra), "units_file = %s\n", units_file);
	daemon_setup(d, tag, &none, extra);
}

static char *slurp(FILE *f)
{
	long n;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	s[fread(s, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return s;
}

int run_program(const char *const *argv, char **out, char **err)
{
	FILE *o = tmpfile(), *e = tmpfile();
	assert_non_null(o);
	assert_non_null(e);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(fileno(o), 1);
		dup2(fileno(e), 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*out = slurp(o);
	*err = slurp(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Xxgk__V1__Reply *daemon_status(struct daemon *d)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	return daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_STATUS);
}

uint64_t daemon_stored_records(struct daemon *d)
{
	Xxgk__V1__Reply *reply = daemon_status(d);
	uint64_t n = reply->status->records;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return n;
}

void daemon_use_tcp(struct daemon *d)
{
	snprintf(d->ingest, sizeof(d->ingest), "tcp://127.0.0.1:%d", free_port());
	snprintf(d->admin, sizeof(d->admin), "tcp://127.0.0.1:%d", free_port());
	snprintf(d->publish, sizeof(d->publish), "tcp://127.0.0.1:%d", free_port());
}

void daemon_make_key(struct daemon *d, const char *name, struct keypair *out)
{
	char pub[600], secret[600], err[600];
	struct keypair made;
	snprintf(pub, sizeof(pub), "%s/%s.key", d->dir, name);
	snprintf(secret, sizeof(secret), "%s/%s.secret", d->dir, name);
	assert_int_equal(keyfile_write(pub, secret, &made, err, sizeof(err)), 0);
	assert_int_equal(keyfile_read(secret, 1, out, err, sizeof(err)), 0);
}

void daemon_push_sample(struct daemon *d)
{
	struct trec *recs;
	struct xxgk_client *c;
	size_t n = sample_records(&recs);
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	for (size_t i = 0; i < n; i += 500) {
		Xxgk__V1__Record *batch[500];
		int statuses[500];
		size_t k = n - i < 500 ? n - i : 500;
		for (size_t j = 0; j < k; j++)
			batch[j] = &recs[i + j].r;
		assert_int_equal(xxgk_push(c, batch, k, statuses, NULL, NULL, 10000), 0);
		for (size_t j = 0; j < k; j++)
			assert_int_equal(statuses[j], XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	}
	xxgk_close(c);
	free(recs);
}

const char *daemon_write_file(struct daemon *d, const char *name, const char *text)
{
	static char path[4][600];
	static int which;
	char *p = path[which++ % 4];
	snprintf(p, 600, "%s/%s", d->dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

int64_t daemon_city_cell(struct daemon *d, int year, const char *key)
{
	struct cell_values cells;
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	daemon_report(d, year, &q, &cells);
	for (size_t i = 0; i < cells.n; i++)
		if (strcmp(cells.keys[i], key) == 0)
			return cells.values[i];
	return -1;
}

char *http_get(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char request[256];
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	assert_true(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
	size_t n = 0, cap = 1 << 20;
	char *out = malloc(cap);
	ssize_t r;
	while ((r = read(fd, out + n, cap - n - 1)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return out;
}

int daemon_fixture_teardown(void **state)
{
	struct daemon *d = *state;
	if (d == NULL) /* the setup failed before it started one */
		return 0;
	daemon_stop(d);
	daemon_teardown(d);
	return 0;
}

void *dealer_connect(void *zmq, const char *endpoint, int timeout_ms)
{
	void *s = zmq_socket(zmq, ZMQ_DEALER);
	int linger = 0;
	assert_non_null(s);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (timeout_ms > 0)
		zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	assert_int_equal(zmq_connect(s, endpoint), 0);
	return s;
}

Xxgk__V1__Reply *raw_request(const char *endpoint, const void *buf, size_t len, int timeout_ms)
{
	void *zmq = zmq_ctx_new();
	void *s = dealer_connect(zmq, endpoint, timeout_ms);
	zmq_msg_t m;
	assert_int_equal(zmq_send(s, buf, len, 0), (int)len);
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, s, 0) >= 0);
	Xxgk__V1__Reply *reply = xxgk__v1__reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
	zmq_msg_close(&m);
	zmq_close(s);
	zmq_ctx_term(zmq);
	assert_non_null(reply);
	return reply;
}

int daemon_log_count(struct daemon *d, const char *text)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(d->log, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return n;
}
