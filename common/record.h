/*
 * A record as the rules see it: validated, with its dates parsed. record_check() is the one
 * place that decides whether a record may be stored; it does not know which units exist.
 */
#ifndef XXGK_RECORD_H
#define XXGK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "xxgk.pb-c.h"

#define RECORD_UNIT_MAX 64    /* bytes of a unit id */
#define RECORD_ID_MAX 128     /* bytes of a record id */
#define RECORD_TITLE_MAX 1024 /* bytes of a document title */
#define RECORD_PACKED_MAX 2048
#define RECORD_MESSAGE_MAX 160 /* a rejection reason, with its terminating NUL */

/* The data kinds first (cells.h counts RECORD_KIND_COUNT of them), then the submission. */
enum record_kind {
	RECORD_APPLICATION,
	RECORD_DOCUMENT,
	RECORD_CASE,
	RECORD_TALLY,
	RECORD_SUBMISSION
};

/* The id of the one submission (报送) record of a unit and year: "报送-2024". */
#define SUBMISSION_ID_PREFIX "报送-"
#define SUBMISSION_ID_MAX 16

/* The dates of an application's life, days since 1970-01-01; 0 where absent (deadline.h). */
struct deadline_events {
	int received, concluded;
	int extended;
	int correction_requested, corrected;
	int consultation_sent, consultation_answered;
	int fee_notice, fee_paid;
};

struct record_facts {
	enum record_kind kind;
	int deleted;
	union {
		struct {
			int column; /* applicant column, 0..5 */
			int received_year;
			int concluded_year;	     /* 0 while open */
			int outcome;		     /* Outcome value, 0 while open */
			struct deadline_events days; /* read once, for the answer period */
			/* answered after the due date: set by the store on its calendar
			 * (deadline_late), 0 from record_check */
			int late;
		} app;
		struct {
			int kind; /* DocumentKind value */
			int made_year;
			int published_year; /* 0 if not published */
			int repealed_year;  /* 0 if in force */
		} doc;
		struct {
			int group; /* CaseGroup value - 1 */
			int filed_year;
			int closed_year; /* 0 while open */
			int result;	 /* CaseResult value, 0 while open */
		} cas;
		struct {
			int measure; /* TallyMeasure value */
			int year;
			int64_t value;
		} tally;
		struct {
			int year; /* the year submitted; of a tombstone too, read from its id */
		} sub;
	};
};

/*
 * Checks every field of r and fills *facts. Returns 0, or XXGK_EINVAL with the reason written
 * to msg (RECORD_MESSAGE_MAX bytes is enough).
 */
int record_check(const Xxgk__V1__Record *r, struct record_facts *facts, char *msg, size_t size);

/*
 * Checks an identifier (a unit or record id): present, 1..max bytes of UTF-8, no control
 * characters. Returns 0, or XXGK_EINVAL with "field: reason" in msg.
 */
int record_check_name(const char *field, const char *s, size_t max, char *msg, size_t size);

/* Writes the submission id of year into buf (SUBMISSION_ID_MAX bytes is enough). */
void submission_id(int year, char *buf, size_t size);

/* The record kind of a body case, or -1 when the record has no body. */
int record_kind_of(const Xxgk__V1__Record *r);

/*
 * Packs the canonical form of a checked record into buf: default-valued flags dropped, a
 * tombstone's body emptied, unknown fields dropped. Two records mean the same exactly when their
 * canonical forms are equal. Returns the length, or 0 if it does not fit in size.
 */
size_t record_pack_canonical(const Xxgk__V1__Record *r, uint8_t *buf, size_t size);

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
int utf8_valid(const char *s, size_t len);

/*
 * Copies the len bytes of src into dst (size bytes, NUL-terminated) as valid UTF-8, for what
 * is sent on the wire: a byte that starts no well-formed character becomes U+FFFD, and what
 * does not fit is cut at a character boundary. Returns the length written. They may not overlap.
 */
size_t utf8_sanitize(char *dst, size_t size, const char *src, size_t len);

#endif
