/*
 * xxgk-push: pushes records from ledgers (CSV as Excel writes it, or JSON Lines) to xxgkd.
 *
 *   xxgk-push [-c XXGKD.CONF] [--ingest EP] [--timeout MS] [--batch N] [--format jsonl|csv]
 *             [--encoding auto|utf-8|gb18030|gbk] [--mapping FILE] [--skip-bad] [FILE...]
 *
 * Every file is read twice, so that memory does not grow with it: first every line is checked
 * and each bad one described (file, line, column, value, why, the valid values); then, when
 * none was bad (or --skip-bad), the good lines are read again and sent in batches. A batch with
 * no answer is sent again (a resend is harmless). It ends with a summary, and exits 1 if
 * anything was bad or rejected (or the daemon did not answer), 2 on a bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "ledger.h"
#include "locate.h"
#include "record.h"
#include "xxgk.h"

#define RESENDS 3
#define PROGRESS_EVERY 100000 /* lines checked between progress lines */

struct push {
	const char *endpoint;
	int timeout_ms, batch, progress;
	struct xxgk_client *c;
	/* the batch being filled: records, and where each comes from */
	Xxgk__V1__Record **records;
	const char **files;
	long *lines;
	size_t n;
	const char *file; /* the file being read */
	int *statuses, *reasons;
	const char **messages;
	size_t counts[5], sent, checked;
	long total; /* good lines, from the first pass */
	int rc;
};

static void say_bad(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
}

static int checked(void *ctx, Xxgk__V1__Record *r, long line)
{
	struct push *p = ctx;
	(void)line;
	xxgk__v1__record__free_unpacked(r, NULL);
	if (p->progress && ++p->checked % PROGRESS_EVERY == 0) {
		fputc('\r', stderr); /* the progress line overwrites itself */
		fprintf(stderr, _("xxgk-push: %zu lines checked"), p->checked);
	}
	return 0;
}

/* Sends records[0..n) in pushes of at most p->batch; returns 0 or a XXGK_E* code. */
static int send_records(struct push *p, Xxgk__V1__Record **records, const char **files, long *lines,
			size_t n)
{
	size_t done = 0;
	int rc = 0;
	while (rc == 0 && done < n) {
		size_t k = n - done < (size_t)p->batch ? n - done : (size_t)p->batch;
		for (int attempt = 0; attempt <= RESENDS; attempt++)
			if ((rc = xxgk_push(p->c, records + done, k, p->statuses, p->reasons,
					    p->messages, p->timeout_ms)) != XXGK_ETIMEDOUT)
				break;
		size_t max = xxgk_batch_records_max(p->c);
		if (rc == XXGK_E2BIG && max > 0 && max < k) {
			fprintf(
			    stderr,
			    _("xxgk-push: %s takes at most %zu records a push: sending %zu at a "
			      "time\n"),
			    p->endpoint, max, max);
			p->batch = (int)max;
			rc = 0;
			continue;
		}
		if (rc == XXGK_ETIMEDOUT) {
			fprintf(stderr,
				_("xxgk-push: no answer from %s within %d ms, %d times (is xxgkd "
				  "running?)\n"),
				p->endpoint, p->timeout_ms, RESENDS + 1);
			break;
		}
		if (rc == XXGK_EINVAL || rc == XXGK_E2BIG) {
			fprintf(stderr, "xxgk-push: %s: %s\n", p->endpoint, xxgk_last_error(p->c));
			break;
		}
		if (rc) {
			fprintf(stderr, "xxgk-push: %s: %s\n", p->endpoint, _(xxgk_strerror(rc)));
			break;
		}
		for (size_t i = 0; i < k; i++) {
			int s = p->statuses[i] >= 1 && p->statuses[i] <= 4 ? p->statuses[i] : 0;
			p->counts[s]++;
			if (p->statuses[i] == XXGK__V1__RECORD_STATUS__CODE__REJECTED)
				fprintf(stderr, _("%s:%ld: rejected: %s\n"), files[done + i],
					lines[done + i], p->messages[i]);
		}
		done += k;
		p->sent += k;
		if (p->progress) {
			fputc('\r', stderr);
			fprintf(stderr, _("xxgk-push: %zu/%ld records sent"), p->sent, p->total);
		}
	}
	return rc;
}

static int flush_batch(struct push *p)
{
	if (p->rc == 0 && p->n > 0)
		p->rc = send_records(p, p->records, p->files, p->lines, p->n);
	for (size_t i = 0; i < p->n; i++)
		xxgk__v1__record__free_unpacked(p->records[i], NULL);
	p->n = 0;
	return p->rc;
}

static int to_batch(void *ctx, Xxgk__V1__Record *r, long line)
{
	struct push *p = ctx;
	p->records[p->n] = r;
	p->files[p->n] = p->file;
	p->lines[p->n++] = line;
	return p->n == (size_t)p->batch ? flush_batch(p) : 0;
}

