/*
 * Key files are czmq certificates (ZPL), the format pyzmq's zmq.auth writes and reads: a pair
 * made by pyzmq serves as xxgkd's server key and as a unit's key; a pair made by xxgkctl
 * keygen loads in pyzmq, and a Python client with it pushes over CURVE; xxgk's earlier files
 * still load, with one deprecation note per file; bad files are refused with their line, and
 * a reload with one changes nothing; a secret is never for others nor its group's to change,
 * and is for its group only when that group is the program's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "daemon_harness.h"
#include "keyfile.h"

#define PYTHON "/usr/bin/python3"
#define HELPER XXGK_SOURCE_DIR "/tests/python_zcert.py"

static void path_in(char *out, size_t size, const struct daemon *d, const char *name)
{
	snprintf(out, size, "%s/%s", d->dir, name);
}

/* A daemon on TCP ingest (CURVE needs it) with the server key file and two clients. */
static void setup_keyed(struct daemon *d, const char *tag, const char *server_secret,
			const char *dept_key, const char *other_key)
{
	struct city none = {0};
	daemon_setup(d, tag, &none, NULL);
	snprintf(d->ingest, sizeof(d->ingest), "tcp://127.0.0.1:%d", free_port());
	FILE *f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"secret_key = %s/%s\n"
		"[unit u001]\nname = 一\nkind = department\n"
		"[unit u002]\nname = 二\nkind = township\n"
		"[client dept]\nkey_file = %s/%s\nunits = u001\n"
		"[client other]\nkey_file = %s/%s\nunits = u002\n",
		d->state, d->ingest, d->admin, d->publish, d->dir, server_secret, d->dir, dept_key,
		d->dir, other_key);
	fclose(f);
}

/* One record for unit over CURVE with the keys of two files, through libxxgk. */
static int push_with_files(struct daemon *d, const char *server_pub, const char *secret,
			   const char *unit, const char *id)
{
	char storage[3][41], err[600];
	struct xxgk_keys keys;
	struct xxgk_client *c;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	int status = -1;
	if (xxgk_keys_from_files(&keys, storage, server_pub, secret, err, sizeof(err)))
		fail_msg("%s", err);
	trec_tally(&t, unit, id, 1, 3, "2019-12-31", 5);
	assert_int_equal(xxgk_connect_keys(&c, d->ingest, &keys), 0);
	/* the handshake's margin: a loaded machine */
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 20000), 0);
	xxgk_close(c);
	return status;
}

static void python_create(const struct daemon *d, const char *name)
{
	char *out, *err;
	const char *argv[] = {PYTHON, HELPER, "create", d->dir, name, NULL};
	int rc = run_program(argv, &out, &err);
	if (rc != 0)
		fail_msg("pyzmq create_certificates exited %d: %s%s", rc, out, err);
	free(out);
	free(err);
}

