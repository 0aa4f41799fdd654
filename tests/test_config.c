/*
 * xxgkd's configuration: every kind of bad file gets one error naming the file and line, and
 * good files, units files and the built-in example city load as documented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tmpdir_make("config");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	return 0;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[2][512];
	static int which;
	char *p = path[which++ % 2];
	snprintf(p, 512, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Loading text must fail with an error that contains want (after the file name). */
static void expect_error(const char *text, const char *units_text, const char *want)
{
	struct config c;
	char err[CONFIG_ERROR_MAX], expected[600];
	const char *path = write_file("xxgkd.conf", text);
	const char *units = units_text ? write_file("units.conf", units_text) : NULL;
	assert_int_equal(config_load(&c, path, units, err, sizeof(err)), -1);
	snprintf(expected, sizeof(expected), "%s", want);
	if (strstr(err, expected) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, expected);
	assert_null(c.units);
}

static const char unit_ok[] = "[unit u1]\nname = 一个单位\nkind = department\n";

static void test_bad_files(void **state)
{
	(void)state;
	expect_error("[xxgkd]\nstate_dir = /tmp/x\nfoo = 1\n", NULL,
		     "xxgkd.conf:3: unknown key \"foo\" in [xxgkd]");
	expect_error("[xxgkd]\nbatch_max = many\n", NULL,
		     ":2: batch_max: want a whole number from 1 to 100000, not \"many\"");
	expect_error("[xxgkd]\nbatch_max = 0\n", NULL, ":2: batch_max: want a whole number");
	expect_error("[xxgkd]\ncommit_pages_max = 8\n", NULL,
		     ":2: commit_pages_max: want a whole number from 16 to 10000000, not \"8\"");
	expect_error("[xxgkd]\nmap_size = 12x\n", NULL, ":2: map_size: want a whole number");
	expect_error("[xxgkd]\nlog_level = loud\n", NULL,
		     ":2: log_level: want error, warn, info or debug");
	expect_error("[xxgkd]\ningest =\n", NULL, ":2: ingest: empty");
	expect_error("[bogus]\nx = 1\n", NULL, ":2: unknown section [bogus]");
	expect_error("top = 1\n", NULL, ":1: \"top\" is outside any section");
	expect_error("[xxgkd]\nthis line has no equals sign\n", NULL, ":2: syntax error");
	expect_error("[unit a b]\nname = x\nkind = township\n", NULL,
		     ":2: [unit a b]: a unit id is 1 to 64 of A-Z a-z 0-9 . _ -");
	expect_error("[unit u1]\nname = x\nkind = village\n", NULL,
		     ":3: [unit u1] kind: want government, department, township or "
		     "functional_zone, not \"village\"");
	expect_error("[unit u1]\nname = x\ncolour = red\n", NULL,
		     ":3: unknown key \"colour\" in [unit u1]");
	expect_error("[unit u1]\nname = \xff\xfe\nkind = township\n", NULL,
		     ":2: [unit u1] name: invalid UTF-8");
	expect_error("[unit u1]\nname = x\nkind = township\n[unit u2]\nname = y\nkind = "
		     "township\n[unit u1]\nname = z\n",
		     NULL, ":8: [unit u1]: defined twice");
	expect_error("[unit u1]\nname = x\n", NULL, "xxgkd.conf: [unit u1]: missing kind");
	expect_error("[unit u1]\nkind = township\n", NULL, "xxgkd.conf: [unit u1]: missing name");
	/* a units file holds units only */
	expect_error("[xxgkd]\nlog_level = debug\n", "[xxgkd]\nlog_level = info\n",
		     "units.conf:2: unknown section [xxgkd] (a units file has [unit ID] sections "
		     "only)");
	expect_error("[xxgkd]\nlog_level = debug\n", "; nothing\n",
		     "units.conf: no [unit ID] sections");
	/* a relative units_file is found beside the configuration */
	expect_error("[xxgkd]\nunits_file = nowhere.conf\n", NULL, "/nowhere.conf: cannot open");
}

static void test_missing_file(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX];
	assert_int_equal(config_load(&c, "/nonexistent/xxgkd.conf", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/xxgkd.conf: cannot open: No such file or directory");
}

static void test_good_file(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX], text[1024];
	snprintf(text, sizeof(text),
		 "; a comment\n[xxgkd]\nstate_dir = /var/lib/xxgk\ningest = tcp://127.0.0.1:1\n"
		 "admin = ipc:///run/xxgk/admin\npublish = tcp://127.0.0.1:3\nbatch_max = 64\n"
		 "batch_records_max = 500\nmax_message_size = 1048576\nmap_size = 1073741824\n"
		 "log_level = debug\n\n%s[unit gov.office_1]\nname = 市政府办公室\nkind = "
		 "government\n",
		 unit_ok);
	const char *path = write_file("good.conf", text);
	assert_int_equal(config_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.state_dir, "/var/lib/xxgk");
	assert_string_equal(c.admin, "ipc:///run/xxgk/admin");
	assert_int_equal(c.batch_max, 64);
	assert_int_equal(c.batch_records_max, 500);
	assert_int_equal(c.max_message_size, 1048576);
	assert_true(c.map_size == 1073741824LL);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.n_units, 2);
	assert_string_equal(c.units[1].id, "gov.office_1");
	assert_string_equal(c.units[1].name, "市政府办公室");
	assert_int_equal(c.units[1].kind, 1);
	config_free(&c);

	/* a units file given on the command line replaces the configuration's units */
	const char *units = write_file("units.conf", "[unit z9]\nname = 某乡\nkind = township\n");
	assert_int_equal(config_load(&c, path, units, err, sizeof(err)), 0);
	assert_int_equal(c.n_units, 1);
	assert_string_equal(c.units[0].id, "z9");
	config_free(&c);
}

