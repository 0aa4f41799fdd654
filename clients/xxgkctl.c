/*
 * xxgkctl: the administrator's tool for a running xxgkd.
 *
 *   xxgkctl [-c XXGKD.CONF] [--admin EP] [--timeout MS] status | units [--year Y]
 *           | verify [--unit U] [--year Y]
 *   xxgkctl [--admin EP] reload | stop
 *   xxgkctl [--ingest EP] submit --unit U --year Y [--withdraw]
 *   xxgkctl [--admin EP] report --year Y [--unit U | --kind K] [--template 2019|2021]
 *           [--format text|markdown|csv|json|html|cells|xlsx] [--output FILE]
 *   xxgkctl [--publish EP] watch [--unit U] [--count N]
 *   xxgkctl [--admin EP] freeze --year Y | unfreeze --year Y --reason TEXT | freezes
 *   xxgkctl [--admin EP] restatements --year Y
 *   xxgkctl template applications|documents|cases|tallies [--format csv|xlsx] [--output FILE]
 *   xxgkctl [--admin EP] deadlines [--unit U | --kind K] [--within DAYS] [--overdue]
 *           [--as-of DATE] [--format ...]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "error.h"
#include "i18n.h"
#include "keyfile.h"
#include "locate.h"
#include "record.h"
#include "render.h"
#include "render_layout.h" /* display_width */
#include "render_xlsx.h"
#include "template.h"
#include "xxgk.h"
#include "xxgkctl_deadlines.h"

struct options {
	const char *admin, *publish, *ingest, *command, *unit, *kind, *server_key, *key, *output,
	    *reason;
	const char *admin_from, *ingest_from; /* for messages: "--admin", "-c FILE", ... */
	char key_storage[3][41];
	struct xxgk_keys keys;
	int has_keys;
	int timeout_ms, year, template_year, count;
	enum render_format format;
	int has_year, has_template, has_format, has_count, published, withdraw;
	int xlsx; /* --format xlsx: a workbook, written by render_xlsx, not render_report */
	int within, has_within, overdue; /* deadlines */
	const char *as_of;
};

/*
 * One message a command, so that a command added or changed leaves the translations of the
 * others as they are.
 */
static const char *const usage_text[] = {
    N_("usage: xxgkctl [--admin ENDPOINT] [--timeout MS] COMMAND\n"),
    N_("  status                      the daemon's figures\n"),
    N_("  units [--year Y]            the units of the city; with a year, whether and\n"
       "                              when each submitted it (报送), its records of the\n"
       "                              year and when its last record was received\n"),
    N_("  submit --unit ID --year Y [--withdraw] [--ingest ENDPOINT]\n"
       "                              submit a unit's year for it (also a 零报告), or\n"
       "                              withdraw its submission (an admin key, with keys)\n"),
    N_("  report --year Y [--unit ID | --kind KIND] [--template 2019|2021]\n"
       "         [--format text|markdown|csv|json|html|cells|xlsx] [--output FILE]\n"
       "                              the report of a year (default: the city, the\n"
       "                              year's template, text, to stdout; xlsx, the\n"
       "                              official template as a workbook, needs --output)\n"),
    N_("  report --year Y --published [--unit ID | --kind KIND] [--format ...]\n"
       "                              the report as published when Y was frozen\n"),
    N_("  freeze --year Y             publish Y: store every scope's report as it is;\n"
       "                              records that would change it are then FROZEN\n"),
    N_("  unfreeze --year Y --reason TEXT\n"
       "                              reopen a frozen year for a restatement\n"),
    N_("  freezes                     the audit log of freezes and unfreezes\n"),
    N_("  restatements --year Y       cells whose live value differs from the value\n"
       "                              published before (scope, key, published, live)\n"),
    N_("  deadlines [--unit ID | --kind KIND] [--within DAYS] [--overdue]\n"
       "            [--as-of YYYY-MM-DD] [--format text|markdown|csv|json|html]\n"
       "                              open applications and their answer periods: due\n"
       "                              date, working days left (negative when late)\n"),
    N_("  verify [--unit ID] [--year Y]\n"
       "                              recompute every counter from the records; a unit's\n"
       "                              counters and answer periods, or a year's counters,\n"
       "                              only (quicker). Reports are answered meanwhile;\n"
       "                              status shows how far it is\n"),
    N_("  reload                      reload xxgkd's configuration (units, keys), as\n"
       "                              SIGHUP does, and say whether it took\n"),
    N_("  stop                        stop xxgkd cleanly\n"),
    N_("  watch [--unit ID] [--count N] [--publish ENDPOINT]\n"
       "                              live changes as they commit\n"),
    N_("  backup DIR                  a hot, compacted copy of the store into DIR, on the\n"
       "                              daemon's machine (a directory it may write)\n"),
    N_("  keygen NAME                 write a CurveZMQ keypair as czmq certificates (pyzmq's\n"
       "                              zmq.auth reads them): NAME (public) and NAME_secret\n"
       "                              (secret, mode 0600), e.g. keygen dept.key\n"),
    N_("  template applications|documents|cases|tallies [--format csv|xlsx]\n"
       "         [--output FILE]      a blank ledger to fill in and import with xxgk-push:\n"
       "                              Chinese headers, one example row, (xlsx) drop-down\n"
       "                              lists of the valid values; csv (default) to stdout,\n"
       "                              xlsx needs --output; no daemon needed\n"),
    N_("with CurveZMQ: --server-key SERVER.key --key YOURS.key_secret\n"),
    N_("the daemon: --admin and --ingest, else those of xxgkd's configuration given with\n"
       "  -c FILE (--config), else XXGK_ADMIN and XXGK_INGEST, else those of\n"
       "  /etc/xxgk/xxgkd.conf when it exists, else ipc://xxgk-state/admin.sock and\n"
       "  tcp://127.0.0.1:7410\n"),
    N_("defaults: --publish tcp://127.0.0.1:7412 --timeout 5000\n"),
    N_("KIND: government, department, township, functional_zone\n"),
};

