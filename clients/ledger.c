#include "ledger.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "record.h"
#include "record_csv.h"
#include "record_json.h"

void ledger_bad(const struct ledger_sink *s, const char *file, long line, const char *fmt, ...)
{
	char reason[LEDGER_MESSAGE_MAX], message[LEDGER_MESSAGE_MAX + 600];
	va_list ap;
	if (s->bad == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(message, sizeof(message), "%s:%ld: %s", file, line, reason);
	else
		snprintf(message, sizeof(message), "%s: %s", file, reason);
	s->bad(s->ctx, message);
}

/* One line of JSON Lines: a record for the sink, or a bad line. */
static int json_line(const char *file, const char *text, size_t len, long number,
		     const struct ledger_sink *s, struct ledger_counts *counts)
{
	char err[RECORD_MESSAGE_MAX + 256];
	struct record_facts facts;
	while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	Xxgk__V1__Record *r = record_from_json(text, len, err, sizeof(err));
	if (r && record_check(r, &facts, err, sizeof(err)) != 0) {
		xxgk__v1__record__free_unpacked(r, NULL);
		r = NULL;
	}
	if (r == NULL) {
		ledger_bad(s, file, number, "%s", err);
		counts->bad++;
		return 0;
	}
	counts->good++;
	return s->record(s->ctx, r, number);
}

/* JSON Lines: lines of at most LEDGER_LINE_MAX bytes, assembled from the chunks. */
static int read_json_lines(const char *file, struct text_source *t, const struct ledger_sink *s,
			   struct ledger_counts *counts)
{
	char *line = malloc(LEDGER_LINE_MAX), err[256];
	size_t len = 0;
	long number = 1;
	int too_long = 0, rc = 0;
	const char *chunk;
	ssize_t n;
	if (line == NULL) {
		ledger_bad(s, file, 0, "%s", _("out of memory"));
		counts->bad++;
		return -1;
	}
	while (rc == 0 && (n = text_read(t, &chunk, err, sizeof(err))) > 0) {
		const char *p = chunk, *end = chunk + n;
		while (rc == 0 && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t piece = (size_t)((nl ? nl : end) - p);
			if (len + piece > LEDGER_LINE_MAX)
				too_long = 1;
			else
				memcpy(line + len, p, piece);
			len += too_long ? 0 : piece;
			p += piece;
			if (nl == NULL)
				break;
			p++;
			if (too_long) {
				ledger_bad(s, file, number, _("longer than %d bytes"),
					   LEDGER_LINE_MAX);
				counts->bad++;
			} else {
				rc = json_line(file, line, len, number, s, counts);
			}
			number++;
			len = 0;
			too_long = 0;
		}
	}
	if (n < 0) {
		ledger_bad(s, file, 0, "%s", err);
		counts->bad++;
		rc = -1;
	} else if (rc == 0 && (len > 0 || too_long)) {
		if (too_long) {
			ledger_bad(s, file, number, _("longer than %d bytes"), LEDGER_LINE_MAX);
			counts->bad++;
		} else {
			rc = json_line(file, line, len, number, s, counts);
		}
	}
	free(line);
	return rc;
}

int ledger_read(const char *file, FILE *f, const struct ledger_options *o,
		const struct ledger_sink *s, struct ledger_counts *counts)
{
	enum ledger_format format = o->format;
	size_t n = strlen(file);
	char err[256];
	if (format == LEDGER_BY_NAME)
		format = n > 4 && strcasecmp(file + n - 4, ".csv") == 0 ? LEDGER_CSV : LEDGER_JSONL;
	/* JSON is UTF-8 (RFC 8259): only a CSV file is looked at for GB18030 */
	enum text_encoding encoding =
	    format == LEDGER_JSONL && o->encoding == TEXT_AUTO ? TEXT_UTF8 : o->encoding;
	struct text_source *t = malloc(sizeof(*t));
	if (t == NULL || text_open(t, f, encoding, err, sizeof(err))) {
		ledger_bad(s, file, 0, "%s", t ? err : _("out of memory"));
		counts->bad++;
		free(t);
		return -1;
	}
	int rc = format == LEDGER_CSV ? csv_read(file, t, o->mapping, s, counts)
				      : read_json_lines(file, t, s, counts);
	text_close(t);
	free(t);
	return rc;
}
