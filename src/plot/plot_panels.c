/* Small multiples: one panel per subject (an activation and its
 * derivative, say) in a grid, so that curves of different subjects do not
 * lie on top of each other and one key does not cover half the picture. */
#include <stdio.h>
#include <string.h>

#include "plot/plot.h"

nnl_status nnl_plot_panels(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                           int ns, const int *panel, const char *const *titles, int np,
                           nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (ns <= 0 || np <= 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: nothing to plot", fn);
    size_t total = 0;
    for (int i = 0; i < ns; i++) {
        if (s[i].n == 0)
            return nnl_fail(err, NNL_ERR_ARG, "%s: line %d has no points", fn, i + 1);
        if (panel[i] < 0 || panel[i] >= np)
            return nnl_fail(err, NNL_ERR_ARG, "%s: line %d's panel %d is not 1..%d", fn,
                            i + 1, panel[i] + 1, np);
        total += s[i].n;
    }
    if (total > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu points are too many to draw (at most %zu); "
                        "plot a sample", fn, total, NNL_PLOT_MAX_POINTS);
    int cols = np <= 3 ? np : np == 4 ? 2 : 3;
    int rows = (np + cols - 1) / cols;
    int text = nnl_plot_is_text(o);
    nnl_status st = nnl_plot_begin(b, o, cols == 1 ? 800 : 440 * cols,
                                   rows == 1 ? 420 : 320 * rows, fn, err);
    if (st != NNL_OK)
        return st;
    for (int i = 0; i < ns; i++) {
        char name[32];
        snprintf(name, sizeof name, "line%d", i + 1);
        const double *c2[2] = {s[i].x, s[i].y};
        nnl_plot_datablock(b, name, s[i].n, 2, c2);
    }
    nnl_pbuf_addf(b, "set multiplot layout %d,%d", rows, cols);
    if (o->title && *o->title) {
        nnl_pbuf_add(b, " title ");
        nnl_pbuf_quote(b, o->title);
        nnl_pbuf_add(b, " font ',14'");
    }
    nnl_pbuf_add(b, "\n");
    /* the axis labels once, on the panels of the bottom row and the left
     * column: repeated on every panel they crowd the small plots */
    for (int p = 0; p < np; p++) {
        int bottom = p + cols >= np, left = p % cols == 0;
        nnl_pbuf_add(b, "set title ");
        nnl_pbuf_quote(b, titles[p] ? titles[p] : "");
        nnl_pbuf_add(b, text ? "\n" : " font ',11'\n");
        nnl_pbuf_add(b, "unset xlabel\nunset ylabel\n");
        if (bottom && o->xlabel) {
            nnl_pbuf_add(b, "set xlabel ");
            nnl_pbuf_quote(b, o->xlabel);
            nnl_pbuf_add(b, "\n");
        }
        if (left && o->ylabel) {
            nnl_pbuf_add(b, "set ylabel ");
            nnl_pbuf_quote(b, o->ylabel);
            nnl_pbuf_add(b, "\n");
        }
        int m = 0; /* the panel's series, for the key's corner */
        nnl_plot_series in[8];
        for (int i = 0; i < ns && m < 8; i++)
            if (panel[i] == p)
                in[m++] = s[i];
        nnl_pbuf_addf(b, "set key %s\nplot ", nnl_plot_key_corner(in, m, 0));
        /* the palette without its yellow, too faint for a thin line on white */
        int lt = p % (NNL_PLOT_NCOLORS - 1) + 1;
        lt += lt >= 7;
        int k = 0;
        for (int i = 0; i < ns; i++) {
            if (panel[i] != p)
                continue;
            /* text has no dashes: the lines differ by their marks */
            nnl_pbuf_addf(b, "%s$line%d using 1:2 with %s lt %d lw %s%s", k ? ", \\\n     " : "",
                          i + 1, text ? "linespoints pi 6" : "lines", lt,
                          k ? "1.5" : "2.5", k && !text ? " dt (6,4)" : "");
            if (text)
                nnl_plot_pt(b, o, k + 1, 0);
            nnl_pbuf_add(b, " title ");
            nnl_pbuf_quote(b, s[i].name ? s[i].name : "");
            k++;
        }
        if (k == 0) /* an empty panel still takes its place in the grid */
            nnl_pbuf_add(b, "NaN notitle");
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "unset multiplot\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