/* How many lines of the daemon's log hold text. */
static int log_count(const struct daemon *d, const char *text)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(d->log, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* xxgkd -f that must refuse to start: its exit status, its stderr in *err. */
static int run_xxgkd(const struct daemon *d, char **err)
{
	char *out;
	const char *argv[] = {"/usr/bin/timeout", "20", XXGKD_PATH, "-f", "-c", d->config, NULL};
	int rc = run_program(argv, &out, err);
	free(out);
	return rc;
}

static void test_pyzmq_certificates_in_xxgkd(void **state)
{
	(void)state;
	struct daemon d;
	char server_pub[700], server_secret[700], dept_secret[700], bad[700], *err;
	setup_keyed(&d, "keys_pyzmq", "server.key_secret", "dept.key", "other.key");
	python_create(&d, "server");
	python_create(&d, "dept");
	python_create(&d, "other");
	path_in(server_pub, sizeof(server_pub), &d, "server.key");
	path_in(server_secret, sizeof(server_secret), &d, "server.key_secret");
	path_in(dept_secret, sizeof(dept_secret), &d, "dept.key_secret");

	/* pyzmq leaves its secrets to the umask: 0644 is refused, with what to do */
	assert_int_equal(chmod(server_secret, 0644), 0);
	int rc = run_xxgkd(&d, &err);
	printf("# a pyzmq secret left 0644: exit %d: %s", rc, err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "server.key_secret: mode 0644 lets others at the secret key: "
				    "chmod 600 "));
	free(err);

	assert_int_equal(chmod(server_secret, 0600), 0);
	assert_int_equal(chmod(dept_secret, 0600), 0);
	daemon_start(&d);
	assert_int_equal(log_count(&d, "deprecated"), 0);
	assert_int_equal(push_with_files(&d, server_pub, dept_secret, "u001", "py-1"),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);

	/* a reload with a bad key file changes nothing: dept still gets in */
	path_in(bad, sizeof(bad), &d, "dept.key");
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("metadata\ncurve\n    public-key = \"too-short\"\n", f);
	fclose(f);
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 400 && !daemon_log_says(&d, "reload failed"); i++)
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	assert_true(daemon_log_says(&d, "dept.key:3: public-key: a CurveZMQ key is 40 characters "
					"of Z85, this one 9"));
	assert_true(daemon_log_says(&d, "reload failed"));
	assert_int_equal(push_with_files(&d, server_pub, dept_secret, "u001", "py-2"),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	daemon_stop(&d);
	daemon_teardown(&d);
}

static void test_keygen_certificates_in_pyzmq(void **state)
{
	(void)state;
	struct daemon d;
	char server[700], client[700], client_secret[700], *out, *err;
	setup_keyed(&d, "keys_keygen", "server.key_secret", "dept.key", "ctl.key");
	path_in(server, sizeof(server), &d, "server.key");
	path_in(client, sizeof(client), &d, "ctl.key");
	path_in(client_secret, sizeof(client_secret), &d, "ctl.key_secret");
	const char *names[] = {server, client};
	for (int i = 0; i < 2; i++) {
		const char *keygen[] = {XXGKCTL_PATH, "keygen", names[i], NULL};
		assert_int_equal(run_program(keygen, &out, &err), 0);
		free(out);
		free(err);
	}
	python_create(&d, "dept");
	daemon_start(&d);
	const char *argv[] = {PYTHON, HELPER,	     "push", XXGK_PYTHON_DIR, d.ingest,
			      server, client_secret, "u002", "ctl-1",	      NULL};
	int rc = run_program(argv, &out, &err);
	printf("# pyzmq with xxgkctl keygen's certificates: exit %d: %s%s", rc, out, err);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "APPLIED\n");
	free(out);
	free(err);
	/* and the key decides which units: ctl may not write dept's */
	const char *other[] = {PYTHON, HELPER,	      "push", XXGK_PYTHON_DIR, d.ingest,
			       server, client_secret, "u001", "ctl-2",	       NULL};
	assert_int_equal(run_program(other, &out, &err), 0);
	assert_string_equal(out, "REJECTED\n");
	free(out);
	free(err);
	daemon_stop(&d);
	daemon_teardown(&d);
}

/* A pair in xxgk's earlier format, made by hand as the earlier keygen made them. */
static void write_legacy(const struct daemon *d, const char *name, struct keypair *k)
{
	char path[700];
	assert_int_equal(zmq_curve_keypair(k->public_key, k->secret_key), 0);
	snprintf(path, sizeof(path), "%s/%s.secret", d->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# xxgk CurveZMQ keypair \"%s\"\npublic-key = %s\nsecret-key = %s\n", name,
		k->public_key, k->secret_key);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/%s.key", d->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# xxgk CurveZMQ public key \"%s\"\npublic-key = %s\n", name, k->public_key);
	fclose(f);
}

