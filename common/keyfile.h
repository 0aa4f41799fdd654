/*
 * CurveZMQ key files: a small text format, one "name = value" line per key, Z85 (40 characters):
 *
 *   NAME.key     public-key = ...                 (give it to whoever must know this peer)
 *   NAME.secret  public-key = ... / secret-key = ...  (mode 0600; never leaves its machine)
 *
 * Lines starting with # are comments.
 */
#ifndef XXGK_KEYFILE_H
#define XXGK_KEYFILE_H

#include <stddef.h>

#define KEY_Z85_LEN 40

struct keypair {
	char public_key[KEY_Z85_LEN + 1];
	char secret_key[KEY_Z85_LEN + 1]; /* "" when only the public key is known */
};

/* Makes a new keypair and writes NAME.key and NAME.secret (0600); refuses to overwrite. */
int keyfile_generate(const char *name, char *err, size_t err_size);

/*
 * Reads a key file: the public key always, the secret key when want_secret (then the file must
 * not be readable by group or others). Returns 0 or -1 with "FILE: reason" in err.
 */
int keyfile_read(const char *path, int want_secret, struct keypair *out, char *err,
		 size_t err_size);

/* Whether s is a well-formed Z85 CurveZMQ key. */
int key_z85_valid(const char *s);

#endif
