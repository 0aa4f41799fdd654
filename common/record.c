#include "record.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "error.h"

/* The largest magnitude of one tally, so that sums over a city cannot overflow 64 bits. */
#define TALLY_VALUE_MAX 1000000000000LL

static int reject(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return XXGK_EINVAL;
}

/* The length of the well-formed character at p (avail bytes on), or 0 if there is none. */
static size_t utf8_char(const unsigned char *p, size_t avail)
{
	unsigned c = *p;
	size_t n;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	else if ((c & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		size_t n = utf8_char(p, (size_t)(end - p));
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

size_t utf8_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)src, *end = p + len;
	size_t out = 0;
	if (size == 0)
		return 0;
	while (p < end) {
		size_t n = utf8_char(p, (size_t)(end - p));
		const char *from = n ? (const char *)p : replacement;
		size_t take = n ? n : 3;
		if (take > size - 1 - out)
			break; /* cut before a character that does not fit, never inside it */
		memcpy(dst + out, from, take);
		out += take;
		p += n ? n : 1;
	}
	dst[out] = '\0';
	return out;
}

/* A value the schema names, other than the UNSPECIFIED zero. */
static bool enum_known(const ProtobufCEnumDescriptor *desc, int value)
{
	return value != 0 && protobuf_c_enum_descriptor_get_value(desc, value) != NULL;
}

int record_check_name(const char *field, const char *s, size_t max, char *msg, size_t size)
{
	if (s == NULL || s[0] == '\0')
		return reject(msg, size, "%s: missing or empty", field);
	size_t len = strlen(s);
	if (len > max)
		return reject(msg, size, "%s: longer than %zu bytes", field, max);
	if (!utf8_valid(s, len))
		return reject(msg, size, "%s: invalid UTF-8", field);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0, n; i < len; i += n) {
		unsigned cp = p[i];
		n = utf8_char(p + i, len - i); /* > 0: the string is valid UTF-8 */
		for (size_t k = 1; k < n; k++)
			cp = (cp << 6) | (p[i + k] & 0x3f);
		cp &= n == 1 ? 0x7f : n == 2 ? 0x7ff : n == 3 ? 0xffff : 0x1fffff;
		/* C0, DEL and C1 controls, and the bidi controls that make an id read as another */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return reject(msg, size, "%s: contains a control character (U+%04X)", field,
				      cp);
		if (cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return reject(msg, size,
				      "%s: contains a bidirectional control character (U+%04X)",
				      field, cp);
	}
	return 0;
}

static int check_date(const char *field, const char *s, struct date *d, char *msg, size_t size)
{
	if (s == NULL)
		return reject(msg, size, "%s: missing", field);
	enum date_error e = date_parse(s, d);
	if (e != DATE_OK)
		return reject(msg, size, "%s: %s", field, date_strerror(e));
	return 0;
}

/* An optional date: absent leaves *d zeroed. */
static int check_optional_date(const char *field, const char *s, struct date *d, char *msg,
			       size_t size)
{
	memset(d, 0, sizeof(*d));
	return s == NULL ? 0 : check_date(field, s, d, msg, size);
}

/*
 * The events that move the answer period (shared/DOMAIN.md "Answer periods"): each a date of the
 * application's life, so none before received nor after concluded (concluded.day 0 while open);
 * an end (corrected, answered, paid) needs its start and cannot precede it. There is one
 * extension field, so a second extension cannot be sent: a newer revision replaces the first.
 */
static int check_application_events(const Xxgk__V1__Application *a, const struct date *received,
				    const struct date *concluded, struct deadline_events *days,
				    char *msg, size_t size)
{
	static const struct {
		const char *field;
		size_t offset;
		int start;  /* index of the event this one ends, or -1 */
		size_t day; /* where its day goes in struct deadline_events */
	} events[] = {
	    {"application.extended", offsetof(Xxgk__V1__Application, extended), -1,
	     offsetof(struct deadline_events, extended)},
	    {"application.correction_requested",
	     offsetof(Xxgk__V1__Application, correction_requested), -1,
	     offsetof(struct deadline_events, correction_requested)},
	    {"application.corrected", offsetof(Xxgk__V1__Application, corrected), 1,
	     offsetof(struct deadline_events, corrected)},
	    {"application.consultation_sent", offsetof(Xxgk__V1__Application, consultation_sent),
	     -1, offsetof(struct deadline_events, consultation_sent)},
	    {"application.consultation_answered",
	     offsetof(Xxgk__V1__Application, consultation_answered), 3,
	     offsetof(struct deadline_events, consultation_answered)},
	    {"application.fee_notice", offsetof(Xxgk__V1__Application, fee_notice), -1,
	     offsetof(struct deadline_events, fee_notice)},
	    {"application.fee_paid", offsetof(Xxgk__V1__Application, fee_paid), 5,
	     offsetof(struct deadline_events, fee_paid)},
	};
	struct date d[sizeof(events) / sizeof(events[0])];
	int rc;
	*days = (struct deadline_events){.received = received->day, .concluded = concluded->day};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		const char *s = *(const char *const *)((const char *)a + events[i].offset);
		if ((rc = check_optional_date(events[i].field, s, &d[i], msg, size)))
			return rc;
		if (s == NULL)
			continue;
		*(int *)((char *)days + events[i].day) = d[i].day;
		if (d[i].day < received->day)
			return reject(msg, size, "%s: before received", events[i].field);
		if (concluded->year && d[i].day > concluded->day)
			return reject(msg, size, "%s: after concluded", events[i].field);
		int k = events[i].start;
		if (k < 0)
			continue;
		const char *start = *(const char *const *)((const char *)a + events[k].offset);
		if (start == NULL)
			return reject(msg, size, "%s: without %s", events[i].field,
				      events[k].field + strlen("application."));
		if (d[i].day < d[k].day)
			return reject(msg, size, "%s: before %s", events[i].field,
				      events[k].field + strlen("application."));
	}
	/* the extension prolongs the period that runs from the corrected application */
	if (a->extended && a->corrected && d[0].day < d[2].day)
		return reject(msg, size, "application.extended: before corrected");
	return 0;
}

