/* The loss-surface builder (src/plot/plot_surface.c) without gnuplot: the
 * grid, contour table and paths in the script, the lowest cell found, the
 * scale chosen (log when the values crowd the bottom, forced either way),
 * the text version, refusals of bad input, and out-of-memory. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "plot/plot.h"
#include "plot/script.h"

static nnl_pbuf b;
static nnl_error err;

static int setup(void **state)
{
    (void)state;
    nnl_pbuf_init(&b);
    nnl_error_clear(&err);
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nnl_pbuf_free(&b);
    return 0;
}

#define HAS(text) has(text, 1)
#define HASNT(text) has(text, 0)
static void has(const char *text, int want)
{
    int found = strstr(b.s, text) != NULL;
    if (found != want)
        fail_msg("script %s \"%s\":\n%s", want ? "lacks" : "has", text, b.s);
}

/* A 4 x 3 bowl over [0,3]x[0,2] with its lowest cell at (1, 1). */
static const double bowl[12] = {5, 2, 5, 6, /* w2 = 0 */
                                4, 1, 4, 5, /* w2 = 1 */
                                5, 2, 5, 6}; /* w2 = 2 */

static nnl_plot_surface_data surface(const double *z, const nnl_plot_path *p, int np)
{
    nnl_plot_surface_data s;
    memset(&s, 0, sizeof s);
    s.z = z;
    s.gx = 4;
    s.gy = 3;
    s.x0 = 0, s.x1 = 3, s.y0 = 0, s.y1 = 2;
    s.paths = p;
    s.np = np;
    s.logscale = -1;
    return s;
}

static void png_opts(nnl_plot_opts *o, const char *file)
{
    nnl_plot_opts_init(o);
    o->file = file;
    o->who = "nn.plot.loss_surface";
}

static void script_has_grid_contours_paths(void **state)
{
    (void)state;
    double w1[3] = {3, 2, 1}, w2[3] = {2, 1.5, 1};
    nnl_plot_path p[1] = {{"sgd, lr 0.1", w1, w2, 3}};
    nnl_plot_surface_data s = surface(bowl, p, 1);
    s.mark_name = "start";
    s.mark_x = 3, s.mark_y = 2;
    nnl_plot_opts o;
    png_opts(&o, "s.png");
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HAS("$grid << EOD\n0 0 5\n1 0 2\n2 0 5\n3 0 6\n\n0 1 4\n");
    HAS("set contour base");
    HAS("set table $contours\nsplot $grid using 1:2:3 with lines");
    /* the colours: the grid refined 4 times each way, bilinear */
    HAS("$image << EOD\n0 0 5\n0.25 0 4.25\n0.5 0 3.5\n");
    HAS("plot $image using 1:2:3 with image notitle");
    HAS("set xrange [-0.125:3.125]");
    HAS("$path1 << EOD\n3 2\n2 1.5\n1 1\nEOD");
    HAS("title 'sgd, lr 0.1'");
    HAS("$mark << EOD\n3 2\nEOD");
    HAS("title 'start'");
    HAS("$lowest << EOD\n1 1\nEOD"); /* the cell of value 1 */
    HAS("$path1 every ::2::2 using 1:2 with points pt 5"); /* the end square */
    HAS("set xlabel 'w1'");
    HAS("set ylabel 'w2'");
    HAS("set cblabel 'loss' offset");
    HAS("set size ratio -1");
    HASNT("logscale cb");
    /* round linear levels inside (1, 6) */
    HAS("set cntrparam levels discrete 1.5,2,2.5,3,3.5,4,4.5,5,5.5\n");
}

