/* The CSV loader (src/data/csv.c) and its number parser: header detection,
 * label columns, class mapping, quoting, line ends, separators, and the
 * error messages for bad cells and rows. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "data/csv.h"
#include "data/numparse.h"

static nnl_csv_result res;
static nnl_error err;

/* Parses text with opts (NULL: defaults) into res; returns the status. */
static nnl_status parse(const char *text, const nnl_csv_opts *o)
{
    nnl_csv_opts opts;
    if (o)
        opts = *o;
    else
        nnl_csv_opts_init(&opts);
    if (!opts.source)
        opts.source = "t.csv";
    nnl_error_clear(&err);
    return nnl_csv_parse_buffer(text, strlen(text), &opts, &res, &err);
}

static float X(size_t i, size_t j) { return res.x->data[i * res.x->shape[1] + j]; }
static float Y(size_t i) { return res.y->data[i]; }

static int teardown(void **state)
{
    (void)state;
    nnl_csv_result_free(&res);
    assert_int_equal(nnl_alloc_live(), 0);
    return 0;
}

static void test_float_parser_matches_strtof(void **state)
{
    (void)state;
    const char *cases[] = {"0", "-0", "1", "-1.5", "3.14159", "1e10", "1E-10", "+2.5e+3",
                           ".5", "5.", "0.1", "0.30000001192092896", "16777217",
                           "123456789012", "9.999999e37", "1.17549435e-38", "1e-45",
                           "3.4028235e38", "1e39", "0.000000000000000000000000001",
                           "12345678901234567890123", "nan", "inf", "-inf", "0x1p3",
                           "7.038531e-26", "1.00000005960464477539062500001"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        float v = -123.0f;
        assert_true(nnl_parse_float(cases[i], strlen(cases[i]), &v));
        float want = strtof(cases[i], NULL);
        if (isnan(want)) {
            assert_true(isnan(v));
        } else {
            uint32_t a, b;
            memcpy(&a, &v, 4);
            memcpy(&b, &want, 4);
            if (a != b)
                fail_msg("%s: got %.9g want %.9g", cases[i], (double)v, (double)want);
        }
    }
    /* Every float-rounding tie of short decimals, randomized: the fast path
     * must agree with strtof bit for bit. */
    char buf[64];
    uint32_t s = 12345;
    for (int i = 0; i < 200000; i++) {
        s = s * 1664525u + 1013904223u;
        int exp = (int)(s >> 27) - 16;
        s = s * 1664525u + 1013904223u;
        snprintf(buf, sizeof buf, "%u.%05ue%d", s >> 12, s & 0xFFFF, exp);
        float v, want = strtof(buf, NULL);
        assert_true(nnl_parse_float(buf, strlen(buf), &v));
        if (memcmp(&v, &want, 4) != 0)
            fail_msg("%s: got %.9g want %.9g", buf, (double)v, (double)want);
    }
}

static void test_float_parser_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", "abc",
                         " 1", "1 ", "--1", "1x", "0x", "1e5e5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        float v;
        if (nnl_parse_float(bad[i], strlen(bad[i]), &v))
            fail_msg("'%s' accepted as %g", bad[i], (double)v);
    }
}

static void test_header_detected_and_string_labels(void **state)
{
    (void)state;
    assert_int_equal(parse("a,b,species\n1,2,cat\n3,4,dog\n5,6,cat\n", NULL), NNL_OK);
    assert_true(res.has_header);
    assert_int_equal(res.x->shape[0], 3);
    assert_int_equal(res.x->shape[1], 2);
    assert_string_equal(res.columns[0], "a");
    assert_string_equal(res.columns[1], "b");
    assert_string_equal(res.label_column, "species");
    assert_int_equal(res.nclasses, 2);
    assert_string_equal(res.classes[0], "cat"); /* order of first appearance */
    assert_string_equal(res.classes[1], "dog");
    assert_true(Y(0) == 1 && Y(1) == 2 && Y(2) == 1);
    assert_true(X(2, 0) == 5 && X(2, 1) == 6);
}