static int check_application(const Xxgk__V1__Application *a, struct record_facts *f, char *msg,
			     size_t size)
{
	struct date received, concluded;
	int rc;
	if (!a->has_applicant)
		return reject(msg, size, "application.applicant: missing");
	if (!enum_known(&xxgk__v1__applicant_type__descriptor, a->applicant))
		return reject(msg, size, "application.applicant: unknown value %d",
			      (int)a->applicant);
	if ((rc = check_date("application.received", a->received, &received, msg, size)))
		return rc;
	if (a->has_outcome && a->concluded == NULL)
		return reject(msg, size, "application: an outcome without a conclusion date");
	if (!a->has_outcome && a->concluded != NULL)
		return reject(msg, size, "application: a conclusion date without an outcome");
	f->app.column = (int)a->applicant - 1;
	f->app.received_year = received.year;
	f->app.concluded_year = 0;
	f->app.outcome = 0;
	f->app.late = 0;
	if (!a->has_outcome) {
		memset(&concluded, 0, sizeof(concluded));
		return check_application_events(a, &received, &concluded, &f->app.days, msg, size);
	}
	if (!enum_known(&xxgk__v1__outcome__descriptor, a->outcome))
		return reject(msg, size, "application.outcome: unknown value %d", (int)a->outcome);
	if ((rc = check_date("application.concluded", a->concluded, &concluded, msg, size)))
		return rc;
	if (concluded.day < received.day)
		return reject(msg, size, "application: concluded before received");
	if ((rc = check_application_events(a, &received, &concluded, &f->app.days, msg, size)))
		return rc;
	f->app.concluded_year = concluded.year;
	f->app.outcome = (int)a->outcome;
	return 0;
}

static int check_document(const Xxgk__V1__Document *d, struct record_facts *f, char *msg,
			  size_t size)
{
	struct date made, published, repealed;
	int rc;
	if (!d->has_kind)
		return reject(msg, size, "document.kind: missing");
	if (!enum_known(&xxgk__v1__document_kind__descriptor, d->kind))
		return reject(msg, size, "document.kind: unknown value %d", (int)d->kind);
	if ((rc = check_date("document.made", d->made, &made, msg, size)) ||
	    (rc = check_optional_date("document.published", d->published, &published, msg, size)) ||
	    (rc = check_optional_date("document.repealed", d->repealed, &repealed, msg, size)))
		return rc;
	if (d->published && published.day < made.day)
		return reject(msg, size, "document: published before made");
	if (d->repealed && repealed.day < made.day)
		return reject(msg, size, "document: repealed before made");
	if (d->published && d->repealed && repealed.day < published.day)
		return reject(msg, size, "document: published after repealed");
	if (d->title) {
		size_t len = strlen(d->title);
		if (len > RECORD_TITLE_MAX)
			return reject(msg, size, "document.title: longer than %d bytes",
				      RECORD_TITLE_MAX);
		if (!utf8_valid(d->title, len))
			return reject(msg, size, "document.title: invalid UTF-8");
	}
	f->doc.kind = (int)d->kind;
	f->doc.made_year = made.year;
	f->doc.published_year = published.year;
	f->doc.repealed_year = repealed.year;
	return 0;
}

