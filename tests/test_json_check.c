/* Tests of the allocation-free JSON syntax check (src/model/json_check.c)
 * that tells nn.load's "the header is not valid JSON" from cJSON running
 * out of memory: good and bad texts, and agreement with cJSON's own parser
 * on every one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "model/json_check.h"

static const char *const good[] = {
    "{}", "[]", " { } ", "0", "-0", "1.5e-3", "-12E+4", "true", "false", "null",
    "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\"", "\"\xc3\xa9\"",
    "{\"a\": [1, 2, {\"b\": null}], \"c\": \"x\"}", "[[[[[]]]]]",
    "{\"__metadata__\": {\"format\": \"nnlua\"}, \"w\": {\"dtype\": \"F32\", "
    "\"shape\": [2, 3], \"data_offsets\": [0, 24]}}",
    "\t\r\n[1]\n",
};

static const char *const bad[] = {
    "", " ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a: 1}", "[1 2]", "01", "1.",
    ".5", "1e", "-", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12g4\"",
    "\"tab\there\"", "{} {}", "[1]]", "{\"a\":1,}", "NaN", "'a'",
};

static void test_good_texts_pass(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!nnl_json_syntax_ok(good[i], strlen(good[i])))
            fail_msg("refused good JSON: %s", good[i]);
        cJSON *j = cJSON_ParseWithLength(good[i], strlen(good[i]));
        assert_non_null(j); /* cJSON agrees */
        cJSON_Delete(j);
    }
}

static void test_bad_texts_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nnl_json_syntax_ok(bad[i], strlen(bad[i])))
            fail_msg("accepted bad JSON: '%s'", bad[i]);
}

/* Only len bytes count: a NUL inside, or text cut short, is refused. */
static void test_length_is_honoured(void **state)
{
    (void)state;
    assert_false(nnl_json_syntax_ok("{\"a\": 1}", 5));
    assert_false(nnl_json_syntax_ok("[1,\0 2]", 7));
    assert_true(nnl_json_syntax_ok("[1] garbage", 3));
}

/* Nesting deeper than cJSON parses is refused, and a deep text does not
 * exhaust the stack. */
static void test_nesting_is_bounded(void **state)
{
    (void)state;
    static char deep[200001];
    for (size_t i = 0; i < 100000; i++) {
        deep[i] = '[';
        deep[200000 - 1 - i] = ']';
    }
    assert_false(nnl_json_syntax_ok(deep, 200000));
    assert_true(nnl_json_syntax_ok(deep + 100000 - 500, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_texts_pass),
        cmocka_unit_test(test_bad_texts_fail),
        cmocka_unit_test(test_length_is_honoured),
        cmocka_unit_test(test_nesting_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
