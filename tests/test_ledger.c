/*
 * xxgk-push reading ledgers as offices keep them, against a real xxgkd:
 * - the example records (examples/sample-records.jsonl) turned into Chinese ledgers as Excel
 *   writes them (GB18030 and UTF-8 with a BOM, CRLF, quoted cells with commas, quotes and line
 *   breaks, spaces around cells, Chinese headers in another order, the template's words,
 *   synonyms and English names, every form of date) give the report the JSON Lines give, cell
 *   for cell;
 * - a unit's own ledger with a mapping file: extra columns (name, telephone, request) are read
 *   and never stored: none of their text is anywhere in the store's files;
 * - every kind of bad cell is described (file, line, column header, value, why, the valid
 *   values), in English and under a zh_CN locale in Chinese, and a file with a bad line changes
 *   nothing unless --skip-bad, which sends its good lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_harness.h"
#include "date.h"
#include "record_json.h"
#include "words.h"

static char *path_in(const char *dir, const char *name)
{
	static char paths[8][600];
	static int which;
	char *p = paths[which++ % 8];
	snprintf(p, 600, "%s/%s", dir, name);
	return p;
}

/* A growing text, written to a file in UTF-8 (with a BOM or not) or GB18030. */
struct text {
	char *s;
	size_t n, cap;
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (t->s && (size_t)k < t->cap - t->n) {
			t->n += (size_t)k;
			return;
		}
		t->cap = t->cap * 2 + (size_t)k + 4096;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
}

enum encoding { UTF8, UTF8_BOM, GB18030 };