static int check_case(const Xxgk__V1__Case *c, struct record_facts *f, char *msg, size_t size)
{
	struct date filed, closed;
	int rc;
	if (!c->has_group)
		return reject(msg, size, "legal_case.group: missing");
	if (!enum_known(&xxgk__v1__case_group__descriptor, c->group))
		return reject(msg, size, "legal_case.group: unknown value %d", (int)c->group);
	if ((rc = check_date("legal_case.filed", c->filed, &filed, msg, size)))
		return rc;
	if (c->has_result && c->closed == NULL)
		return reject(msg, size, "legal_case: a result without a closing date");
	if (!c->has_result && c->closed != NULL)
		return reject(msg, size, "legal_case: a closing date without a result");
	f->cas.group = (int)c->group - 1;
	f->cas.filed_year = filed.year;
	f->cas.closed_year = 0;
	f->cas.result = 0;
	if (!c->has_result)
		return 0;
	if (!enum_known(&xxgk__v1__case_result__descriptor, c->result))
		return reject(msg, size, "legal_case.result: unknown value %d", (int)c->result);
	if ((rc = check_date("legal_case.closed", c->closed, &closed, msg, size)))
		return rc;
	if (closed.day < filed.day)
		return reject(msg, size, "legal_case: closed before filed");
	f->cas.closed_year = closed.year;
	f->cas.result = (int)c->result;
	return 0;
}

static bool measure_is_signed(int measure)
{
	return measure >= XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS;
}

static int check_tally(const Xxgk__V1__Tally *t, struct record_facts *f, char *msg, size_t size)
{
	struct date date;
	int rc;
	if (!t->has_measure)
		return reject(msg, size, "tally.measure: missing");
	if (!enum_known(&xxgk__v1__tally_measure__descriptor, t->measure))
		return reject(msg, size, "tally.measure: unknown value %d", (int)t->measure);
	if ((rc = check_date("tally.date", t->date, &date, msg, size)))
		return rc;
	if (!t->has_value)
		return reject(msg, size, "tally.value: missing");
	if (t->value < 0 && !measure_is_signed((int)t->measure))
		return reject(msg, size, "tally.value: negative, but this measure cannot be");
	if (t->value > TALLY_VALUE_MAX || t->value < -TALLY_VALUE_MAX)
		return reject(msg, size, "tally.value: magnitude above %lld", TALLY_VALUE_MAX);
	f->tally.measure = (int)t->measure;
	f->tally.year = date.year;
	f->tally.value = t->value;
	return 0;
}

void submission_id(int year, char *buf, size_t size)
{
	snprintf(buf, size, SUBMISSION_ID_PREFIX "%04d", year);
}

/* The year a submission's id names, or 0 when it is not "报送-YYYY" of a supported year. */
static int submission_id_year(const char *id)
{
	size_t prefix = strlen(SUBMISSION_ID_PREFIX);
	int year = 0;
	if (strncmp(id, SUBMISSION_ID_PREFIX, prefix) != 0 || strlen(id) != prefix + 4)
		return 0;
	for (size_t i = prefix; i < prefix + 4; i++) {
		if (id[i] < '0' || id[i] > '9')
			return 0;
		year = year * 10 + (id[i] - '0');
	}
	return year >= DATE_YEAR_MIN && year <= DATE_YEAR_MAX ? year : 0;
}

/*
 * A submission is one record per unit and year, so that the submitted counter of a unit is 0 or
 * 1 and its rollups count units: the id must be the year's, and a tombstone's id says its year.
 */
