/*
 * CurveZMQ certificates in czmq's format, the one zcert_save writes and pyzmq's zmq.auth reads
 * and writes: a ZPL file (ZeroMQ Property Language, rfc.zeromq.org/spec/4) with two sections,
 *
 *   metadata
 *   curve
 *       public-key = "40 characters of Z85"
 *       secret-key = "40 characters of Z85"      (the secret certificate only)
 *
 * ZPL: one property per line, children indented 4 spaces more than their parent, "name" for a
 * section and "name = value" for a value (quoted or not), "#" starts a comment. Z85 keys hold
 * "#" and "=", so a key is read as the whole quoted value. Anything under metadata is read and
 * kept by nobody; everything else is checked, and what does not fit is refused with its line.
 */
#ifndef XXGK_ZCERT_H
#define XXGK_ZCERT_H

#include <stddef.h>

#include "keyfile.h"

/*
 * Parses a certificate of len bytes (not NUL-terminated) read from path: out gets the public
 * key, and the secret key when the file has one (else ""). Returns 0 or -1 with "path:line:
 * reason" (or "path: reason" for what is missing) in err.
 */
int zcert_parse(const char *text, size_t len, const char *path, struct keypair *out, char *err,
		size_t err_size);

/*
 * Writes the text of the public certificate (secret 0) or the secret one (secret 1) of k into
 * buf. Returns 0, or -1 when buf is too small.
 */
int zcert_format(char *buf, size_t size, const struct keypair *k, int secret);

/*
 * Whether s of len bytes is a 40-character Z85 key; if not, a reason naming what (its length,
 * its first character outside Z85) goes to why.
 */
int zcert_key_check(const char *s, size_t len, char *why, size_t why_size);

#endif
