/* nn.plot.lines: one or more named lines over shared or separate x. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/plot.h"

nnl_status nnl_plot_lines(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                          int ns, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (ns <= 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: nothing to plot", fn);
    size_t maxn = 0, total = 0;
    for (int i = 0; i < ns; i++) {
        if (s[i].n == 0)
            return nnl_fail(err, NNL_ERR_ARG, "%s: line %d has no points", fn, i + 1);
        if (s[i].n > maxn)
            maxn = s[i].n;
        total += s[i].n;
    }
    if (total > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu points are too many to draw (at most %zu); "
                        "plot a sample", fn, total, NNL_PLOT_MAX_POINTS);
    nnl_status st = nnl_plot_begin(b, o, 800, 480, fn, err);
    if (st != NNL_OK)
        return st;
    for (int i = 0; i < ns; i++) {
        char name[32];
        snprintf(name, sizeof name, "line%d", i + 1);
        const double *cols[2] = {s[i].x, s[i].y};
        nnl_plot_datablock(b, name, s[i].n, 2, cols);
    }
    nnl_plot_labels(b, o, NULL, "x", "y");
    /* Whole-number x (epochs, steps) gets whole-number ticks: a student
     * reads "epoch 1.5" as something that happened. */
    int whole = 1;
    double xmin = 0, xmax = 0;
    for (int i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++) {
            double x = s[i].x ? s[i].x[k] : (double)(k + 1);
            whole &= fabs(x) < 9007199254740992.0 && x == floor(x); /* no cast of 1e30 */
            if ((i == 0 && k == 0) || x < xmin)
                xmin = x;
            if ((i == 0 && k == 0) || x > xmax)
                xmax = x;
        }
    if (whole && xmax - xmin <= 20)
        nnl_pbuf_add(b, "set xtics 1\n");
    else if (whole)
        nnl_pbuf_add(b, "set xtics format \"%.0f\"\n");
    if (o->logy) {
        double lo, hi;
        nnl_plot_positive_range(s, ns, &lo, &hi);
        nnl_plot_log_axis(b, "y", lo, hi);
    }
    /* Many lines: the key beside the plot, not over the lines. */
    size_t longest = 0;
    for (int i = 0; i < ns; i++)
        if (s[i].name && strlen(s[i].name) > longest)
            longest = strlen(s[i].name);
    if (ns > 4 && longest > 24) /* long names (formulas) read best under the plot */
        nnl_pbuf_add(b, "set key below\n");
    else if (ns > 4)
        nnl_pbuf_add(b, "set key outside right top\n");
    else { /* inside, where the curves are not; else under the plot when the
            * names are long (beside it they take a third of the width) */
        const char *where = nnl_plot_key_corner(s, ns, o->logy);
        if (strncmp(where, "outside", 7) == 0 && longest > 14)
            where = "below";
        nnl_pbuf_addf(b, "set key %s\n", where);
    }
    nnl_pbuf_add(b, "plot ");
    for (int i = 0; i < ns; i++) {
        /* past the palette, the colours come back dashed */
        nnl_pbuf_addf(b, "%s$line%d using 1:2 with %s lt %d ", i ? ", \\\n     " : "",
                      i + 1, maxn <= 25 ? "linespoints" : "lines", i % NNL_PLOT_NCOLORS + 1);
        if (i >= NNL_PLOT_NCOLORS)
            nnl_pbuf_addf(b, "dt %d ", i / NNL_PLOT_NCOLORS % 4 + 2);
        if (s[i].name) {
            nnl_pbuf_add(b, "title ");
            nnl_pbuf_quote(b, s[i].name);
        } else {
            nnl_pbuf_add(b, "notitle");
        }
    }
    nnl_pbuf_add(b, "\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