static void test_no_header_detected(void **state)
{
    (void)state;
    assert_int_equal(parse("1,2,setosa\n3,4,virginica\n", NULL), NNL_OK);
    assert_false(res.has_header);
    assert_int_equal(res.x->shape[0], 2);
    assert_string_equal(res.columns[0], "col1");
    assert_string_equal(res.label_column, "col3");
    assert_int_equal(res.nclasses, 2);
}

static void test_header_forced(void **state)
{
    (void)state;
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.header = 1; /* numeric names cannot be detected */
    assert_int_equal(parse("1,2,3\n4,5,6\n", &o), NNL_OK);
    assert_int_equal(res.x->shape[0], 1);
    assert_string_equal(res.columns[1], "2");
    assert_true(Y(0) == 6);
    nnl_csv_result_free(&res);
    o.header = 0; /* a header row given as data is a bad cell */
    assert_int_equal(parse("a,b\n1,2\n", &o), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:1: column 1"));
    assert_non_null(strstr(err.msg, "'a' is not a number"));
}

static void test_numeric_labels_kept_or_mapped(void **state)
{
    (void)state;
    const char *text = "x,y\n1,2\n2,0\n3,2\n4,1\n5,0.5\n";
    assert_int_equal(parse(text, NULL), NNL_OK);
    assert_int_equal(res.nclasses, 0);
    assert_null(res.classes);
    assert_true(Y(0) == 2 && Y(1) == 0 && Y(4) == 0.5f);
    nnl_csv_result_free(&res);
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.classes = 1; /* sorted: 0 -> 1, 0.5 -> 2, 1 -> 3, 2 -> 4 */
    assert_int_equal(parse(text, &o), NNL_OK);
    assert_int_equal(res.nclasses, 4);
    assert_string_equal(res.classes[0], "0");
    assert_string_equal(res.classes[1], "0.5");
    assert_string_equal(res.classes[3], "2");
    assert_true(Y(0) == 4 && Y(1) == 1 && Y(2) == 4 && Y(3) == 3 && Y(4) == 2);
}

static void test_label_by_name_index_or_none(void **state)
{
    (void)state;
    const char *text = "a,label,b\n1,x,2\n3,y,4\n";
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.label_name = "label";
    assert_int_equal(parse(text, &o), NNL_OK);
    assert_int_equal(res.nfeatures, 2);
    assert_string_equal(res.columns[0], "a");
    assert_string_equal(res.columns[1], "b");
    assert_true(X(1, 0) == 3 && X(1, 1) == 4 && Y(1) == 2);
    nnl_csv_result_free(&res);

    nnl_csv_opts_init(&o);
    o.label_col = 1;
    assert_int_equal(parse("5,1,2\n6,3,4\n", &o), NNL_OK);
    assert_true(Y(0) == 5 && Y(1) == 6 && X(0, 0) == 1 && X(1, 1) == 4);
    nnl_csv_result_free(&res);

    nnl_csv_opts_init(&o);
    o.label_col = 0;
    assert_int_equal(parse("a,b\n1,2\n", &o), NNL_OK);
    assert_null(res.y);
    assert_null(res.label_column);
    assert_int_equal(res.nfeatures, 2);
    nnl_csv_result_free(&res);

    nnl_csv_opts_init(&o);
    o.label_name = "nope";
    assert_int_equal(parse(text, &o), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "no column named 'nope'"));

    nnl_csv_opts_init(&o);
    o.label_col = 4;
    assert_int_equal(parse(text, &o), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "label column 4"));
}

