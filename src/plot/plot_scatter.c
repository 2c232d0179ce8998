/* nn.plot.scatter: points, coloured by class when classes are given. */
#include <stdio.h>

#include "core/alloc.h"
#include "plot/plot.h"

nnl_status nnl_plot_scatter(nnl_pbuf *b, const nnl_plot_opts *o, const double *x,
                            const double *y, size_t n, const int *cls, int k,
                            const char *const *names, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (n == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: no points to plot", fn);
    if (n > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu points are too many to draw (at most %zu); "
                        "plot a sample", fn, n, NNL_PLOT_MAX_POINTS);
    if (cls) {
        if (k < 1)
            return nnl_fail(err, NNL_ERR_ARG, "%s: %d classes", fn, k);
        for (size_t i = 0; i < n; i++)
            if (cls[i] < 1 || cls[i] > k)
                return nnl_fail(err, NNL_ERR_RANGE, "%s: point %zu has class %d, expected 1..%d",
                                fn, i + 1, cls[i], k);
    }
    nnl_status st = nnl_plot_begin(b, o, 640, 560, fn, err);
    if (st != NNL_OK)
        return st;
    if (!cls) {
        const double *cols[2] = {x, y};
        nnl_plot_datablock(b, "points", n, 2, cols);
    } else {
        /* One block per class, so each gets its colour and key entry. */
        for (int c = 1; c <= k; c++) {
            nnl_pbuf_addf(b, "$class%d << EOD\n", c);
            for (size_t i = 0; i < n; i++)
                if (cls[i] == c) {
                    nnl_pbuf_num(b, x[i]);
                    nnl_pbuf_add(b, " ");
                    nnl_pbuf_num(b, y[i]);
                    nnl_pbuf_add(b, "\n");
                }
            nnl_pbuf_add(b, "EOD\n");
        }
    }
    nnl_plot_labels(b, o, NULL, "x", "y");
    nnl_pbuf_add(b, "set key outside right top\n");
    double ps = n > 2000 ? 0.4 : n > 300 ? 0.7 : 1.0;
    if (!cls) {
        nnl_pbuf_add(b, "plot $points using 1:2 with points lt 1");
        nnl_plot_pt(b, o, 1, 7);
        nnl_pbuf_addf(b, " ps %.2g notitle\n", ps);
    } else {
        nnl_pbuf_add(b, "plot ");
        for (int c = 1; c <= k; c++) {
            nnl_pbuf_addf(b, "%s$class%d using 1:2 with points lt %d ps %.2g title ",
                          c > 1 ? ", \\\n     " : "", c, (c - 1) % NNL_PLOT_NCOLORS + 1, ps);
            if (names && names[c - 1]) {
                nnl_pbuf_quote(b, names[c - 1]);
            } else {
                char t[32];
                snprintf(t, sizeof t, "class %d", c);
                nnl_pbuf_quote(b, t);
            }
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
