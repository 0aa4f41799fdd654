#include "xxgkctl_deadlines.h"

#include <jansson.h>
#include <string.h>

/* The state column: late, extended, suspended, or why the period cannot be counted. */
static void state_words(const Xxgk__V1__Deadline *d, char *buf, size_t size)
{
	buf[0] = '\0';
	if (d->error) {
		snprintf(buf, size, "error: %s", d->error);
		return;
	}
	snprintf(buf, size, "%s%s%s", d->suspended ? "suspended" : "open",
		 d->extended ? ", extended" : "",
		 d->has_days_left && d->days_left < 0 ? ", overdue" : "");
	if (d->has_suspended_days && d->suspended_days) {
		size_t len = strlen(buf);
		snprintf(buf + len, size - len, ", %u days not counted", d->suspended_days);
	}
}

static void days_left(const Xxgk__V1__Deadline *d, char *buf, size_t size)
{
	if (d->has_days_left)
		snprintf(buf, size, "%d", d->days_left);
	else
		snprintf(buf, size, "-");
}

/* CSV: a field quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *out, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputs(last ? "\r\n" : ",", out);
}

static void html_text(FILE *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
}

static int print_json(FILE *out, const Xxgk__V1__DeadlinesReply *r)
{
	json_t *root = json_object(), *list = json_array();
	json_object_set_new(root, "as_of", json_string(r->as_of ? r->as_of : ""));
	json_object_set_new(root, "total", json_integer((json_int_t)r->total));
	json_object_set_new(root, "truncated", json_boolean(r->truncated));
	for (size_t i = 0; i < r->n_deadlines; i++) {
		const Xxgk__V1__Deadline *d = r->deadlines[i];
		json_t *o = json_object();
		json_object_set_new(o, "unit", json_string(d->unit ? d->unit : ""));
		json_object_set_new(o, "id", json_string(d->id ? d->id : ""));
		json_object_set_new(o, "received", json_string(d->received ? d->received : ""));
		json_object_set_new(o, "due", d->due ? json_string(d->due) : json_null());
		json_object_set_new(o, "days_left",
				    d->has_days_left ? json_integer(d->days_left) : json_null());
		json_object_set_new(o, "extended", json_boolean(d->extended));
		json_object_set_new(o, "suspended", json_boolean(d->suspended));
		json_object_set_new(o, "suspended_days", json_integer(d->suspended_days));
		json_object_set_new(o, "error", d->error ? json_string(d->error) : json_null());
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "deadlines", list);
	int rc = json_dumpf(root, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(root);
	return rc ? -1 : 0;
}

int deadlines_print(FILE *out, const Xxgk__V1__DeadlinesReply *r, enum render_format f)
{
	static const char *const head[] = {"unit", "id", "received", "due", "days left", "state"};
	char left[16], state[300];
	switch (f) {
	case RENDER_JSON:
		return print_json(out, r);
	case RENDER_CELLS:
		return -1;
	case RENDER_CSV:
		fputs("\xef\xbb\xbf", out); /* for Excel, as the report's csv */
		csv_field(out, "unit", 0), csv_field(out, "id", 0), csv_field(out, "received", 0);
		csv_field(out, "due", 0), csv_field(out, "days_left", 0);
		csv_field(out, "state", 1);
		break;
	case RENDER_MARKDOWN:
		fputs("| unit | id | received | due | days left | state |\n"
		      "|---|---|---|---|--:|---|\n",
		      out);
		break;
	case RENDER_HTML:
		fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
		      "<title>deadlines</title></head><body>\n<table>\n<tr>",
		      out);
		for (size_t i = 0; i < 6; i++)
			fprintf(out, "<th>%s</th>", head[i]);
		fputs("</tr>\n", out);
		break;
	case RENDER_TEXT:
		fprintf(out, "%-16s %-28s %-10s %-10s %9s  %s\n", head[0], head[1], head[2],
			head[3], head[4], head[5]);
		break;
	}
	for (size_t i = 0; i < r->n_deadlines; i++) {
		const Xxgk__V1__Deadline *d = r->deadlines[i];
		const char *due = d->due ? d->due : "-";
		days_left(d, left, sizeof(left));
		state_words(d, state, sizeof(state));
		switch (f) {
		case RENDER_CSV:
			csv_field(out, d->unit, 0), csv_field(out, d->id, 0);
			csv_field(out, d->received, 0), csv_field(out, d->due ? d->due : "", 0);
			csv_field(out, d->has_days_left ? left : "", 0), csv_field(out, state, 1);
			break;
		case RENDER_MARKDOWN:
			fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", d->unit, d->id,
				d->received, due, left, state);
			break;
		case RENDER_HTML: {
			const char *cells[6] = {d->unit, d->id, d->received, due, left, state};
			fputs("<tr>", out);
			for (size_t k = 0; k < 6; k++) {
				fputs("<td>", out);
				html_text(out, cells[k]);
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
			break;
		}
		default:
			fprintf(out, "%-16s %-28s %-10s %-10s %9s  %s\n", d->unit, d->id,
				d->received, due, left, state);
		}
	}
	if (f == RENDER_HTML)
		fputs("</table>\n</body></html>\n", out);
	if (f == RENDER_TEXT || f == RENDER_MARKDOWN)
		fprintf(out, "%s%llu open applications as of %s%s\n",
			f == RENDER_MARKDOWN ? "\n" : "", (unsigned long long)r->total,
			r->as_of ? r->as_of : "?",
			r->truncated ? " (the first listed: deadlines_max)" : "");
	return 0;
}
