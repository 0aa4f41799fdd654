#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "zcert.h"

/* A certificate is a few hundred bytes; more is not a key file, and is not read on. */
#define KEYFILE_MAX 65536

int key_z85_valid(const char *s)
{
	char why[128];
	return s && zcert_key_check(s, strlen(s), why, sizeof(why));
}

static int write_file(const char *path, mode_t mode, const char *text, char *err, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		snprintf(err, size, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t len = strlen(text);
	int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 || !ok) {
		snprintf(err, size, "%s: cannot write: %s", path, strerror(ok ? errno : saved));
		unlink(path);
		return -1;
	}
	return 0;
}

int keyfile_write(const char *public_path, const char *secret_path, struct keypair *out, char *err,
		  size_t err_size)
{
	char text[1024];
	struct stat st;
	memset(out, 0, sizeof(*out));
	/* both names are checked first, so that a refusal leaves nothing half made */
	if (lstat(public_path, &st) == 0 || lstat(secret_path, &st) == 0) {
		snprintf(err, err_size, "%s: %s",
			 lstat(public_path, &st) == 0 ? public_path : secret_path,
			 strerror(EEXIST));
		return -1;
	}
	if (zmq_curve_keypair(out->public_key, out->secret_key) != 0) {
		snprintf(err, err_size, "cannot make a keypair: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	if (zcert_format(text, sizeof(text), out, 1) ||
	    write_file(secret_path, 0600, text, err, err_size))
		return -1;
	if (zcert_format(text, sizeof(text), out, 0) ||
	    write_file(public_path, 0644, text, err, err_size)) {
		unlink(secret_path);
		return -1;
	}
	return 0;
}

int keyfile_generate(const char *name, char *err, size_t err_size)
{
	char secret[4096];
	struct keypair k;
	if ((size_t)snprintf(secret, sizeof(secret), "%s_secret", name) >= sizeof(secret)) {
		snprintf(err, err_size, "%s: name too long", name);
		return -1;
	}
	return keyfile_write(name, secret, &k, err, err_size);
}

/* getgrgid_r: libxxgk's callers may read keys on several threads */
static const char *group_name(gid_t gid, char *buf, size_t size)
{
	struct group g, *found = NULL;
	char scratch[4096];
	if (getgrgid_r(gid, &g, scratch, sizeof(scratch), &found) == 0 && found)
		snprintf(buf, size, "%s", found->gr_name);
	else
		snprintf(buf, size, "%lu", (unsigned long)gid);
	return buf;
}

static int in_my_groups(gid_t gid)
{
	if (gid == getegid())
		return 1;
	int n = getgroups(0, NULL);
	gid_t *groups = n > 0 ? calloc((size_t)n, sizeof(*groups)) : NULL;
	int found = 0;
	if (groups && (n = getgroups(n, groups)) > 0)
		for (int i = 0; i < n && !found; i++)
			found = groups[i] == gid;
	free(groups);
	return found;
}

/*
 * A secret key is for its owner and, when the operator gives it to this process through a
 * group (root:xxgk 0640, as the example configuration has it), for that group: never for
 * others, and nobody but its owner may change it.
 */
static int secret_mode_check(const char *path, const struct stat *st, char *err, size_t size)
{
	unsigned mode = st->st_mode & 07777;
	char group[64], mine[64];
	if ((mode & 077) == 0 || ((mode & 037) == 0 && in_my_groups(st->st_gid)))
		return 0;
	group_name(st->st_gid, group, sizeof(group));
	group_name(getegid(), mine, sizeof(mine));
	if (mode & 007) {
		snprintf(err, size,
			 "%s: mode %04o lets others at the secret key: chmod 600 %s (or chmod 640 "
			 "and chgrp %s %s, for this program's group)",
			 path, mode, path, mine, path);
		return -1;
	}
	if (mode & 030) {
		snprintf(err, size,
			 "%s: mode %04o lets group %s %s the secret key: chmod 640 %s (or 600)",
			 path, mode, group, mode & 020 ? "change" : "execute", path);
		return -1;
	}
	if ((mode & 040) && !in_my_groups(st->st_gid)) {
		snprintf(err, size,
			 "%s: mode %04o lets group %s read the secret key, and this program is not "
			 "in that group: chgrp %s %s (its own group), or chmod 600 %s",
			 path, mode, group, mine, path, path);
		return -1;
	}
	return 0;
}

/* Reads the whole file from fd (at most KEYFILE_MAX bytes) into a new buffer. */
static char *read_all(int fd, const char *path, size_t *len, char *err, size_t size)
{
	char *buf = malloc(KEYFILE_MAX + 1);
	size_t used = 0;
	if (buf == NULL) {
		snprintf(err, size, "%s: out of memory", path);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, KEYFILE_MAX + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, size, "%s: cannot read: %s", path, strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > KEYFILE_MAX) {
			snprintf(err, size, "%s: larger than %d bytes: not a key file", path,
				 KEYFILE_MAX);
			free(buf);
			return NULL;
		}
	}
	*len = used;
	return buf;
}