static void usage(FILE *to)
{
	for (size_t i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++)
		fputs(_(usage_text[i]), to);
}

static int fail_usage(const char *fmt, const char *arg)
{
	fputs("xxgkctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

static int number(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static const char *const kind_names[] = {NULL, "government", "department", "township",
					 "functional_zone"};

static int kind_of(const char *s)
{
	for (int k = 1; k <= 4; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return 0;
}

/* One admin call; prints why and returns NULL when there is no usable answer. */
static Xxgk__V1__Reply *call(const struct options *o, Xxgk__V1__Request *req, int body_case)
{
	struct xxgk_client *c;
	Xxgk__V1__Reply *reply = NULL;
	char err[1024];
	if (locate_probe(o->admin, o->admin_from, "--admin", "XXGK_ADMIN", err, sizeof(err))) {
		fprintf(stderr, "xxgkctl: %s\n", err);
		return NULL;
	}
	int rc = xxgk_connect_keys(&c, o->admin, o->has_keys ? &o->keys : NULL);
	if (rc) {
		fprintf(stderr, _("xxgkctl: cannot connect to %s: %s\n"), o->admin,
			_(xxgk_strerror(rc)));
		return NULL;
	}
	rc = xxgk_call(c, req, o->timeout_ms, &reply);
	xxgk_close(c);
	if (rc == XXGK_ETIMEDOUT) {
		fprintf(stderr, _("xxgkctl: no answer from %s within %d ms (is xxgkd running?)\n"),
			o->admin, o->timeout_ms);
		return NULL;
	}
	if (rc) {
		fprintf(stderr, "xxgkctl: %s: %s\n", o->admin, _(xxgk_strerror(rc)));
		return NULL;
	}
	if (reply->body_case == XXGK__V1__REPLY__BODY_ERROR) {
		fprintf(stderr, "xxgkctl: %s\n",
			reply->error->message ? reply->error->message : "");
	} else if ((int)reply->body_case == body_case) {
		return reply;
	} else {
		fprintf(stderr, _("xxgkctl: unexpected answer from %s\n"), o->admin);
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return NULL;
}

static Xxgk__V1__Reply *call_units(const struct options *o, int year)
{
	Xxgk__V1__UnitsQuery q = XXGK__V1__UNITS_QUERY__INIT;
	q.has_year = year != 0;
	q.year = (uint32_t)year;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_UNITS;
	req.units = &q;
	return call(o, &req, XXGK__V1__REPLY__BODY_UNITS);
}

static void format_time(char *buf, size_t size, uint64_t t);

static int cmd_status(const struct options *o)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_STATUS);
	if (reply == NULL)
		return 1;
	const Xxgk__V1__StatusReply *s = reply->status;
	printf(_("version: %s\npid: %u\nuptime: %llu s\nrecords: %llu\nunits: %llu\ncommits: %llu\n"
		 "map: %llu of %llu bytes used\nschema: %u\n"),
	       s->version ? s->version : "?", s->pid, (unsigned long long)s->uptime_seconds,
	       (unsigned long long)s->records, (unsigned long long)s->units,
	       (unsigned long long)s->commits, (unsigned long long)s->map_used,
	       (unsigned long long)s->map_size, s->schema_version);
	if (s->n_deadlines)
		printf("answer periods (open, due within 5 working days, overdue):\n");
	for (size_t i = 0; i < s->n_deadlines; i++)
		printf("  %-28s %8llu %8llu %8llu\n", s->deadlines[i]->unit,
		       (unsigned long long)s->deadlines[i]->open,
		       (unsigned long long)s->deadlines[i]->due_soon,
		       (unsigned long long)s->deadlines[i]->overdue);
	if (s->job && s->job->kind) {
		char since[48];
		int backup = strcmp(s->job->kind, "backup") == 0;
		format_time(since, sizeof(since), (uint64_t)s->job->started_at);
		if (!backup && s->job->total == 0) /* a unit's part: its count is not known */
			printf(_("job: verify since %s, %llu records read\n"), since,
			       (unsigned long long)s->job->done);
		else
			printf(backup ? _("job: backup since %s, %llu of %llu bytes copied\n")
				      : _("job: verify since %s, %llu of %llu records read\n"),
			       since, (unsigned long long)s->job->done,
			       (unsigned long long)s->job->total);
		if (s->job->unit || s->job->has_year)
			printf(_("  part: unit %s, year %u\n"), s->job->unit ? s->job->unit : "-",
			       s->job->has_year ? s->job->year : 0);
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

/* A time of the daemon's (seconds since the epoch) in China Standard Time, or "-" for never. */
static void format_time(char *buf, size_t size, uint64_t t)
{
	struct tm tm;
	time_t cst = (time_t)t + 8 * 3600;
	if (t == 0 || gmtime_r(&cst, &tm) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

/* s in width columns of a terminal, then a space: a translation's Chinese takes two a character */
static void column(const char *s, int width, int right)
{
	int pad = width - display_width(s);
	if (right)
		printf("%*s", pad > 0 ? pad : 0, "");
	fputs(s, stdout);
	printf("%*s ", right || pad < 0 ? 0 : pad, "");
}

/* The daemon's ISO 8601 UTC time as the office reads it, in China Standard Time as units --year
 * prints; what does not parse stays as it came. */
static const char *cst_time(const char *iso, char *buf, size_t size)
{
	struct tm tm = {0};
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (end == NULL || *end)
		return iso ? iso : "?";
	format_time(buf, size, (uint64_t)timegm(&tm));
	return buf;
}

/* units --year: a unit a line, then how many submitted. */
static void print_unit_years(const Xxgk__V1__UnitsReply *units, int year)
{
	size_t submitted = 0;
	column(_("unit"), 28, 0);
	column(_("kind"), 16, 0);
	column(_("submitted"), 9, 0);
	column(_("submitted at"), 25, 0);
	column(_("records"), 8, 1);
	column(_("last record received"), 25, 0);
	puts(_("name"));
	for (size_t i = 0; i < units->n_units; i++) {
		const Xxgk__V1__Unit *u = units->units[i];
		int k = u->kind >= 1 && u->kind <= 4 ? u->kind : 0;
		char at[40], last[40];
		format_time(at, sizeof(at), u->submitted ? u->submitted_at : 0);
		format_time(last, sizeof(last), u->last_record_at);
		submitted += u->submitted != 0;
		printf("%-28s %-16s ", u->id, k ? kind_names[k] : "unknown");
		column(u->submitted ? _("yes") : _("no"), 9, 0);
		printf("%-25s %8llu %-25s %s\n", at, (unsigned long long)u->records, last, u->name);
	}
	printf(_("%zu of %zu units submitted %d; not submitted (本年度未报送数据的单位): %zu\n"),
	       submitted, units->n_units, year, units->n_units - submitted);
}

static int cmd_units(const struct options *o)
{
	Xxgk__V1__Reply *reply = call_units(o, o->has_year ? o->year : 0);
	if (reply == NULL)
		return 1;
	if (o->has_year) {
		print_unit_years(reply->units, o->year);
		xxgk__v1__reply__free_unpacked(reply, NULL);
		return 0;
	}
	for (size_t i = 0; i < reply->units->n_units; i++) {
		const Xxgk__V1__Unit *u = reply->units->units[i];
		int k = u->kind >= 1 && u->kind <= 4 ? u->kind : 0;
		printf("%-28s %-16s %s\n", u->id, k ? kind_names[k] : "unknown", u->name);
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

static int cmd_verify(const struct options *o)
{
	Xxgk__V1__VerifyQuery q = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	q.unit = (char *)o->unit;
	q.has_year = o->has_year;
	q.year = (uint32_t)o->year;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_VERIFY);
	if (reply == NULL)
		return 1;
	uint64_t n = reply->verify->differences;
	printf(ngettext("verify: %llu difference\n", "verify: %llu differences\n", n),
	       (unsigned long long)n);
	for (size_t i = 0; i < reply->verify->n_lines; i++)
		printf("  %s\n", reply->verify->lines[i]);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return n ? 1 : 0;
}

/* reload: what SIGHUP does, answered; a configuration that does not load is the error. */
static int cmd_reload(const struct options *o)
{
	Xxgk__V1__ReloadRequest q = XXGK__V1__RELOAD_REQUEST__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_RELOAD;
	req.reload = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_RELOAD);
	if (reply == NULL)
		return 1;
	printf(_("reloaded: %u units\n"), reply->reload->units);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

static int cmd_stop(const struct options *o)
{
	Xxgk__V1__StopRequest q = XXGK__V1__STOP_REQUEST__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STOP;
	req.stop = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_STOP);
	if (reply == NULL)
		return 1;
	puts(_("xxgkd is stopping"));
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

/* A blank ledger: the CSV to stdout or --output, the workbook to --output. */
static int cmd_template(const struct options *o, enum ledger ledger)
{
	char err[600];
	if (o->xlsx) {
		if (template_xlsx(o->output, ledger, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "xxgkctl: template: %s\n", err);
		return 1;
	}
	FILE *out = o->output ? fopen(o->output, "wb") : stdout;
	if (out == NULL) {
		fprintf(stderr, _("xxgkctl: template: cannot write %s: %s\n"), o->output,
			strerror(errno));
		return 1;
	}
	int rc = template_csv(out, ledger);
	if (o->output && fclose(out) != 0)
		rc = -1;
	if (rc && o->output)
		fprintf(stderr, _("xxgkctl: template: cannot write the ledger to %s\n"), o->output);
	else if (rc)
		fputs(_("xxgkctl: template: cannot write the ledger\n"), stderr);
	return rc ? 1 : 0;
}

static int cmd_backup(const struct options *o, const char *dir)
{
	char path[4096];
	Xxgk__V1__BackupQuery q = XXGK__V1__BACKUP_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	/* the daemon resolves nothing: a relative directory is this shell's */
	if (dir[0] != '/') {
		if (getcwd(path, sizeof(path)) == NULL ||
		    strlen(path) + 1 + strlen(dir) + 1 > sizeof(path)) {
			fprintf(stderr, _("xxgkctl: backup: cannot make %s absolute\n"), dir);
			return 1;
		}
		strcat(path, "/");
		strcat(path, dir);
		dir = path;
	}
	q.dir = (char *)dir;
	req.body_case = XXGK__V1__REQUEST__BODY_BACKUP;
	req.backup = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_BACKUP);
	if (reply == NULL)
		return 1;
	printf(_("backup: %llu bytes in %s\n"), (unsigned long long)reply->backup->bytes, dir);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

static const char *unit_name(const Xxgk__V1__UnitsReply *units, const char *id)
{
	for (size_t i = 0; i < units->n_units; i++)
		if (strcmp(units->units[i]->id, id) == 0)
			return units->units[i]->name;
	return id;
}

/* The report to stdout, or to --output (a file the format replaces whole). */
static int write_report(const struct options *o, const struct report *r,
			const struct render_meta *m)
{
	char err[600];
	if (o->xlsx) {
		if (render_xlsx(o->output, r, m, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "xxgkctl: %s\n", err);
		return 1;
	}
	FILE *out = o->output ? fopen(o->output, "w") : stdout;
	if (out == NULL) {
		fprintf(stderr, _("xxgkctl: cannot write %s: %s\n"), o->output, strerror(errno));
		return 1;
	}
	int rc = render_report(out, o->format, r, m);
	if (o->output && fclose(out) != 0)
		rc = -1;
	if (rc && o->output)
		fprintf(stderr, _("xxgkctl: cannot write the report to %s\n"), o->output);
	else if (rc)
		fputs(_("xxgkctl: cannot write the report\n"), stderr);
	return rc ? 1 : 0;
}

static int cmd_report(const struct options *o)
{
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	char scope[128];
	int kind = 0, rc = 1;
	q.has_year = 1;
	q.year = (uint32_t)o->year;
	q.has_template_ = o->has_template;
	q.template_ = o->template_year;
	q.has_published = o->published;
	q.published = o->published;
	if (o->unit) {
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_UNIT;
		q.unit = (char *)o->unit;
		snprintf(scope, sizeof(scope), "unit:%s", o->unit);
	} else if (o->kind) {
		kind = kind_of(o->kind);
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_KIND;
		q.kind = kind;
		snprintf(scope, sizeof(scope), "kind:%s", o->kind);
	} else {
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
		q.city = 1;
		snprintf(scope, sizeof(scope), "city");
	}
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &q;
	Xxgk__V1__Reply *units = call_units(o, 0);
	Xxgk__V1__Reply *reply = units ? call(o, &req, XXGK__V1__REPLY__BODY_REPORT) : NULL;
	if (reply) {
		const Xxgk__V1__ReportReply *r = reply->report;
		const char **keys = calloc(r->n_cells + 1, sizeof(*keys));
		int64_t *values = calloc(r->n_cells + 1, sizeof(*values));
		const char **names = calloc(r->n_silent_units + 1, sizeof(*names));
		struct render_carry *carry = calloc(r->n_carry_differences + 1, sizeof(*carry));
		struct report report;
		for (size_t i = 0; i < r->n_cells && keys && values; i++) {
			keys[i] = r->cells[i]->key ? r->cells[i]->key : "";
			values[i] = r->cells[i]->value;
		}
		/* published: the names as the freeze stored them; else as configured now */
		for (size_t i = 0; i < r->n_silent_units && names; i++)
			names[i] = r->n_silent_unit_names == r->n_silent_units
				       ? r->silent_unit_names[i]
				       : unit_name(units->units, r->silent_units[i]);
		for (size_t i = 0; i < r->n_carry_differences && carry; i++)
			carry[i] = (struct render_carry){
			    r->carry_differences[i]->key ? r->carry_differences[i]->key : "",
			    r->carry_differences[i]->published, r->carry_differences[i]->live};
		if (keys == NULL || values == NULL || names == NULL || carry == NULL) {
			fputs(_("xxgkctl: out of memory\n"), stderr);
		} else if (report_from_cells(&report, (int)r->year, r->template_, keys, values,
					     r->n_cells)) {
			fputs(_("xxgkctl: the daemon's report has cells this xxgkctl does not know "
				"(another version?)\n"),
			      stderr);
		} else {
			/* a daemon from before the government was configured sends none: a
			 * city's words, as it printed then, and no name it did not give */
			struct render_government gov = {
			    r->government ? r->government : "", r->region ? r->region : "",
			    r->has_level ? (int)r->level : RENDER_LEVEL_CITY};
			char scope_name[RENDER_WORDS_MAX], at[40];
			render_scope_name(&gov, kind,
					  o->unit ? r->unit_name ? r->unit_name
								 : unit_name(units->units, o->unit)
						  : NULL,
					  scope_name, sizeof(scope_name));
			struct render_meta m = {
			    scope,
			    scope_name,
			    names,
			    (const char *const *)r->silent_units,
			    r->n_silent_units,
			    gov,
			    r->published_at ? cst_time(r->published_at, at, sizeof(at)) : NULL,
			    r->frozen_by,
			    r->generation,
			    carry,
			    r->n_carry_differences,
			    r->has_late_answers,
			    r->late_answers};
			rc = write_report(o, &report, &m);
		}
		free(keys);
		free(values);
		free(names);
		free(carry);
		xxgk__v1__reply__free_unpacked(reply, NULL);
	}
	if (units)
		xxgk__v1__reply__free_unpacked(units, NULL);
	return rc;
}

static int cmd_freeze(const struct options *o, int unfreeze)
{
	Xxgk__V1__FreezeRequest f = XXGK__V1__FREEZE_REQUEST__INIT;
	Xxgk__V1__UnfreezeRequest u = XXGK__V1__UNFREEZE_REQUEST__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	if (unfreeze) {
		u.has_year = 1;
		u.year = (uint32_t)o->year;
		u.reason = (char *)o->reason;
		req.body_case = XXGK__V1__REQUEST__BODY_UNFREEZE;
		req.unfreeze = &u;
	} else {
		f.has_year = 1;
		f.year = (uint32_t)o->year;
		req.body_case = XXGK__V1__REQUEST__BODY_FREEZE;
		req.freeze = &f;
	}
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_FREEZE);
	if (reply == NULL)
		return 1;
	const Xxgk__V1__FreezeEvent *e = reply->freeze;
	char at[40];
	if (unfreeze)
		printf(_("unfrozen: %u by %s at %s; published version %u stays on record\n"),
		       e->year, e->by ? e->by : "", cst_time(e->at, at, sizeof(at)), e->generation);
	else
		printf(_("frozen: %u by %s at %s, published version %u of %llu scopes\n"), e->year,
		       e->by ? e->by : "", cst_time(e->at, at, sizeof(at)), e->generation,
		       (unsigned long long)e->scopes);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

static int cmd_freezes(const struct options *o)
{
	Xxgk__V1__FreezesQuery q = XXGK__V1__FREEZES_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_FREEZES;
	req.freezes = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_FREEZES);
	if (reply == NULL)
		return 1;
	for (size_t i = 0; i < reply->freezes->n_events; i++) {
		const Xxgk__V1__FreezeEvent *e = reply->freezes->events[i];
		char at[40];
		printf(_("%s %-8s %u version %u by %s"), cst_time(e->at, at, sizeof(at)),
		       e->action ? e->action : "?", e->year, e->generation, e->by ? e->by : "?");
		if (e->has_scopes)
			printf(_(" (%llu scopes)"), (unsigned long long)e->scopes);
		if (e->reason)
			printf(": %s", e->reason);
		putchar('\n');
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

static int cmd_restatements(const struct options *o)
{
	Xxgk__V1__RestatementsQuery q = XXGK__V1__RESTATEMENTS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	q.has_year = 1;
	q.year = (uint32_t)o->year;
	req.body_case = XXGK__V1__REQUEST__BODY_RESTATEMENTS;
	req.restatements = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_RESTATEMENTS);
	if (reply == NULL)
		return 1;
	for (size_t i = 0; i < reply->restatements->n_cells; i++) {
		const Xxgk__V1__Restatement *r = reply->restatements->cells[i];
		printf("%s\t%s\t%lld\t%lld\n", r->scope ? r->scope : "", r->key ? r->key : "",
		       (long long)r->published, (long long)r->live);
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return 0;
}

/*
 * A STALE submit: a later revision is stored, which may say the opposite. 0 when the unit's
 * year is as asked (nothing to change), 1 with why when it is not or cannot be told.
 */
static int submit_stale(const struct options *o)
{
	Xxgk__V1__Reply *units = call_units(o, o->year);
	int submitted = 0;
	if (units == NULL) {
		fprintf(
		    stderr,
		    _("xxgkctl: %s: a later revision of the submission of %d is stored, and the "
		      "admin socket cannot tell whether it is a withdrawal\n"),
		    o->unit, o->year);
		return 1;
	}
	for (size_t i = 0; i < units->units->n_units; i++) {
		const Xxgk__V1__Unit *u = units->units->units[i];
		if (u->id && strcmp(u->id, o->unit) == 0)
			submitted = u->submitted;
	}
	xxgk__v1__reply__free_unpacked(units, NULL);
	if (submitted == !o->withdraw) {
		printf(o->withdraw ? _("%s: has not submitted %d already: nothing changed\n")
				   : _("%s: submitted %d already: nothing changed\n"),
		       o->unit, o->year);
		return 0;
	}
	fprintf(stderr,
		o->withdraw ? _("xxgkctl: %s: NOT withdrawn: a later submission of %d is stored "
				"(its revision is higher than this one's); the unit stays "
				"submitted\n")
			    : _("xxgkctl: %s: NOT submitted: a later withdrawal of %d is stored "
				"(its revision is higher than this one's); the unit has not "
				"submitted\n"),
		o->unit, o->year);
	return 1;
}

/*
 * The office submits a unit's year (报送) for it, or withdraws the submission: the unit's one
 * submission record of the year, pushed on the ingest socket like any record. Its revision is
 * the time in microseconds, far above a unit's own counter: the office's word outranks the
 * unit's records, so a unit that wants to withdraw afterwards asks the office.
 */
static int cmd_submit(const struct options *o)
{
	struct xxgk_client *c;
	struct timeval tv;
	char id[SUBMISSION_ID_MAX];
	Xxgk__V1__Submission sub = XXGK__V1__SUBMISSION__INIT;
	Xxgk__V1__Record r = XXGK__V1__RECORD__INIT;
	Xxgk__V1__Record *records[1] = {&r};
	int status = 0, reason = 0, stale = 0;
	const char *message = NULL;
	gettimeofday(&tv, NULL);
	submission_id(o->year, id, sizeof(id));
	r.unit = (char *)o->unit;
	r.id = id;
	r.has_revision = 1;
	r.revision = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	r.has_deleted = o->withdraw;
	r.deleted = o->withdraw;
	r.body_case = XXGK__V1__RECORD__BODY_SUBMISSION;
	r.submission = &sub;
	sub.has_year = !o->withdraw;
	sub.year = (uint32_t)o->year;
	char err[1024];
	if (locate_probe(o->ingest, o->ingest_from, "--ingest", "XXGK_INGEST", err, sizeof(err))) {
		fprintf(stderr, "xxgkctl: %s\n", err);
		return 1;
	}
	int rc = xxgk_connect_keys(&c, o->ingest, o->has_keys ? &o->keys : NULL);
	if (rc) {
		fprintf(stderr, _("xxgkctl: cannot connect to %s: %s\n"), o->ingest,
			_(xxgk_strerror(rc)));
		return 1;
	}
	rc = xxgk_push(c, records, 1, &status, &reason, &message, o->timeout_ms);
	if (rc == XXGK_ETIMEDOUT)
		fprintf(stderr, _("xxgkctl: no answer from %s within %d ms (is xxgkd running?)\n"),
			o->ingest, o->timeout_ms);
	else if (rc == XXGK_EINVAL || rc == XXGK_E2BIG)
		fprintf(stderr, "xxgkctl: %s\n", xxgk_last_error(c));
	else if (rc)
		fprintf(stderr, "xxgkctl: %s: %s\n", o->ingest, _(xxgk_strerror(rc)));
	else if (status == XXGK__V1__RECORD_STATUS__CODE__APPLIED)
		printf(o->withdraw ? _("%s: withdrew the submission of %d\n")
				   : _("%s: submitted %d\n"),
		       o->unit, o->year);
	else if (status == XXGK__V1__RECORD_STATUS__CODE__STALE)
		stale = 1;
	else
		fprintf(stderr, _("xxgkctl: submit refused: %s\n"),
			message && message[0] ? message : _("rejected"));
	xxgk_close(c);
	if (stale)
		return submit_stale(o);
	return rc == 0 && status == XXGK__V1__RECORD_STATUS__CODE__APPLIED ? 0 : 1;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_watch(const struct options *o)
{
	void *ctx = zmq_ctx_new(), *sub = ctx ? zmq_socket(ctx, ZMQ_SUB) : NULL;
	const char *topic = o->unit ? o->unit : "";
	int seen = 0, linger = 0;
	if (sub && o->has_keys &&
	    (zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, o->keys.server_public, 40) ||
	     zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, o->keys.public_key, 40) ||
	     zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, o->keys.secret_key, 40))) {
		fputs(_("xxgkctl: cannot use the keys\n"), stderr);
		return 1;
	}
	if (sub == NULL || zmq_connect(sub, o->publish) != 0) {
		fprintf(stderr, _("xxgkctl: cannot connect to %s\n"), o->publish);
		return 1;
	}
	zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (o->unit)
		fprintf(stderr, _("xxgkctl: watching %s for %s (Ctrl-C stops)\n"), o->publish,
			o->unit);
	else
		fprintf(stderr, _("xxgkctl: watching %s (Ctrl-C stops)\n"), o->publish);
	while (!stop && (!o->has_count || seen < o->count)) {
		zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&item, 1, 200) <= 0)
			continue;
		zmq_msg_t t, m;
		zmq_msg_init(&t);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&t, sub, 0) >= 0 && zmq_msg_more(&t) &&
		    zmq_msg_recv(&m, sub, 0) >= 0) {
			Xxgk__V1__Changes *c =
			    xxgk__v1__changes__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
			for (size_t i = 0; c && i < c->n_changes; i++)
				printf("%u %s %s %+lld\n", c->changes[i]->year, c->unit,
				       c->changes[i]->key, (long long)c->changes[i]->delta);
			/* published at midnight (UTC+8): applications that became overdue */
			for (size_t i = 0; c && i < c->n_overdue; i++)
				printf("overdue %s %s due %s\n", c->unit ? c->unit : "",
				       c->overdue[i]->id ? c->overdue[i]->id : "",
				       c->overdue[i]->due ? c->overdue[i]->due : "");
			if (c)
				xxgk__v1__changes__free_unpacked(c, NULL);
			fflush(stdout);
			seen++;
		}
		zmq_msg_close(&t);
		zmq_msg_close(&m);
	}
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return 0;
}

static int cmd_deadlines(const struct options *o)
{
	Xxgk__V1__DeadlinesQuery q = XXGK__V1__DEADLINES_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	if (o->unit) {
		q.scope_case = XXGK__V1__DEADLINES_QUERY__SCOPE_UNIT;
		q.unit = (char *)o->unit;
	} else if (o->kind) {
		q.scope_case = XXGK__V1__DEADLINES_QUERY__SCOPE_KIND;
		q.kind = (Xxgk__V1__UnitKind)kind_of(o->kind);
	}
	q.has_within = o->has_within;
	q.within = (uint32_t)o->within;
	q.has_overdue = o->overdue;
	q.overdue = o->overdue;
	q.as_of = (char *)o->as_of;
	req.body_case = XXGK__V1__REQUEST__BODY_DEADLINES;
	req.deadlines = &q;
	Xxgk__V1__Reply *reply = call(o, &req, XXGK__V1__REPLY__BODY_DEADLINES);
	if (reply == NULL)
		return 1;
	int rc = deadlines_print(stdout, reply->deadlines, o->format);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return rc ? 1 : 0;
}

/*
 * Where the daemon is, once the command line is known to be right: --admin and --ingest, else
 * -c, XXGK_ADMIN, /etc/xxgk/xxgkd.conf; and the keys. 0, or the exit status of a failure (said).
 */
static int find_daemon(struct options *o, struct locate *where, const char *config, int ledger)
{
	char located_err[1024];
	/* what this command needs and its command line does not say; a blank ledger needs no
	 * daemon, nor a readable configuration */
	int want = strcmp(o->command, "submit") == 0  ? LOCATE_INGEST
		   : strcmp(o->command, "watch") == 0 ? LOCATE_PUBLISH
						      : LOCATE_ADMIN;
	if ((want == LOCATE_ADMIN && o->admin) || (want == LOCATE_INGEST && o->ingest) ||
	    (want == LOCATE_PUBLISH && o->publish) || ledger >= 0)
		want = 0;
	if (ledger < 0 && locate_daemon(where, config, want, located_err, sizeof(located_err))) {
		fprintf(stderr, "xxgkctl: %s\n", located_err);
		return 1;
	}
	if (o->admin == NULL) {
		o->admin = where->admin;
		o->admin_from = where->admin_from;
	}
	if (o->ingest == NULL) {
		o->ingest = where->ingest;
		o->ingest_from = where->ingest_from;
	}
	if (o->publish == NULL)
		o->publish = where->publish;
	/* the daemon's public key beside the secret_key its configuration names */
	if (o->key && !o->server_key && where->server_key[0])
		o->server_key = where->server_key;
	if (!o->server_key != !o->key)
		return fail_usage("%s", _("--server-key and --key go together"));
	if (o->key) {
		char err[600];
		if (xxgk_keys_from_files(&o->keys, o->key_storage, o->server_key, o->key, err,
					 sizeof(err))) {
			fprintf(stderr, "xxgkctl: %s\n", err);
			return 1;
		}
		o->has_keys = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {{"admin", required_argument, NULL, 'a'},
						     {"config", required_argument, NULL, 'c'},
						     {"version", no_argument, NULL, 'V'},
						     {"publish", required_argument, NULL, 'p'},
						     {"timeout", required_argument, NULL, 't'},
						     {"year", required_argument, NULL, 'y'},
						     {"unit", required_argument, NULL, 'u'},
						     {"kind", required_argument, NULL, 'k'},
						     {"template", required_argument, NULL, 'T'},
						     {"format", required_argument, NULL, 'f'},
						     {"output", required_argument, NULL, 'o'},
						     {"count", required_argument, NULL, 'n'},
						     {"help", no_argument, NULL, 'h'},
						     {"server-key", required_argument, NULL, 'S'},
						     {"key", required_argument, NULL, 'K'},
						     {"reason", required_argument, NULL, 'r'},
						     {"published", no_argument, NULL, 'P'},
						     {"ingest", required_argument, NULL, 'i'},
						     {"withdraw", no_argument, NULL, 'w'},
						     {"within", required_argument, NULL, 'W'},
						     {"overdue", no_argument, NULL, 'O'},
						     {"as-of", required_argument, NULL, 'A'},
						     {NULL, 0, NULL, 0}};
	struct options o = {.admin_from = "--admin",
			    .ingest_from = "--ingest",
			    .timeout_ms = 5000,
			    .format = RENDER_TEXT};
	const char *config = NULL;
	int opt;
	i18n_init();
	while ((opt = getopt_long(argc, argv, "c:Vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			o.admin = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'V':
			printf("xxgkctl %s\n", XXGK_VERSION);
			return 0;
		case 'p':
			o.publish = optarg;
			break;
		case 'i':
			o.ingest = optarg;
			break;
		case 'w':
			o.withdraw = 1;
			break;
		case 't':
			if (number(optarg, 1, 3600000, &o.timeout_ms))
				return fail_usage(_("--timeout: want milliseconds, not \"%s\""),
						  optarg);
			break;
		case 'y':
			if (number(optarg, 2000, 2099, &o.year))
				return fail_usage(
				    _("--year: want a year from 2000 to 2099, not \"%s\""), optarg);
			o.has_year = 1;
			break;
		case 'u':
			o.unit = optarg;
			break;
		case 'k':
			if (!kind_of(optarg))
				return fail_usage(
				    _("--kind: want government, department, township or "
				      "functional_zone, not \"%s\""),
				    optarg);
			o.kind = optarg;
			break;
		case 'T':
			if (number(optarg, 2019, 2021, &o.template_year) || o.template_year == 2020)
				return fail_usage(_("--template: want 2019 or 2021, not \"%s\""),
						  optarg);
			o.has_template = 1;
			break;
		case 'f':
			o.xlsx = strcmp(optarg, "xlsx") == 0;
			if (!o.xlsx && render_format_parse(optarg, &o.format))
				return fail_usage(
				    _("--format: want text, markdown, csv, json, html, cells or "
				      "xlsx, not \"%s\""),
				    optarg);
			o.has_format = 1;
			break;
		case 'o':
			if (optarg[0] == '\0' || strcmp(optarg, "-") == 0)
				return fail_usage(_("--output: want a file name, not \"%s\""),
						  optarg);
			o.output = optarg;
			break;
		case 'n':
			if (number(optarg, 1, 1 << 30, &o.count))
				return fail_usage(_("--count: want a positive number, not \"%s\""),
						  optarg);
			o.has_count = 1;
			break;
		case 'S':
			o.server_key = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		case 'r':
			if (optarg[0] == '\0' ||
			    strlen(optarg) > 500 /* STORE_FREEZE_REASON_MAX */ ||
			    !utf8_valid(optarg, strlen(optarg)))
				return fail_usage(
				    "%s", _("--reason: want 1 to 500 bytes of UTF-8 saying why"));
			o.reason = optarg;
			break;
		case 'P':
			o.published = 1;
			break;
		case 'W':
			if (number(optarg, 0, 366, &o.within))
				return fail_usage("--within: want working days from 0 to 366, not "
						  "\"%s\"",
						  optarg);
			o.has_within = 1;
			break;
		case 'O':
			o.overdue = 1;
			break;
		case 'A':
			o.as_of = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return fail_usage("%s", _("a command is required"));
	o.command = argv[optind];
	if (strcmp(o.command, "keygen") == 0) {
		char err[600];
		if (optind + 2 != argc)
			return fail_usage("%s", _("keygen: one NAME is required"));
		if (keyfile_generate(argv[optind + 1], err, sizeof(err))) {
			fprintf(stderr, "xxgkctl: keygen: %s\n", err);
			return 1;
		}
		printf(_("wrote %s (public) and %s_secret (secret, mode 0600)\n"), argv[optind + 1],
		       argv[optind + 1]);
		return 0;
	}
	const char *backup_dir = NULL;
	int ledger = -1; /* the template command's */
	if (strcmp(o.command, "template") == 0) {
		char names[128], why[320];
		template_names(names, sizeof(names));
		if (optind + 2 != argc)
			return fail_usage(_("template: one KIND is required (%s)"), names);
		const char *name = argv[++optind];
		if ((ledger = template_ledger(name)) < 0) {
			snprintf(why, sizeof(why), _("template: unknown kind \"%.100s\"; want %s"),
				 name, names);
			return fail_usage("%s", why);
		}
	}
	if (strcmp(o.command, "backup") == 0) {
		if (optind + 2 != argc)
			return fail_usage("%s", _("backup: one DIR is required"));
		backup_dir = argv[++optind];
	}
	if (optind + 1 < argc)
		return fail_usage(_("unexpected argument \"%s\""), argv[optind + 1]);
	struct locate where = {0};
	if (strcmp(o.command, "deadlines") == 0) {
		if (o.has_year || o.has_template || o.published || o.output || o.xlsx ||
		    o.format == RENDER_CELLS)
			return fail_usage("%s",
					  "deadlines: --unit, --kind, --within, --overdue, "
					  "--as-of and --format text, markdown, csv, json or html");
		if (o.unit && o.kind)
			return fail_usage("%s", "deadlines: --unit and --kind exclude each other");
		int rc = find_daemon(&o, &where, config, ledger);
		return rc ? rc : cmd_deadlines(&o);
	}
	if (o.has_within || o.overdue || o.as_of)
		return fail_usage("--within, --overdue and --as-of go with deadlines, not %s",
				  o.command);
	int is_report = strcmp(o.command, "report") == 0,
	    is_watch = strcmp(o.command, "watch") == 0,
	    is_freeze = strcmp(o.command, "freeze") == 0,
	    is_unfreeze = strcmp(o.command, "unfreeze") == 0,
	    is_restatements = strcmp(o.command, "restatements") == 0,
	    is_submit = strcmp(o.command, "submit") == 0,
	    is_units = strcmp(o.command, "units") == 0;
	int is_verify = strcmp(o.command, "verify") == 0;
	int takes_year = is_report || is_freeze || is_unfreeze || is_restatements || is_submit ||
			 is_units || is_verify;
	if (!takes_year && o.has_year)
		return fail_usage(
		    _("--year goes with report, units, submit, verify, freeze, unfreeze and "
		      "restatements, not %s"),
		    o.command);
	int is_template = ledger >= 0;
	if (is_template && (o.kind || o.has_template || o.published))
		return fail_usage(_("--kind, --template and --published go with report, not %s"),
				  o.command);
	if (!is_report && !is_template &&
	    (o.kind || o.has_template || o.has_format || o.published || o.output))
		return fail_usage(_("--kind, --template, --format, --output and --published go "
				    "with report, not %s"),
				  o.command);
	if (is_template && o.has_format && !o.xlsx && o.format != RENDER_CSV)
		return fail_usage("%s", _("template: --format: want csv or xlsx"));
	if (!is_unfreeze && o.reason)
		return fail_usage(_("--reason goes with unfreeze, not %s"), o.command);
	if (takes_year && !is_report && !is_units && !is_submit && !is_verify && !o.has_year)
		return fail_usage(_("%s: --year is required"), o.command);
	if (is_unfreeze && !o.reason)
		return fail_usage("%s",
				  _("unfreeze: --reason is required (why the year is restated)"));
	/* a workbook is binary: never onto a terminal or into a pipe by accident */
	if (o.xlsx && !o.output)
		return fail_usage(
		    "%s", is_template
			      ? _("template: --format xlsx needs --output FILE (a "
				  "workbook is binary, not for stdout)")
			      : _("report: --format xlsx needs --output FILE (a workbook is "
				  "binary, not for stdout)"));
	if (!is_report && !is_watch && !is_submit && !is_verify && o.unit)
		return fail_usage(_("--unit goes with report, watch, submit or verify, not %s"),
				  o.command);
	if (!is_submit && o.withdraw)
		return fail_usage(_("--withdraw goes with submit, not %s"), o.command);
	if (is_submit && (!o.unit || !o.has_year))
		return fail_usage("%s", _("submit: --unit and --year are required"));
	if (!is_watch && o.has_count)
		return fail_usage(_("--count goes with watch, not %s"), o.command);
	if (is_report && !o.has_year)
		return fail_usage("%s", _("report: --year is required"));
	if (o.unit && o.kind)
		return fail_usage("%s", _("report: --unit and --kind exclude each other"));
	static const char *const commands[] = {
	    "status",	"units",  "submit",   "verify",	 "report", "watch", "backup",
	    "template", "freeze", "unfreeze", "freezes", "reload", "stop",  "restatements"};
	size_t c = 0;
	while (c < sizeof(commands) / sizeof(commands[0]) && strcmp(o.command, commands[c]))
		c++;
	if (c == sizeof(commands) / sizeof(commands[0]))
		return fail_usage(_("unknown command \"%s\""), o.command);
	int rc = find_daemon(&o, &where, config, ledger);
	if (rc)
		return rc;
	if (strcmp(o.command, "status") == 0)
		return cmd_status(&o);
	if (is_units)
		return cmd_units(&o);
	if (is_submit)
		return cmd_submit(&o);
	if (is_verify)
		return cmd_verify(&o);
	if (is_report)
		return cmd_report(&o);
	if (is_watch)
		return cmd_watch(&o);
	if (backup_dir)
		return cmd_backup(&o, backup_dir);
	if (is_template)
		return cmd_template(&o, (enum ledger)ledger);
	if (is_freeze || is_unfreeze)
		return cmd_freeze(&o, is_unfreeze);
	if (strcmp(o.command, "freezes") == 0)
		return cmd_freezes(&o);
	if (strcmp(o.command, "reload") == 0)
		return cmd_reload(&o);
	if (strcmp(o.command, "stop") == 0)
		return cmd_stop(&o);
	if (is_restatements)
		return cmd_restatements(&o);
	return fail_usage(_("unknown command \"%s\""), o.command);
}
