#include "metrics.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines.h"
#include "jobs.h"
#include "log.h"
#include "metrics_process.h"

static const double bounds[METRICS_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
						       0.05,  0.1,    0.25,  1.0};
static const char *const statuses[5] = {"unspecified", "applied", "duplicate", "stale", "rejected"};

void metrics_commit(struct metrics *m, struct store *st, Xxgk__V1__Record *const *records,
		    const struct store_status *status, size_t n, double seconds)
{
	time_t now = time(NULL);
	int b = 0;
	while (b < METRICS_LATENCY_BUCKETS && seconds > bounds[b])
		b++;
	m->latency[b]++;
	m->latency_sum += seconds;
	m->commits++;
	for (size_t i = 0; i < n; i++) {
		int code = status[i].code >= 1 && status[i].code <= 4 ? (int)status[i].code : 0;
		m->records[code]++;
		if (code != XXGK__V1__RECORD_STATUS__CODE__APPLIED)
			continue;
		int kind = record_kind_of(records[i]);
		if (kind >= 0)
			m->applied_by_kind[kind]++;
		uint32_t unit = store_unit_number(st, records[i]->unit);
		if (unit >= m->n_last_record) {
			size_t cap = (size_t)store_unit_numbers(st) + 1;
			time_t *v = realloc(m->last_record, cap * sizeof(*v));
			if (v == NULL || unit >= cap)
				continue;
			memset(v + m->n_last_record, 0, (cap - m->n_last_record) * sizeof(*v));
			m->last_record = v;
			m->n_last_record = cap;
		}
		m->last_record[unit] = now;
	}
}

struct server_ctx {
	struct metrics *m;
	struct store *st;
};