static void test_earlier_format_still_reads(void **state)
{
	(void)state;
	struct daemon d;
	struct keypair server, dept, other;
	char server_pub[700], dept_secret[700], records[700], *out, *err;
	setup_keyed(&d, "keys_legacy", "server.secret", "dept.key", "other.key");
	write_legacy(&d, "server", &server);
	write_legacy(&d, "dept", &dept);
	write_legacy(&d, "other", &other);
	daemon_start(&d);
	/* one note for each file, at the start */
	assert_int_equal(log_count(&d, "server.secret: xxgk's earlier key file format is "
				       "deprecated: write the key as a czmq certificate"),
			 1);
	assert_int_equal(log_count(&d, "dept.key: xxgk's earlier key file format is deprecated"),
			 1);
	assert_int_equal(log_count(&d, "other.key: xxgk's earlier key file format is deprecated"),
			 1);
	/* a client tool with earlier files: it works, and says so once per file */
	path_in(server_pub, sizeof(server_pub), &d, "server.key");
	path_in(dept_secret, sizeof(dept_secret), &d, "dept.secret");
	path_in(records, sizeof(records), &d, "one.jsonl");
	FILE *f = fopen(records, "w");
	assert_non_null(f);
	fputs("{\"unit\":\"u001\",\"id\":\"old-1\",\"revision\":1,\"tally\":{\"measure\":"
	      "\"TALLY_PENALTY_DECISIONS\",\"date\":\"2019-12-31\",\"value\":4}}\n",
	      f);
	fclose(f);
	const char *push[] = {XXGK_PUSH_PATH, "--ingest", d.ingest,
			      "--server-key", server_pub, "--key",
			      dept_secret,    records,	  NULL};
	int rc = run_program(push, &out, &err);
	printf("# xxgk-push with earlier files: exit %d: %s%s", rc, out, err);
	assert_int_equal(rc, 0);
	char *note = strstr(err, "server.key: xxgk's earlier key file format is deprecated");
	assert_non_null(note);
	assert_null(strstr(note + 1, "server.key: xxgk's earlier"));
	note = strstr(err, "dept.secret: xxgk's earlier key file format is deprecated");
	assert_non_null(note);
	assert_null(strstr(note + 1, "dept.secret: xxgk's earlier"));
	free(out);
	free(err);
	assert_int_equal(daemon_stored_records(&d), 1);
	daemon_stop(&d);
	daemon_teardown(&d);
}

struct bad_case {
	const char *what, *text;
	int want_secret;
	const char *error; /* after "FILE" */
};

