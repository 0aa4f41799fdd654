#include "ledger_text.h"

#include <errno.h>
#include "i18n.h"
#include <string.h>
#include <strings.h>

static const char *const names[] = {"auto", "utf-8", "gb18030", "gbk"};

int text_encoding_by_name(const char *name)
{
	for (int e = TEXT_AUTO; e <= TEXT_GBK; e++)
		if (strcasecmp(name, names[e]) == 0)
			return e;
	if (strcasecmp(name, "utf8") == 0)
		return TEXT_UTF8;
	return -1;
}

const char *text_encoding_name(enum text_encoding e)
{
	return e >= TEXT_AUTO && e <= TEXT_GBK ? names[e] : "?";
}

/* The length of the UTF-8 sequence that starts with byte c, or 0 if c cannot start one. */
static int utf8_length(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* Characters of several bytes that make a file UTF-8 even with a bad byte after them. */
#define UTF8_EVIDENCE 8

/*
 * Whether the file is UTF-8: all of it valid UTF-8 (overlong forms and surrogates aside:
 * GB18030 text is told from UTF-8 by far coarser signs), or enough Chinese in UTF-8 before the
 * first bad byte (a UTF-8 ledger with a line pasted from elsewhere: its cells are then said to
 * be bad, with their lines). Reads from the current position to the end.
 */
static int is_utf8(FILE *f, char *buf, size_t size)
{
	size_t carry = 0, n, evidence = 0;
	while ((n = fread(buf + carry, 1, size - carry, f)) > 0) {
		size_t len = carry + n, i = 0;
		while (i < len) {
			unsigned char c = (unsigned char)buf[i];
			int k = utf8_length(c);
			if (k == 0)
				return evidence >= UTF8_EVIDENCE;
			if (i + (size_t)k > len)
				break; /* completed by the next read */
			for (int j = 1; j < k; j++)
				if (((unsigned char)buf[i + j] & 0xC0) != 0x80)
					return evidence >= UTF8_EVIDENCE;
			evidence += k > 1;
			i += (size_t)k;
		}
		carry = len - i;
		memmove(buf, buf + i, carry);
	}
	return carry == 0;
}

int text_open(struct text_source *t, FILE *f, enum text_encoding encoding, char *err, size_t size)
{
	t->f = f;
	t->cd = (iconv_t)-1;
	t->started = t->eof = 0;
	t->raw_len = 0;
	t->line = 1;
	if (encoding == TEXT_AUTO) {
		long at = ftell(f);
		int utf8 = is_utf8(f, t->out, sizeof(t->out));
		if (ferror(f) || at < 0 || fseek(f, at, SEEK_SET) != 0) {
			snprintf(err, size, _("cannot read it: %s"), strerror(errno));
			return -1;
		}
		encoding = utf8 ? TEXT_UTF8 : TEXT_GB18030;
	}
	t->encoding = encoding;
	if (encoding != TEXT_UTF8) {
		t->cd = iconv_open("UTF-8", encoding == TEXT_GBK ? "GBK" : "GB18030");
		if (t->cd == (iconv_t)-1) {
			snprintf(err, size, _("cannot read %s: %s"), text_encoding_name(encoding),
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void count_lines(struct text_source *t, const char *s, size_t n)
{
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + n - p))) != NULL; p++)
		t->line++;
}

ssize_t text_read(struct text_source *t, const char **chunk, char *err, size_t size)
{
	for (;;) {
		if (!t->eof && t->raw_len < sizeof(t->raw)) {
			size_t n = fread(t->raw + t->raw_len, 1, sizeof(t->raw) - t->raw_len, t->f);
			t->raw_len += n;
			if (n == 0) {
				if (ferror(t->f)) {
					snprintf(err, size, _("cannot read it: %s"),
						 strerror(errno));
					return -1;
				}
				t->eof = 1;
			}
		}
		char *in = t->raw;
		size_t in_len = t->raw_len;
		if (!t->started && (in_len >= 3 || t->eof)) {
			t->started = 1;
			if (in_len >= 2 && ((in[0] == '\xFF' && in[1] == '\xFE') ||
					    (in[0] == '\xFE' && in[1] == '\xFF'))) {
				snprintf(err, size, "%s",
					 _("UTF-16 text (Excel's \"Unicode text\"): save it as "
					   "\"CSV UTF-8\" or \"CSV\""));
				return -1;
			}
			/* a BOM says UTF-8 whatever was guessed; Excel writes one */
			if (in_len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0) {
				memmove(in, in + 3, in_len - 3);
				t->raw_len = in_len -= 3;
				if (t->cd != (iconv_t)-1) {
					iconv_close(t->cd);
					t->cd = (iconv_t)-1;
					t->encoding = TEXT_UTF8;
				}
			}
		}
		if (in_len == 0)
			return 0;
		if (t->cd == (iconv_t)-1) {
			memcpy(t->out, in, in_len);
			t->raw_len = 0;
			*chunk = t->out;
			count_lines(t, t->out, in_len);
			return (ssize_t)in_len;
		}
		char *out = t->out;
		size_t out_left = sizeof(t->out);
		size_t r = iconv(t->cd, &in, &in_len, &out, &out_left);
		size_t done = (size_t)(out - t->out);
		int e = errno;
		memmove(t->raw, in, in_len);
		t->raw_len = in_len;
		count_lines(t, t->out, done);
		if (r == (size_t)-1 && e == EILSEQ && done == 0) {
			snprintf(err, size,
				 _("line %ld: bytes that are not %s (--encoding says which)"),
				 t->line, text_encoding_name(t->encoding));
			return -1;
		}
		if (r == (size_t)-1 && e == EINVAL && done == 0 && t->eof) {
			snprintf(err, size, _("the file ends within a character of %s"),
				 text_encoding_name(t->encoding));
			return -1;
		}
		if (done > 0) {
			*chunk = t->out;
			return (ssize_t)done;
		}
		/* an incomplete character at the end of raw: read more */
	}
}

void text_close(struct text_source *t)
{
	if (t->cd != (iconv_t)-1)
		iconv_close(t->cd);
	t->cd = (iconv_t)-1;
}
