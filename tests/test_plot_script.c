/* The gnuplot scripts nnlua writes (src/plot), without running gnuplot:
 * quoting of strings and file names, the terminal chosen from the file
 * name, and the script text of every plot kind (data blocks, styles,
 * labels; conv filters, feature maps and map blocks too), refusals of bad
 * input, and out-of-memory at every allocation. */
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

/* Requires the script to contain s. */
#define HAS(text) assert_non_null_msg(strstr(b.s, text), text)
#define HASNT(text) assert_null(strstr(b.s, text))
static void assert_non_null_msg(const char *p, const char *what)
{
    if (!p)
        fail_msg("script lacks \"%s\":\n%s", what, b.s);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The quoted form of s as a string. */
static const char *quoted(const char *s)
{
    nnl_pbuf_clear(&b);
    nnl_pbuf_quote(&b, s);
    return b.s;
}

static void quote_plain_and_quotes(void **state)
{
    (void)state;
    assert_string_equal(quoted("loss"), "'loss'");
    /* Apostrophes go in double quotes (gnuplot reads a single-quoted
     * piece that starts with two apostrophes as '' and then junk). */
    assert_string_equal(quoted("it's"), "'it'.\"'\".'s'");
    assert_string_equal(quoted("'90s"), "\"'\".'90s'");
    assert_string_equal(quoted("''"), "\"''\"");
    assert_string_equal(quoted(""), "''");
    assert_string_equal(quoted(NULL), "''");
    /* Backslashes, $, backticks and @ are literal inside single quotes. */
    assert_string_equal(quoted("a\\b $(touch x) `id` @m"), "'a\\b $(touch x) `id` @m'");
}

static void quote_control_characters(void **state)
{
    (void)state;
    assert_string_equal(quoted("a\nb"), "'a'.\"\\012\".'b'");
    assert_string_equal(quoted("\n"), "\"\\012\"");
    assert_string_equal(quoted("x\t\r"), "'x'.\"\\011\\015\"");
    assert_string_equal(quoted("\n'"), "\"\\012'\"");
    assert_string_equal(quoted("\x1b[31m"), "\"\\033\".'[31m'");
    /* Bytes above 127 (UTF-8) pass through. */
    assert_string_equal(quoted("\xc3\xa9t\xc3\xa9"), "'\xc3\xa9t\xc3\xa9'");
}

static void quote_paths_gnuplot_would_reinterpret(void **state)
{
    (void)state;
    nnl_pbuf_quote_path(&b, "|touch pwned");
    assert_string_equal(b.s, "'./'.'|touch pwned'");
    nnl_pbuf_clear(&b);
    nnl_pbuf_quote_path(&b, "~/x.png");
    assert_string_equal(b.s, "'./'.'~/x.png'");
    nnl_pbuf_clear(&b);
    nnl_pbuf_quote_path(&b, "plots/a b.png");
    assert_string_equal(b.s, "'plots/a b.png'");
}

static void numbers_and_nan(void **state)
{
    (void)state;
    nnl_pbuf_num(&b, 0.1);
    nnl_pbuf_add(&b, " ");
    nnl_pbuf_num(&b, NAN);
    nnl_pbuf_add(&b, " ");
    nnl_pbuf_num(&b, INFINITY);
    nnl_pbuf_add(&b, " ");
    nnl_pbuf_num(&b, -3);
    assert_string_equal(b.s, "0.1 NaN NaN -3");
}

static void buffer_grows_past_first_block(void **state)
{
    (void)state;
    for (int i = 0; i < 5000; i++)
        nnl_pbuf_addf(&b, "%04d\n", i);
    assert_int_equal(b.len, 25000);
    assert_memory_equal(b.s + 5 * 4999, "4999\n", 5);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nnl_pbuf_addf(&b, "<%s>", big); /* longer than addf's stack buffer */
    assert_int_equal(b.len, 25000 + 1001);
    assert_int_equal(b.s[b.len - 1], '>');
}

/* The terminal line for a file name. */
static const char *term_for(const char *file)
{
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = file;
    nnl_pbuf_clear(&b);
    if (nnl_plot_begin(&b, &o, 800, 500, "test", &err) != NNL_OK)
        return NULL;
    return strstr(b.s, "set terminal");
}

static void terminal_from_extension(void **state)
{
    (void)state;
    assert_non_null(strstr(term_for("a.png"), "set terminal pngcairo size 800,500"));
    assert_non_null(strstr(term_for("A.PNG"), "pngcairo"));
    assert_non_null(strstr(term_for("a.svg"), "set terminal svg size 800,500"));
    assert_non_null(strstr(term_for("a.pdf"), "set terminal pdfcairo size 8.00in,5.00in"));
    assert_non_null(strstr(term_for("a.txt"), "set terminal dumb"));
    HAS("set output 'a.txt'");
    HASNT("set grid"); /* a grid in characters would hide the curves */
    HAS("noenhanced");
    /* No file and no display: text in the terminal, no set output. */
    assert_non_null(strstr(term_for(NULL), "set terminal dumb"));
    HASNT("set output");
    assert_null(term_for("a.jpg"));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "'.jpg'"));
    assert_non_null(strstr(err.msg, ".png, .svg, .pdf, .gif or .txt"));
    assert_null(term_for("noext"));
    assert_null(term_for("dir.png/file"));
}

/* A still .gif, and the frames of an animation: no terminal, output or
 * closing of the output (the animation's script has them once), the size
 * for the animation to take, and graphics (not text) whatever the file. */
static void gif_and_animation_frames(void **state)
{
    (void)state;
    assert_non_null(strstr(term_for("a.GIF"), "set terminal gif size 800,500"));
    HAS("set output 'a.GIF'");
    HAS("set style fill solid 1 "); /* libgd draws a translucent fill grey */
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.frame = 1;
    o.width = 640;
    assert_int_equal(nnl_plot_is_text(&o), 0);
    double y[3] = {3, 2, 1};
    nnl_plot_series s = {"loss", NULL, y, 3};
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_history(&b, &o, &s, 1, &err), NNL_OK);
    assert_int_equal(strncmp(b.s, "# nnlua frame size 640,480\n", 27), 0);
    HASNT("set terminal");
    HASNT("set output");
    HASNT("unset output");
    HAS("reset session"); /* keeps the terminal, drops the frame before's settings */
    HAS("set linetype 1 lc rgb '#0072B2'");
    /* The animation around the frames. */
    nnl_plot_opts a;
    nnl_plot_opts_init(&a);
    a.file = "fit.gif";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_animation(&b, &a, "/tmp/frames it's.gp", 640, 480, 25, &err),
                     NNL_OK);
    HAS("set terminal gif animate delay 25 loop 0 size 640,480");
    HAS("set output 'fit.gif'\nload '/tmp/frames it'.\"'\".'s.gp'\nunset output\n");
    nnl_pbuf_clear(&b);
    a.file = "fit.png";
    assert_int_equal(nnl_plot_animation(&b, &a, "f", 640, 480, 25, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, ".gif"));
    a.file = "fit.gif";
    assert_int_equal(nnl_plot_animation(&b, &a, "f", 640, 480, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "delay"));
}