static void test_bad_files_refused(void **state)
{
	(void)state;
	struct keypair a, b, got;
	char text[1024], path[700], err[700], want[900];
	char *dir = tmpdir_make("keys_bad");
	assert_int_equal(zmq_curve_keypair(a.public_key, a.secret_key), 0);
	assert_int_equal(zmq_curve_keypair(b.public_key, b.secret_key), 0);
	char short_key[40], bad_char[41];
	memcpy(short_key, a.public_key, 39);
	short_key[39] = '\0';
	memcpy(bad_char, a.public_key, 41);
	bad_char[4] = '~';
	struct bad_case cases[] = {
	    {"no curve section", "metadata\n    public-key = \"%s\"\n", 0,
	     ": no curve section (a czmq certificate: \"curve\", then public-key = \"...\" "
	     "indented by 4 spaces)"},
	    {"keys outside any section", "# a key\npublic-key = \"%s\"\n", 0,
	     ":2: \"public-key\" at the top: a certificate has the sections metadata and curve "
	     "(the keys go in curve, indented by 4 spaces)"},
	    {"an unknown section", "metadata\nkeys\n    public-key = \"%s\"\n", 0,
	     ":2: \"keys\" at the top"},
	    {"a tab", "metadata\ncurve\n\tpublic-key = \"%s\"\n", 0,
	     ":3: a tab in the indentation: ZPL indents by 4 spaces"},
	    {"two spaces", "metadata\ncurve\n  public-key = \"%s\"\n", 0,
	     ":3: indented by 2 spaces: ZPL indents by 4 spaces a level"},
	    {"no public key", "metadata\ncurve\n", 0, ": no public-key in the curve section"},
	    {"an unknown key", "metadata\ncurve\n    public-key = \"%s\"\n    server-key = \"x\"\n",
	     0, ":4: unknown property \"server-key\" in curve"},
	    {"text after the quote", "metadata\ncurve\n    public-key = \"%s\" x\n", 0,
	     ":3: \"public-key\": text after the closing quote of its value"},
	    {"a public certificate for a secret", "metadata\ncurve\n    public-key = \"%s\"\n", 1,
	     ": no secret-key: this is a public certificate; give the secret one (NAME_secret)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/case%zu", dir, i);
		snprintf(text, sizeof(text), cases[i].text, a.public_key);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		chmod(path, 0600);
		memset(&got, 0x55, sizeof(got));
		assert_int_equal(keyfile_read(path, cases[i].want_secret, &got, err, sizeof(err)),
				 -1);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].error);
		printf("# %s: %s\n", cases[i].what, err);
		if (strstr(err, want) == NULL)
			fail_msg("%s: want \"%s\", got \"%s\"", cases[i].what, want, err);
		/* nothing comes out of a refused file */
		assert_string_equal(got.public_key, "");
	}
	/* keys that are not keys: the length, a character outside Z85, another's secret */
	const char *keys[][3] = {
	    {"wrong length", short_key,
	     ":3: public-key: a CurveZMQ key is 40 characters of Z85, "
	     "this one 39"},
	    {"bad Z85", bad_char, ":3: public-key: not Z85: \"~\" at character 5"},
	};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/key%d", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "metadata\ncurve\n    public-key = \"%s\"\n", keys[i][1]);
		fclose(f);
		assert_int_equal(keyfile_read(path, 0, &got, err, sizeof(err)), -1);
		printf("# %s: %s\n", keys[i][0], err);
		snprintf(want, sizeof(want), "%s%s", path, keys[i][2]);
		assert_non_null(strstr(err, want));
	}
	snprintf(path, sizeof(path), "%s/mixed_secret", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "metadata\ncurve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
		a.public_key, b.secret_key);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keyfile_read(path, 1, &got, err, sizeof(err)), -1);
	printf("# another's secret: %s\n", err);
	snprintf(want, sizeof(want), "%s: public-key is not the public key of secret-key", path);
	assert_string_equal(err, want);
	/* a FIFO with no writer: refused at once, not waited on (SIGALRM ends a hang) */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(keyfile_read(path, 1, &got, err, sizeof(err)), -1);
	alarm(0);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);
	unlink(path);
	tmpdir_remove(dir);
}