/* Opens a file to read (twice: it is rewound). stdin is copied to a temporary file first. */
static FILE *open_input(const char *file)
{
	if (strcmp(file, "-"))
		return fopen(file, "r");
	FILE *t = tmpfile();
	char buf[65536];
	size_t n;
	if (t == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, t) != n)
			break;
	if (ferror(stdin) || ferror(t) || fflush(t) || fseek(t, 0, SEEK_SET)) {
		fclose(t);
		return NULL;
	}
	return t;
}

static void usage(FILE *to)
{
	fputs(_("usage: xxgk-push [--ingest ENDPOINT] [--timeout MS] [--batch N] [--format "
		"jsonl|csv]\n"
		"                 [--encoding auto|utf-8|gb18030|gbk] [--mapping FILE] "
		"[--skip-bad]\n"
		"                 [--server-key SERVER.key --key YOURS.key_secret] [FILE...]\n"),
	      to);
	fputs(
	    _("  reads ledgers in CSV (as Excel saves them, with Chinese or English headers; see\n"
	      "  the README) or JSON Lines (the protobuf JSON mapping of xxgk.v1.Record) from\n"
	      "  FILEs or stdin (-); *.csv files are CSV. Nothing is sent when a line is bad,\n"
	      "  unless --skip-bad.\n"),
	    to);
	fputs(
	    _("the daemon: --ingest, else the ingest of xxgkd's configuration given with -c FILE,\n"
	      "  else XXGK_INGEST, else that of /etc/xxgk/xxgkd.conf when it exists, else\n"
	      "  tcp://127.0.0.1:7410\n"),
	    to);
	fputs(_("defaults: --timeout 10000 --batch 5000 --encoding auto\n"), to);
}

