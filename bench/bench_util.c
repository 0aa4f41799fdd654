#include "bench_util.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xxgk.h"

double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

int bench_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("bench: free port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Whether xxgkd answers a status request on c. */
static int answers(struct xxgk_client *c)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	if (xxgk_call(c, &req, 100, &reply))
		return 0;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 1;
}

pid_t bench_start_xxgkd(const char *dir, int units, const char *const *lines, size_t n_lines,
			char *ingest, char *admin, size_t size)
{
	char conf[1200], log[1200];
	snprintf(conf, sizeof(conf), "%s/xxgkd.conf", dir);
	snprintf(log, sizeof(log), "%s/xxgkd.log", dir);
	snprintf(ingest, size, "tcp://127.0.0.1:%d", bench_free_port());
	/* the admin channel as xxgkd has it by default: a local socket */
	snprintf(admin, size, "ipc://%s/admin.sock", dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL) {
		perror(conf);
		exit(1);
	}
	fprintf(f,
		"[xxgkd]\nstate_dir = %s/state\ningest = %s\nadmin = %s\npublish = "
		"tcp://127.0.0.1:%d\nlog_level = warn\n",
		dir, ingest, admin, bench_free_port());
	for (size_t i = 0; i < n_lines; i++)
		fprintf(f, "%s\n", lines[i]);
	for (int u = 0; u < units; u++)
		fprintf(f, "[unit unit-%02d]\nname = 单位%d\nkind = %s\n", u, u,
			u == 0	? "government"
			: u % 3 ? "department"
				: "township");
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		const char *xxgkd =
		    getenv("XXGK_BENCH_XXGKD") ? getenv("XXGK_BENCH_XXGKD") : XXGKD_PATH;
		execl(xxgkd, "xxgkd", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	struct xxgk_client *c;
	if (xxgk_connect(&c, admin) == 0) {
		for (int i = 0; i < 100; i++) {
			if (answers(c)) {
				xxgk_close(c);
				return pid;
			}
			usleep(100000);
		}
		xxgk_close(c);
	}
	fprintf(stderr, "bench: xxgkd did not start; see %s\n", log);
	exit(1);
}

void *bench_pack_push(Xxgk__V1__Record **records, size_t n, uint64_t request_id, size_t *len)
{
	Xxgk__V1__PushBatch push = XXGK__V1__PUSH_BATCH__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	push.n_records = n;
	push.records = records;
	req.body_case = XXGK__V1__REQUEST__BODY_PUSH;
	req.push = &push;
	req.has_request_id = 1;
	req.request_id = request_id;
	void *data = malloc(xxgk__v1__request__get_packed_size(&req));
	if (data == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	*len = xxgk__v1__request__pack(&req, data);
	return data;
}

uint64_t bench_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void bench_make_record(struct bench_record *o, const char *unit_prefix, int units, int publisher,
		       size_t serial, uint64_t *rng)
{
	int month = 1 + (int)(bench_rand(rng) % 12), day = 1 + (int)(bench_rand(rng) % 28);
	int year = 2019 + (int)(bench_rand(rng) % 3);
	memset(o, 0, sizeof(*o));
	o->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	snprintf(o->unit, sizeof(o->unit), "%s%02d", unit_prefix,
		 (int)(bench_rand(rng) % (uint64_t)units));
	snprintf(o->d1, sizeof(o->d1), "%04d-%02d-%02d", year, month, day);
	snprintf(o->d2, sizeof(o->d2), "%04d-%02d-%02d", year, month, day < 20 ? day + 8 : 28);
	switch (serial % 4) {
	case 0:
		snprintf(o->id, sizeof(o->id), "瑞政依申〔%d〕第%02d%06zu号", year, publisher,
			 serial);
		break;
	case 1:
		snprintf(o->id, sizeof(o->id), "瑞政规〔%d〕%02d%06zu号", year, publisher, serial);
		break;
	case 2:
		snprintf(o->id, sizeof(o->id), "温政复〔%d〕%02d%06zu号", year, publisher, serial);
		break;
	default:
		snprintf(o->id, sizeof(o->id), "XK-%s-%02d-%06zu", o->d1, publisher, serial);
	}
	bench_fill_body(o, (int)(serial % 4), bench_rand, rng);
}

void bench_fill_body(struct bench_record *o, int kind, uint64_t (*draw)(uint64_t *), uint64_t *rng)
{
	o->r.unit = o->unit;
	o->r.id = o->id;
	o->r.has_revision = 1;
	o->r.revision = 1;
	switch (kind) {
	case 0:
		o->body.app = (Xxgk__V1__Application)XXGK__V1__APPLICATION__INIT;
		o->body.app.has_applicant = 1;
		o->body.app.applicant = 1 + (int)(draw(rng) % 6);
		o->body.app.received = o->d1;
		if (draw(rng) % 10 < 8) {
			o->body.app.concluded = o->d2;
			o->body.app.has_outcome = 1;
			o->body.app.outcome = 1 + (int)(draw(rng) % 21);
		}
		o->r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
		o->r.application = &o->body.app;
		break;
	case 1:
		o->body.doc = (Xxgk__V1__Document)XXGK__V1__DOCUMENT__INIT;
		o->body.doc.has_kind = 1;
		o->body.doc.kind = XXGK__V1__DOCUMENT_KIND__DOCUMENT_NORMATIVE;
		o->body.doc.made = o->d1;
		o->body.doc.published = o->d2;
		o->r.body_case = XXGK__V1__RECORD__BODY_DOCUMENT;
		o->r.document = &o->body.doc;
		break;
	case 2:
		o->body.cas = (Xxgk__V1__Case)XXGK__V1__CASE__INIT;
		o->body.cas.has_group = 1;
		o->body.cas.group = 1 + (int)(draw(rng) % 3);
		o->body.cas.filed = o->d1;
		o->body.cas.closed = o->d2;
		o->body.cas.has_result = 1;
		o->body.cas.result = 1 + (int)(draw(rng) % 3);
		o->r.body_case = XXGK__V1__RECORD__BODY_LEGAL_CASE;
		o->r.legal_case = &o->body.cas;
		break;
	default:
		o->body.tally = (Xxgk__V1__Tally)XXGK__V1__TALLY__INIT;
		o->body.tally.has_measure = 1;
		o->body.tally.measure = 1 + (int)(draw(rng) % 7);
		o->body.tally.date = o->d1;
		o->body.tally.has_value = 1;
		o->body.tally.value = (int64_t)(draw(rng) % 1000);
		o->r.body_case = XXGK__V1__RECORD__BODY_TALLY;
		o->r.tally = &o->body.tally;
	}
}