/* History frames (upto) keep the whole history's axes. */
static void history_frame_keeps_the_whole_axes(void **state)
{
    (void)state;
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.frame = 1;
    o.upto = 2;
    double y[4] = {4, 3, 2, 0};
    nnl_plot_series s = {"loss", NULL, y, 4};
    assert_int_equal(nnl_plot_history(&b, &o, &s, 1, &err), NNL_OK);
    HAS("$s1 << EOD\n1 4\n2 3\nEOD\n"); /* the first two epochs only */
    HAS("set xrange [0.5:4.5]");
    HAS("set yrange [-0.2:4.2]"); /* all four values, 5% more each way */
}

static void house_style_is_okabe_ito(void **state)
{
    (void)state;
    term_for("x.png");
    HAS("set linetype 1 lc rgb '#0072B2'");
    HAS("set linetype 2 lc rgb '#E69F00'");
    HAS("set linetype 3 lc rgb '#009E73'");
    HAS("set grid back");
    HAS("set border 3");
}

static void history_panels_and_data(void **state)
{
    (void)state;
    double loss[3] = {0.9, 0.5, 0.25}, vloss[3] = {1.0, 0.6, 0.4};
    double acc[3] = {0.5, 0.7, 0.8};
    nnl_plot_series s[3] = {{"loss", NULL, loss, 3}, {"val_loss", NULL, vloss, 3},
                            {"accuracy", NULL, acc, 3}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "h.png";
    o.title = "my run";
    assert_int_equal(nnl_plot_history(&b, &o, s, 3, &err), NNL_OK);
    HAS("$s1 << EOD\n1 0.9\n2 0.5\n3 0.25\nEOD\n");
    HAS("$s2 << EOD\n1 1\n2 0.6\n3 0.4\nEOD\n");
    HAS("set multiplot layout 1,2 title 'my run'");
    HAS("set title 'loss'");
    HAS("set title 'accuracy'");
    HAS("set xlabel 'epoch'");
    /* Loss and val_loss share a panel; validation is dashed. */
    HAS("$s1 using 1:2 with linespoints lt 1 pt 7 title 'training', \\\n"
        "     $s2 using 1:2 with linespoints lt 2 dt (8,4) pt 5 title 'validation'");
    HAS("$s3 using 1:2 with linespoints lt 1 pt 7 title 'training'\n");
    /* Accuracy rises: its key goes bottom right; loss falls: top. */
    HAS("set key top right\nplot $s1");
    HAS("set key bottom right\nplot $s3");
    HAS("unset multiplot\nunset output\n");
    assert_int_equal(count(b.s, "\nplot "), 2);
    /* logy: the loss panel only; accuracy lies in [0, 1] and stays linear. */
    o.logy = 1;
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_history(&b, &o, s, 3, &err), NNL_OK);
    assert_int_equal(count(b.s, "\nset logscale y\n"), 1);
    /* loss spans 0.25..1: its own range, with ticks inside it */
    HAS("set logscale y\nset format y \"%g\"\nset yrange [");
    HAS("set ytics (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1)\nset key top right\nplot $s1");
    HAS("unset logscale y\nset autoscale y\nset ytics autofreq\n");
    HAS("set key bottom right\nplot $s3");
    const char *acc_panel = strstr(b.s, "set title 'accuracy'");
    assert_non_null(acc_panel);
    assert_null(strstr(acc_panel, "set logscale"));
}

/* Log axes keep to the data: ticks inside a range under two decades
 * (gnuplot widens it to whole decades with two ticks), gnuplot's own for
 * wider ones; counted axes get whole-number ticks. */
static void axes_readable(void **state)
{
    (void)state;
    nnl_plot_log_axis(&b, "y", 1.0, 1.3);
    double a, z;
    const char *r = strstr(b.s, "set yrange [");
    assert_non_null(r);
    assert_int_equal(sscanf(r, "set yrange [%lf:%lf]", &a, &z), 2);
    assert_true(a < 1.0 && a > 0.9 && z > 1.3 && z < 1.45);
    const char *t = strstr(b.s, "set ytics (");
    assert_non_null(t);
    int n = 0;
    for (const char *p = t + 11; *p && *p != ')'; n++) {
        char *end;
        double v = strtod(p, &end);
        assert_true(end > p && v >= a && v <= z);
        p = *end == ',' ? end + 2 : end;
    }
    assert_true(n >= 4);
    nnl_pbuf_clear(&b);
    nnl_plot_log_axis(&b, "y", 1e-4, 1.0); /* four decades: gnuplot's ticks */
    HAS("set logscale y\n");
    HASNT("set ytics (");
    HASNT("yrange");
    nnl_pbuf_clear(&b);
    nnl_plot_log_axis(&b, "y", INFINITY, -INFINITY); /* nothing positive */
    HASNT("set ytics (");
    nnl_pbuf_clear(&b);
    nnl_plot_whole_tics(&b, "x", 8);
    HAS("set xtics 0, 1 format \"%.0f\"\n");
    HASNT("add");
    nnl_pbuf_clear(&b);
    nnl_plot_whole_tics(&b, "y", 70);
    HAS("set ytics 0, 10 format \"%.0f\"\nset ytics add (1)\n");
    nnl_pbuf_clear(&b);
    nnl_plot_whole_tics(&b, "x", 3000);
    HAS("set xtics 0, 500 ");
    /* the key goes where no curve is: a rising curve leaves the bottom
     * right (and top left) free, a falling one the top right, an X of two
     * lines no corner */
    double up[5] = {1, 4, 9, 16, 25}, down[5] = {25, 16, 9, 4, 1};
    nnl_plot_series rise[1] = {{"up", NULL, up, 5}}, x2[2] = {{"up", NULL, up, 5},
                                                              {"down", NULL, down, 5}};
    assert_string_equal(nnl_plot_key_corner(rise, 1, 0), "bottom right");
    assert_string_equal(nnl_plot_key_corner(&x2[1], 1, 0), "top right");
    assert_string_equal(nnl_plot_key_corner(x2, 2, 0), "outside right top");
    /* on a log axis the corners are the drawn ones: 1, 10, 100, 1000 hugs
     * the bottom and shoots up at the end on a linear axis (the top left
     * is free), and is a diagonal on a log axis (the bottom right is) */
    double grow[4] = {1, 10, 100, 1000};
    nnl_plot_series g[1] = {{"grow", NULL, grow, 4}};
    assert_string_equal(nnl_plot_key_corner(g, 1, 0), "top left");
    assert_string_equal(nnl_plot_key_corner(g, 1, 1), "bottom right");
}