static void log_scale_when_values_crowd_the_bottom(void **state)
{
    (void)state;
    double z[12] = {0.01, 0.02, 0.01, 0.03, 0.02, 0.05, 0.01, 0.02, 0.04, 0.02, 0.01, 900};
    nnl_plot_surface_data s = surface(z, NULL, 0);
    nnl_plot_opts o;
    png_opts(&o, "s.png");
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HAS("set logscale cb");
    HAS("(log scale)");
    HAS("set cbtics (");
    HAS("set cntrparam levels discrete 1,2,5,10,20,50,100,200,500\n"); /* top 3 decades */
    HASNT("title 'start'");
    HASNT("end (square)");
    nnl_pbuf_free(&b);
    s.logscale = 0;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HASNT("logscale cb");
    nnl_pbuf_free(&b);
    /* the bowl is linear unless asked; negative values are never log */
    s = surface(bowl, NULL, 0);
    s.logscale = 1;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HAS("set logscale cb");
    nnl_pbuf_free(&b);
    double neg[12];
    for (int i = 0; i < 12; i++)
        neg[i] = bowl[i] - 10;
    s = surface(neg, NULL, 0);
    s.logscale = 1;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HASNT("logscale cb");
}

static void text_version(void **state)
{
    (void)state;
    double w1[2] = {3, 1}, w2[2] = {2, 1};
    nnl_plot_path p[2] = {{"sgd", w1, w2, 2}, {"adam", w1, w2, 2}};
    nnl_plot_surface_data s = surface(bowl, p, 2);
    s.mark_name = "start";
    s.mark_x = 3, s.mark_y = 2;
    nnl_plot_opts o;
    png_opts(&o, "s.txt");
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HAS("set terminal dumb");
    HAS("$text1 << EOD");
    HASNT("with image");
    HASNT("set table"); /* no contour lines in characters */
    HAS("$path1 using 1:2 with linespoints lt 1 lw 4.5 pt 'o' title 'sgd'");
    HAS("$path2 using 1:2 with linespoints lt 2 lw 2 pt 'x' title 'adam'");
    HAS("pt 'O' title 'start'");
    HAS("title 'loss: blank lowest, then . : - ='");
    HASNT("set size ratio");
}

static void refusals(void **state)
{
    (void)state;
    nnl_plot_opts o;
    png_opts(&o, "s.png");
    nnl_plot_surface_data s = surface(bowl, NULL, 0);
    s.gx = 1;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "nn.plot.loss_surface: a 1x3 grid"));
    s = surface(bowl, NULL, 0);
    s.x1 = s.x0;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "empty or infinite area"));
    s = surface(bowl, NULL, 0);
    s.np = 65;
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_ERR_ARG);
    double nan[12];
    for (int i = 0; i < 12; i++)
        nan[i] = NAN;
    s = surface(nan, NULL, 0);
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "not finite anywhere"));
    /* NaN cells are skipped: the lowest is the finite one */
    nan[7] = 3;
    s = surface(nan, NULL, 0);
    assert_int_equal(nnl_plot_surface(&b, &o, &s, &err), NNL_OK);
    HAS("$lowest << EOD\n3 1\nEOD");
}

static void out_of_memory(void **state)
{
    (void)state;
    nnl_plot_opts o;
    png_opts(&o, "s.png");
    double w1[2] = {3, 1}, w2[2] = {2, 1};
    nnl_plot_path p[1] = {{"sgd", w1, w2, 2}};
    int succeeded = 0;
    for (long n = 0; n < 60 && !succeeded; n++) {
        nnl_plot_surface_data s = surface(bowl, p, 1); /* automatic scale: sorts a copy */
        nnl_pbuf_free(&b);
        long live = nnl_alloc_live();
        nnl_alloc_fail_after(n);
        nnl_status st = nnl_plot_surface(&b, &o, &s, &err);
        nnl_alloc_fail_reset();
        if (st == NNL_OK)
            succeeded = 1;
        else
            assert_int_equal(st, NNL_ERR_NOMEM);
        nnl_pbuf_free(&b);
        assert_int_equal(nnl_alloc_live(), live);
    }
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(script_has_grid_contours_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(log_scale_when_values_crowd_the_bottom, setup, teardown),
        cmocka_unit_test_setup_teardown(text_version, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
