/*
 * The daemon's files and what it says about them: an admin socket in the abstract namespace
 * (no file, so no permissions) is refused unless admin_abstract = yes, and warned about when
 * allowed; a backup's data.mdb and directory get the store's modes, not the umask's; a store
 * on a read-only filesystem, in a directory it may not write, or on a full disk is refused or
 * failed with a message naming the cause (and the path), never "input/output error".
 *
 * The read-only and full filesystems are tmpfs mounts in a private mount namespace (as root, or
 * in a user namespace); where neither is possible those tests are skipped and the mapping from
 * errno to message is checked by test_error_mapping alone.
 */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

/* Runs xxgkd on d's configuration (as nobody when as_nobody and root) with its log going to
 * d->log; returns its exit status once it exits, or -1 when it was still running after 10 s
 * (then it is killed). */
static int run_daemon(struct daemon *d, int as_nobody)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		if (as_nobody && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(126);
		execl(XXGKD_PATH, "xxgkd", "-f", "-c", d->config, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		struct timespec t = {0, 50 * 1000000L};
		nanosleep(&t, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Points d's configuration at another state directory. */
static void move_state(struct daemon *d, const char *dir)
{
	char old[600], *text = NULL;
	size_t len = 0;
	FILE *f = fopen(d->config, "r");
	assert_non_null(f);
	FILE *m = open_memstream(&text, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	fclose(m);
	snprintf(old, sizeof(old), "state_dir = %s\n", d->state);
	char *at = strstr(text, old);
	assert_non_null(at);
	f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f, "%.*sstate_dir = %s\n%s", (int)(at - text), text, dir, at + strlen(old));
	fclose(f);
	free(text);
	snprintf(d->state, sizeof(d->state), "%s", dir);
}

/* Fails the test, showing the log, unless a line of it contains text. */
static void log_must_say(struct daemon *d, const char *text)
{
	if (!daemon_log_says(d, text)) {
		daemon_print_log(d);
		fail_msg("the daemon's log does not say \"%s\"", text);
	}
	printf("# the log says \"%s\"\n", text);
}

static void test_error_mapping(void **state)
{
	(void)state;
	static const int errnos[] = {EROFS, EACCES, EPERM, ENOSPC, EDQUOT};
	static const int codes[] = {XXGK_EROFS, XXGK_EACCES, XXGK_EACCES, XXGK_ENOSPC, XXGK_ENOSPC};
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		assert_int_equal(xxgk_error_from_errno(errnos[i]), codes[i]);
		assert_int_equal(xxgk_error_from_mdb(errnos[i]), codes[i]);
	}
	assert_string_equal(xxgk_strerror(XXGK_EROFS), "read-only file system");
	assert_string_equal(xxgk_strerror(XXGK_EACCES), "permission denied");
	assert_non_null(strstr(xxgk_strerror(XXGK_ENOSPC), "no space left on the device"));
	/* an EIO on a filesystem with room and writable stays an EIO */
	assert_int_equal(xxgk_error_at(XXGK_EIO, NULL), XXGK_EIO);
	assert_int_equal(xxgk_error_at(XXGK_EINVAL, "/"), XXGK_EINVAL);
}

static void test_admin_abstract_refused(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[128];
	city_make(&city, 2);
	snprintf(extra, sizeof(extra), "admin = ipc://@xxgk-test-admin-%d", (int)getpid());
	daemon_setup(&d, "admin-abstract", &city, extra);
	int rc = run_daemon(&d, 0);
	if (rc != 1) {
		daemon_print_log(&d);
		fail_msg("xxgkd with an abstract admin socket: %s (status %d)",
			 rc < 0 ? "still running after 10 s" : "did not exit 1", rc);
	}
	log_must_say(&d, "is an abstract socket: it has no file and no permissions");
	log_must_say(&d, "set admin_abstract = yes");
	daemon_teardown(&d);
	city_free(&city);
}

static void test_admin_abstract_allowed(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[128];
	city_make(&city, 2);
	snprintf(extra, sizeof(extra), "admin = ipc://@xxgk-test-admin-%d\nadmin_abstract = yes",
		 (int)getpid());
	daemon_setup(&d, "admin-abstract-yes", &city, extra);
	snprintf(d.admin, sizeof(d.admin), "ipc://@xxgk-test-admin-%d", (int)getpid());
	daemon_start(&d); /* it answers status there */
	log_must_say(&d, "INSECURE: admin on ipc://@xxgk-test-admin-");
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/* A status request on d's admin socket with key k (NULL: none): 0 and the reply, or the
 * error of no answer. */
static int status_as(struct daemon *d, const struct keypair *server, const struct keypair *k,
		     Xxgk__V1__Reply **reply)
{
	struct xxgk_client *c;
	struct xxgk_keys keys = {server->public_key, k ? k->public_key : NULL,
				 k ? k->secret_key : NULL};
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	assert_int_equal(xxgk_connect_keys(&c, d->admin, k ? &keys : NULL), 0);
	int rc = xxgk_call(c, &req, 1500, reply);
	xxgk_close(c);
	return rc;
}

/* With keys, an allowed abstract admin socket is a CurveZMQ server like a TCP one: without a
 * key no answer, a unit's key is refused, an admin key answered. */
static void test_admin_abstract_with_keys(void **state)
{
	(void)state;
	struct city none = {0};
	struct daemon d;
	struct keypair server, dept, boss;
	Xxgk__V1__Reply *reply;
	daemon_setup(&d, "admin-abstract-keys", &none, NULL);
	snprintf(d.admin, sizeof(d.admin), "ipc://@xxgk-test-admin-keys-%d", (int)getpid());
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "dept", &dept);
	daemon_make_key(&d, "boss", &boss);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"admin_abstract = yes\nsecret_key = %s/server.secret\n"
		"[unit u001]\nname = 一\nkind = department\n"
		"[client dept]\npublic_key = %s\nunits = u001\n"
		"[client boss]\npublic_key = %s\nadmin = yes\n",
		d.state, d.ingest, d.admin, d.publish, d.dir, dept.public_key, boss.public_key);
	fclose(f);
	d.ready_by_log = 1;
	daemon_start(&d);
	log_must_say(&d, "(admin_abstract = yes): anyone on this host may connect to it; it takes "
			 "admin keys only");
	assert_int_equal(status_as(&d, &server, NULL, &reply), XXGK_ETIMEDOUT);
	assert_int_equal(status_as(&d, &server, &dept, &reply), 0);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_ERROR);
	printf("# the dept key: %s\n", reply->error->message);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	assert_int_equal(status_as(&d, &server, &boss, &reply), 0);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	daemon_stop(&d);
	daemon_teardown(&d);
}