/* Small multiples: a panel per title, each series in its panel's colour,
 * the second one dashed; axis labels on the outer panels only. */
static void panels_grid(void **state)
{
    (void)state;
    double x[3] = {0, 1, 2}, f[3] = {0, 1, 4}, g[3] = {0, 2, 4}, h[3] = {1, 1, 1};
    nnl_plot_series s[3] = {{"f", x, f, 3}, {"f'", x, g, 3}, {"h", x, h, 3}};
    int panel[3] = {0, 0, 1};
    const char *titles[2] = {"f(x) = x^2", "h(x) = 1"};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "p.png";
    o.xlabel = "x";
    o.ylabel = "value";
    assert_int_equal(nnl_plot_panels(&b, &o, s, 3, panel, titles, 2, &err), NNL_OK);
    HAS("set multiplot layout 1,2\n");
    HAS("set title 'f(x) = x^2'");
    HAS("set title 'h(x) = 1'");
    HAS("$line1 using 1:2 with lines lt 1 lw 2.5 title 'f', \\\n"
        "     $line2 using 1:2 with lines lt 1 lw 1.5 dt (6,4) title 'f'.\"'\"\n");
    HAS("$line3 using 1:2 with lines lt 2 lw 2.5 title 'h'\n");
    assert_int_equal(count(b.s, "set ylabel 'value'"), 1); /* the left panel only */
    assert_int_equal(count(b.s, "set xlabel 'x'"), 2);     /* both are on the bottom row */
    HAS("unset multiplot\n");
    nnl_pbuf_clear(&b);
    o.file = "p.txt"; /* text: marks instead of dashes */
    assert_int_equal(nnl_plot_panels(&b, &o, s, 3, panel, titles, 2, &err), NNL_OK);
    HASNT("dt (6,4)");
    HAS("with linespoints pi 6 lt 1");
    panel[2] = 2;
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_panels(&b, &o, s, 3, panel, titles, 2, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "panel 3"));
}

/* Overfitting: the validation loss turns up into the top right, where
 * the key used to sit over it. */
static void history_key_clear_of_rising_validation(void **state)
{
    (void)state;
    double loss[5] = {1.0, 0.6, 0.3, 0.2, 0.1}, vloss[5] = {0.9, 0.7, 0.8, 1.0, 1.2};
    nnl_plot_series s[2] = {{"loss", NULL, loss, 5}, {"val_loss", NULL, vloss, 5}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "h.png";
    assert_int_equal(nnl_plot_history(&b, &o, s, 2, &err), NNL_OK);
    HAS("set key bottom left\nplot $s1");
}

static void history_single_panel_and_errors(void **state)
{
    (void)state;
    double loss[40];
    for (int i = 0; i < 40; i++)
        loss[i] = 1.0 / (i + 1);
    nnl_plot_series s[1] = {{"loss", NULL, loss, 40}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "h.txt";
    o.logy = 1;
    o.who = "nn.plot.history"; /* the caller's name, for messages */
    assert_int_equal(nnl_plot_history(&b, &o, s, 1, &err), NNL_OK);
    HASNT("multiplot");
    HAS("set logscale y");
    HAS("with lines lt 1"); /* many epochs: no point marks */
    HASNT("set xtics 1");
    assert_int_equal(nnl_plot_history(&b, &o, s, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "nn.plot.history"));
}

static void lines_and_names(void **state)
{
    (void)state;
    double x[3] = {0, 1, 2}, y1[3] = {0, 1, 4}, y2[3] = {3, 2, 1};
    nnl_plot_series s[2] = {{"squares", x, y1, 3}, {NULL, NULL, y2, 3}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "l.svg";
    o.xlabel = "n";
    assert_int_equal(nnl_plot_lines(&b, &o, s, 2, &err), NNL_OK);
    HAS("$line1 << EOD\n0 0\n1 1\n2 4\nEOD");
    HAS("$line2 << EOD\n1 3\n2 2\n3 1\nEOD");
    HAS("title 'squares'");
    HAS("$line2 using 1:2 with linespoints lt 2 notitle");
    HAS("set xlabel 'n'");
    HAS("set ylabel 'y'");
}

static void scatter_by_class(void **state)
{
    (void)state;
    double x[4] = {0, 1, 2, 3}, y[4] = {5, 6, 7, 8};
    int cls[4] = {2, 1, 2, 1};
    const char *names[2] = {"cat", NULL};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "s.png";
    assert_int_equal(nnl_plot_scatter(&b, &o, x, y, 4, cls, 2, names, &err), NNL_OK);
    HAS("$class1 << EOD\n1 6\n3 8\nEOD");
    HAS("$class2 << EOD\n0 5\n2 7\nEOD");
    HAS("title 'cat'");
    HAS("title 'class 2'");
    cls[3] = 3;
    assert_int_equal(nnl_plot_scatter(&b, &o, x, y, 4, cls, 2, names, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "point 4 has class 3"));
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_scatter(&b, &o, x, y, 4, NULL, 0, NULL, &err), NNL_OK);
    HAS("$points << EOD\n0 5\n");
}

static void hist_counts(void **state)
{
    (void)state;
    double v[7] = {0, 0.5, 1, 1.5, 2, 2, NAN};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "h.pdf";
    assert_int_equal(nnl_plot_hist(&b, &o, v, 7, 2, &err), NNL_OK);
    /* Bins [0,1) and [1,2]: the maximum falls in the last bin. */
    HAS("$bins << EOD\n0.5 2\n1.5 4\nEOD");
    HAS("set boxwidth 1 absolute");
    HAS("with boxes");
    double nan1[1] = {NAN};
    assert_int_equal(nnl_plot_hist(&b, &o, nan1, 1, 0, &err), NNL_ERR_ARG);
    /* All equal: one unit-wide range around the value. */
    double same[3] = {4, 4, 4};
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_hist(&b, &o, same, 3, 1, &err), NNL_OK);
    HAS("$bins << EOD\n4 3\nEOD");
}

static void heatmap_matrix(void **state)
{
    (void)state;
    float w[6] = {1, -2, 0.5f, 0, 3, -1}; /* 2 inputs x 3 units */
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "w.png";
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 2, 3, 0, 0, 0, &err), NNL_OK);
    HAS("$w << EOD\n1 -2 0.5\n0 3 -1\nEOD");
    HAS("set cbrange [-3:3]");
    HAS("set palette defined (-1 '#E69F00', 0 '#ffffff', 1 '#0072B2')");
    HAS("weights (2 inputs x 3 units)");
    HAS("with image");
}

