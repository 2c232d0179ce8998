/* Plots without a file: a window when a display and a window terminal
 * exist, else text in the terminal. gnuplot-nox has no window terminal and
 * tests have no display, so a stand-in gnuplot (a shell script) reports
 * "qt" among its terminals and records the scripts it is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "plot/gnuplot.h"
#include "plot/plot.h"

static char dir[256], fake[300], got[300], runs[300];

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_lines(const char *path)
{
    char *s = read_all(path);
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void window_when_display_and_terminal_exist(void **state)
{
    (void)state;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    unsetenv("NNLUA_PLOT_TERM");
    /* No display: text, and gnuplot is not even asked. */
    assert_null(nnl_gnuplot_window_terminal());
    assert_int_equal(count_lines(runs), 0);
    setenv("DISPLAY", ":0", 1);
    setenv("NNLUA_PLOT_TERM", "dumb", 1);
    assert_null(nnl_gnuplot_window_terminal());
    unsetenv("NNLUA_PLOT_TERM");
    /* A display and a gnuplot with qt: the window terminal, asked once. */
    assert_string_equal(nnl_gnuplot_window_terminal(), "qt");
    assert_string_equal(nnl_gnuplot_window_terminal(), "qt");
    assert_int_equal(count_lines(runs), 1);

    double y[3] = {1, 3, 2};
    nnl_plot_series s[1] = {{"y", NULL, y, 3}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    nnl_error err;
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_non_null(strstr(b.s, "set terminal qt size 800,480 font 'DejaVu Sans,11' "
                                "noenhanced persist title 'nnlua'\n"));
    assert_null(strstr(b.s, "set output '"));
    assert_int_equal(nnl_plot_render(&b, &o, "test", &err), NNL_OK);
    /* The stand-in got exactly the script. */
    char *text = read_all(got);
    assert_non_null(text);
    assert_string_equal(text, b.s);
    assert_int_equal(count_lines(runs), 2);
    nnl_pbuf_free(&b);
    /* The plot's title names the window: one literal, quotes doubled,
     * control characters as blanks. */
    o.title = "it's $(id)\n`x`";
    nnl_pbuf_init(&b);
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_non_null(strstr(b.s, "noenhanced persist title 'nnlua: it''s $(id) `x`'\n"));
    nnl_pbuf_free(&b);
    o.title = NULL;
    /* With a file, the display does not matter. */
    o.file = "x.png";
    nnl_pbuf_init(&b);
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_non_null(strstr(b.s, "set terminal pngcairo"));
    nnl_pbuf_free(&b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nnl_plot_window_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(fake, sizeof fake, "%s/gnuplot", dir);
    snprintf(got, sizeof got, "%s/script.gp", dir);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    FILE *f = fopen(fake, "w");
    if (!f)
        return 1;
    fprintf(f, "#!/bin/sh\ncat > '%s'\necho run >> '%s'\n"
               "echo 'terminals: dumb pngcairo qt svg ' >&2\n", got, runs);
    fclose(f);
    chmod(fake, 0755);
    f = fopen(runs, "w");
    if (f)
        fclose(f);
    setenv("NNLUA_GNUPLOT", fake, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_when_display_and_terminal_exist),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(fake);
    unlink(got);
    unlink(runs);
    rmdir(dir);
    return rc;
}
