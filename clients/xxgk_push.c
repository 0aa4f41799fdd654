/*
 * xxgk-push: pushes records from JSON Lines or CSV files (or stdin) to xxgkd.
 *
 *   xxgk-push [--ingest EP] [--timeout MS] [--batch N] [--format jsonl|csv] [FILE...]
 *
 * Every line is read and checked first; a bad line is reported as FILE:LINE with its reason
 * and nothing is sent for it. The good records go in batches; a batch with no answer is sent
 * again (a resend is harmless). It ends with a summary, and exits 1 if anything was bad or
 * rejected (or the daemon did not answer), 2 on a bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "record.h"
#include "record_csv.h"
#include "record_json.h"
#include "xxgk.h"

#define RESENDS 3

enum format { FORMAT_BY_NAME, FORMAT_JSONL, FORMAT_CSV };

struct origin {
	const char *file;
	long line;
};

struct input {
	Xxgk__V1__Record **records;
	struct origin *origins;
	size_t n, cap;
	size_t bad;
};

static int add(struct input *in, Xxgk__V1__Record *r, const char *file, long line)
{
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 1024;
		Xxgk__V1__Record **rs = realloc(in->records, cap * sizeof(*rs));
		if (rs)
			in->records = rs;
		struct origin *os = realloc(in->origins, cap * sizeof(*os));
		if (os)
			in->origins = os;
		if (rs == NULL || os == NULL)
			return -1;
		in->cap = cap;
	}
	in->records[in->n] = r;
	in->origins[in->n++] = (struct origin){file, line};
	return 0;
}

static enum format format_of(const char *file, enum format given)
{
	size_t n = strlen(file);
	if (given != FORMAT_BY_NAME)
		return given;
	return n > 4 && strcmp(file + n - 4, ".csv") == 0 ? FORMAT_CSV : FORMAT_JSONL;
}

/* Reads one file; bad lines are reported and counted. Returns 0, or -1 if it cannot be read. */
static int read_file(struct input *in, const char *file, enum format format)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char *line = NULL, err[RECORD_MESSAGE_MAX + 64];
	size_t size = 0;
	ssize_t len;
	long number = 0;
	int layout = -1;
	if (f == NULL) {
		fprintf(stderr, "xxgk-push: cannot open %s: %m\n", file);
		return -1;
	}
	format = format_of(file, format);
	while ((len = getline(&line, &size, f)) >= 0) {
		Xxgk__V1__Record *r = NULL;
		struct record_facts facts;
		number++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (format == FORMAT_CSV && layout < 0) {
			if ((layout = csv_layout(line, err, sizeof(err))) < 0) {
				fprintf(stderr, "%s:%ld: %s\n", file, number, err);
				in->bad++;
				break; /* without a layout no line of this file can be read */
			}
			continue;
		}
		r = format == FORMAT_CSV ? record_from_csv(layout, line, err, sizeof(err))
					 : record_from_json(line, (size_t)len, err, sizeof(err));
		if (r && record_check(r, &facts, err, sizeof(err)) != 0) {
			xxgk__v1__record__free_unpacked(r, NULL);
			r = NULL;
		}
		if (r == NULL) {
			fprintf(stderr, "%s:%ld: %s\n", file, number, err);
			in->bad++;
		} else if (add(in, r, file, number)) {
			fprintf(stderr, "xxgk-push: out of memory\n");
			xxgk__v1__record__free_unpacked(r, NULL);
			free(line);
			return -1;
		}
	}
	free(line);
	if (ferror(f)) {
		fprintf(stderr, "xxgk-push: cannot read %s\n", file);
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static void usage(FILE *to)
{
	fputs(_("usage: xxgk-push [--ingest ENDPOINT] [--timeout MS] [--batch N] [--format "
		"jsonl|csv]\n"
		"                 [--server-key SERVER.key --key YOURS.secret] [FILE...]\n"),
	      to);
	fputs(_("  reads JSON Lines (the protobuf JSON mapping of xxgk.v1.Record) or CSV (see the\n"
		"  README for the column layouts; *.csv files are CSV) from FILEs or stdin (-)\n"),
	      to);
	fputs(_("defaults: --ingest tcp://127.0.0.1:7410 --timeout 10000 --batch 500\n"), to);
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
	static const struct option options[] = {
	    {"ingest", required_argument, NULL, 'i'}, {"timeout", required_argument, NULL, 't'},
	    {"batch", required_argument, NULL, 'b'},  {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	      {"server-key", required_argument, NULL, 'S'},
	    {"key", required_argument, NULL, 'K'},    {NULL, 0, NULL, 0}};
	const char *endpoint = "tcp://127.0.0.1:7410", *server_key = NULL, *key = NULL;
	char key_storage[3][41];
	struct xxgk_keys keys;
	int timeout_ms = 10000, batch = 500, opt;
	enum format format = FORMAT_BY_NAME;
	i18n_init();
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			endpoint = optarg;
			break;
		case 't':
			if (positive(optarg, 3600000, &timeout_ms)) {
				fprintf(stderr,
					"xxgk-push: --timeout: want milliseconds, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			if (positive(optarg, 10000, &batch)) {
				fprintf(stderr, "xxgk-push: --batch: want 1 to 10000, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "jsonl") == 0) {
				format = FORMAT_JSONL;
			} else if (strcmp(optarg, "csv") == 0) {
				format = FORMAT_CSV;
			} else {
				fprintf(stderr,
					"xxgk-push: --format: want jsonl or csv, not \"%s\"\n",
					optarg);
				return 2;
			}
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
	if (!server_key != !key) {
		fprintf(stderr, "xxgk-push: --server-key and --key go together\n");
		return 2;
	}
	if (key) {
		char err[600];
		if (xxgk_keys_from_files(&keys, key_storage, server_key, key, err, sizeof(err))) {
			fprintf(stderr, "xxgk-push: %s\n", err);
			return 1;
		}
	}
	struct input in = {0};
	if (optind == argc && read_file(&in, "-", format))
		return 1;
	for (int i = optind; i < argc; i++)
		if (read_file(&in, argv[i], format))
			return 1;

	struct xxgk_client *c = NULL;
	size_t counts[5] = {0}, sent = 0;
	int *statuses = calloc((size_t)batch, sizeof(int)),
	    *reasons = calloc((size_t)batch, sizeof(int));
	const char **messages = calloc((size_t)batch, sizeof(char *));
	int rc = statuses && reasons && messages
		     ? xxgk_connect_keys(&c, endpoint, key ? &keys : NULL)
		     : XXGK_ENOMEM;
	int progress = isatty(2) && in.n > (size_t)batch;
	while (rc == 0 && sent < in.n) {
		size_t k = in.n - sent < (size_t)batch ? in.n - sent : (size_t)batch;
		for (int attempt = 0; attempt <= RESENDS; attempt++)
			if ((rc = xxgk_push(c, in.records + sent, k, statuses, reasons, messages,
					    timeout_ms)) != XXGK_ETIMEDOUT)
				break;
		size_t max = xxgk_batch_records_max(c);
		if (rc == XXGK_E2BIG && max > 0 && max < k) {
			fprintf(stderr,
				"xxgk-push: %s takes at most %zu records a push: sending %zu at a "
				"time\n",
				endpoint, max, max);
			batch = (int)max;
			rc = 0;
			continue;
		}
		if (rc == XXGK_ETIMEDOUT) {
			fprintf(stderr,
				"xxgk-push: no answer from %s within %d ms, %d times (is xxgkd "
				"running?)\n",
				endpoint, timeout_ms, RESENDS + 1);
			break;
		}
		if (rc == XXGK_EINVAL || rc == XXGK_E2BIG) {
			fprintf(stderr, "xxgk-push: %s: %s\n", endpoint, xxgk_last_error(c));
			break;
		}
		if (rc) {
			fprintf(stderr, "xxgk-push: %s: %s\n", endpoint, xxgk_strerror(rc));
			break;
		}
		for (size_t i = 0; i < k; i++) {
			int s = statuses[i] >= 1 && statuses[i] <= 4 ? statuses[i] : 0;
			counts[s]++;
			if (statuses[i] == XXGK__V1__RECORD_STATUS__CODE__REJECTED)
				fprintf(stderr, "%s:%ld: rejected: %s\n", in.origins[sent + i].file,
					in.origins[sent + i].line, messages[i]);
		}
		sent += k;
		if (progress)
			fprintf(stderr, "\rxxgk-push: %zu/%zu records", sent, in.n);
	}
	if (progress)
		fputc('\n', stderr);
	printf("xxgk-push: %zu records sent: %zu applied, %zu duplicate, %zu stale, %zu rejected; "
	       "%zu bad lines\n",
	       sent, counts[XXGK__V1__RECORD_STATUS__CODE__APPLIED],
	       counts[XXGK__V1__RECORD_STATUS__CODE__DUPLICATE],
	       counts[XXGK__V1__RECORD_STATUS__CODE__STALE],
	       counts[XXGK__V1__RECORD_STATUS__CODE__REJECTED], in.bad);
	xxgk_close(c);
	for (size_t i = 0; i < in.n; i++)
		xxgk__v1__record__free_unpacked(in.records[i], NULL);
	free(in.records);
	free(in.origins);
	free(statuses);
	free(reasons);
	free(messages);
	return rc || in.bad || counts[XXGK__V1__RECORD_STATUS__CODE__REJECTED] ? 1 : 0;
}