static void heatmap_tiles(void **state)
{
    (void)state;
    /* 4 inputs (2x2 images) x 3 units: unit j's weights are column j. */
    float w[12] = {1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "t.png";
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 4, 3, 2, 2, 0, &err), NNL_OK);
    /* A 2x2 grid of 2x2 tiles with one blank (NaN) pixel between. */
    HAS("$tiles << EOD\n"
        "1 2 NaN 10 20\n"
        "3 4 NaN 30 40\n"
        "NaN NaN NaN NaN NaN\n"
        "100 200 NaN NaN NaN\n"
        "300 400 NaN NaN NaN\nEOD");
    HAS("set cbrange [-400:400]");
    HAS("incoming weights of 3 units (2x2 each)");
    /* Fewer tiles than units. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 4, 3, 2, 2, 2, &err), NNL_OK);
    HAS("units 1-2 of 3");
    HAS("set cbrange [-40:40]");
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 4, 3, 3, 2, 0, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "image {3, 2} holds 6 weights but each unit has 4 inputs"));
}

static void confusion_cells(void **state)
{
    (void)state;
    double c[4] = {3, 1, 0, 4};
    const char *names[2] = {"no", "yes"};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "c.png";
    assert_int_equal(nnl_plot_confusion(&b, &o, c, 2, names, &err), NNL_OK);
    /* x predicted, y true, count, share of the row, label colour. */
    HAS("$cells << EOD\n1 1 3 0.750000 16777215\n2 1 1 0.250000 2105376\n"
        "1 2 0 0.000000 2105376\n2 2 4 1.000000 16777215\nEOD");
    HAS("accuracy 87.5% of 8");
    HAS("set xtics ('no' 1, 'yes' 2)");
    HAS("with labels");
    double bad[4] = {1, -1, 0, 0};
    assert_int_equal(nnl_plot_confusion(&b, &o, bad, 2, NULL, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "cell 1,2"));
}

static void boundary_regions(void **state)
{
    (void)state;
    int grid[6] = {1, 1, 2, 1, 2, 2}; /* 3 x 2 */
    double px[2] = {0, 1}, py[2] = {0, 1};
    int pc[2] = {1, 2};
    nnl_plot_regions r = {grid, 3, 2, 0, 2, 0, 1, px, py, pc, 2, 2, NULL};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "b.png";
    assert_int_equal(nnl_plot_boundary(&b, &o, &r, &err), NNL_OK);
    HAS("$regions << EOD\n0 0 1\n1 0 1\n2 0 2\n\n0 1 1\n1 1 2\n2 1 2\n\nEOD");
    HAS("$class1 << EOD\n0 0\nEOD");
    HAS("$class2 << EOD\n1 1\nEOD");
    HAS("set cbrange [0.5:2.5]");
    HAS("title 'class 2'");
    grid[4] = 3;
    assert_int_equal(nnl_plot_boundary(&b, &o, &r, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "grid cell 5 has class 3"));
}

/* The points of data block $name as (x, y) pairs into xs/ys (at most n);
 * returns how many. */
static int block_points(const char *script, const char *name, double *xs, double *ys, int n)
{
    char head[32];
    snprintf(head, sizeof head, "%s << EOD\n", name);
    const char *p = strstr(script, head);
    if (!p)
        return -1;
    p += strlen(head);
    int k = 0;
    while (strncmp(p, "EOD\n", 4) != 0) {
        char *end;
        double x = strtod(p, &end), y = strtod(end, &end);
        if (k < n)
            xs[k] = x, ys[k] = y;
        k++;
        p = strchr(end, '\n') + 1;
    }
    return k;
}

/* The points of data block $name: how many, and whether each lies in a
 * grid cell of class c (nearest cell of a gx x gy grid over [0,2]x[0,1]). */
static int block_points_in_class(const char *script, const char *name, const int *grid, int gx,
                                 int gy, int c, int *count)
{
    static double xs[100000], ys[100000];
    *count = block_points(script, name, xs, ys, 100000);
    if (*count < 0 || *count > 100000) {
        *count = 0;
        return 0;
    }
    int ok = 1;
    for (int k = 0; k < *count; k++) {
        int gi = (int)(xs[k] / (2.0 / (gx - 1)) + 0.5), gj = (int)(ys[k] / (1.0 / (gy - 1)) + 0.5);
        gi = gi < 0 ? 0 : gi >= gx ? gx - 1 : gi;
        gj = gj < 0 ? 0 : gj >= gy ? gy - 1 : gj;
        ok &= grid[gj * gx + gi] == c;
    }
    return ok;
}

/* Text has no colours: series get marks (o x + ...), decision regions
 * characters in every cell (gnuplot's dumb terminal draws no images). */