/* With the usual umask of 022, a backup's data.mdb is not readable by everyone: it gets the
 * mode of the store's data.mdb (0640), and a directory it makes the store's (0750). */
static void test_backup_modes(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char dir[600], file[700], store_file[700];
	struct stat backup, store, backup_dir, store_dir;
	mode_t old = umask(022);
	city_make(&city, 2);
	daemon_setup(&d, "backup-modes", &city, NULL);
	daemon_start(&d);
	snprintf(dir, sizeof(dir), "%s/backup", d.dir);
	const char *argv[] = {XXGKCTL_PATH, "--admin", d.admin, "backup", dir, NULL};
	char *out, *err;
	int rc = run_program(argv, &out, &err);
	if (rc != 0)
		fail_msg("backup exited %d: %s", rc, err);
	free(out);
	free(err);
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	snprintf(store_file, sizeof(store_file), "%s/data.mdb", d.state);
	assert_int_equal(stat(file, &backup), 0);
	assert_int_equal(stat(store_file, &store), 0);
	assert_int_equal(stat(dir, &backup_dir), 0);
	assert_int_equal(stat(d.state, &store_dir), 0);
	printf("# store %04o in %04o; backup %04o in %04o\n", (unsigned)store.st_mode & 07777,
	       (unsigned)store_dir.st_mode & 07777, (unsigned)backup.st_mode & 07777,
	       (unsigned)backup_dir.st_mode & 07777);
	assert_int_equal(store.st_mode & 07777, 0640);
	assert_int_equal(backup.st_mode & 07777, store.st_mode & 07777);
	assert_int_equal(backup_dir.st_mode & 07777, store_dir.st_mode & 07777);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
	umask(old);
}

/* A state directory the daemon may not write (0500; as root the daemon runs as nobody, for
 * whom that mode denies): it exits 1 saying "permission denied" and the directory. */
static void test_store_permission_denied(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char locked[600], want[800];
	city_make(&city, 2);
	daemon_setup(&d, "store-denied", &city, NULL);
	snprintf(locked, sizeof(locked), "%s/locked", d.dir);
	move_state(&d, locked);
	assert_int_equal(mkdir(locked, 0500), 0);
	assert_int_equal(chmod(d.dir, 0755), 0);
	assert_int_equal(chmod(d.config, 0644), 0);
	int rc = run_daemon(&d, 1);
	if (rc != 1) {
		daemon_print_log(&d);
		fail_msg("xxgkd on a state directory it may not write: status %d", rc);
	}
	snprintf(want, sizeof(want), "cannot open the store in %s: permission denied", locked);
	log_must_say(&d, want);
	daemon_teardown(&d);
	city_free(&city);
}

/* ---- on filesystems of their own ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Puts this process (and the daemons it starts) in a mount namespace of its own, where tmpfs
 * mounts vanish with it: as root, or as root of a new user namespace. 1 when it could. */
