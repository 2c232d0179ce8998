/* nn.plot.history: loss and each metric per epoch, one panel per quantity,
 * training solid and validation dashed in the same panel. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "plot/plot.h"

/* The quantity a series belongs to: "val_acc" -> "acc". */
static const char *base_name(const char *name)
{
    return strncmp(name, "val_", 4) == 0 && name[4] ? name + 4 : name;
}

/* 1 for a metric that lies in [0, 1] and climbs to 1 (accuracy,
 * precision, recall): a logarithmic axis would squash the part that
 * matters near 1 and stretch the first epochs, so opts.logy leaves it
 * linear. */
static int is_share(const char *q)
{
    return strstr(q, "accuracy") || strstr(q, "precision") || strstr(q, "recall") ||
           strcmp(q, "acc") == 0 || strcmp(q, "auc") == 0;
}

/* The y range of panel q over its whole series (an animation's frames
 * share it), a little wider than the values. */
static void fixed_yrange(nnl_pbuf *b, const nnl_plot_series *s, int ns, const int *panel,
                         int q, int logy)
{
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int i = 0; i < ns; i++)
        for (size_t j = 0; panel[i] == q && j < s[i].n; j++) {
            double v = s[i].y[j];
            if (isfinite(v) && (!logy || v > 0)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    if (!(lo <= hi))
        return;
    if (logy) {
        lo /= 1.15;
        hi *= 1.15;
    } else {
        double pad = hi > lo ? (hi - lo) * 0.05 : (fabs(hi) > 0 ? fabs(hi) * 0.05 : 1);
        lo -= pad;
        hi += pad;
    }
    nnl_pbuf_add(b, "set yrange [");
    nnl_pbuf_num(b, lo);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, hi);
    nnl_pbuf_add(b, "]\n");
}

nnl_status nnl_plot_history(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                            int ns, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (ns <= 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: the history has no series to plot", fn);
    for (int i = 0; i < ns; i++)
        if (!s[i].name || !s[i].name[0])
            return nnl_fail(err, NNL_ERR_ARG, "%s: series %d has no name", fn, i + 1);
    /* Quantities in order of first appearance. */
    int *panel = nnl_calloc((size_t)ns, sizeof *panel);
    const char **qname = nnl_calloc((size_t)ns, sizeof *qname);
    if (!panel || !qname) {
        nnl_free(panel);
        nnl_free(qname);
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", fn);
    }
    int nq = 0;
    size_t maxn = 0;
    for (int i = 0; i < ns; i++) {
        const char *q = base_name(s[i].name);
        int k = 0;
        while (k < nq && strcmp(qname[k], q) != 0)
            k++;
        if (k == nq)
            qname[nq++] = q;
        panel[i] = k;
        if (s[i].n > maxn)
            maxn = s[i].n;
    }
    int cols = nq <= 3 ? nq : 2;
    int rows = (nq + cols - 1) / cols;
    nnl_status st = nnl_plot_begin(b, o, cols == 1 ? 800 : 560 * cols,
                                   rows == 1 ? 480 : 400 * rows, fn, err);
    if (st != NNL_OK)
        goto done;
    for (int i = 0; i < ns; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", i + 1);
        const double *cols2[2] = {s[i].x, s[i].y};
        size_t n = o->upto > 0 && o->upto < s[i].n ? o->upto : s[i].n;
        nnl_plot_datablock(b, name, n, 2, cols2);
    }
    /* A frame of an animation keeps the axes of the whole history. */
    if (o->upto > 0) {
        /* half an epoch on each side: the marks of the first and last
         * epochs are not cut by the border */
        nnl_pbuf_add(b, "set xrange [0.5:");
        nnl_pbuf_num(b, (double)maxn + 0.5);
        nnl_pbuf_add(b, "]\n");
    }
    /* Integer epochs on the x axis while there are few. */
    if (maxn <= 12)
        nnl_pbuf_add(b, "set xtics 1\n");
    const char *title = o->title;
    if (nq > 1) {
        nnl_pbuf_addf(b, "set multiplot layout %d,%d", rows, cols);
        if (title && *title) {
            nnl_pbuf_add(b, " title ");
            nnl_pbuf_quote(b, title);
            nnl_pbuf_add(b, " font ',14'");
        }
        nnl_pbuf_add(b, "\n");
    }
    int marks = maxn <= 30; /* points on the lines while epochs are few */
    for (int q = 0; q < nq; q++) {
        nnl_plot_opts po = *o;
        po.title = nq > 1 ? NULL : o->title;
        nnl_plot_labels(b, &po, qname[q], "epoch", NULL);
        int logy = o->logy && !is_share(qname[q]);
        if (logy) {
            double lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < ns; i++)
                if (panel[i] == q) {
                    double l, h;
                    nnl_plot_positive_range(&s[i], 1, &l, &h);
                    lo = fmin(lo, l);
                    hi = fmax(hi, h);
                }
            nnl_plot_log_axis(b, "y", lo, hi);
        }
        if (o->upto > 0)
            fixed_yrange(b, s, ns, panel, q, logy);
        /* The key where neither curve is: a validation curve that rises
         * while the training one falls must not run under it. */
        nnl_plot_series in[2];
        int m = 0;
        for (int i = 0; i < ns && m < 2; i++)
            if (panel[i] == q)
                in[m++] = s[i];
        nnl_pbuf_addf(b, "set key %s\n", nnl_plot_key_corner(in, m, logy));
        nnl_pbuf_add(b, "plot ");
        int first = 1;
        for (int i = 0; i < ns; i++) {
            if (panel[i] != q)
                continue;
            int val = strncmp(s[i].name, "val_", 4) == 0 && s[i].name[4];
            nnl_pbuf_addf(b, "%s$s%d using 1:2 with %s lt %d%s", first ? "" : ", \\\n     ",
                          i + 1, marks ? "linespoints" : "lines", val ? 2 : 1,
                          val ? " dt (8,4)" : "");
            nnl_plot_pt(b, o, val ? 2 : 1, val ? 5 : 7);
            nnl_pbuf_add(b, " title ");
            nnl_pbuf_quote(b, val ? "validation" : "training");
            first = 0;
        }
        nnl_pbuf_add(b, "\n");
        if (logy)
            nnl_plot_log_axis_reset(b, "y");
    }
    if (nq > 1)
        nnl_pbuf_add(b, "unset multiplot\n");
    nnl_plot_end(b, o);
    st = nnl_pbuf_check(b, fn, err);
done:
    nnl_free(panel);
    nnl_free(qname);
    return st;
}