static const char *write_text(const char *dir, const char *name, struct text *t, enum encoding e)
{
	const char *path = path_in(dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (e == UTF8_BOM)
		fputs("\xEF\xBB\xBF", f);
	if (e == GB18030) {
		iconv_t cd = iconv_open("GB18030", "UTF-8");
		assert_true(cd != (iconv_t)-1);
		size_t out_size = t->n * 2 + 16, in_left = t->n, out_left = out_size;
		char *out = malloc(out_size), *in = t->s, *o = out;
		assert_int_equal(iconv(cd, &in, &in_left, &o, &out_left), 0);
		iconv_close(cd);
		fwrite(out, 1, out_size - out_left, f);
		/* GB18030 indeed: not valid UTF-8 once there is any Chinese */
		free(out);
	} else {
		fwrite(t->s, 1, t->n, f);
	}
	fclose(f);
	free(t->s);
	memset(t, 0, sizeof(*t));
	return path;
}

static int push(struct daemon *d, char **out, char **err, const char *a1, const char *a2,
		const char *a3, const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = {XXGK_PUSH_PATH, "--ingest", d->ingest, a1, a2, a3, a4, a5, a6, NULL};
	return run_program(argv, out, err);
}

/* ---- 1. the example records as Excel ledgers ------------------------------------------- */

/* A date as the i-th form: every form a clerk or Excel writes. */
static void date_cell(struct text *t, const char *iso, int i)
{
	int y, m, d;
	if (iso == NULL || iso[0] == '\0')
		return;
	assert_int_equal(sscanf(iso, "%d-%d-%d", &y, &m, &d), 3);
	switch (i % 6) {
	case 0:
		put(t, "%s", iso);
		break;
	case 1:
		put(t, "%d/%d/%d", y, m, d);
		break;
	case 2:
		put(t, "%d.%d.%d", y, m, d);
		break;
	case 3:
		put(t, "%d年%d月%d日", y, m, d);
		break;
	case 4:
		put(t, "%d/%d/%d 0:00", y, m, d); /* a date cell with a time */
		break;
	default: {
		struct date parsed;
		assert_int_equal(date_parse(iso, &parsed), DATE_OK);
		put(t, "%d", parsed.day + 25569); /* a date cell formatted as a number */
	}
	}
}

/* A value as the template's word, or (every 7th) the schema's English name. */
static void enum_cell(struct text *t, enum word_set set, const ProtobufCEnumDescriptor *d, int v,
		      int i)
{
	if (v == 0)
		return;
	if (i % 7 == 3)
		put(t, "%s", protobuf_c_enum_descriptor_get_value(d, v)->name);
	else if (set == WORDS_APPLICANT && v == 1 && i % 3 == 0)
		put(t, "公民"); /* a synonym clerks write */
	else if (set == WORDS_OUTCOME && v == 1 && i % 3 == 1)
		put(t, "（一）予以公开"); /* the template's row, numbered */
	else
		put(t, "%s", words_value(set, v));
}

static const char *const no_words[] = {"否", "FALSE", "", "0", "false"};

struct ledgers {
	struct text apps, docs, cases, tallies, subs;
	int rows;
};

static void add_record(struct ledgers *l, const Xxgk__V1__Record *r)
{
	int i = l->rows++;
	/* the unit with spaces around it, the id quoted now and then */
	const char *pad = i % 4 == 0 ? " " : "";
	switch (r->body_case) {
	case XXGK__V1__RECORD__BODY_APPLICATION: {
		const Xxgk__V1__Application *a = r->application;
		/* another order than the template's, Chinese headers and synonyms of them */
		put(&l->apps, "%s%s,\"%s\",", pad, r->unit, r->id);
		enum_cell(&l->apps, WORDS_APPLICANT, &xxgk__v1__applicant_type__descriptor,
			  a->has_applicant ? (int)a->applicant : 0, i);
		put(&l->apps, ",");
		date_cell(&l->apps, a->received, i);
		put(&l->apps, ",");
		date_cell(&l->apps, a->concluded, i + 1);
		put(&l->apps, ",");
		enum_cell(&l->apps, WORDS_OUTCOME, &xxgk__v1__outcome__descriptor,
			  a->has_outcome ? (int)a->outcome : 0, i);
		put(&l->apps, ",%s,%llu\r\n", no_words[i % 5], (unsigned long long)r->revision);
		break;
	}
	case XXGK__V1__RECORD__BODY_DOCUMENT: {
		const Xxgk__V1__Document *d = r->document;
		put(&l->docs, "%s,%s,%llu,%s,", r->unit, r->id, (unsigned long long)r->revision,
		    no_words[i % 5]);
		enum_cell(&l->docs, WORDS_DOCUMENT_KIND, &xxgk__v1__document_kind__descriptor,
			  (int)d->kind, i);
		put(&l->docs, ",");
		date_cell(&l->docs, d->made, i);
		put(&l->docs, ",");
		date_cell(&l->docs, d->published, i + 2);
		put(&l->docs, ",");
		date_cell(&l->docs, d->repealed, i + 3);
		/* a title with a comma, quotes and a line break, as Excel quotes it */
		put(&l->docs, ",\"关于印发\"\"%s\"\"的通知，\r\n第%d号, 附件\"\r\n", r->id, i);
		break;
	}
	case XXGK__V1__RECORD__BODY_LEGAL_CASE: {
		const Xxgk__V1__Case *c = r->legal_case;
		put(&l->cases, "%s , %s ,%llu,,", r->unit, r->id, (unsigned long long)r->revision);
		enum_cell(&l->cases, WORDS_CASE_GROUP, &xxgk__v1__case_group__descriptor,
			  (int)c->group, i);
		put(&l->cases, ",");
		date_cell(&l->cases, c->filed, i);
		put(&l->cases, ",");
		date_cell(&l->cases, c->closed, i + 4);
		put(&l->cases, ",");
		enum_cell(&l->cases, WORDS_CASE_RESULT, &xxgk__v1__case_result__descriptor,
			  c->has_result ? (int)c->result : 0, i);
		put(&l->cases, "\n");
		break;
	}
	case XXGK__V1__RECORD__BODY_TALLY: {
		const Xxgk__V1__Tally *t = r->tally;
		put(&l->tallies, "%s,%s,%llu,", r->unit, r->id, (unsigned long long)r->revision);
		enum_cell(&l->tallies, WORDS_MEASURE, &xxgk__v1__tally_measure__descriptor,
			  (int)t->measure, i);
		put(&l->tallies, ",");
		date_cell(&l->tallies, t->date, i);
		/* Excel's thousands separator, quoted as it must be */
		if (t->value >= 1000)
			put(&l->tallies, ",\"%lld,%03lld\"\n", (long long)t->value / 1000,
			    (long long)t->value % 1000);
		else
			put(&l->tallies, ",%lld\n", (long long)t->value);
		break;
	}
	case XXGK__V1__RECORD__BODY_SUBMISSION:
		put(&l->subs, "%s,%s,%llu,%u年\n", r->unit, r->id, (unsigned long long)r->revision,
		    r->submission->year);
		break;
	default:
		fail_msg("a sample record without a body");
	}
}

static void compare_reports(struct daemon *a, struct daemon *b)
{
	static struct cell_values ca, cb;
	size_t compared = 0;
	for (int year = 2012; year <= 2021; year++) {
		for (int scope = 0; scope < 5; scope++) {
			Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
			if (scope == 0) {
				q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
				q.city = 1;
			} else {
				q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_KIND;
				q.kind = (Xxgk__V1__UnitKind)scope;
			}
			daemon_report(a, year, &q, &ca);
			daemon_report(b, year, &q, &cb);
			assert_int_equal(ca.n, cb.n);
			for (size_t i = 0; i < ca.n; i++) {
				assert_string_equal(ca.keys[i], cb.keys[i]);
				if (ca.values[i] != cb.values[i])
					fail_msg("%d scope %d %s: ledgers %lld, JSON Lines %lld",
						 year, scope, ca.keys[i], (long long)ca.values[i],
						 (long long)cb.values[i]);
				compared++;
			}
		}
	}
	printf("# %zu cells equal\n", compared);
}

static void test_excel_ledgers_equal_json_lines(void **state)
{
	(void)state;
	struct daemon from_json, from_csv;
	daemon_setup_units_file(&from_json, "ledger-json", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_setup_units_file(&from_csv, "ledger-csv", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&from_json);
	daemon_start(&from_csv);
	char *out, *err;
	const char *sample = XXGK_SOURCE_DIR "/examples/sample-records.jsonl";
	assert_int_equal(push(&from_json, &out, &err, sample, NULL, NULL, NULL, NULL, NULL), 0);
	free(out);
	free(err);

	struct ledgers l = {0};
	put(&l.apps, "单位,编号,申请人情况,收到日期,办结日期,答复类型,删除,版本\r\n");
	put(&l.docs, "单位,编号,版本,删除,文件类型,制发日期,公开日期,废止日期,标题\r\n");
	put(&l.cases, "unit,id,revision,deleted,group,filed,closed,result\n");
	put(&l.tallies, "单位 , 编号 ,版本,统计项目,日期,数值\n");
	put(&l.subs, "单位,编号,版本,年度\n");
	FILE *f = fopen(sample, "r");
	assert_non_null(f);
	char line[4096], why[256];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		Xxgk__V1__Record *r = record_from_json(line, strlen(line), why, sizeof(why));
		assert_non_null(r);
		add_record(&l, r);
		xxgk__v1__record__free_unpacked(r, NULL);
		n++;
	}
	fclose(f);
	const char *dir = from_csv.dir;
	const char *apps = write_text(dir, "申请台账.csv", &l.apps, GB18030);
	const char *docs = write_text(dir, "文件台账.csv", &l.docs, UTF8_BOM);
	const char *cases = write_text(dir, "案件台账.csv", &l.cases, UTF8_BOM);
	const char *tallies = write_text(dir, "统计台账.csv", &l.tallies, GB18030);
	const char *subs = write_text(dir, "报送.csv", &l.subs, UTF8);
	int rc = push(&from_csv, &out, &err, apps, docs, cases, tallies, subs, NULL);
	char want[128];
	snprintf(want, sizeof(want),
		 "xxgk-push: %zu records sent: %zu applied, 0 duplicate, 0 stale, 0 rejected; 0 "
		 "bad lines\n",
		 n, n);
	if (rc != 0 || strcmp(out, want))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	compare_reports(&from_csv, &from_json);
	/* and the printed report too */
	char *text_csv, *text_json;
	const char *ctl_csv[] = {XXGKCTL_PATH, "--admin", from_csv.admin, "report", "--year",
				 "2019",       NULL};
	const char *ctl_json[] = {XXGKCTL_PATH, "--admin", from_json.admin, "report", "--year",
				  "2019",	NULL};
	assert_int_equal(run_program(ctl_csv, &text_csv, &err), 0);
	free(err);
	assert_int_equal(run_program(ctl_json, &text_json, &err), 0);
	free(err);
	assert_string_equal(text_csv, text_json);
	free(text_csv);
	free(text_json);
	/* the same ledgers again: every line a duplicate, nothing changes */
	rc = push(&from_csv, &out, &err, apps, docs, cases, tallies, subs, NULL);
	snprintf(want, sizeof(want), "%zu duplicate", n);
	if (rc != 0 || strstr(out, want) == NULL)
		fail_msg("again: exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	daemon_stop(&from_json);
	daemon_stop(&from_csv);
	daemon_teardown(&from_json);
	daemon_teardown(&from_csv);
}

/* ---- 2. a unit's own ledger with a mapping file ---------------------------------------- */

static const char *const personal[] = {
    "张三丰", "13800138000", "李四光", "13912345678", "请公开某某路拆迁补偿标准",
    "王五",   "某某村某某组"};

static int contains(const void *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp((const char *)hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Whether any of the personal texts is in a file (as stored: UTF-8 bytes). */
static const char *personal_in_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	const char *found = NULL;
	for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]) && !found; i++)
		if (contains(buf, n, personal[i]))
			found = personal[i];
	free(buf);
	return found;
}

