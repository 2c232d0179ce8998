/* Hostile strings against the real gnuplot (src/plot/script.c's quoting):
 * quotes, backslashes, newlines, CR, ;, backticks, $, @, {}, %, UTF-8,
 * control bytes, very long strings... as titles, axis labels, key entries,
 * class names (tick labels), layer names and file names. For each:
 * gnuplot evaluates the quoted form back to exactly the string (print),
 * every plot kind that shows it runs without error, the text is in the
 * drawing (the dumb terminal's text, the SVG's <text>), a file gets
 * exactly the name given (and no other), and nothing is ever executed. Strings with a NUL
 * cannot reach C; the Lua tests check that they are refused.
 * Skipped without gnuplot. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "plot/gnuplot.h"
#include "plot/plot.h"

static char tmpdir[256];
static char olddir[4096];
static nnl_error err;

/* The hostile strings; the long ones are made in main. */
static const char *hostile[64];
static int nhostile;
static char long1[5001], long2[3001], long3[700];

static const char *const fixed[] = {
    "'90s", "it's", "'", "''", "''''", "x''y", "a'", "'a'", "\"", "\"quoted\"", "'\"'\"",
    "\\", "a\\", "\\n", "\\'", "\\\"", "back\\slash\\", "\\\\server\\share", "\\012",
    "line\nbreak", "\n", "a\n\nb", "cr\rhere", "\r\n", "tab\there", "$(touch pwned1)",
    "`touch pwned2`", "$HOME ${HOME}", "@macro", "@x @@y", "{braces}", "{/Symbol a}",
    "%s %d %% %n", "100%", "; system 'touch pwned3'", "a;b", "#not a comment",
    "\xc3\xbc\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80 emoji",
    "\xc3\xa9'\"\\", "^_ x_1^2", "&<>&amp;", "  spaces  ", "\x01\x02\x1b[31mred\x7f",
    "\x1f\x7f", "'\n'", "mixed '\"\n\\`$@{%;", "|cmd", "<cmd", "~/x", "EOD", "e",
    "-", ".", "a.'b'.c", "\"\\\"\\\\\"",
};

static int setup(void **state)
{
    (void)state;
    unsetenv("NNLUA_GNUPLOT");
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_plot_quote_XXXXXX");
    if (!mkdtemp(tmpdir) || !getcwd(olddir, sizeof olddir) || chdir(tmpdir) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(".");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlink(e->d_name);
        closedir(d);
    }
    if (chdir(olddir) != 0)
        return -1;
    rmdir(tmpdir);
    return 0;
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
        free(s);
        s = NULL;
    }
    if (s)
        s[len] = '\0';
    fclose(f);
    if (n)
        *n = (size_t)len;
    return s;
}

/* A safe label of string i for messages. */
static const char *label(int i)
{
    static char buf[80];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)hostile[i]; *p && n < 60; p++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, *p < 0x20 || *p >= 0x7f ? "\\x%02x" : "%c",
                              *p);
    return buf;
}

/* No file named pwned* appeared: nothing was executed. */
static void assert_nothing_ran(void)
{
    assert_true(access("pwned1", F_OK) != 0);
    assert_true(access("pwned2", F_OK) != 0);
    assert_true(access("pwned3", F_OK) != 0);
}

/* The folder holds only the file name (so a name went nowhere else). */
static void assert_only_file(const char *name)
{
    struct stat st;
    assert_int_equal(stat(name, &st), 0);
    DIR *d = opendir(".");
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        files += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    assert_int_equal(files, 1);
}

static void gnuplot_reads_back_exactly_the_string(void **state)
{
    (void)state;
    /* One gnuplot prints them all, one per line. */
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    nnl_pbuf_add(&b, "set print 'p.txt'\n");
    for (int i = 0; i < nhostile; i++) {
        nnl_pbuf_add(&b, "print ");
        nnl_pbuf_quote(&b, hostile[i]);
        nnl_pbuf_add(&b, "\n");
    }
    nnl_pbuf_add(&b, "unset print\n");
    assert_false(b.failed);
    nnl_status st = nnl_gnuplot_run(b.s, b.len, 1, &err);
    if (st != NNL_OK)
        print_message("%s\n", err.msg);
    assert_int_equal(st, NNL_OK);
    nnl_pbuf_free(&b);
    size_t n;
    char *got = read_all("p.txt", &n);
    assert_non_null(got);
    size_t off = 0;
    for (int i = 0; i < nhostile; i++) {
        size_t want = strlen(hostile[i]);
        if (off + want + 1 > n || memcmp(got + off, hostile[i], want) != 0 ||
            got[off + want] != '\n')
            print_message("string %d (%s) came back as '%.100s'\n", i, label(i), got + off);
        assert_true(off + want + 1 <= n);
        assert_memory_equal(got + off, hostile[i], want);
        assert_int_equal(got[off + want], '\n');
        off += want + 1;
    }
    assert_int_equal(off, n);
    free(got);
    assert_nothing_ran();
}