static void test_label_switches_to_strings_late(void **state)
{
    (void)state;
    /* Labels look numeric until row 3: an error naming that cell (a
     * stray word in a number column), unless classes are asked for; then
     * all are strings, and "1" and "1.0" are different classes. */
    assert_int_equal(parse("f,l\n0,1\n0,1.0\n0,b\n0,1\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ":4: label 'b' is not a number, but the 2 labels before "
                                    "it are"));
    assert_non_null(strstr(err.msg, "classes = true"));
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.classes = 1;
    assert_int_equal(parse("f,l\n0,1\n0,1.0\n0,b\n0,1\n", &o), NNL_OK);
    assert_int_equal(res.nclasses, 3);
    assert_string_equal(res.classes[0], "1");
    assert_string_equal(res.classes[1], "1.0");
    assert_string_equal(res.classes[2], "b");
    assert_true(Y(0) == 1 && Y(1) == 2 && Y(2) == 3 && Y(3) == 1);
}

static void test_quoted_fields(void **state)
{
    (void)state;
    const char *text = "\"a,1\",\"b \"\"q\"\"\",\"lab\nel\"\n"
                       "\"1.5\", 2 ,\"x, \"\"y\"\"\"\n"
                       "3,\"4\",\"multi\nline\"\n";
    assert_int_equal(parse(text, NULL), NNL_OK);
    assert_true(res.has_header);
    assert_string_equal(res.columns[0], "a,1");
    assert_string_equal(res.columns[1], "b \"q\"");
    assert_string_equal(res.label_column, "lab\nel");
    assert_int_equal(res.x->shape[0], 2);
    assert_true(X(0, 0) == 1.5f && X(0, 1) == 2 && X(1, 1) == 4);
    assert_string_equal(res.classes[0], "x, \"y\"");
    assert_string_equal(res.classes[1], "multi\nline");
}

static void test_crlf_blank_lines_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF\r\nx,y,c\r\n\r\n1,2,3\r\n  \r\n4,5,6\r\n\r\n";
    assert_int_equal(parse(text, NULL), NNL_OK);
    assert_true(res.has_header);
    assert_string_equal(res.columns[0], "x"); /* the BOM is not part of the name */
    assert_int_equal(res.x->shape[0], 2);
    assert_true(X(1, 1) == 5 && Y(1) == 6);
    nnl_csv_result_free(&res);
    /* No final newline, no header. */
    assert_int_equal(parse("1,2\n3,4", NULL), NNL_OK);
    assert_int_equal(res.x->shape[0], 2);
    assert_true(Y(1) == 4);
}

static void test_separators(void **state)
{
    (void)state;
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.sep = ';';
    assert_int_equal(parse("a;b\n1,5;2\n", &o), NNL_ERR_FORMAT); /* 1,5 is no number */
    assert_non_null(strstr(err.msg, "'1,5'"));
    assert_int_equal(parse("a;b\n1.5;2\n", &o), NNL_OK);
    assert_true(X(0, 0) == 1.5f);
    nnl_csv_result_free(&res);
    o.sep = '\t';
    assert_int_equal(parse("1\t2\t3\n4\t5\t6\n", &o), NNL_OK);
    assert_int_equal(res.nfeatures, 2);
    nnl_csv_result_free(&res);
    assert_int_equal(parse("1\t2\t3\n1\t\t3\n", &o), NNL_ERR_FORMAT); /* tabs do not merge */
    assert_non_null(strstr(err.msg, "t.csv:2: column 2"));
    assert_non_null(strstr(err.msg, "empty cell"));
    o.sep = ' '; /* runs of blanks */
    assert_int_equal(parse("  1   2\t3 \n4 5 6\n", &o), NNL_OK);
    assert_int_equal(res.x->shape[0], 2);
    assert_true(X(0, 1) == 2 && Y(0) == 3 && X(1, 0) == 4);
    nnl_csv_result_free(&res);
    o.sep = '"';
    assert_int_equal(parse("1\n", &o), NNL_ERR_ARG);
}