static void text_plots_use_marks_and_region_characters(void **state)
{
    (void)state;
    int grid[6] = {1, 1, 2, 1, 2, 2}; /* 3 x 2 over [0,2] x [0,1] */
    double px[2] = {0, 1}, py[2] = {0, 1};
    int pc[2] = {1, 2};
    nnl_plot_regions r = {grid, 3, 2, 0, 2, 0, 1, px, py, pc, 2, 2, NULL};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "b.txt";
    assert_int_equal(nnl_plot_boundary(&b, &o, &r, &err), NNL_OK);
    HASNT("with image");
    HAS("$text1 using 1:2 with points pt '.'");
    HAS("$text2 using 1:2 with points pt '-'");
    HAS("$class1 using 1:2 with points lt 1 pt 'o' title 'class 1'");
    HAS("$class2 using 1:2 with points lt 2 pt 'x' title 'class 2'");
    /* Every sample is in a cell of its class; together they cover two
     * samples per character each way (760 x 600 pixels: 84 x 33). */
    int n1, n2;
    assert_true(block_points_in_class(b.s, "$text1", grid, 3, 2, 1, &n1));
    assert_true(block_points_in_class(b.s, "$text2", grid, 3, 2, 2, &n2));
    int cols, rows;
    nnl_plot_text_size(&o, 760, 600, &cols, &rows);
    assert_int_equal(cols, 84);
    assert_int_equal(rows, 33);
    assert_int_equal(n1 + n2, 2 * cols * 2 * rows);
    assert_true(n1 > 0 && n2 > 0);
    HASNT("$text3"); /* a block per class, not per character */
    /* Eight classes: eight region characters, none a quote (it would end
     * the gnuplot string it stands in). */
    int grid8[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* 4 x 2 */
    nnl_plot_regions r8 = {grid8, 4, 2, 0, 2, 0, 1, px, py, pc, 2, 8, NULL};
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_boundary(&b, &o, &r8, &err), NNL_OK);
    HAS("$text8 using 1:2 with points pt ','");
    HASNT("pt '''");
    HASNT("$text9");
    /* A PNG keeps the image and round marks. */
    o.file = "b.png";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_boundary(&b, &o, &r, &err), NNL_OK);
    HAS("with image");
    HASNT("$text1");
    HASNT("pt 'o'");
    /* History in text: training o, validation x; the line types too. */
    double loss[3] = {0.9, 0.5, 0.25}, vloss[3] = {1.0, 0.6, 0.4};
    nnl_plot_series hs[2] = {{"loss", NULL, loss, 3}, {"val_loss", NULL, vloss, 3}};
    o.file = "h.txt";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_history(&b, &o, hs, 2, &err), NNL_OK);
    HAS("lt 1 pt 'o' title 'training'");
    HAS("lt 2 dt (8,4) pt 'x' title 'validation'");
    HAS("set linetype 3 lc rgb '#009E73' lw 2 pt '+' ps 0.9");
    o.file = "h.png";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_history(&b, &o, hs, 2, &err), NNL_OK);
    HAS("lt 1 pt 7 title 'training'");
    HAS("set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 0.9");
    assert_int_equal(nnl_plot_text_mark(1), 'o');
    assert_int_equal(nnl_plot_text_mark(9), 'o'); /* cycles like the colours */
}


/* Heat maps and the confusion matrix in text: characters by value
 * (= - + #, blank near zero), the counts alone; no images, no colour box. */
static void text_heatmap_and_confusion(void **state)
{
    (void)state;
    /* 2 inputs x 2 units: 1 -> '#', -1 -> '=', 0 -> blank, 0.3 -> '+'. */
    float w[4] = {1.0f, -1.0f, 0.0f, 0.3f};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "w.txt";
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 2, 2, 0, 0, 0, &err), NNL_OK);
    HASNT("with image");
    HASNT("$w << EOD");
    HAS("unset colorbox");
    HAS("$text1 using 1:2 with points pt '='");
    HAS("$text4 using 1:2 with points pt '#'");
    HAS("# + positive, - = negative");
    static double xs[100000], ys[100000];
    /* Each level's samples lie in the cell of that value: x = unit, y =
     * input (1-based cell centres, cells 1 wide). */
    const struct { const char *block; double unit, input; } want[3] = {
        {"$text4", 1, 1}, {"$text1", 2, 1}, {"$text3", 2, 2}};
    int total = 0;
    for (int i = 0; i < 3; i++) {
        int n = block_points(b.s, want[i].block, xs, ys, 100000);
        assert_true(n > 0);
        for (int k = 0; k < n; k++) {
            assert_true(fabs(xs[k] - want[i].unit) <= 0.5);
            assert_true(fabs(ys[k] - want[i].input) <= 0.5);
        }
        total += n;
    }
    assert_int_equal(block_points(b.s, "$text2", xs, ys, 100000), 0); /* no weak negatives */
    int cols, rows;
    nnl_plot_text_size(&o, 700, 700, &cols, &rows);
    assert_int_equal(total, 3 * (2 * cols * 2 * rows) / 4); /* 3 of the 4 cells */
    /* Tiles too. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_heatmap(&b, &o, w, 2, 2, 1, 2, 0, &err), NNL_OK);
    HASNT("with image");
    HAS("$text4 using 1:2 with points pt '#'");
    HAS("(1x2 each): # + positive, - = negative");
    /* The confusion matrix: counts only, rows named in the title. */
    double c[4] = {5, 1, 0, 4};
    const char *names[2] = {"cat", "dog"};
    o.file = "c.txt";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_confusion(&b, &o, c, 2, names, &err), NNL_OK);
    HASNT("with image");
    HASNT("set ylabel");
    HAS("rows: true class");
    HAS("unset colorbox\nplot $cells using 1:2:(sprintf('%d', int($3))) with labels notitle\n");
}

static void network_small_shows_everything(void **state)
{
    (void)state;
    float k1[6] = {1, -1, 0.5f, -0.25f, 0, 2}; /* 2 x 3 */
    float b1[3] = {0.1f, -0.2f, 0};
    float k2[3] = {1, 1, -1};
    nnl_plot_layer l[3] = {{2, "input", "2 inputs", NULL, NULL, 0, 0, 0, 0, 0},
                           {3, "dense", "3 units\ntanh", k1, b1, 0, 0, 0, 0, 0},
                           {1, "dense_1", "1 unit\nsigmoid", k2, NULL, 0, 0, 0, 0, 0}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "n.png";
    assert_int_equal(nnl_plot_network(&b, &o, l, 3, 0, &err), NNL_OK);
    HAS("set title 'network 2-3-1'");
    HAS("set label '3 units'.\"\\012\".'tanh'");
    HASNT("more");
    /* Every edge: 2*3 + 3*1 = 9 lines in the edge blocks. */
    int edges = 0;
    for (int c = 1; c <= 4; c++) {
        char name[16];
        snprintf(name, sizeof name, "$edges%d << EOD\n", c);
        const char *p = strstr(b.s, name);
        assert_non_null(p);
        p += strlen(name);
        const char *end = strstr(p, "EOD\n");
        for (; p < end; p++)
            edges += *p == '\n';
    }
    assert_int_equal(edges, 9);
    /* The strongest weight (2, input 2 -> unit 3) is opaque blue, in the
     * widest class; 0 (input 2 -> unit 2) nearly transparent orange-free. */
    HAS("$edges4 << EOD\n0 -0.5 1 -0.5 29362\n"); /* 0x0072B2, alpha byte 0 */
    HAS("weight or bias > 0");
    /* Text shows no colours, so no key of signs either. */
    o.file = "n.txt";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_network(&b, &o, l, 3, 0, &err), NNL_OK);
    HAS("pt 'O'");
    HASNT("weight or bias");
    o.file = "n.png";
    /* Structure only: grey, no sign legend. */
    l[1].kernel = l[2].kernel = NULL;
    l[1].bias = NULL;
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_network(&b, &o, l, 3, 0, &err), NNL_OK);
    HASNT("weight or bias");
    HAS(" 2155905152\n"); /* grey 0x808080 at half opacity (alpha byte 0x80) */
}