/* 1 when s shows in a drawing as it is: no control characters, short
 * enough for the dumb terminal's width, no blanks at its ends (centred
 * text loses them). */
static int shows_in_text(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 30 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Renders b (built by a builder into o's file) and checks gnuplot ran
 * without error. */
static void render_ok(nnl_pbuf *b, const nnl_plot_opts *o, int i, const char *what)
{
    nnl_status st = nnl_pbuf_check(b, "test", &err);
    if (st == NNL_OK)
        st = nnl_plot_render(b, o, "test", &err);
    if (st != NNL_OK)
        print_message("%s with string %d (%s): %s\n", what, i, label(i), err.msg);
    assert_int_equal(st, NNL_OK);
    nnl_pbuf_free(b);
}

/* The text file's content contains s. */
static void assert_in_file(const char *path, const char *s, int i, const char *what)
{
    char *text = read_all(path, NULL);
    assert_non_null(text);
    if (!strstr(text, s))
        print_message("%s: string %d (%s) is not in the drawing:\n%s\n", what, i, label(i),
                      text);
    assert_non_null(strstr(text, s));
    free(text);
}

static void every_plot_kind_shows_the_string(void **state)
{
    (void)state;
    double y[5] = {1, 4, 9, 16, 25}, px[4] = {0, 1, 0, 1}, py[4] = {0, 0, 1, 1};
    int cls[4] = {1, 2, 1, 2};
    double counts[4] = {5, 1, 2, 7};
    float kernel[4] = {0.5f, -0.5f, 0.25f, 1};
    int grid[4] = {1, 2, 1, 2};
    int files = 0;
    for (int i = 0; i < nhostile; i++) {
        const char *s = hostile[i];
        int visible = shows_in_text(s);
        nnl_plot_opts o;
        nnl_plot_opts_init(&o);
        o.title = o.xlabel = o.ylabel = s;
        nnl_pbuf b;

        /* Lines: title, axis labels and the key entry; the text shows
         * the title and the key. */
        nnl_plot_series ser[2] = {{s, NULL, y, 5}, {"other", NULL, y, 5}};
        char name[256] = "lines.txt";
        if (!strchr(s, '/') && strlen(s) <= 200 && *s) {
            snprintf(name, sizeof name, "%s.txt", s);
            files++;
        }
        o.file = name;
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_lines(&b, &o, ser, 2, &err), NNL_OK);
        render_ok(&b, &o, i, "lines");
        if (visible)
            assert_in_file(name, s, i, "lines");
        assert_only_file(name);
        unlink(name);

        /* Scatter and decision regions: class names in the key (the same
         * quoting as the lines' key: for every fourth string). */
        const char *names[2] = {s, "b"};
        if (i % 4 == 0) {
            o.file = "scatter.txt";
            nnl_pbuf_init(&b);
            assert_int_equal(nnl_plot_scatter(&b, &o, px, py, 4, cls, 2, names, &err), NNL_OK);
            render_ok(&b, &o, i, "scatter");
            nnl_plot_regions r = {grid, 2, 2, 0, 1, 0, 1, px, py, cls, 4, 2, names};
            o.file = "regions.txt";
            nnl_pbuf_init(&b);
            assert_int_equal(nnl_plot_boundary(&b, &o, &r, &err), NNL_OK);
            render_ok(&b, &o, i, "decision regions");
        }

        /* Confusion: class names as tick labels. */
        o.file = "confusion.txt";
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_confusion(&b, &o, counts, 2, names, &err), NNL_OK);
        render_ok(&b, &o, i, "confusion");
        if (visible && strlen(s) < 12)
            assert_in_file("confusion.txt", s, i, "confusion");

        /* The model diagram: layer names and labels. */
        nnl_plot_layer ly[2] = {{2, s, s, NULL, NULL, 0, 0, 0, 0, 0},
                                {2, s, s, kernel, NULL, 0, 0, 0, 0, 0}};
        o.file = "model.svg";
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_network(&b, &o, ly, 2, 0, &err), NNL_OK);
        render_ok(&b, &o, i, "model");

        /* An SVG of the lines: the whole string, however long, XML-escaped
         * (& and <), one <text> per line of it. */
        o.file = "lines.svg";
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_lines(&b, &o, ser, 2, &err), NNL_OK);
        render_ok(&b, &o, i, "lines (svg)");
        int plain = 1;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            plain &= *p >= 0x20 && *p != 0x7f;
        if (plain && *s) {
            nnl_pbuf esc;
            nnl_pbuf_init(&esc);
            nnl_pbuf_add(&esc, ">"); /* <text> or <text xml:space="preserve"> */
            for (const char *p = s; *p; p++)
                nnl_pbuf_add(&esc, *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : (char[2]){*p, 0});
            nnl_pbuf_add(&esc, "</text>");
            assert_in_file("lines.svg", esc.s, i, "lines (svg)");
            assert_in_file("model.svg", esc.s, i, "model (svg)");
            nnl_pbuf_free(&esc);
        }
        assert_nothing_ran();
        static const char *const made[] = {"scatter.txt", "regions.txt", "confusion.txt",
                                           "model.svg", "lines.svg"};
        for (size_t m = 0; m < sizeof made / sizeof made[0]; m++)
            unlink(made[m]);
    }
    print_message("%d file names\n", files);
    assert_true(files > 40);
}