static void test_defaults_and_example_city(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX];
	assert_int_equal(config_load(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.state_dir, "xxgk-state");
	assert_string_equal(c.ingest, "tcp://127.0.0.1:7410");
	assert_string_equal(c.admin, ""); /* xxgkd makes it ipc://STATE_DIR/admin.sock */
	assert_string_equal(c.publish, "tcp://127.0.0.1:7412");
	assert_int_equal(c.batch_max, 256);
	assert_int_equal(c.commit_pages_max, 8192);
	assert_int_equal(c.n_units, 41);
	assert_string_equal(c.units[0].id, "gov-office");
	assert_int_equal(c.units[0].kind, 1);
	config_free(&c);
	/* a configuration without units gets the example city too */
	const char *path = write_file("nounits.conf", "[xxgkd]\nlog_level = warn\n");
	assert_int_equal(config_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.n_units, 41);
	assert_int_equal(c.log_level, LOG_WARN);
	config_free(&c);
}

/* The limits on what peers make xxgkd hold: defaults, values, and refused values. */
static void test_limit_keys(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX];
	assert_int_equal(config_load(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.queue_max, 16);
	assert_int_equal(c.connections_max, 256);
	assert_int_equal(c.handshake_timeout, 5000);
	config_free(&c);
	const char *path =
	    write_file("limits.conf",
		       "[xxgkd]\nqueue_max = 2\nconnections_max = 40\nhandshake_timeout = 900\n");
	assert_int_equal(config_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.queue_max, 2);
	assert_int_equal(c.connections_max, 40);
	assert_int_equal(c.handshake_timeout, 900);
	config_free(&c);
	expect_error("[xxgkd]\nqueue_max = 0\n", NULL,
		     ":2: queue_max: want a whole number from 1 to 1000, not \"0\"");
	expect_error("[xxgkd]\nconnections_max = lots\n", NULL,
		     ":2: connections_max: want a whole number from 1 to 1000000");
	expect_error("[xxgkd]\nhandshake_timeout = 5\n", NULL,
		     ":2: handshake_timeout: want a whole number from 100 to 600000");
}

/* The jobs' rates: no limit on verify and 64 MiB/s on backup by default, as configured, and
 * a bad one refused with its file and line. */
static void test_job_rates(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX];
	assert_int_equal(config_load(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.verify_rate, 0);
	assert_int_equal(c.backup_rate, 64 << 20);
	config_free(&c);
	const char *path =
	    write_file("rates.conf", "[xxgkd]\nverify_rate = 50000\nbackup_rate = 0\n");
	assert_int_equal(config_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.verify_rate, 50000);
	assert_int_equal(c.backup_rate, 0);
	config_free(&c);
	expect_error("[xxgkd]\nverify_rate = -1\n", NULL,
		     ":2: verify_rate: want a whole number from 0 to 100000000");
	expect_error("[xxgkd]\nbackup_rate = fast\n", NULL,
		     ":2: backup_rate: want a whole number from 0 to 100000000000");
}

/* The reporting government: the example city by default, a county as configured, and every
 * bad name, region or level refused with its file and line. */
static void test_government_keys(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERROR_MAX], long_name[200];
	assert_int_equal(config_load(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.government_name, "瑞安市人民政府");
	assert_string_equal(c.government_region, "瑞安市");
	assert_int_equal(c.government_level, GOVERNMENT_LEVEL_CITY);
	config_free(&c);
	const char *path = write_file("county.conf", "[xxgkd]\nname = 文成县人民政府\nregion = "
						     "文成县\nlevel = county\n");
	assert_int_equal(config_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.government_name, "文成县人民政府");
	assert_string_equal(c.government_region, "文成县");
	assert_int_equal(c.government_level, GOVERNMENT_LEVEL_COUNTY);
	config_free(&c);
	for (int l = GOVERNMENT_LEVEL_PROVINCE; l <= GOVERNMENT_LEVEL_TOWNSHIP; l++)
		assert_int_equal(government_level_parse(government_level_name(l)), l);
	expect_error("[xxgkd]\nregion = 文成县\nlevel = prefecture\n", NULL,
		     "xxgkd.conf:3: level: want province, city, county, district or township, not "
		     "\"prefecture\"");
	expect_error("[xxgkd]\nlevel =\n", NULL, "xxgkd.conf:2: level: want province");
	expect_error("[xxgkd]\nname = \xe6\x96\x87\xff县人民政府\n", NULL,
		     "xxgkd.conf:2: name: invalid UTF-8");
	expect_error("[xxgkd]\nlog_level = info\nregion = \xc3\n", NULL,
		     "xxgkd.conf:3: region: invalid UTF-8");
	expect_error("[xxgkd]\nname =\n", NULL, "xxgkd.conf:2: name: empty");
	expect_error("[xxgkd]\nregion = 文成\t县\n", NULL,
		     "xxgkd.conf:2: region: control character 0x09");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	char text[400];
	snprintf(text, sizeof(text), "[xxgkd]\nname = %s\n", long_name);
	expect_error(text, NULL, "xxgkd.conf:2: name: longer than 127 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_files),  cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_good_file),  cmocka_unit_test(test_defaults_and_example_city),
	    cmocka_unit_test(test_limit_keys), cmocka_unit_test(test_government_keys),
	    cmocka_unit_test(test_job_rates),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