static int positive(const char *s, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end || v < 1 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {{"ingest", required_argument, NULL, 'i'},
						{"config", required_argument, NULL, 'c'},
						{"version", no_argument, NULL, 'V'},
						{"timeout", required_argument, NULL, 't'},
						{"batch", required_argument, NULL, 'b'},
						{"format", required_argument, NULL, 'f'},
						{"help", no_argument, NULL, 'h'},
						{"server-key", required_argument, NULL, 'S'},
						{"key", required_argument, NULL, 'K'},
						{"encoding", required_argument, NULL, 'e'},
						{"mapping", required_argument, NULL, 'm'},
						{"skip-bad", no_argument, NULL, 's'},
						{NULL, 0, NULL, 0}};
	const char *server_key = NULL, *key = NULL, *mapping = NULL, *config = NULL;
	const char *ingest_from = "--ingest";
	char key_storage[3][41];
	struct xxgk_keys keys;
	struct push p = {.endpoint = NULL, .timeout_ms = 10000, .batch = 5000};
	struct ledger_options lo = {LEDGER_BY_NAME, TEXT_AUTO, NULL};
	int opt, skip_bad = 0, e;
	i18n_init();
	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			p.endpoint = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'V':
			printf("xxgk-push %s\n", XXGK_VERSION);
			return 0;
		case 't':
			if (positive(optarg, 3600000, &p.timeout_ms)) {
				fprintf(stderr,
					_("xxgk-push: --timeout: want milliseconds, not \"%s\"\n"),
					optarg);
				return 2;
			}
			break;
		case 'b':
			if (positive(optarg, 10000, &p.batch)) {
				fprintf(stderr,
					_("xxgk-push: --batch: want 1 to 10000, not \"%s\"\n"),
					optarg);
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "jsonl") == 0) {
				lo.format = LEDGER_JSONL;
			} else if (strcmp(optarg, "csv") == 0) {
				lo.format = LEDGER_CSV;
			} else {
				fprintf(stderr,
					_("xxgk-push: --format: want jsonl or csv, not \"%s\"\n"),
					optarg);
				return 2;
			}
			break;
		case 'e':
			if ((e = text_encoding_by_name(optarg)) < 0) {
				fprintf(
				    stderr,
				    _("xxgk-push: --encoding: want auto, utf-8, gb18030 or gbk, "
				      "not \"%s\"\n"),
				    optarg);
				return 2;
			}
			lo.encoding = (enum text_encoding)e;
			break;
		case 'm':
			mapping = optarg;
			break;
		case 's':
			skip_bad = 1;
			break;
		case 'S':
			server_key = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* where the daemon is: --ingest, else -c, XXGK_INGEST, /etc/xxgk/xxgkd.conf */
	struct locate where;
	char located_err[1024];
	if (locate_daemon(&where, config, p.endpoint ? 0 : LOCATE_INGEST, located_err,
			  sizeof(located_err))) {
		fprintf(stderr, "xxgk-push: %s\n", located_err);
		return 1;
	}
	if (p.endpoint == NULL) {
		p.endpoint = where.ingest;
		ingest_from = where.ingest_from;
	}
	/* the daemon's public key beside the secret_key its configuration names */
	if (key && !server_key && where.server_key[0])
		server_key = where.server_key;
	if (!server_key != !key) {
		fputs(_("xxgk-push: --server-key and --key go together\n"), stderr);
		return 2;
	}
	if (key) {
		char err[600];
		if (xxgk_keys_from_files(&keys, key_storage, server_key, key, err, sizeof(err))) {
			fprintf(stderr, "xxgk-push: %s\n", err);
			return 1;
		}
	}
	struct ledger_mapping *map = NULL;
	if (mapping) {
		char err[1024];
		if (mapping_load(&map, mapping, err, sizeof(err))) {
			fprintf(stderr, "xxgk-push: %s\n", err);
			return 1;
		}
		lo.mapping = map;
	}

	/* the first pass: every line checked, nothing kept */
	const char *stdin_only[] = {"-"};
	const char **files = optind < argc ? (const char **)argv + optind : stdin_only;
	int n_files = optind < argc ? argc - optind : 1;
	FILE *spooled = NULL; /* stdin, copied: it is read twice too */
	struct ledger_counts counts = {0, 0};
	struct ledger_sink check = {checked, say_bad, &p};
	p.progress = isatty(2);
	for (int i = 0; i < n_files; i++) {
		FILE *f = strcmp(files[i], "-") == 0 && spooled ? spooled : open_input(files[i]);
		if (f == NULL) {
			fprintf(stderr, _("xxgk-push: cannot open %s: %m\n"), files[i]);
			mapping_free(map);
			return 1;
		}
		ledger_read(files[i], f, &lo, &check, &counts);
		if (strcmp(files[i], "-") == 0)
			spooled = f;
		else
			fclose(f);
	}
	if (p.progress && p.checked >= PROGRESS_EVERY)
		fputc('\n', stderr);
	p.total = counts.good;

	/* the second pass: the good lines again, sent batch by batch */
	if (counts.bad > 0 && !skip_bad) {
		fprintf(stderr,
			_("xxgk-push: nothing sent: %ld bad lines (correct them, or --skip-bad "
			  "sends the %ld good ones)\n"),
			counts.bad, counts.good);
	} else if (counts.good > 0 &&
		   locate_probe(p.endpoint, ingest_from, "--ingest", "XXGK_INGEST", located_err,
				sizeof(located_err))) {
		/* a local socket that is not there: told now, not after every resend's wait */
		fprintf(stderr, "xxgk-push: %s\n", located_err);
		p.rc = XXGK_ENET;
	} else if (counts.good > 0) {
		p.records = calloc((size_t)p.batch, sizeof(*p.records));
		p.files = calloc((size_t)p.batch, sizeof(*p.files));
		p.lines = calloc((size_t)p.batch, sizeof(*p.lines));
		p.statuses = calloc((size_t)p.batch, sizeof(int));
		p.reasons = calloc((size_t)p.batch, sizeof(int));
		p.messages = calloc((size_t)p.batch, sizeof(char *));
		p.rc = p.records && p.files && p.lines && p.statuses && p.reasons && p.messages
			   ? xxgk_connect_keys(&p.c, p.endpoint, key ? &keys : NULL)
			   : XXGK_ENOMEM;
		p.progress = p.progress && p.total > p.batch;
		struct ledger_sink send = {to_batch, NULL, &p};
		struct ledger_counts again = {0, 0};
		for (int i = 0; i < n_files && p.rc == 0; i++) {
			int is_stdin = strcmp(files[i], "-") == 0;
			FILE *f = is_stdin ? spooled : fopen(files[i], "r");
			if (f == NULL || (is_stdin && fseek(f, 0, SEEK_SET))) {
				fprintf(stderr, _("xxgk-push: cannot open %s again: %m\n"),
					files[i]);
				p.rc = XXGK_EIO;
				break;
			}
			p.file = files[i];
			ledger_read(files[i], f, &lo, &send, &again);
			if (!is_stdin)
				fclose(f);
		}
		flush_batch(&p);
		if (p.progress)
			fputc('\n', stderr);
		xxgk_close(p.c);
	}
	if (spooled)
		fclose(spooled);
	printf(_("xxgk-push: %zu records sent: %zu applied, %zu duplicate, %zu stale, %zu "
		 "rejected; %zu bad lines\n"),
	       p.sent, p.counts[XXGK__V1__RECORD_STATUS__CODE__APPLIED],
	       p.counts[XXGK__V1__RECORD_STATUS__CODE__DUPLICATE],
	       p.counts[XXGK__V1__RECORD_STATUS__CODE__STALE],
	       p.counts[XXGK__V1__RECORD_STATUS__CODE__REJECTED], (size_t)counts.bad);
	mapping_free(map);
	free(p.records);
	free(p.files);
	free(p.lines);
	free(p.statuses);
	free(p.reasons);
	free(p.messages);
	return p.rc || counts.bad || p.counts[XXGK__V1__RECORD_STATUS__CODE__REJECTED] ? 1 : 0;
}
