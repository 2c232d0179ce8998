/* nn.plot.hist: a histogram with equal bins, counted here (not by
 * gnuplot's smooth frequency) so the script holds plain counts. */
#include <math.h>
#include <stdio.h>

#include "core/alloc.h"
#include "plot/plot.h"

nnl_status nnl_plot_hist(nnl_pbuf *b, const nnl_plot_opts *o, const double *v, size_t n,
                         int bins, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    double lo = INFINITY, hi = -INFINITY;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
            m++;
        }
    if (m == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: no finite values to count (%zu given)", fn, n);
    if (bins < 0 || bins > 100000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: bins must be 1..100000, got %d", fn, bins);
    if (bins == 0) {
        /* Sturges' rule, at least 5 and at most 60 bins. */
        bins = (int)ceil(log2((double)m)) + 1;
        bins = bins < 5 ? 5 : bins > 60 ? 60 : bins;
    }
    if (hi == lo) {
        /* One value: a bin around it, wide enough to change a large value
         * (4.6e18 - 0.5 is 4.6e18 again). */
        double pad = fmax(0.5, fabs(lo) * 1e-9);
        lo -= pad;
        hi += pad;
    }
    /* hi/bins - lo/bins: hi - lo overflows for values near the double
     * range. */
    double width = hi / bins - lo / bins;
    double *count = nnl_calloc((size_t)bins, sizeof *count);
    double *center = nnl_calloc((size_t)bins, sizeof *center);
    if (!count || !center) {
        nnl_free(count);
        nnl_free(center);
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for %d bins", fn, bins);
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        /* Compared as a double before the conversion: a quotient beyond
         * int (or NaN) would be undefined behaviour. */
        double q = (v[i] / width) - (lo / width);
        int k = !(q > 0.0) ? 0 : q >= (double)bins ? bins - 1 : (int)q;
        count[k] += 1;
    }
    for (int k = 0; k < bins; k++)
        center[k] = lo + (k + 0.5) * width;
    nnl_status st = nnl_plot_begin(b, o, 800, 480, fn, err);
    if (st == NNL_OK) {
        const double *cols[2] = {center, count};
        nnl_plot_datablock(b, "bins", (size_t)bins, 2, cols);
        nnl_plot_labels(b, o, NULL, "value", "count");
        nnl_pbuf_addf(b, "set boxwidth %.9g absolute\n", width);
        if (!nnl_plot_is_text(o))
            nnl_pbuf_add(b, "set grid noxtics\n");
        nnl_pbuf_add(b, "set yrange [0:*]\nunset key\n"
                        "plot $bins using 1:2 with boxes lt 1 fill solid 0.85 "
                        "border lc rgb '#ffffff' notitle\n");
        nnl_plot_end(b, o);
        st = nnl_pbuf_check(b, fn, err);
    }
    nnl_free(count);
    nnl_free(center);
    return st;
}
