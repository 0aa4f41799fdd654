#include "zcert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				".-:+=^!/*?&<>()[]{}@%$#";

enum section { SECTION_NONE, SECTION_METADATA, SECTION_CURVE };

struct zpl_line {
	int number;
	int depth;
	const char *name;
	size_t name_len;
	const char *value; /* NULL for a section (a name without "=") */
	size_t value_len;
};

static int failf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* A byte as an operator can read it in a one-line message. */
static void show_byte(char *out, size_t size, unsigned char c)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(out, size, "\"%c\"", c);
	else
		snprintf(out, size, "byte 0x%02x", c);
}

int zcert_key_check(const char *s, size_t len, char *why, size_t why_size)
{
	char shown[16];
	uint8_t raw[32];
	char key[KEY_Z85_LEN + 1];
	if (len != KEY_Z85_LEN) {
		snprintf(why, why_size, "a CurveZMQ key is %d characters of Z85, this one %zu",
			 KEY_Z85_LEN, len);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(z85_chars, s[i]) == NULL) {
			show_byte(shown, sizeof(shown), (unsigned char)s[i]);
			snprintf(why, why_size, "not Z85: %s at character %zu", shown, i + 1);
			return 0;
		}
	memcpy(key, s, len);
	key[len] = '\0';
	/* every character is Z85, but a group of five may still overflow 32 bits */
	if (zmq_z85_decode(raw, key) == NULL) {
		snprintf(why, why_size, "not a Z85 encoding of 32 bytes");
		return 0;
	}
	return 1;
}

static int name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("$-_@.&+/", c) != NULL;
}

/*
 * One line (without its end) into a property; 0 with l->name NULL for a blank or comment
 * line. The spec's rules, strictly: indentation is spaces by fours, a name is of its grammar,
 * a quoted value ends at its quote and only a comment may follow it.
 */
static int zpl_split(const char *s, size_t len, const char *path, struct zpl_line *l, char *err,
		     size_t size)
{
	char shown[16];
	size_t i = 0;
	while (i < len && s[i] == ' ')
		i++;
	if (i < len && s[i] == '\t')
		return failf(err, size, "%s:%d: a tab in the indentation: ZPL indents by 4 spaces",
			     path, l->number);
	l->name = NULL;
	if (i == len || s[i] == '#')
		return 0;
	if (i % 4)
		return failf(err, size,
			     "%s:%d: indented by %zu spaces: ZPL indents by 4 spaces a level", path,
			     l->number, i);
	l->depth = (int)(i / 4);
	l->name = s + i;
	while (i < len && name_char((unsigned char)s[i]))
		i++;
	l->name_len = (size_t)(s + i - l->name);
	if (l->name_len == 0) {
		show_byte(shown, sizeof(shown), (unsigned char)s[i]);
		return failf(err, size,
			     "%s:%d: %s where a name should start (letters, digits and $-_@.&+/)",
			     path, l->number, shown);
	}
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	l->value = NULL;
	if (i == len || s[i] == '#')
		return 0;
	if (s[i] != '=') {
		show_byte(shown, sizeof(shown), (unsigned char)s[i]);
		return failf(err, size, "%s:%d: %s after \"%.*s\": want \"=\" and a value", path,
			     l->number, shown, (int)l->name_len, l->name);
	}
	i++;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	const char *close =
	    i < len && (s[i] == '"' || s[i] == '\'') ? memchr(s + i + 1, s[i], len - i - 1) : NULL;
	if (close) {
		l->value = s + i + 1;
		l->value_len = (size_t)(close - l->value);
		i = (size_t)(close - s) + 1;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < len && s[i] != '#')
			return failf(err, size,
				     "%s:%d: \"%.*s\": text after the closing quote of its value",
				     path, l->number, (int)l->name_len, l->name);
		return 0;
	}
	/* unquoted (or an opening quote without its closing one): up to a comment */
	l->value = s + i;
	while (i < len && s[i] != '#')
		i++;
	while (s + i > l->value && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	l->value_len = (size_t)(s + i - l->value);
	return 0;
}

static int is(const struct zpl_line *l, const char *name)
{
	return l->name_len == strlen(name) && memcmp(l->name, name, l->name_len) == 0;
}

/* A curve property: public-key or secret-key, once each, a well-formed key. */
static int curve_key(const struct zpl_line *l, const char *path, struct keypair *out, char *err,
		     size_t size)
{
	char why[128];
	char *dest = is(l, "public-key")   ? out->public_key
		     : is(l, "secret-key") ? out->secret_key
					   : NULL;
	if (dest == NULL)
		return failf(err, size,
			     "%s:%d: unknown property \"%.*s\" in curve (it has public-key and "
			     "secret-key)",
			     path, l->number, (int)l->name_len, l->name);
	if (l->value == NULL)
		return failf(err, size, "%s:%d: %.*s without a value", path, l->number,
			     (int)l->name_len, l->name);
	if (dest[0])
		return failf(err, size, "%s:%d: a second %.*s", path, l->number, (int)l->name_len,
			     l->name);
	if (!zcert_key_check(l->value, l->value_len, why, sizeof(why)))
		return failf(err, size, "%s:%d: %.*s: %s", path, l->number, (int)l->name_len,
			     l->name, why);
	memcpy(dest, l->value, KEY_Z85_LEN);
	dest[KEY_Z85_LEN] = '\0';
	return 0;
}

