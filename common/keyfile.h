/*
 * CurveZMQ key files. The format is czmq's certificate (zcert.h), as zcert_save writes it and
 * pyzmq's zmq.auth reads and writes it: a pair is a public certificate NAME and a secret one
 * NAME_secret (pyzmq names them NAME.key and NAME.key_secret; any names do).
 *
 * The secret file must not be readable by others nor writable by its group; it may be
 * readable by its group (0640) when that group is one of this process's.
 *
 * xxgk's own earlier format still reads (one "public-key = KEY" / "secret-key = KEY" line
 * each, # comments), with a note that it is deprecated: keypair.legacy is set and the caller
 * says so once, where its operator reads.
 */
#ifndef XXGK_KEYFILE_H
#define XXGK_KEYFILE_H

#include <stddef.h>

#define KEY_Z85_LEN 40

struct keypair {
	char public_key[KEY_Z85_LEN + 1];
	char secret_key[KEY_Z85_LEN + 1]; /* "" when only the public key is known */
	int legacy;			  /* read from xxgk's earlier format */
};

/* What a caller says of a file in the earlier format, after the file's name and ": ". */
#define KEYFILE_LEGACY_NOTE                                                                        \
	"xxgk's earlier key file format is deprecated: write the key as a czmq certificate "       \
	"(\"metadata\", \"curve\" and the key indented by 4 spaces, quoted, as xxgkctl keygen "    \
	"writes it)"

/* Makes a new keypair and writes NAME (public) and NAME_secret (0600); refuses to overwrite. */
int keyfile_generate(const char *name, char *err, size_t err_size);

/*
 * Makes a new keypair into out and writes it as the certificates public_path (0644) and
 * secret_path (0600); refuses to overwrite either, and leaves neither behind on failure.
 */
int keyfile_write(const char *public_path, const char *secret_path, struct keypair *out, char *err,
		  size_t err_size);

/*
 * Reads a key file: the public key always, the secret key when want_secret (then the file's
 * mode is checked as above). Returns 0 or -1 with "FILE: reason" or "FILE:LINE: reason" in
 * err; out->legacy tells a file in the earlier format.
 */
int keyfile_read(const char *path, int want_secret, struct keypair *out, char *err,
		 size_t err_size);

/* Whether s is a well-formed Z85 CurveZMQ key. */
int key_z85_valid(const char *s);

#endif