/* The earlier format begins (after comments) with an unquoted key at the start of a line. */
static int legacy_format(const char *text, size_t len)
{
	size_t at = 0;
	while (at < len) {
		size_t end = at;
		while (end < len && text[end] != '\n')
			end++;
		size_t i = at;
		while (i < end && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
			i++;
		if (i < end && text[i] != '#') {
			if (i != at || (end - at < 10) ||
			    (memcmp(text + at, "public-key", 10) &&
			     memcmp(text + at, "secret-key", 10)))
				return 0;
			size_t j = at + 10;
			while (j < end && (text[j] == ' ' || text[j] == '\t'))
				j++;
			if (j == end || text[j] != '=')
				return 0;
			/* a quoted key is ZPL's: a certificate without its sections, said so there
			 */
			for (j++; j < end && (text[j] == ' ' || text[j] == '\t'); j++)
				;
			return j < end && text[j] != '"' && text[j] != '\'';
		}
		at = end + 1;
	}
	return 0;
}

/* xxgk's earlier format: "public-key = KEY" and "secret-key = KEY" lines, # comments. */
static int legacy_parse(const char *text, size_t len, const char *path, struct keypair *out,
			char *err, size_t err_size)
{
	int number = 0;
	for (size_t at = 0; at < len;) {
		char line[512], name[32], value[128];
		size_t end = at;
		while (end < len && text[end] != '\n')
			end++;
		number++;
		snprintf(line, sizeof(line), "%.*s", (int)(end - at < 511 ? end - at : 511),
			 text + at);
		at = end + 1;
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (sscanf(line, " %31[a-z-] = %127s", name, value) != 2 || !key_z85_valid(value)) {
			snprintf(err, err_size,
				 "%s:%d: want \"public-key = \" or \"secret-key = \" "
				 "and a 40-character Z85 key",
				 path, number);
			return -1;
		}
		if (strcmp(name, "public-key") == 0)
			memcpy(out->public_key, value, KEY_Z85_LEN + 1);
		else if (strcmp(name, "secret-key") == 0)
			memcpy(out->secret_key, value, KEY_Z85_LEN + 1);
		else {
			snprintf(err, err_size, "%s:%d: unknown key \"%s\"", path, number, name);
			return -1;
		}
	}
	if (out->public_key[0] == '\0') {
		snprintf(err, err_size, "%s: no public-key line", path);
		return -1;
	}
	out->legacy = 1;
	return 0;
}

int keyfile_read(const char *path, int want_secret, struct keypair *out, char *err, size_t err_size)
{
	struct stat st;
	struct keypair k;
	size_t len = 0;
	/* O_NONBLOCK: a FIFO without a writer would block the open (xxgkd's loop, on a reload);
	 * it is refused below, and a regular file's reads do not heed the flag */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	if (fd < 0) {
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (want_secret && secret_mode_check(path, &st, err, err_size)) {
		close(fd);
		return -1;
	}
	char *text = read_all(fd, path, &len, err, err_size);
	close(fd);
	if (text == NULL)
		return -1;
	int rc = legacy_format(text, len) ? legacy_parse(text, len, path, &k, err, err_size)
					  : zcert_parse(text, len, path, &k, err, err_size);
	memset(text, 0, len); /* it may hold a secret key */
	free(text);
	if (rc)
		return -1;
	if (want_secret && k.secret_key[0] == '\0') {
		snprintf(err, err_size,
			 "%s: no secret-key: this is a public certificate; give the secret one "
			 "(NAME_secret)",
			 path);
		return -1;
	}
	*out = k;
	return 0;
}
