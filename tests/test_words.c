/*
 * The ledger's words (words.def with cells.def): every enum value of the schema has a word, the
 * words of a set are distinct, a clerk's synonyms, the template's row labels and the English
 * names read back as the value, and every column's header names it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "words.h"

static void test_every_value_has_one_word(void **state)
{
	(void)state;
	for (int s = 0; s < WORD_SET_COUNT; s++) {
		int n = words_count((enum word_set)s);
		assert_true(n >= 2);
		for (int v = 1; v <= n; v++) {
			const char *w = words_value((enum word_set)s, v);
			assert_non_null(w);
			assert_true(w[0] != '\0');
			assert_int_equal(words_parse((enum word_set)s, w), v);
			for (int u = 1; u < v; u++)
				assert_string_not_equal(w, words_value((enum word_set)s, u));
		}
		assert_null(words_value((enum word_set)s, n + 1));
		assert_null(words_value((enum word_set)s, 0));
	}
	assert_int_equal(words_count(WORDS_OUTCOME), 21);
	assert_int_equal(words_count(WORDS_APPLICANT), 6);
	assert_int_equal(words_count(WORDS_MEASURE), 12);
}

static void test_clerks_words(void **state)
{
	(void)state;
	assert_string_equal(words_value(WORDS_APPLICANT, 1), "自然人");
	assert_int_equal(words_parse(WORDS_APPLICANT, "公民"), 1);
	assert_int_equal(words_parse(WORDS_APPLICANT, "APPLICANT_LEGAL_SERVICE"), 5);
	assert_int_equal(words_parse(WORDS_OUTCOME, "予以公开"), 1);
	assert_int_equal(words_parse(WORDS_OUTCOME, "（一）予以公开"), 1);
	assert_int_equal(words_parse(WORDS_OUTCOME, "（二）部分公开"), 2);
	assert_int_equal(
	    words_parse(WORDS_OUTCOME, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
	    2);
	assert_int_equal(words_parse(WORDS_OUTCOME, "1.属于国家秘密"), 3);
	assert_int_equal(words_parse(WORDS_OUTCOME, "逾期不补正"), 19);
	assert_int_equal(
	    words_parse(WORDS_OUTCOME,
			"2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
	    20);
	assert_int_equal(words_parse(WORDS_OUTCOME, "OUTCOME_OTHER_MISC"), 21);
	assert_int_equal(words_parse(WORDS_OUTCOME, "OUTCOME_UNSPECIFIED"), 0);
	assert_int_equal(words_parse(WORDS_OUTCOME, "自然人"), 0);
	assert_int_equal(words_parse(WORDS_OUTCOME, ""), 0);
	assert_string_equal(words_value(WORDS_DOCUMENT_KIND, 2), "行政规范性文件");
	assert_int_equal(words_parse(WORDS_DOCUMENT_KIND, "规范性文件"), 2);
	assert_string_equal(words_value(WORDS_CASE_RESULT, 1), "结果维持");
	assert_string_equal(words_value(WORDS_CASE_GROUP, 2), "未经复议直接起诉");
	assert_int_equal(words_boolean("是"), 1);
	assert_int_equal(words_boolean("FALSE"), 0);
	assert_int_equal(words_boolean(""), 0);
	assert_int_equal(words_boolean("1"), 1);
	assert_int_equal(words_boolean("也许"), -1);
	char list[512];
	words_list(WORDS_APPLICANT, list, sizeof(list));
	assert_string_equal(list, "自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他");
}

static void test_headers(void **state)
{
	(void)state;
	for (int l = 0; l < LEDGER_COUNT; l++) {
		int n;
		const struct ledger_column *c = ledger_columns((enum ledger)l, &n);
		assert_non_null(c);
		assert_true(n >= 5 && n <= LEDGER_COLUMNS_MAX);
		assert_string_equal(c[0].key, "unit");
		for (int i = 0; i < n; i++) {
			assert_int_equal(ledger_column_by_header((enum ledger)l, c[i].header), i);
			assert_int_equal(ledger_column_by_header((enum ledger)l, c[i].key), i);
			assert_true((c[i].type == COLUMN_ENUM) == (c[i].set != WORDS_NONE));
		}
	}
	assert_int_equal(ledger_column_by_header(LEDGER_APPLICATIONS, "答复类型"), 7);
	assert_int_equal(ledger_column_by_header(LEDGER_APPLICATIONS, "申请人姓名"), -1);
	assert_string_equal(ledgers[LEDGER_CASES].body, "legal_case");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_value_has_one_word),
	    cmocka_unit_test(test_clerks_words),
	    cmocka_unit_test(test_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