static void metrics_page(struct evhttp_request *req, void *arg)
{
	struct server_ctx *ctx = arg;
	struct metrics *m = ctx->m;
	struct store_stats stats = {0};
	struct evbuffer *b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	int ok = store_stats(ctx->st, &stats) == 0;
	evbuffer_add_printf(b,
			    "# HELP xxgk_build_info The version of xxgkd running.\n"
			    "# TYPE xxgk_build_info gauge\nxxgk_build_info{version=\"%s\"} 1\n",
			    XXGK_VERSION);
	/* a figure /proc does not give is left out; the page is still whole */
	metrics_process(b);
	evbuffer_add_printf(b, "# HELP xxgk_records_total Records answered, by status.\n"
			       "# TYPE xxgk_records_total counter\n");
	for (int s = 1; s <= 4; s++)
		evbuffer_add_printf(b, "xxgk_records_total{status=\"%s\"} %llu\n", statuses[s],
				    (unsigned long long)m->records[s]);
	evbuffer_add_printf(b, "# HELP xxgk_applied_records_total Records applied, by kind.\n"
			       "# TYPE xxgk_applied_records_total counter\n");
	for (int k = 0; k <= RECORD_SUBMISSION; k++)
		evbuffer_add_printf(b, "xxgk_applied_records_total{kind=\"%s\"} %llu\n",
				    k < RECORD_KIND_COUNT ? record_kind_names[k] : "submission",
				    (unsigned long long)m->applied_by_kind[k]);
	evbuffer_add_printf(
	    b,
	    "# HELP xxgk_pushes_total Push requests (batches) received.\n"
	    "# TYPE xxgk_pushes_total counter\nxxgk_pushes_total %llu\n"
	    "# HELP xxgk_commits_total Write transactions committed.\n"
	    "# TYPE xxgk_commits_total counter\nxxgk_commits_total %llu\n"
	    "# HELP xxgk_failed_commits_total Write transactions that failed.\n"
	    "# TYPE xxgk_failed_commits_total counter\nxxgk_failed_commits_total %llu\n",
	    (unsigned long long)m->pushes, (unsigned long long)m->commits,
	    (unsigned long long)m->failed_commits);
	evbuffer_add_printf(b, "# HELP xxgk_commit_seconds Time to apply and commit a group.\n"
			       "# TYPE xxgk_commit_seconds histogram\n");
	uint64_t cumulative = 0;
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cumulative += m->latency[i];
		evbuffer_add_printf(b, "xxgk_commit_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
				    (unsigned long long)cumulative);
	}
	cumulative += m->latency[METRICS_LATENCY_BUCKETS];
	evbuffer_add_printf(b,
			    "xxgk_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "xxgk_commit_seconds_sum %.6f\nxxgk_commit_seconds_count %llu\n",
			    (unsigned long long)cumulative, m->latency_sum,
			    (unsigned long long)cumulative);
	evbuffer_add_printf(b,
			    "# HELP xxgk_map_size_bytes The LMDB map size.\n"
			    "# TYPE xxgk_map_size_bytes gauge\nxxgk_map_size_bytes %llu\n"
			    "# HELP xxgk_map_used_bytes The LMDB map in use.\n"
			    "# TYPE xxgk_map_used_bytes gauge\nxxgk_map_used_bytes %llu\n"
			    "# HELP xxgk_readers LMDB reader slots in use.\n"
			    "# TYPE xxgk_readers gauge\nxxgk_readers %llu\n"
			    "# HELP xxgk_stored_records Records stored, tombstones included.\n"
			    "# TYPE xxgk_stored_records gauge\nxxgk_stored_records %llu\n"
			    "# HELP xxgk_connected_peers Peers connected to the ingest socket.\n"
			    "# TYPE xxgk_connected_peers gauge\nxxgk_connected_peers %llu\n",
			    (unsigned long long)stats.map_size, (unsigned long long)stats.map_used,
			    (unsigned long long)stats.readers, (unsigned long long)stats.records,
			    (unsigned long long)m->peers);
	struct job_state job = {0};
	if (m->jobs)
		jobs_state(m->jobs, &job);
	evbuffer_add_printf(
	    b,
	    "# HELP xxgk_job_running The verify (1) or backup (2) under way, 0 when none.\n"
	    "# TYPE xxgk_job_running gauge\nxxgk_job_running %d\n"
	    "# HELP xxgk_job_started_timestamp_seconds When the job under way started.\n"
	    "# TYPE xxgk_job_started_timestamp_seconds gauge\n"
	    "xxgk_job_started_timestamp_seconds %lld\n"
	    "# HELP xxgk_job_done The job's progress: records read (verify), bytes copied "
	    "(backup).\n"
	    "# TYPE xxgk_job_done gauge\nxxgk_job_done %llu\n"
	    "# HELP xxgk_job_total Records to read (verify; 0: not known), the store's bytes "
	    "(backup).\n"
	    "# TYPE xxgk_job_total gauge\nxxgk_job_total %llu\n",
	    (int)job.kind, (long long)job.started, (unsigned long long)job.done,
	    (unsigned long long)job.total);
	evbuffer_add_printf(b, "# HELP xxgk_unit_last_record_timestamp_seconds When a unit last "
			       "had a record applied.\n"
			       "# TYPE xxgk_unit_last_record_timestamp_seconds gauge\n");
	for (size_t u = 1; u < m->n_last_record; u++) {
		const char *id = store_unit_id(ctx->st, (uint32_t)u);
		if (id && m->last_record[u])
			evbuffer_add_printf(
			    b, "xxgk_unit_last_record_timestamp_seconds{unit=\"%s\"} %lld\n", id,
			    (long long)m->last_record[u]);
	}
	struct deadlines_count *counts = NULL;
	size_t n_counts = 0;
	if (m->deadlines && deadlines_counts(m->deadlines, &counts, &n_counts) == 0) {
		evbuffer_add_printf(
		    b, "# HELP xxgk_unit_applications Open applications of a unit by answer period "
		       "today (China Standard Time): open, due_soon (today or within 5 working "
		       "days), overdue (due before today), uncountable (a year the working-day "
		       "calendar lacks).\n"
		       "# TYPE xxgk_unit_applications gauge\n");
		for (size_t i = 0; i < n_counts; i++) {
			const struct deadlines_count *c = &counts[i];
			evbuffer_add_printf(
			    b,
			    "xxgk_unit_applications{unit=\"%s\",period=\"open\"} %llu\n"
			    "xxgk_unit_applications{unit=\"%s\",period=\"due_soon\"} %llu\n"
			    "xxgk_unit_applications{unit=\"%s\",period=\"overdue\"} %llu\n"
			    "xxgk_unit_applications{unit=\"%s\",period=\"uncountable\"} %llu\n",
			    c->unit, (unsigned long long)c->open, c->unit,
			    (unsigned long long)c->due_soon, c->unit,
			    (unsigned long long)c->overdue, c->unit,
			    (unsigned long long)c->uncountable);
		}
		deadlines_counts_free(counts, n_counts);
	} else if (m->deadlines) {
		ok = 0;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, ok ? HTTP_OK : HTTP_INTERNAL, ok ? "OK" : "store unreadable", b);
	evbuffer_free(b);
}

static void healthz(struct evhttp_request *req, void *arg)
{
	struct server_ctx *ctx = arg;
	struct store_stats stats;
	struct evbuffer *b = evbuffer_new();
	int ok = store_stats(ctx->st, &stats) == 0;
	if (b)
		evbuffer_add_printf(b, ok ? "ok\n" : "the store cannot be read\n");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, ok ? HTTP_OK : 503, ok ? "OK" : "Service Unavailable", b);
	if (b)
		evbuffer_free(b);
}

static void not_found(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics and /healthz here");
}

struct evhttp *metrics_serve(struct event_base *base, const char *listen, struct metrics *m,
			     struct store *st)
{
	static struct server_ctx ctx;
	char host[256];
	const char *colon = strrchr(listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host) || port <= 0 ||
	    port > 65535) {
		log_error("http: want host:port, not \"%s\"", listen);
		return NULL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	ctx = (struct server_ctx){m, st};
	struct evhttp *http = evhttp_new(base);
	if (http == NULL || evhttp_bind_socket(http, host, (uint16_t)port) != 0) {
		log_error("http: cannot listen on %s", listen);
		if (http)
			evhttp_free(http);
		return NULL;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_cb(http, "/metrics", metrics_page, &ctx);
	evhttp_set_cb(http, "/healthz", healthz, &ctx);
	evhttp_set_gencb(http, not_found, NULL);
	log_info("metrics on http://%s/metrics", listen);
	return http;
}

void metrics_free(struct metrics *m)
{
	free(m->last_record);
	m->last_record = NULL;
	m->n_last_record = 0;
}