static int check_submission(const Xxgk__V1__Record *r, struct record_facts *f, char *msg,
			    size_t size)
{
	char want[SUBMISSION_ID_MAX];
	int id_year = submission_id_year(r->id);
	if (f->deleted) {
		if (!id_year)
			return reject(msg, size,
				      "id: a submission's id is " SUBMISSION_ID_PREFIX
				      "YYYY, a year from %d to %d",
				      DATE_YEAR_MIN, DATE_YEAR_MAX);
		f->sub.year = id_year;
		return 0;
	}
	const Xxgk__V1__Submission *s = r->submission;
	if (!s->has_year)
		return reject(msg, size, "submission.year: missing");
	if (s->year < DATE_YEAR_MIN || s->year > DATE_YEAR_MAX)
		return reject(msg, size, "submission.year: %u is not a year from %d to %d",
			      (unsigned)s->year, DATE_YEAR_MIN, DATE_YEAR_MAX);
	submission_id((int)s->year, want, sizeof(want));
	if (strcmp(r->id, want) != 0)
		return reject(msg, size, "id: the submission of %u has the id %s",
			      (unsigned)s->year, want);
	f->sub.year = (int)s->year;
	return 0;
}

int record_kind_of(const Xxgk__V1__Record *r)
{
	switch (r->body_case) {
	case XXGK__V1__RECORD__BODY_APPLICATION:
		return r->application ? RECORD_APPLICATION : -1;
	case XXGK__V1__RECORD__BODY_DOCUMENT:
		return r->document ? RECORD_DOCUMENT : -1;
	case XXGK__V1__RECORD__BODY_LEGAL_CASE:
		return r->legal_case ? RECORD_CASE : -1;
	case XXGK__V1__RECORD__BODY_TALLY:
		return r->tally ? RECORD_TALLY : -1;
	case XXGK__V1__RECORD__BODY_SUBMISSION:
		return r->submission ? RECORD_SUBMISSION : -1;
	default:
		return -1;
	}
}

int record_check(const Xxgk__V1__Record *r, struct record_facts *f, char *msg, size_t size)
{
	int rc;
	memset(f, 0, sizeof(*f));
	if ((rc = record_check_name("unit", r->unit, RECORD_UNIT_MAX, msg, size)) ||
	    (rc = record_check_name("id", r->id, RECORD_ID_MAX, msg, size)))
		return rc;
	if (!r->has_revision || r->revision == 0)
		return reject(msg, size, "revision: missing or 0 (revisions start at 1)");
	int kind = record_kind_of(r);
	if (kind < 0)
		return reject(msg, size,
			      "record: no application, document, legal_case, tally or submission");
	f->kind = (enum record_kind)kind;
	f->deleted = r->has_deleted && r->deleted;
	if (f->kind == RECORD_SUBMISSION)
		return check_submission(r, f, msg, size);
	if (f->deleted)
		return 0; /* a tombstone's body only names its kind */
	switch (f->kind) {
	case RECORD_APPLICATION:
		return check_application(r->application, f, msg, size);
	case RECORD_DOCUMENT:
		return check_document(r->document, f, msg, size);
	case RECORD_CASE:
		return check_case(r->legal_case, f, msg, size);
	case RECORD_TALLY:
		return check_tally(r->tally, f, msg, size);
	case RECORD_SUBMISSION:
		break; /* checked above */
	}
	return reject(msg, size, "record: unknown kind");
}

size_t record_pack_canonical(const Xxgk__V1__Record *r, uint8_t *buf, size_t size)
{
	Xxgk__V1__Record c = *r;
	union {
		Xxgk__V1__Application app;
		Xxgk__V1__Document doc;
		Xxgk__V1__Case cas;
		Xxgk__V1__Tally tally;
		Xxgk__V1__Submission sub;
	} body;
	bool deleted = r->has_deleted && r->deleted;
	if (record_kind_of(r) < 0)
		return 0;
	/* the body pointers share one union, so any member reaches the body's message */
	const ProtobufCMessage *src = &r->application->base;
	if (deleted) {
		protobuf_c_message_init(src->descriptor,
					&body); /* a tombstone only names its kind */
	} else {
		memcpy(&body, src, src->descriptor->sizeof_message);
		body.app.base.n_unknown_fields = 0;
		body.app.base.unknown_fields = NULL;
	}
	c.application = &body.app;
	c.base.n_unknown_fields = 0;
	c.base.unknown_fields = NULL;
	c.has_deleted = deleted;
	c.deleted = deleted;
	if (xxgk__v1__record__get_packed_size(&c) > size)
		return 0;
	return xxgk__v1__record__pack(&c, buf);
}