static void network_large_elides(void **state)
{
    (void)state;
    nnl_plot_layer l[4] = {{784, "input", NULL, NULL, NULL, 0, 0, 0, 0, 0},
                           {256, "dense", NULL, NULL, NULL, 0, 0, 0, 0, 0},
                           {128, "dense_1", NULL, NULL, NULL, 0, 0, 0, 0, 0},
                           {10, "dense_2", NULL, NULL, NULL, 0, 0, 0, 0, 0}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "n.png";
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 10, &err), NNL_OK);
    /* 10 slots: 5 first, the mark, 4 last. */
    HAS("'... 775 more'");
    HAS("'... 247 more'");
    HAS("'... 119 more'");
    HASNT("'... 1 more'");
    assert_int_equal(count(b.s, " more'"), 3);
    assert_int_equal(count(b.s, "\n3 "), 10); /* 10 output neurons at x = 3 */
    l[2].units = 0;
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 10, &err), NNL_ERR_ARG);
}

/* The rows of the composed tile picture ($tiles) that hold a tile, as one
 * string: "v v NaN v v\n..." (label bands, all NaN, left out). */
static const char *tile_rows(char *out, size_t size)
{
    const char *p = strstr(b.s, "$tiles << EOD\n");
    assert_non_null(p);
    p += strlen("$tiles << EOD\n");
    size_t n = 0;
    out[0] = '\0';
    while (strncmp(p, "EOD\n", 4) != 0) {
        const char *e = strchr(p, '\n') + 1;
        int blank = 1;
        for (const char *q = p; q < e; q++)
            if (*q >= '0' && *q <= '9')
                blank = 0;
        if (!blank && n + (size_t)(e - p) < size) {
            memcpy(out + n, p, (size_t)(e - p));
            n += (size_t)(e - p);
            out[n] = '\0';
        }
        p = e;
    }
    return out;
}

/* Conv filters: one tile per filter (one input channel), in a grid,
 * numbered, on one symmetric scale; the kernel's layout is kh, kw, in,
 * out (Keras's). */
static void filters_grid(void **state)
{
    (void)state;
    /* 2x2 kernels, 1 input channel, 3 filters: filter f at (r, c) is
     * 10 (f + 1) + 2 r + c + 1. */
    float k[12];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++)
            for (int f = 0; f < 3; f++)
                k[(r * 2 + c) * 3 + f] = (float)(10 * (f + 1) + 2 * r + c + 1);
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "f.png";
    assert_int_equal(nnl_plot_filters(&b, &o, k, 2, 2, 1, 3, 0, 0, 0, "conv2d", &err), NNL_OK);
    HAS("set title 'conv2d: 3 filters (2x2)'");
    char rows[512];
    /* 2 columns: filters 1 and 2, then 3; a pixel of gap between tiles */
    assert_string_equal(tile_rows(rows, sizeof rows),
                        "11 12 NaN 21 22\n13 14 NaN 23 24\n31 32 NaN NaN NaN\n33 34 NaN NaN NaN\n");
    HAS("set cbrange [-34:34]");
    HAS("set label '1' at 0.5,");
    HAS("set label '2' at 3.5,");
    HAS("set label '3' at 0.5,");
    HASNT("set label '4'");
    HAS("with image");
    assert_int_equal(count(b.s, "set object"), 3); /* a frame per tile */
    /* At most max_filters, said in the title. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_filters(&b, &o, k, 2, 2, 1, 3, 2, 0, 0, NULL, &err), NNL_OK);
    HAS("set title 'filters: filters 1-2 of 3 (2x2)'");
    assert_string_equal(tile_rows(rows, sizeof rows), "11 12 NaN 21 22\n13 14 NaN 23 24\n");
    /* Refusals: empty or huge. */
    assert_int_equal(nnl_plot_filters(&b, &o, k, 0, 2, 1, 3, 0, 0, 0, NULL, &err), NNL_ERR_ARG);
    assert_int_equal(nnl_plot_filters(&b, &o, k, 2000, 2, 1, 3, 0, 0, 0, NULL, &err),
                     NNL_ERR_ARG);
}

/* More input channels: a row per filter, a tile per channel (labelled),
 * or the channels' mean per filter. */
