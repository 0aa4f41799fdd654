/*
 * The text of a ledger file as UTF-8, whatever Excel saved it as: UTF-8 with or without a BOM,
 * or GB18030/GBK (what Excel writes as "CSV" on Chinese Windows), found by reading the file
 * once for valid UTF-8, or named by the user. Read in chunks: memory does not grow with the
 * file.
 */
#ifndef XXGK_LEDGER_TEXT_H
#define XXGK_LEDGER_TEXT_H

#include <iconv.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum text_encoding { TEXT_AUTO, TEXT_UTF8, TEXT_GB18030, TEXT_GBK };

#define TEXT_CHUNK 65536

struct text_source {
	FILE *f;
	enum text_encoding encoding; /* never TEXT_AUTO once open */
	iconv_t cd;		     /* (iconv_t)-1 for UTF-8 */
	int started, eof;
	size_t raw_len; /* bytes of raw not yet converted */
	long line;	/* lines of output so far, for an error's position */
	char raw[TEXT_CHUNK];
	char out[4 * TEXT_CHUNK];
};

/* The encoding an --encoding argument names, or -1. */
int text_encoding_by_name(const char *name);

/* Its name for messages. */
const char *text_encoding_name(enum text_encoding e);

/*
 * Starts reading f (at its beginning; with TEXT_AUTO it must be seekable: the file is read
 * once to tell UTF-8 from GB18030). Returns 0, or -1 with the reason in err.
 */
int text_open(struct text_source *t, FILE *f, enum text_encoding encoding, char *err, size_t size);

/*
 * The next chunk of UTF-8 text in *chunk (valid until the next call): returns its length, 0 at
 * the end, or -1 with the reason in err (bytes that are not of the encoding, a read error).
 */
ssize_t text_read(struct text_source *t, const char **chunk, char *err, size_t size);

void text_close(struct text_source *t);

#endif