/* A window's title bar: one single-quoted literal in `set terminal x11
 * ... title '...'` (terminal options take no expression). gnuplot-x11
 * without a display still reads the options and says them back in `show
 * terminal`. Skipped unless gnuplot has the x11 terminal. */
static void window_title_is_one_literal(void **state)
{
    (void)state;
    setenv("DISPLAY", ":0", 1); /* only to choose the window terminal */
    const char *term = nnl_gnuplot_window_terminal();
    unsetenv("DISPLAY");
    if (!term || strcmp(term, "x11") != 0) {
        print_message("no x11 terminal: skipped\n");
        skip();
    }
    double y[3] = {1, 2, 3};
    nnl_plot_series ser[1] = {{"a", NULL, y, 3}};
    int exact = 0;
    for (int i = 0; i < nhostile; i++) {
        const char *s = hostile[i];
        nnl_plot_opts o;
        nnl_plot_opts_init(&o);
        o.title = s;
        nnl_pbuf b;
        nnl_pbuf_init(&b);
        setenv("DISPLAY", ":0", 1);
        assert_int_equal(nnl_plot_lines(&b, &o, ser, 1, &err), NNL_OK);
        unsetenv("DISPLAY");
        const char *line = strstr(b.s, "set terminal x11 ");
        assert_non_null(line);
        const char *eol = strchr(line, '\n');
        FILE *f = fopen("w.gp", "w");
        assert_non_null(f);
        fprintf(f, "%.*s\nshow terminal\n", (int)(eol - line), line);
        fclose(f);
        nnl_pbuf_free(&b);
        assert_int_not_equal(system("gnuplot w.gp > w.txt 2>&1"), -1);
        char *out = read_all("w.txt", NULL);
        assert_non_null(out);
        if (strstr(out, "line 0:") || !strstr(out, "title \"nnlua"))
            print_message("window title of string %d (%s): %s\n", i, label(i), out);
        assert_null(strstr(out, "line 0:"));
        assert_non_null(strstr(out, "title \"nnlua: "));
        if (strlen(s) < 190) {
            /* What the title bar shows: control characters as blanks, an
             * apostrophe right after another as U+2019. */
            nnl_pbuf want;
            nnl_pbuf_init(&want);
            nnl_pbuf_add(&want, "title \"nnlua: ");
            for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                nnl_pbuf_add(&want, *p < 0x20 || *p == 0x7f ? " "
                                    : *p == '\'' && p > (const unsigned char *)s && p[-1] == '\''
                                        ? "\xe2\x80\x99"
                                        : (char[2]){(char)*p, 0});
            nnl_pbuf_add(&want, "\" size");
            if (!strstr(out, want.s))
                print_message("window title of string %d (%s): %s\n", i, label(i), out);
            assert_non_null(strstr(out, want.s));
            nnl_pbuf_free(&want);
            exact++;
        }
        free(out);
        assert_nothing_ran();
    }
    print_message("%d window titles checked exactly\n", exact);
}

int main(void)
{
    char path[4096];
    if (nnl_gnuplot_find(path, sizeof path, NULL) != NNL_OK) {
        printf("gnuplot not installed: skipped\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        hostile[nhostile++] = fixed[i];
    /* Long strings: plain, with quotes and newlines every so often, and
     * all apostrophes. */
    for (size_t i = 0; i < sizeof long1 - 1; i++)
        long1[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof long2 - 1; i++)
        long2[i] = i % 100 == 0 ? '\'' : i % 250 == 7 ? '\n' : i % 77 == 3 ? '"' : 'x';
    memset(long3, '\'', sizeof long3 - 1);
    hostile[nhostile++] = long1;
    hostile[nhostile++] = long2;
    hostile[nhostile++] = long3;
    printf("%d hostile strings\n", nhostile);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(gnuplot_reads_back_exactly_the_string, setup, teardown),
        cmocka_unit_test_setup_teardown(every_plot_kind_shows_the_string, setup, teardown),
        cmocka_unit_test_setup_teardown(window_title_is_one_literal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
