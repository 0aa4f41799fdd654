#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int key_z85_valid(const char *s)
{
	uint8_t raw[32];
	return s && strlen(s) == KEY_Z85_LEN && zmq_z85_decode(raw, s) != NULL;
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
	if (close(fd) != 0 || !ok) {
		snprintf(err, size, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int keyfile_generate(const char *name, char *err, size_t err_size)
{
	struct keypair k;
	char path[4096], text[512];
	if (zmq_curve_keypair(k.public_key, k.secret_key) != 0) {
		snprintf(err, err_size, "cannot make a keypair: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	snprintf(path, sizeof(path), "%s.secret", name);
	snprintf(text, sizeof(text),
		 "# xxgk CurveZMQ keypair \"%s\": keep this file secret (mode 0600)\n"
		 "public-key = %s\nsecret-key = %s\n",
		 name, k.public_key, k.secret_key);
	if (write_file(path, 0600, text, err, err_size))
		return -1;
	snprintf(path, sizeof(path), "%s.key", name);
	snprintf(text, sizeof(text), "# xxgk CurveZMQ public key \"%s\"\npublic-key = %s\n", name,
		 k.public_key);
	return write_file(path, 0644, text, err, err_size);
}

int keyfile_read(const char *path, int want_secret, struct keypair *out, char *err, size_t err_size)
{
	char line[512];
	int number = 0;
	struct stat st;
	FILE *f = fopen(path, "r");
	memset(out, 0, sizeof(*out));
	if (f == NULL) {
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (want_secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		fclose(f);
		snprintf(err, err_size,
			 "%s: a secret key file must not be readable by others (chmod 600)", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[32], value[128];
		number++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, " %31[a-z-] = %127s", name, value) != 2 || !key_z85_valid(value)) {
			fclose(f);
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
			fclose(f);
			snprintf(err, err_size, "%s:%d: unknown key \"%s\"", path, number, name);
			return -1;
		}
	}
	fclose(f);
	if (out->public_key[0] == '\0' || (want_secret && out->secret_key[0] == '\0')) {
		snprintf(err, err_size, "%s: no %s", path,
			 out->public_key[0] ? "secret-key line" : "public-key line");
		return -1;
	}
	return 0;
}