struct scan {
	size_t records, with_personal;
};

static int scan_record(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	struct scan *s = ctx;
	uint8_t buf[4096];
	(void)unit;
	size_t n = xxgk__v1__record__get_packed_size(r);
	assert_true(n <= sizeof(buf));
	xxgk__v1__record__pack(r, buf);
	for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]); i++)
		if (contains(buf, n, personal[i]))
			s->with_personal++;
	s->records++;
	return 0;
}

static void test_mapping_file(void **state)
{
	(void)state;
	struct daemon d;
	daemon_setup_units_file(&d, "ledger-mapping", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	struct text t = {0};
	/* the township's own ledger: its columns, its words, personal data, no unit column */
	put(&t, "序号,登记号,申请人姓名,联系电话,申请人身份,申请内容,收到申请时间,答复时间,答复"
		"类型,备注\r\n");
	put(&t, "1,镇申〔2021〕1号,张三丰,13800138000,群众,\"请公开某某路拆迁补偿标准\r\n"
		"（附身份证复印件）\",2021/3/1,2021/3/15,已公开,\r\n");
	put(&t, "2,镇申〔2021〕2号,李四光,13912345678,企业,\"某某村某某组, 土地征收\","
		"2021年4月1日,2021年4月20日,信息不存在,\"王五\"\r\n");
	put(&t, "3,镇申〔2021〕3号,王五,,公民,某某村某某组,2021.5.6,,,\r\n");
	/* rows numbered in advance, nothing else in them yet: no records, no bad lines */
	put(&t, "4,,,,,,,,,\r\n5,,,,,,,,,\r\n");
	const char *ledger = write_text(d.dir, "申请台账.csv", &t, GB18030);
	put(&t, "; the township's application ledger (申请台账)\n"
		"[columns]\n"
		"登记号 = id\n"
		"申请人身份 = applicant\n"
		"收到申请时间 = received\n"
		"答复时间 = 办结日期\n"
		"答复类型 = outcome\n"
		"序号 = ignore\n"
		"[defaults]\n"
		"unit = town-anyang\n"
		"[applicant]\n"
		"群众 = 自然人\n"
		"[办理结果]\n"
		"已公开 = 予以公开\n");
	const char *map = write_text(d.dir, "台账.ini", &t, UTF8);
	char *out, *err;
	int rc = push(&d, &out, &err, "--mapping", map, ledger, NULL, NULL, NULL);
	if (rc != 0 || !strstr(out, "3 records sent: 3 applied"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	/* the mapped values went where the mapping says */
	static struct cell_values cells;
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_UNIT;
	q.unit = "town-anyang";
	daemon_report(&d, 2021, &q, &cells);
	int checked = 0;
	for (size_t i = 0; i < cells.n; i++) {
		const char *k = cells.keys[i];
		int64_t want = -1;
		if (strcmp(k, "applications.new_received.natural_person") == 0)
			want = 2;
		else if (strcmp(k, "applications.new_received.commercial") == 0)
			want = 1;
		else if (strcmp(k, "applications.granted.natural_person") == 0)
			want = 1;
		else if (strcmp(k, "applications.unable_not_held.commercial") == 0)
			want = 1;
		else if (strcmp(k, "applications.carried_out.natural_person") == 0)
			want = 1;
		if (want >= 0) {
			assert_int_equal(cells.values[i], want);
			checked++;
		}
	}
	assert_int_equal(checked, 5);
	daemon_stop(&d);
	/* nowhere in the store: no record has the personal data, nor has any byte of its files */
	struct store *st;
	struct scan s = {0, 0};
	assert_int_equal(store_open(&st, d.state, NULL), 0);
	assert_int_equal(store_foreach_record(st, scan_record, &s), 0);
	store_close(st);
	assert_int_equal(s.records, 3);
	assert_int_equal(s.with_personal, 0);
	const char *found = personal_in_file(path_in(d.state, "data.mdb"));
	if (found)
		fail_msg("\"%s\" is in the store's data.mdb", found);
	assert_null(personal_in_file(path_in(d.state, "lock.mdb")));
	assert_null(personal_in_file(d.log));

	/* a bad mapping file is refused with its file and line, before anything is read */
	put(&t, "[columns]\n登记号 = id\n申请人身份 = applicantt\n");
	const char *bad = write_text(d.dir, "bad.ini", &t, UTF8);
	const char *argv[] = {XXGK_PUSH_PATH, "--mapping", bad, ledger, NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	if (!strstr(err, "bad.ini:3: 申请人身份 = applicantt: no such field"))
		fail_msg("stderr \"%s\"", err);
	free(out);
	free(err);
	put(&t, "[outcome]\n已公开 = 公开了\n");
	bad = write_text(d.dir, "bad2.ini", &t, UTF8);
	argv[2] = bad;
	assert_int_equal(run_program(argv, &out, &err), 1);
	if (!strstr(err, "bad2.ini:2: [outcome] 已公开 = 公开了: 公开了 is no value of 办理结果; "
			 "valid values: 予以公开、部分公开"))
		fail_msg("stderr \"%s\"", err);
	free(out);
	free(err);
	/* without the mapping, the ledger's own columns are named as what stops it */
	const char *plain[] = {XXGK_PUSH_PATH, "--ingest", "ipc:///nonexistent", ledger, NULL};
	assert_int_equal(run_program(plain, &out, &err), 1);
	if (!strstr(err, "申请台账.csv:1: the header names no ledger"))
		fail_msg("stderr \"%s\"", err);
	free(out);
	free(err);
	daemon_teardown(&d);
}

/* ---- 3. bad cells, in English and in Chinese ------------------------------------------- */

struct bad_case {
	const char *header, *line, *english, *chinese;
};

/* The lines of a ledger, one bad cell each, and what is said about it (after FILE:LINE: ). */
static const char *const apps_header =
    "单位,编号,版本,删除,申请人类型,收到日期,办结日期,答复类型\r\n";
static const struct bad_case bad_cases[] = {
    {NULL, "gov-office,B1,1,,机器人,2021-03-01,,",
     "column 申请人类型: \"机器人\": not a value of this column; valid values: 自然人、商业企业、"
     "科研机构、社会公益组织、法律服务机构、其他",
     "列“申请人类型”：“机器人”：不是此列的有效值；有效值：自然人、商业企业、"},
    {NULL, "gov-office,B2,1,,自然人,2021-03-01,2021-03-09,大概公开",
     "column 答复类型: \"大概公开\": not a value of this column; valid values: 予以公开、部分公开、"
     "属于国家秘密",
     "列“答复类型”：“大概公开”：不是此列的有效值；有效值：予以公开、部分公开"},
    {NULL, "gov-office,B3,1,,自然人,2021-02-30,,",
     "column 收到日期: \"2021-02-30\": no such day; valid values: dates such as 2020-03-01, "
     "2020/3/1, 2020.3.1, 2020年3月1日",
     "列“收到日期”：“2021-02-30”：没有这一天；有效值：日期，如 2020-03-01、2020/3/1"},
    {NULL, "gov-office,B4,1,,自然人,3/1/2021,,",
     "column 收到日期: \"3/1/2021\": not a date: write 2020-03-01, 2020/3/1, 2020.3.1, "
     "2020年3月1日",
     "列“收到日期”：“3/1/2021”：不是日期"},
    {NULL, "gov-office,B5,1,,自然人,1999-12-31,,",
     "column 收到日期: \"1999-12-31\": not a date from 2000 to 2099",
     "列“收到日期”：“1999-12-31”：不是 2000 至 2099 年的日期"},
    {NULL, "gov-office,B6,1,也许,自然人,2021-03-01,,",
     "column 删除: \"也许\": neither yes nor no; valid values: 是、否, true、false, 1、0",
     "列“删除”：“也许”：既不是“是”也不是“否”；有效值：是、否"},
    {NULL, "gov-office,B7,第二版,,自然人,2021-03-01,,",
     "column 版本: \"第二版\": not a whole number; valid values: 1, 2, 3, …",
     "列“版本”：“第二版”：不是整数；有效值：1, 2, 3, …"},
    {NULL, "gov-office,B8,1,,自然人,2021-03-09,2021-03-01,予以公开",
     "column 收到日期: \"2021-03-09\", column 办结日期: \"2021-03-01\": concluded before "
     "received",
     "列“收到日期”：“2021-03-09”，列“办结日期”：“2021-03-01”：办结日期早于收到日期"},
    {NULL, "gov-office,B9,1,,自然人,2021-03-01,2021-03-09,",
     "column 答复类型: \"\": a conclusion date without an outcome",
     "列“答复类型”：“”：有办结日期而没有办理结果"},
    {NULL, "gov-office,B10,1,,自然人,2021-03-01", "6 cells, the header has 8 columns",
     "本行有 6 个单元格，表头有 8 列"},
    {"单位,编号,版本,删除,统计项目,日期,数值\n", "dept-market,T1,1,,处罚,2021-12-31,5",
     "column 统计项目: \"处罚\": not a value of this column; valid values: 行政许可决定数量",
     "列“统计项目”：“处罚”：不是此列的有效值；有效值：行政许可决定数量"},
    {"单位,编号,版本,删除,统计项目,日期,数值\n",
     "dept-market,T2,1,,行政处罚决定数量,2021-12-31,五个",
     "column 数值: \"五个\": not a whole number; valid values: whole numbers such as 12 or -3",
     "列“数值”：“五个”：不是整数；有效值：整数，如 12 或 -3"},
    {"单位,编号,版本,删除,文件类型,制发日期,公开日期,废止日期,标题\n",
     "gov-office,D1,1,,通知,2021-01-05,,,",
     "column 文件类型: \"通知\": not a value of this column; valid values: 规章、行政规范性文件",
     "列“文件类型”：“通知”：不是此列的有效值；有效值：规章、行政规范性文件"},
    {"单位,编号,版本,删除,案件类型,立案日期,审结日期,审理结果\n",
     "dept-justice,C1,1,,信访,2021-05-01,,",
     "column 案件类型: \"信访\": not a value of this column; valid values: 行政复议、"
     "未经复议直接起诉、复议后起诉",
     "列“案件类型”：“信访”：不是此列的有效值；有效值：行政复议、未经复议直接起诉、复议后起诉"},
    {"单位,编号,版本,删除,案件类型,立案日期,审结日期,审理结果\n",
     "dept-justice,C2,1,,行政复议,2021-05-01,2021-06-01,调解",
     "column 审理结果: \"调解\": not a value of this column; valid values: 结果维持、结果纠正、"
     "其他结果",
     "列“审理结果”：“调解”：不是此列的有效值；有效值：结果维持、结果纠正、其他结果"},
    {"单位,编号,版本,删除,年度\n", "dept-justice,报送-2021,1,,今年",
     "column 年度: \"今年\": not a year from 2000 to 2099; valid values: years such as 2025",
     "列“年度”：“今年”：不是 2000 至 2099 年间的年份；有效值：年份，如 2025"},
    {"单位,编号,申请人姓名,申请人类型,收到日期\n", "gov-office,H1,张三,自然人,2021-03-01",
     "column 申请人姓名 is no column of the 政府信息公开申请登记台账 (applications); its columns "
     "are 单位、编号、版本、删除、申请人类型、收到日期、办结日期、办理结果: rename it, or name it "
     "in a mapping file (--mapping) to ignore it",
     "“申请人姓名”列不是政府信息公开申请登记台账（applications）的列"},
    {"单位,编号,日子\n", "gov-office,H2,2021-03-01",
     "the header names no ledger: it needs one of the columns 申请人类型 "
     "(政府信息公开申请登记台账), "
     "文件类型 (规章和行政规范性文件台账)",
     "表头不是任何一种台账的表头：须有以下列之一：申请人类型（政府信息公开申请登记台账）"},
};

/* Every bad case as its own file: "FILE:LINE: message" where LINE counts a multi-line cell. */
static void check_bad_cases(struct daemon *d, int chinese)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct text t = {0};
		char name[64], want[1200];
		int header_bad = b->header && strstr(b->english, "header") != NULL;
		int column_bad = strstr(b->english, "is no column") != NULL;
		put(&t, "%s", b->header ? b->header : apps_header);
		/* a good line with a cell of three lines before: the bad line is line 5 */
		if (!header_bad && !column_bad)
			put(&t, "%s\r\n",
			    b->header == NULL ? "gov-office,G1,1,,自然人,\" 2021-03-01\r\n\r\n\","
						","
			    : strstr(b->header, "统计项目") ? "dept-market,G1,1,,\"行政处罚\r\n"
							      "决定\r\n数量\",2021-12-31,5"
			    : strstr(b->header, "文件类型")
				? "gov-office,G1,1,,规章,2021-01-05,,,\"一\r\n二\r\n三\""
			    : strstr(b->header, "案件类型")
				? "dept-justice,G1,1,,\"行政\r\n\r\n复议\",2021-05-01,,"
				: "dept-justice,报送-2020,1,,\"2020\r\n\r\n\"");
		put(&t, "%s\r\n", b->line);
		snprintf(name, sizeof(name), "bad%zu%s.csv", i, chinese ? "-zh" : "");
		const char *file = write_text(d->dir, name, &t, i % 2 ? GB18030 : UTF8_BOM);
		char *out, *err;
		int rc = push(d, &out, &err, file, NULL, NULL, NULL, NULL, NULL);
		int line = header_bad || column_bad ? 1 : 5;
		snprintf(want, sizeof(want), "%s:%d: %s", file, line,
			 chinese ? b->chinese : b->english);
		if (rc != 1 || strstr(err, want) == NULL)
			fail_msg("case %zu (%s): exit %d\nstderr: %s\nwant:   %s", i,
				 chinese ? "zh_CN" : "C", rc, err, want);
		/* nothing of the file was sent: not even its good line (the summary's words are
		 * the locale's: in Chinese the count of stored records says it, in the caller) */
		if (!chinese && (!strstr(out, "0 records sent") || !strstr(out, "; 1 bad lines")))
			fail_msg("case %zu: stdout \"%s\"", i, out);
		free(out);
		free(err);
	}
}

static void test_bad_cells(void **state)
{
	(void)state;
	struct daemon d;
	daemon_setup_units_file(&d, "ledger-bad", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	check_bad_cases(&d, 0);
	assert_int_equal(daemon_stored_records(&d), 0);
	/* the same under a Chinese locale: the clerk reads Chinese */
	setenv("LANG", "zh_CN.UTF-8", 1);
	setenv("LC_ALL", "zh_CN.UTF-8", 1);
	check_bad_cases(&d, 1);
	unsetenv("LC_ALL");
	unsetenv("LANG");
	assert_int_equal(daemon_stored_records(&d), 0);

	/* many bad lines among good ones: nothing sent; --skip-bad sends the good ones */
	struct text t = {0};
	put(&t, "%s", apps_header);
	for (int i = 0; i < 40; i++)
		put(&t, "gov-office,S%d,1,,%s,2021-03-01,,\r\n", i,
		    i % 10 == 9 ? "外星人" : "自然人");
	const char *file = write_text(d.dir, "some-bad.csv", &t, GB18030);
	char *out, *err;
	int rc = push(&d, &out, &err, file, NULL, NULL, NULL, NULL, NULL);
	if (rc != 1 ||
	    !strstr(out, "xxgk-push: 0 records sent: 0 applied, 0 duplicate, 0 stale, "
			 "0 rejected; 4 bad lines") ||
	    !strstr(err, "some-bad.csv:11: column 申请人类型: \"外星人\"") ||
	    !strstr(err, "some-bad.csv:41: column 申请人类型") ||
	    !strstr(err, "nothing sent: 4 bad lines (correct them, or --skip-bad sends the 36 good "
			 "ones)"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	assert_int_equal(daemon_stored_records(&d), 0);
	rc = push(&d, &out, &err, "--skip-bad", file, NULL, NULL, NULL, NULL);
	if (rc != 1 || !strstr(out, "xxgk-push: 36 records sent: 36 applied, 0 duplicate, 0 "
				    "stale, 0 rejected; 4 bad lines"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	assert_int_equal(daemon_stored_records(&d), 36);
	/* a UTF-8 ledger with a line of other bytes: that line is bad, with its line and column */
	put(&t, "%s", apps_header);
	put(&t, "gov-office,E1,1,,自然人,2021-03-01,,\r\n");
	file = write_text(d.dir, "bytes.csv", &t, UTF8);
	FILE *f = fopen(file, "ab");
	fputs("gov-office,E2,1,,\x80\xFF,2021-03-01,,\r\n", f);
	fclose(f);
	rc = push(&d, &out, &err, file, NULL, NULL, NULL, NULL, NULL);
	if (rc != 1 ||
	    !strstr(err, "bytes.csv:3: column 申请人类型: \"\xEF\xBF\xBD\xEF\xBF\xBD\": bytes "
			 "that are not UTF-8 (a line of another encoding?)"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	assert_int_equal(daemon_stored_records(&d), 36);
	daemon_stop(&d);
	daemon_teardown(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_excel_ledgers_equal_json_lines),
	    cmocka_unit_test(test_mapping_file),
	    cmocka_unit_test(test_bad_cells),
	};
	return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
