/*
 * CurveZMQ: only configured keys get in, each writes only its own units, only admin keys may
 * query over the network, a key removed by SIGHUP is refused afterwards, a local admin socket
 * is owner-and-group only, and without keys xxgkd refuses to expose itself unless told to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

static struct daemon d;
static struct keypair server, dept, county, boss, rogue;
static char tcp_ingest[64], tcp_admin[64], tcp_publish[64];

static void write_config(int with_county)
{
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
	    "secret_key = %s/server.secret\n"
	    "[unit u001]\nname = 一\nkind = department\n[unit u002]\nname = 二\nkind = township\n"
	    "[unit u003]\nname = 三\nkind = township\n"
	    "[client dept]\nkey_file = %s/dept.key\nunits = u001\n"
	    "[client boss]\npublic_key = %s\nadmin = yes\n",
	    d.state, d.ingest, d.admin, d.publish, d.dir, d.dir, boss.public_key);
	if (with_county)
		fprintf(f, "[client county]\npublic_key = %s\nunits = u002 u003\n",
			county.public_key);
	fclose(f);
}

static int setup(void **state)
{
	struct city none = {0};
	daemon_setup(&d, "security", &none, NULL);
	snprintf(tcp_ingest, sizeof(tcp_ingest), "tcp://127.0.0.1:%d", free_port());
	snprintf(tcp_admin, sizeof(tcp_admin), "tcp://127.0.0.1:%d", free_port());
	snprintf(tcp_publish, sizeof(tcp_publish), "tcp://127.0.0.1:%d", free_port());
	snprintf(d.ingest, sizeof(d.ingest), "%s", tcp_ingest);
	snprintf(d.admin, sizeof(d.admin), "%s", tcp_admin);
	snprintf(d.publish, sizeof(d.publish), "%s", tcp_publish);
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "dept", &dept);
	daemon_make_key(&d, "county", &county);
	daemon_make_key(&d, "boss", &boss);
	daemon_make_key(&d, "rogue", &rogue);
	write_config(1);
	d.ready_by_log = 1;
	daemon_start(&d);
	*state = &d;
	return 0;
}

/* Pushes one record with a key (NULL: none); returns the push's result and the status. */
static int push_as(const struct keypair *k, const char *server_key, const char *unit,
		   const char *id, int *status, const char **message)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct xxgk_client *c;
	struct xxgk_keys keys = {server_key, k ? k->public_key : NULL, k ? k->secret_key : NULL};
	static char msg[256];
	const char *m = "";
	trec_tally(&t, unit, id, 1, 3, "2022-06-30", 5);
	assert_int_equal(xxgk_connect_keys(&c, d.ingest, k ? &keys : NULL), 0);
	int rc = xxgk_push(c, &r, 1, status, NULL, &m, 1500);
	snprintf(msg, sizeof(msg), "%s", rc == 0 ? m : "");
	if (message)
		*message = msg;
	xxgk_close(c);
	return rc;
}

static int admin_as(const struct keypair *k, Xxgk__V1__Reply **reply)
{
	struct xxgk_client *c;
	struct xxgk_keys keys = {server.public_key, k->public_key, k->secret_key};
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	assert_int_equal(xxgk_connect_keys(&c, d.admin, &keys), 0);
	int rc = xxgk_call(c, &req, 1500, reply);
	xxgk_close(c);
	return rc;
}

static uint64_t stored_records(void)
{
	Xxgk__V1__Reply *reply;
	assert_int_equal(admin_as(&boss, &reply), 0);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	uint64_t n = reply->status->records;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return n;
}