static void filters_by_channel_and_mean(void **state)
{
    (void)state;
    /* 1x1 kernels, 2 channels, 2 filters: value 10 ch + f + 1. */
    float k[4];
    for (int ch = 0; ch < 2; ch++)
        for (int f = 0; f < 2; f++)
            k[ch * 2 + f] = (float)(10 * ch + f + 1);
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "f.png";
    assert_int_equal(nnl_plot_filters(&b, &o, k, 1, 1, 2, 2, 0, 0, 0, "c", &err), NNL_OK);
    HAS("set title 'c: 2 filters (1x1), a row each, by input channel'");
    char rows[256];
    assert_string_equal(tile_rows(rows, sizeof rows), "1 NaN 11\n2 NaN 12\n");
    HAS("set label 'filter 1'");
    HAS("set label 'filter 2'");
    HAS("set label 'ch 1'");
    HAS("set label 'ch 2'");
    HAS("set lmargin 10");
    /* The first channel only. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_filters(&b, &o, k, 1, 1, 2, 2, 0, 1, 0, "c", &err), NNL_OK);
    HAS("by input channel (1-1 of 2)'");
    assert_string_equal(tile_rows(rows, sizeof rows), "1\n2\n");
    /* The mean: one tile per filter again. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_filters(&b, &o, k, 1, 1, 2, 2, 0, 0, 1, "c", &err), NNL_OK);
    HAS("set title 'c: 2 filters (1x1), mean over 2 input channels'");
    assert_string_equal(tile_rows(rows, sizeof rows), "6 NaN 7\n");
    HASNT("'filter 1'");
    HAS("set cbrange [-7:7]");
}

/* Feature maps: a numbered tile per channel (channels last), one scale
 * from the smallest value (white) to the largest. */
static void feature_maps_tiles(void **state)
{
    (void)state;
    float x[12]; /* 2 x 2 x 3: 10 ch + 2 i + j */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int ch = 0; ch < 3; ch++)
                x[(i * 2 + j) * 3 + ch] = (float)(10 * ch + 2 * i + j);
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "m.png";
    assert_int_equal(nnl_plot_feature_maps(&b, &o, x, 2, 2, 3, 0, 0, "conv2d (Conv2D)", &err),
                     NNL_OK);
    HAS("set title 'conv2d (Conv2D): 3 feature maps (2x2) of one input'");
    char rows[512];
    assert_string_equal(tile_rows(rows, sizeof rows),
                        "0 1 NaN 10 11\n2 3 NaN 12 13\n20 21 NaN NaN NaN\n22 23 NaN NaN NaN\n");
    HAS("set cbrange [0:23]");
    HAS("set palette defined (0 '#ffffff'");
    HAS("set label '3' at 0.5,");
    /* At most max_maps. */
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_feature_maps(&b, &o, x, 2, 2, 3, 0, 1, "l", &err), NNL_OK);
    HAS("'l: feature maps 1-1 of 3 (2x2) of one input'");
    assert_string_equal(tile_rows(rows, sizeof rows), "0 1\n2 3\n");
    /* All equal (dead maps): a range of width 1, nothing divided by 0. */
    float z[4] = {0, 0, 0, 0};
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_feature_maps(&b, &o, z, 2, 2, 1, 0, 0, "l", &err), NNL_OK);
    HAS("set cbrange [0:1]");
    /* Too many pixels to draw; empty maps. */
    assert_int_equal(nnl_plot_feature_maps(&b, &o, x, 3000, 3000, 1, 0, 0, "l", &err),
                     NNL_ERR_ARG);
    assert_int_equal(nnl_plot_feature_maps(&b, &o, x, 0, 2, 3, 0, 0, "l", &err), NNL_ERR_ARG);
}

/* Text: no images; filters by sign (= - + #), maps in fifths of their
 * range (. : + #, blank lowest), every tile still numbered. */
static void text_filters_and_maps(void **state)
{
    (void)state;
    float k[2] = {1.0f, -1.0f}; /* 1x1, 1 channel, 2 filters */
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "f.txt";
    assert_int_equal(nnl_plot_filters(&b, &o, k, 1, 1, 1, 2, 0, 0, 0, "c", &err), NNL_OK);
    HASNT("with image");
    HASNT("$tiles");
    HAS("'c: 2 filters (1x1)'.\"\\012\".'# + positive, - = negative'");
    HAS("$text4 using 1:2 with points pt '#'");
    HAS("$text1 using 1:2 with points pt '='");
    HAS("set label '1'");
    HAS("set label '2'");
    static double xs[100000], ys[100000];
    /* filter 1 (+1) is the tile at x = 0, filter 2 (-1) at x = 2 */
    int n4 = block_points(b.s, "$text4", xs, ys, 100000);
    assert_true(n4 > 0);
    for (int i = 0; i < n4; i++)
        assert_true(xs[i] > -0.5 && xs[i] < 0.5);
    int n1 = block_points(b.s, "$text1", xs, ys, 100000);
    assert_true(n1 > 0);
    for (int i = 0; i < n1; i++)
        assert_true(xs[i] > 1.5 && xs[i] < 2.5);
    /* Maps: values 0, 1, 2, 3, 4 in five 1x1 maps: blank, then . : + #. */
    float x[5] = {0, 1, 2, 3, 4};
    o.file = "m.txt";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_feature_maps(&b, &o, x, 1, 1, 5, 0, 0, "l", &err), NNL_OK);
    HASNT("with image");
    HAS("# highest, then + : . and blank lowest");
    HAS("$text1 using 1:2 with points pt '.'");
    HAS("$text2 using 1:2 with points pt ':'");
    HAS("$text3 using 1:2 with points pt '+'");
    HAS("$text4 using 1:2 with points pt '#'");
    HAS("set label '5'");
    /* 3 columns (1x1 maps): map 5 (4, the highest) is the second tile of
     * the second row, map 1 (0, the lowest) has no characters. */
    n4 = block_points(b.s, "$text4", xs, ys, 100000);
    assert_true(n4 > 0);
    for (int i = 0; i < n4; i++)
        assert_true(xs[i] > 1.5 && xs[i] < 2.5);
    /* map 4 ('+') is below map 1, in the same column: every character in
     * that column is at map 4's height or lower (down is +y here) */
    int n3 = block_points(b.s, "$text3", xs, ys, 100000);
    assert_true(n3 > 0);
    double row2 = 1e9;
    for (int i = 0; i < n3; i++) {
        assert_true(xs[i] > -0.5 && xs[i] < 0.5);
        row2 = ys[i] < row2 ? ys[i] : row2;
    }
    assert_true(row2 > 1);
    for (int lv = 1; lv <= 4; lv++) {
        char name[16];
        snprintf(name, sizeof name, "$text%d", lv);
        int nl = block_points(b.s, name, xs, ys, 100000);
        assert_true(nl > 0);
        for (int i = 0; i < nl; i++)
            if (xs[i] > -0.5 && xs[i] < 0.5)
                assert_true(ys[i] >= row2);
    }
    /* A sequence: a strip per channel, numbered on the left. */
    nnl_pbuf_clear(&b);
    float sq[6] = {0, 10, 1, 11, 2, 12}; /* 3 steps x 2 channels */
    o.file = "m.png";
    assert_int_equal(nnl_plot_feature_maps(&b, &o, sq, 1, 3, 2, 1, 0, "c1", &err), NNL_OK);
    HAS("'c1: 2 feature maps (3 steps) of one input'");
    char rows[128];
    assert_string_equal(tile_rows(rows, sizeof rows), "0 1 2\n10 11 12\n");
    HAS("set label '2' at -0.5,");
    HAS("right offset -1,0");
}

/* Maps layers in the diagram: blocks of sheets with their shapes in the
 * title, grey links (a line between blocks, a fan to the neurons), no
 * weight edges into the first Dense after them. */