/* The secret's mode: 0600 and 0640 for the program's own group; nothing else. */
static void test_secret_modes(void **state)
{
	(void)state;
	struct keypair k, got;
	char pub[700], secret[700], err[700], want[4096];
	char *dir = tmpdir_make("keys_modes");
	snprintf(pub, sizeof(pub), "%s/s.key", dir);
	snprintf(secret, sizeof(secret), "%s/s.key_secret", dir);
	assert_int_equal(keyfile_write(pub, secret, &k, err, sizeof(err)), 0);
	struct group *mine = getgrgid(getegid());
	assert_non_null(mine);
	char my_group[64];
	snprintf(my_group, sizeof(my_group), "%s", mine->gr_name);

	assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), 0);
	assert_string_equal(got.secret_key, k.secret_key);
	assert_int_equal(got.legacy, 0);
	assert_int_equal(chmod(secret, 0640), 0);
	assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), 0);

	assert_int_equal(chmod(secret, 0644), 0);
	assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), -1);
	printf("# 0644: %s\n", err);
	snprintf(want, sizeof(want),
		 "%s: mode 0644 lets others at the secret key: chmod 600 %s (or chmod 640 and "
		 "chgrp %s %s, for this program's group)",
		 secret, secret, my_group, secret);
	assert_string_equal(err, want);

	assert_int_equal(chmod(secret, 0660), 0);
	assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), -1);
	printf("# 0660: %s\n", err);
	snprintf(want, sizeof(want),
		 "%s: mode 0660 lets group %s change the secret key: chmod 640 %s (or 600)", secret,
		 my_group, secret);
	assert_string_equal(err, want);

	/* a group the program is not in: only root may give the file to it */
	struct group *other = getgrnam("nogroup");
	if (geteuid() == 0 && other && other->gr_gid != getegid()) {
		char other_name[64];
		snprintf(other_name, sizeof(other_name), "%s", other->gr_name);
		assert_int_equal(chown(secret, (uid_t)-1, other->gr_gid), 0);
		assert_int_equal(chmod(secret, 0640), 0);
		assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), -1);
		printf("# 0640, another group: %s\n", err);
		snprintf(want, sizeof(want),
			 "%s: mode 0640 lets group %s read the secret key, and this program is not "
			 "in that group: chgrp %s %s (its own group), or chmod 600 %s",
			 secret, other_name, my_group, secret, secret);
		assert_string_equal(err, want);
		/* 0600 is the owner's whatever the group */
		assert_int_equal(chmod(secret, 0600), 0);
		assert_int_equal(keyfile_read(secret, 1, &got, err, sizeof(err)), 0);
	} else {
		printf("# 0640 with another group: not run (needs root to chgrp to nogroup)\n");
	}
	/* the public certificate is for anyone */
	assert_int_equal(keyfile_read(pub, 0, &got, err, sizeof(err)), 0);
	assert_string_equal(got.public_key, k.public_key);
	assert_string_equal(got.secret_key, "");
	tmpdir_remove(dir);
}

/* What czmq, pyzmq and an editor may write, all of it ZPL: each loads. */
static void test_certificate_variants(void **state)
{
	(void)state;
	struct keypair k, got;
	char path[700], err[700];
	char *dir = tmpdir_make("keys_variants");
	assert_int_equal(zmq_curve_keypair(k.public_key, k.secret_key), 0);
	const char *forms[] = {
	    /* Windows line ends, a comment after the value */
	    "#   a comment\r\n\r\nmetadata\r\ncurve\r\n    public-key = \"%s\"   # mine\r\n"
	    "    secret-key = \"%s\"\r\n",
	    /* single quotes, metadata as pyzmq writes it (unquoted, spaces) and nested */
	    "metadata\n    name = a unit's system\n    owner\n        email = x@y\ncurve\n"
	    "    public-key = '%s'\n    secret-key = '%s'\n",
	    /* the sections in the other order, blank lines and indented comments */
	    "curve\n\n        # keys\n    public-key = \"%s\"\n    secret-key = \"%s\"\nmetadata\n",
	};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/form%d", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, forms[i], k.public_key, k.secret_key);
		fclose(f);
		assert_int_equal(chmod(path, 0600), 0);
		if (keyfile_read(path, 1, &got, err, sizeof(err)))
			fail_msg("form %d: %s", i, err);
		assert_string_equal(got.public_key, k.public_key);
		assert_string_equal(got.secret_key, k.secret_key);
		assert_int_equal(got.legacy, 0);
	}
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pyzmq_certificates_in_xxgkd),
	    cmocka_unit_test(test_keygen_certificates_in_pyzmq),
	    cmocka_unit_test(test_earlier_format_still_reads),
	    cmocka_unit_test(test_bad_files_refused),
	    cmocka_unit_test(test_secret_modes),
	    cmocka_unit_test(test_certificate_variants),
	};
	return cmocka_run_group_tests_name("daemon_keys", tests, NULL, NULL);
}