static void test_bad_cell_names_line_and_column(void **state)
{
    (void)state;
    assert_int_equal(parse("a,b,c\n1,2,3\n\n4,oops,6\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:4: column 2 (b): 'oops' is not a number"));
    assert_int_equal(parse("a,b,c\n1,,3\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2: column 2 (b): empty cell"));
    assert_int_equal(parse("a,b,c\n1,2,\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2: column 3: empty label"));
    /* Line numbers count the lines inside quoted fields. */
    assert_int_equal(parse("a,b\n\"x\ny\",1\n2,3\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2: column 1"));
    assert_int_equal(parse("a,b\n1,\"2\"x\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "after a quoted field"));
    assert_int_equal(parse("a,b\n1,\"2\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2: column 2: quoted field never closed"));
}

static void test_wrong_row_length(void **state)
{
    (void)state;
    assert_int_equal(parse("a,b,c\n1,2,3\n4,5\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:3: row has 2 columns, expected 3"));
    assert_int_equal(parse("a,b,c\n1,2,3\n4,5,6,7,8\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:3: row has 5 columns, expected 3"));
    assert_null(strstr(err.msg, "separator")); /* no other separator in the line */
    /* A semicolon file with decimal commas read with ',': say which
     * separator the line holds. */
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.label_col = 0;
    assert_int_equal(parse("a;b\n1,5;2,5\n", &o), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2: row has 3 columns, expected 1 (with sep ','; the "
                                    "line contains semicolons: is the separator ';'?)"));
}

/* A file that yields no data is an error saying why, never 0 rows. */
static void test_empty_and_header_only(void **state)
{
    (void)state;
    assert_int_equal(parse("", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv: no data (the file is empty)"));
    assert_int_equal(parse("\n \r\n\r", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv: no data (only blank lines)"));
    assert_int_equal(parse("a,b\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv: no data: only a header (line 1), no rows"));
    assert_int_equal(parse("\n\na,b\r\n\r\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "only a header (line 3)"));
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.header = 1;
    assert_int_equal(parse("1,2\n", &o), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "only a header"));
}

/* One column that is the label leaves no features: an error that names
 * the separator and, when the line holds another one, says to use it. */
static void test_single_label_column(void **state)
{
    (void)state;
    assert_int_equal(parse("y\n1\n2\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:1: no feature columns: only 1 column found with "
                           "sep ','"));
    assert_non_null(strstr(err.msg, "label = false"));
    assert_int_equal(parse("cat\ndog\n", NULL), NNL_ERR_FORMAT);
    /* a TSV read with the default separator */
    assert_int_equal(parse("a\tb\tc\n1\t2\t3\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "only 1 column found with sep ','; the lines contain "
                           "tabs: use sep = '\\t'"));
    assert_int_equal(parse("\n1;2;3\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:2:"));
    assert_non_null(strstr(err.msg, "semicolons: use sep = ';'"));
    assert_int_equal(parse(" 1 2 3\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "spaces: use sep = ' '"));
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.sep = '\t';
    assert_int_equal(parse("a,b\n1,2\n", &o), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "with sep '\\t'; the lines contain commas: use sep = ','"));
    /* as features the one column is fine */
    o.sep = ',';
    o.label_col = 0;
    assert_int_equal(parse("y\n1\n2\n", &o), NNL_OK);
    assert_int_equal(res.nfeatures, 1);
    assert_int_equal(res.x->shape[0], 2);
}

/* LF, CRLF and lone CR (old Mac) line ends, mixed too, with the same rows
 * and line numbers in messages. */
static void test_cr_only_line_ends(void **state)
{
    (void)state;
    const char *texts[3] = {"a,b,c\n1,2,3\n\n4,5,6\n7,8,9",
                            "a,b,c\r\n1,2,3\r\n\r\n4,5,6\r\n7,8,9\r\n",
                            "a,b,c\r1,2,3\r\r4,5,6\r7,8,9\r"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(parse(texts[i], NULL), NNL_OK);
        assert_true(res.has_header);
        assert_int_equal(res.x->shape[0], 3);
        assert_int_equal(res.nfeatures, 2);
        assert_true(X(0, 0) == 1 && X(1, 1) == 5 && X(2, 1) == 8 && Y(2) == 9);
        nnl_csv_result_free(&res);
    }
    assert_int_equal(parse("a,b\r1,2\n3,4\r\n5,6\r", NULL), NNL_OK); /* mixed */
    assert_int_equal(res.x->shape[0], 3);
    assert_true(Y(2) == 6);
    nnl_csv_result_free(&res);
    /* line numbers count CR lines, quoted CRs, and CRLF once */
    assert_int_equal(parse("a,b,c\r1,2,x\r3,4,\"p\rq\"\roops,5,y\r", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:5: column 1 (a): 'oops'"));
    assert_int_equal(parse("a,b,c\r\n1,2,3\r\n3,oops,4\r\n", NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "t.csv:3: column 2"));
    /* blanks as separator, and a quoted cell, end at a CR too */
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    o.sep = ' ';
    assert_int_equal(parse("1 2 3\r4 5 6\r", &o), NNL_OK);
    assert_int_equal(res.x->shape[0], 2);
    assert_true(X(1, 0) == 4 && Y(1) == 6);
    nnl_csv_result_free(&res);
    assert_int_equal(parse("x,c\r1,\"a\"\r2,\"b\"\r", NULL), NNL_OK);
    assert_int_equal(res.nclasses, 2);
    assert_int_equal(res.x->shape[0], 2);
}

static void test_load_file_and_missing_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nnl_test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("p,q\n1,2\n3,4\n", f);
    fclose(f);
    assert_int_equal(nnl_csv_load(path, NULL, &res, &err), NNL_OK);
    assert_int_equal(res.x->shape[0], 2);
    nnl_csv_result_free(&res);
    f = fopen(path, "w");
    fputs("p,q,r\n1,z,3\n", f);
    fclose(f);
    assert_int_equal(nnl_csv_load(path, NULL, &res, &err), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, path)); /* the message names the file */
    assert_non_null(strstr(err.msg, ":2: column 2"));
    remove(path);
    assert_int_equal(nnl_csv_load(path, NULL, &res, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(nnl_csv_load("/tmp", NULL, &res, &err), NNL_ERR_IO);
}

static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    const char *text = "a,\"b\",c\n1,2,x\n3,4,y\n5,6,x\n";
    int failures = 0;
    for (long n = 0; n < 200; n++) {
        nnl_alloc_fail_after(n);
        nnl_status st = parse(text, NULL);
        nnl_alloc_fail_reset();
        if (st == NNL_OK) {
            assert_int_equal(res.nclasses, 2);
            nnl_csv_result_free(&res);
            break;
        }
        assert_int_equal(st, NNL_ERR_NOMEM);
        if (!strstr(err.msg, "t.csv")) /* every message says which file */
            fail_msg("allocation %ld: '%s' does not name the file", n, err.msg);
        assert_int_equal(nnl_alloc_live(), 0);
        failures++;
    }
    assert_true(failures > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_parser_matches_strtof),
        cmocka_unit_test(test_float_parser_rejects),
        cmocka_unit_test_teardown(test_header_detected_and_string_labels, teardown),
        cmocka_unit_test_teardown(test_no_header_detected, teardown),
        cmocka_unit_test_teardown(test_header_forced, teardown),
        cmocka_unit_test_teardown(test_numeric_labels_kept_or_mapped, teardown),
        cmocka_unit_test_teardown(test_label_by_name_index_or_none, teardown),
        cmocka_unit_test_teardown(test_label_switches_to_strings_late, teardown),
        cmocka_unit_test_teardown(test_quoted_fields, teardown),
        cmocka_unit_test_teardown(test_crlf_blank_lines_bom, teardown),
        cmocka_unit_test_teardown(test_separators, teardown),
        cmocka_unit_test_teardown(test_bad_cell_names_line_and_column, teardown),
        cmocka_unit_test_teardown(test_wrong_row_length, teardown),
        cmocka_unit_test_teardown(test_empty_and_header_only, teardown),
        cmocka_unit_test_teardown(test_single_label_column, teardown),
        cmocka_unit_test_teardown(test_cr_only_line_ends, teardown),
        cmocka_unit_test_teardown(test_load_file_and_missing_file, teardown),
        cmocka_unit_test_teardown(test_out_of_memory_everywhere, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