static void network_maps_blocks(void **state)
{
    (void)state;
    float bias[10] = {0.1f};
    nnl_plot_layer l[4] = {{64, "input", "8x8x1 input", NULL, NULL, 1, 8, 8, 1, 0},
                           {288, "conv2d", "6x6x8", NULL, NULL, 1, 6, 6, 8, 1},
                           {72, "pool", "3x3x8", NULL, NULL, 1, 3, 3, 8, 0},
                           {10, "dense", "10 units", NULL, bias, 0, 0, 0, 0, 0}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "n.png";
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 0, &err), NNL_OK);
    HAS("set title 'network 8x8x1-6x6x8-3x3x8-10'");
    /* sheets: 1 channel 1, 8 channels 1 + log2(8) = 4 */
    assert_int_equal(count(b.s, "set object"), 1 + 4 + 4);
    assert_int_equal(count(b.s, "fillcolor rgb '#cfe0f1'"), 4); /* the conv learns */
    assert_int_equal(count(b.s, "fillcolor rgb '#e4e4e4'"), 5);
    const char *p = strstr(b.s, "$links << EOD\n");
    assert_non_null(p);
    int lines = 0;
    for (p += strlen("$links << EOD\n"); strncmp(p, "EOD\n", 4) != 0; p = strchr(p, '\n') + 1)
        lines++;
    assert_int_equal(lines, 2 + 10); /* block to block twice, a fan to 10 neurons */
    HAS("$links using 1:2:3:4 with vectors nohead");
    HAS("$edges1 << EOD\nEOD\n"); /* no weight edges */
    /* the pooling block is smaller than the conv block, which is smaller
     * than the input: heights 0.8 * 7 * (h / 8) */
    HAS("set object 1 rectangle from -0.");
    /* Text: two sheets at most, outlines drawn by gnuplot. */
    o.file = "n.txt";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 0, &err), NNL_OK);
    assert_int_equal(count(b.s, "set object"), 1 + 2 + 2);
    HAS("pt 'O'");
    /* Only maps: no neurons plotted, still a plot command. */
    o.file = "n.png";
    nnl_pbuf_clear(&b);
    assert_int_equal(nnl_plot_network(&b, &o, l, 3, 0, &err), NNL_OK);
    HASNT("$neurons using");
    HAS("NaN notitle\n");
    /* Bad maps: no size, or weight edges into a block. */
    l[1].mc = 0;
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 0, &err), NNL_ERR_ARG);
    l[1].mc = 8;
    float kk[64 * 288];
    l[1].kernel = kk;
    assert_int_equal(nnl_plot_network(&b, &o, l, 4, 0, &err), NNL_ERR_ARG);
}

static void nasty_title_is_quoted(void **state)
{
    (void)state;
    double y[2] = {1, 2};
    nnl_plot_series s[1] = {{"it's `id` $(x)\n", NULL, y, 2}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "a'b.png";
    o.title = "t'\\";
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    HAS("set output 'a'.\"'\".'b.png'\n");
    HAS("set title 't'.\"'\".'\\'\n");
    HAS("title 'it'.\"'\".'s `id` $(x)'.\"\\012\"\n");
}

/* Every builder fails cleanly (NOMEM, nothing leaked) at each allocation. */
static void out_of_memory_everywhere(void **state)
{
    (void)state;
    double y[3] = {1, 2, 3};
    nnl_plot_series s[2] = {{"loss", NULL, y, 3}, {"val_loss", NULL, y, 3}};
    float w[4] = {1, 2, 3, 4};
    nnl_plot_layer l[2] = {{2, "in", NULL, NULL, NULL, 0, 0, 0, 0, 0},
                           {2, "d", "x", w, NULL, 0, 0, 0, 0, 0}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "m.png";
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nnl_plot_layer ml[2] = {{8, "in", NULL, NULL, NULL, 1, 2, 2, 2, 0},
                            {2, "d", "x", NULL, NULL, 0, 0, 0, 0, 0}};
    for (int kind = 0; kind < 7; kind++) {
        int succeeded = 0;
        for (long n = 0; n < 50 && !succeeded; n++) {
            nnl_pbuf_free(&b);
            long live = nnl_alloc_live();
            nnl_alloc_fail_after(n);
            nnl_status st = kind == 0   ? nnl_plot_history(&b, &o, s, 2, &err)
                            : kind == 1 ? nnl_plot_hist(&b, &o, y, 3, 0, &err)
                            : kind == 2 ? nnl_plot_network(&b, &o, l, 2, 0, &err)
                            : kind == 3 ? nnl_plot_heatmap(&b, &o, w, 2, 2, 1, 2, 0, &err)
                            : kind == 4 ? nnl_plot_filters(&b, &o, x, 1, 2, 2, 2, 0, 0, 0, "c",
                                                           &err)
                            : kind == 5 ? nnl_plot_feature_maps(&b, &o, x, 2, 2, 2, 0, 0, "m",
                                                                &err)
                                        : nnl_plot_network(&b, &o, ml, 2, 0, &err);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(quote_plain_and_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(quote_control_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(quote_paths_gnuplot_would_reinterpret, setup, teardown),
        cmocka_unit_test_setup_teardown(numbers_and_nan, setup, teardown),
        cmocka_unit_test_setup_teardown(buffer_grows_past_first_block, setup, teardown),
        cmocka_unit_test_setup_teardown(terminal_from_extension, setup, teardown),
        cmocka_unit_test_setup_teardown(house_style_is_okabe_ito, setup, teardown),
        cmocka_unit_test_setup_teardown(gif_and_animation_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(history_frame_keeps_the_whole_axes, setup, teardown),
        cmocka_unit_test_setup_teardown(history_panels_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(history_single_panel_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(scatter_by_class, setup, teardown),
        cmocka_unit_test_setup_teardown(hist_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(heatmap_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(heatmap_tiles, setup, teardown),
        cmocka_unit_test_setup_teardown(confusion_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(boundary_regions, setup, teardown),
        cmocka_unit_test_setup_teardown(text_plots_use_marks_and_region_characters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(text_heatmap_and_confusion, setup, teardown),
        cmocka_unit_test_setup_teardown(network_small_shows_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(network_large_elides, setup, teardown),
        cmocka_unit_test_setup_teardown(filters_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(filters_by_channel_and_mean, setup, teardown),
        cmocka_unit_test_setup_teardown(feature_maps_tiles, setup, teardown),
        cmocka_unit_test_setup_teardown(text_filters_and_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(network_maps_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(nasty_title_is_quoted, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(axes_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(history_key_clear_of_rising_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(panels_grid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