/* What a line means where it stands: the sections at the top, keys in curve. */
static int zpl_property(const struct zpl_line *l, const char *path, enum section *section,
			int seen[3], struct keypair *out, char *err, size_t size)
{
	if (l->depth == 0) {
		enum section s = is(l, "metadata") ? SECTION_METADATA
				 : is(l, "curve")  ? SECTION_CURVE
						   : SECTION_NONE;
		if (s == SECTION_NONE)
			return failf(err, size,
				     "%s:%d: \"%.*s\" at the top: a certificate has the sections "
				     "metadata and curve%s",
				     path, l->number, (int)l->name_len, l->name,
				     is(l, "public-key") || is(l, "secret-key")
					 ? " (the keys go in curve, indented by 4 spaces)"
					 : "");
		if (l->value)
			return failf(err, size, "%s:%d: %.*s is a section: no \"=\" after it", path,
				     l->number, (int)l->name_len, l->name);
		if (seen[s])
			return failf(err, size, "%s:%d: a second %.*s section", path, l->number,
				     (int)l->name_len, l->name);
		seen[s] = 1;
		*section = s;
		return 0;
	}
	if (*section == SECTION_METADATA)
		return 0; /* the certificate's owner's notes: anything ZPL allows */
	if (l->depth > 1)
		return failf(err, size,
			     "%s:%d: curve's keys are not sections: \"%.*s\" is too deep", path,
			     l->number, (int)l->name_len, l->name);
	return curve_key(l, path, out, err, size);
}

int zcert_parse(const char *text, size_t len, const char *path, struct keypair *out, char *err,
		size_t err_size)
{
	enum section section = SECTION_NONE;
	int seen[3] = {0};
	int last_depth = -1;
	struct zpl_line l = {0};
	memset(out, 0, sizeof(*out));
	for (size_t at = 0; at < len;) {
		size_t end = at;
		while (end < len && text[end] != '\n' && text[end] != '\r' && text[end] != '\0')
			end++;
		l.number++;
		if (end < len && text[end] == '\0')
			return failf(err, err_size, "%s:%d: a NUL byte: not a text file", path,
				     l.number);
		if (zpl_split(text + at, end - at, path, &l, err, err_size))
			return -1;
		/* the spec's three line ends: LF, CR, CR LF */
		at = end + (end + 1 < len && text[end] == '\r' && text[end + 1] == '\n' ? 2 : 1);
		if (l.name == NULL)
			continue;
		if (l.depth > last_depth + 1)
			return failf(err, err_size,
				     "%s:%d: \"%.*s\" is indented more than 4 spaces past the line "
				     "above",
				     path, l.number, (int)l.name_len, l.name);
		last_depth = l.depth;
		if (zpl_property(&l, path, &section, seen, out, err, err_size))
			return -1;
	}
	if (!seen[SECTION_CURVE])
		return failf(err, err_size,
			     "%s: no curve section (a czmq certificate: \"curve\", then "
			     "public-key = \"...\" indented by 4 spaces)",
			     path);
	if (out->public_key[0] == '\0')
		return failf(err, err_size, "%s: no public-key in the curve section", path);
	if (out->secret_key[0]) {
		/* a secret key that is not the public key's would fail every handshake, mutely */
		char derived[KEY_Z85_LEN + 1];
		if (zmq_curve_public(derived, out->secret_key) != 0 ||
		    strcmp(derived, out->public_key) != 0)
			return failf(err, err_size,
				     "%s: public-key is not the public key of secret-key", path);
	}
	return 0;
}

int zcert_format(char *buf, size_t size, const struct keypair *k, int secret)
{
	int n;
	if (secret)
		n = snprintf(
		    buf, size,
		    "#   xxgk CurveZMQ secret certificate, in czmq's zcert format (pyzmq's\n"
		    "#   zmq.auth reads it too). Keep it on this machine: mode 0600, or 0640\n"
		    "#   with the group of the program that uses it. Its public certificate\n"
		    "#   is the file of the same name without \"_secret\".\n"
		    "\n"
		    "metadata\n"
		    "curve\n"
		    "    public-key = \"%s\"\n"
		    "    secret-key = \"%s\"\n",
		    k->public_key, k->secret_key);
	else
		n = snprintf(
		    buf, size,
		    "#   xxgk CurveZMQ public certificate, in czmq's zcert format (pyzmq's\n"
		    "#   zmq.auth reads it too). Give it to whoever must know this key.\n"
		    "\n"
		    "metadata\n"
		    "curve\n"
		    "    public-key = \"%s\"\n",
		    k->public_key);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