static void test_keys_and_units(void **state)
{
	(void)state;
	int status;
	const char *message;
	uint64_t before = stored_records();
	/* a unit's own key writes its unit */
	assert_int_equal(push_as(&dept, server.public_key, "u001", "k1", &status, NULL), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* ... but not another's: rejected, counted nowhere */
	assert_int_equal(push_as(&dept, server.public_key, "u002", "k2", &status, &message), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_non_null(strstr(message, "the key of \"dept\" may not write unit \"u002\""));
	/* a county office's key writes its townships */
	assert_int_equal(push_as(&county, server.public_key, "u003", "k3", &status, NULL), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	assert_int_equal(stored_records(), before + 2);
	/* an unknown key, no key, and the wrong server key never get an answer */
	assert_int_equal(push_as(&rogue, server.public_key, "u001", "k4", &status, NULL),
			 XXGK_ETIMEDOUT);
	assert_int_equal(push_as(NULL, NULL, "u001", "k5", &status, NULL), XXGK_ETIMEDOUT);
	assert_int_equal(push_as(&dept, rogue.public_key, "u001", "k6", &status, NULL),
			 XXGK_ETIMEDOUT);
	assert_int_equal(stored_records(), before + 2);
}

static void test_admin_keys(void **state)
{
	(void)state;
	Xxgk__V1__Reply *reply;
	assert_int_equal(admin_as(&dept, &reply), 0);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_ERROR);
	assert_non_null(strstr(reply->error->message, "the key of \"dept\" is not an admin key"));
	xxgk__v1__reply__free_unpacked(reply, NULL);
	assert_int_equal(admin_as(&boss, &reply), 0);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

/* xxgkctl keygen writes the two files; xxgkctl with them talks to the daemon over CURVE. */
static void test_keygen_and_xxgkctl(void **state)
{
	(void)state;
	char name[600], secret[700], pub[700], server_pub[700], *out, *err;
	struct stat st;
	snprintf(name, sizeof(name), "%s/made-by-ctl.key", d.dir);
	snprintf(secret, sizeof(secret), "%s_secret", name);
	snprintf(pub, sizeof(pub), "%s", name);
	const char *keygen[] = {XXGKCTL_PATH, "keygen", name, NULL};
	assert_int_equal(run_program(keygen, &out, &err), 0);
	free(out);
	free(err);
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	/* never over an existing key */
	assert_int_equal(run_program(keygen, &out, &err), 1);
	assert_non_null(strstr(err, "File exists"));
	free(out);
	free(err);
	snprintf(server_pub, sizeof(server_pub), "%s/server.key", d.dir);
	snprintf(secret, sizeof(secret), "%s/boss.secret", d.dir);
	const char *status[] = {XXGKCTL_PATH,	"--admin",  d.admin,
				"--server-key", server_pub, "--key",
				secret,		"status",   NULL};
	assert_int_equal(run_program(status, &out, &err), 0);
	assert_non_null(strstr(out, "records:"));
	free(out);
	free(err);
	snprintf(secret, sizeof(secret), "%s/dept.secret", d.dir);
	assert_int_equal(run_program(status, &out, &err), 1);
	assert_non_null(strstr(err, "not an admin key"));
	free(out);
	free(err);
}

static void test_revoked_by_sighup(void **state)
{
	(void)state;
	int status;
	write_config(0);
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	int refused = 0;
	for (int i = 0; i < 20 && !refused; i++) {
		char id[16];
		snprintf(id, sizeof(id), "r%d", i);
		refused = push_as(&county, server.public_key, "u002", id, &status, NULL) ==
			  XXGK_ETIMEDOUT;
	}
	assert_true(refused);
	/* the others still get in */
	assert_int_equal(push_as(&dept, server.public_key, "u001", "after", &status, NULL), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
}

static void test_local_admin_socket(void **state)
{
	(void)state;
	struct city city;
	struct daemon local;
	struct stat st;
	city_make(&city, 2);
	daemon_setup(&local, "security-local", &city, NULL);
	daemon_start(&local);
	assert_int_equal(stat(local.admin + strlen("ipc://"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	daemon_stop(&local);
	daemon_teardown(&local);
	city_free(&city);
}

static void test_no_exposure_without_keys(void **state)
{
	(void)state;
	struct city city;
	struct daemon open_;
	char extra[256], *out, *err;
	city_make(&city, 2);
	snprintf(extra, sizeof(extra), "ingest = tcp://0.0.0.0:%d\n", free_port());
	daemon_setup(&open_, "security-open", &city, extra);
	const char *argv[] = {XXGKD_PATH, "-f", "-c", open_.config, NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	assert_non_null(strstr(err, "refusing to bind tcp://0.0.0.0:"));
	free(out);
	free(err);
	daemon_teardown(&open_);
	/* insecure = yes: it starts, and says so */
	snprintf(extra, sizeof(extra), "ingest = tcp://0.0.0.0:%d\ninsecure = yes\n", free_port());
	daemon_setup(&open_, "security-insecure", &city, extra);
	daemon_start(&open_);
	daemon_stop(&open_);
	FILE *f = fopen(open_.log, "r");
	char line[512];
	int warned = 0;
	while (f && fgets(line, sizeof(line), f))
		warned |= strstr(line, "INSECURE") != NULL;
	if (f)
		fclose(f);
	assert_true(warned);
	daemon_teardown(&open_);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_and_units),
	    cmocka_unit_test(test_admin_keys),
	    cmocka_unit_test(test_keygen_and_xxgkctl),
	    cmocka_unit_test(test_revoked_by_sighup),
	    cmocka_unit_test(test_local_admin_socket),
	    cmocka_unit_test(test_no_exposure_without_keys),
	};
	return cmocka_run_group_tests_name("daemon_security", tests, setup,
					   daemon_fixture_teardown);
}