static int private_mounts(void)
{
	static int done = -1;
	if (done >= 0)
		return done;
	done = 0;
	if (geteuid() != 0) {
		char map[64];
		uid_t uid = geteuid();
		gid_t gid = getegid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			return 0;
		snprintf(map, sizeof(map), "0 %d 1", (int)uid);
		if (write_file("/proc/self/setgroups", "deny") ||
		    write_file("/proc/self/uid_map", map))
			return 0;
		snprintf(map, sizeof(map), "0 %d 1", (int)gid);
		if (write_file("/proc/self/gid_map", map))
			return 0;
	} else if (unshare(CLONE_NEWNS) != 0) {
		return 0;
	}
	done = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	return done;
}

/* A tmpfs of size bytes at path (made), read-only when read_only. 0 when mounted. */
static int mount_tmpfs(const char *path, size_t size, int read_only)
{
	char options[64];
	snprintf(options, sizeof(options), "size=%zu,mode=0755", size);
	if (mkdir(path, 0755) != 0 || mount("tmpfs", path, "tmpfs", 0, options) != 0)
		return -1;
	if (read_only &&
	    mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY, read_only ? options : NULL) != 0) {
		umount2(path, MNT_DETACH);
		return -1;
	}
	return 0;
}

/* state_dir on a read-only filesystem: xxgkd exits 1 saying so, with the directory. */
static void test_store_read_only(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char ro[600], want[800];
	if (!private_mounts())
		skip();
	city_make(&city, 2);
	daemon_setup(&d, "store-ro", &city, NULL);
	snprintf(ro, sizeof(ro), "%s/ro", d.dir);
	if (mount_tmpfs(ro, 1 << 20, 1) != 0) {
		daemon_teardown(&d);
		city_free(&city);
		skip();
	}
	assert_int_equal(xxgk_error_at(XXGK_EIO, ro), XXGK_EROFS);
	move_state(&d, ro);
	int rc = run_daemon(&d, 0);
	if (rc != 1) {
		daemon_print_log(&d);
		fail_msg("xxgkd on a read-only filesystem: status %d", rc);
	}
	snprintf(want, sizeof(want), "cannot open the store in %s: read-only file system", ro);
	log_must_say(&d, want);
	umount2(ro, MNT_DETACH);
	daemon_teardown(&d);
	city_free(&city);
}

/* state_dir on a filesystem that fills up: the push that does not fit is answered, and
 * logged, "no space left on the device"; so is a backup to it. */
static void test_store_disk_full(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char full[600], dir[700];
	if (!private_mounts())
		skip();
	city_make(&city, 2);
	daemon_setup(&d, "store-full", &city, NULL);
	snprintf(full, sizeof(full), "%s/full", d.dir);
	if (mount_tmpfs(full, 1 << 20, 0) != 0) {
		daemon_teardown(&d);
		city_free(&city);
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/state", full);
	move_state(&d, dir);
	daemon_start(&d);
	struct xxgk_client *c;
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	static struct trec t[200];
	Xxgk__V1__Record *r[200];
	int statuses[200], rc = 0, batches = 0;
	char id[48];
	while (rc == 0 && batches < 500) {
		for (int i = 0; i < 200; i++) {
			snprintf(id, sizeof(id), "full-%d-%d", batches, i);
			trec_application(&t[i], "u001", id, 1, 1, "2020-03-04", NULL, 0);
			r[i] = &t[i].r;
		}
		rc = xxgk_push(c, r, 200, statuses, NULL, NULL, 10000);
		batches++;
	}
	printf("# push %d: %s\n", batches, xxgk_last_error(c));
	assert_int_equal(rc, XXGK_EINVAL);
	assert_non_null(strstr(xxgk_last_error(c), "not stored: no space left on the device"));
	xxgk_close(c);
	log_must_say(&d, "was not stored: no space left on the device");

	snprintf(dir, sizeof(dir), "%s/backup", full);
	const char *argv[] = {XXGKCTL_PATH, "--admin", d.admin, "backup", dir, NULL};
	char *out, *err;
	rc = run_program(argv, &out, &err);
	printf("# xxgkctl backup: exit %d: %s", rc, err);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "no space left on the device"));
	assert_non_null(strstr(err, dir));
	free(out);
	free(err);
	log_must_say(&d, "failed: no space left on the device");
	daemon_stop(&d);
	umount2(full, MNT_DETACH);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_mapping),
	    cmocka_unit_test(test_admin_abstract_refused),
	    cmocka_unit_test(test_admin_abstract_allowed),
	    cmocka_unit_test(test_admin_abstract_with_keys),
	    cmocka_unit_test(test_backup_modes),
	    cmocka_unit_test(test_store_permission_denied),
	    /* last: they move this process into a mount namespace of its own */
	    cmocka_unit_test(test_store_read_only),
	    cmocka_unit_test(test_store_disk_full),
	};
	return cmocka_run_group_tests_name("daemon_files", tests, NULL, NULL);
}
