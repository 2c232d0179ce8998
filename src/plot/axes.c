/* Axes a student can read: whole-number ticks on counted axes, and log
 * axes with ticks inside the data's range.
 *
 * gnuplot puts log ticks only at
 * powers of ten and widens the range to whole decades, so gradient norms
 * between 1.0 and 1.3 sat flat on the bottom of a 1..10 axis with two
 * ticks. Here a range of under two decades is drawn as it is, with ticks
 * at 1-2-5 or 1..9 steps of each decade, or evenly spaced when even those
 * are too few. */
#include <math.h>

#include "plot/plot.h"

/* Ticks m * 10^k (m from mant[0..nm)) in [lo, hi], into t (at most cap);
 * returns how many. */
static int decade_ticks(double lo, double hi, const int *mant, int nm, double *t, int cap)
{
    int n = 0;
    for (int k = (int)floor(log10(lo)) - 1; k <= (int)ceil(log10(hi)); k++)
        for (int i = 0; i < nm; i++) {
            double v = mant[i] * pow(10.0, k);
            if (v >= lo && v <= hi && n < cap)
                t[n++] = v;
        }
    return n;
}

/* Evenly spaced ticks of a 1-2-5 step in [lo, hi] (at least 4). */
static int even_ticks(double lo, double hi, double *t, int cap)
{
    double step = pow(10.0, floor(log10((hi - lo) / 4)));
    if ((hi - lo) / step > 10)
        step *= (hi - lo) / step > 20 ? 5 : 2;
    int n = 0;
    for (double v = ceil(lo / step) * step; v <= hi && n < cap; v += step)
        t[n++] = v;
    return n;
}

void nnl_plot_log_axis(nnl_pbuf *b, const char *axis, double lo, double hi)
{
    nnl_pbuf_addf(b, "set logscale %s\nset format %s \"%%g\"\n", axis, axis);
    if (!(lo > 0 && hi >= lo && isfinite(hi)) || hi / lo >= 100)
        return; /* two decades or more (or nothing positive): gnuplot's ticks */
    double pad = pow(hi / lo, 0.05);
    if (pad < 1.05)
        pad = 1.05;
    double a = lo / pad, z = hi * pad;
    static const int one[] = {1}, few[] = {1, 2, 5}, all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    double t[64];
    int n = decade_ticks(a, z, one, 1, t, 64);
    if (n < 3)
        n = decade_ticks(a, z, few, 3, t, 64);
    if (n < 3)
        n = decade_ticks(a, z, all, 9, t, 64);
    if (n < 4)
        n = even_ticks(a, z, t, 64);
    nnl_pbuf_addf(b, "set %srange [%.17g:%.17g]\nset m%stics 1\nset %stics (", axis, a, z,
                  axis, axis);
    for (int i = 0; i < n; i++)
        nnl_pbuf_addf(b, "%s%.15g", i ? ", " : "", t[i]);
    nnl_pbuf_add(b, ")\n");
}

void nnl_plot_log_axis_reset(nnl_pbuf *b, const char *axis)
{
    nnl_pbuf_addf(b, "unset logscale %s\nset autoscale %s\nset %stics autofreq\n"
                  "set m%stics default\nset format %s\n", axis, axis, axis, axis, axis);
}

void nnl_plot_positive_range(const nnl_plot_series *s, int ns, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++) {
            double v = s[i].y[k];
            if (v > 0 && isfinite(v)) {
                if (v < *lo)
                    *lo = v;
                if (v > *hi)
                    *hi = v;
            }
        }
}

void nnl_plot_whole_tics(nnl_pbuf *b, const char *axis, size_t n)
{
    /* steps 1, 2, 5, 10, 20, 50, ...: at most about 12 ticks */
    size_t step = 1, decade = 1;
    for (int k = 0; n / step > 12; k = (k + 1) % 3) {
        if (k == 2)
            decade *= 10;
        step = decade * (k == 0 ? 2 : k == 1 ? 5 : 1);
    }
    nnl_pbuf_addf(b, "set %stics 0, %zu format \"%%.0f\"\n", axis, step);
    if (step > 1)
        nnl_pbuf_addf(b, "set %stics add (1)\n", axis);
}

/* y as the axis draws it: log10 on a log axis (NaN for y <= 0, skipped) */
static double axis_y(double y, int logy)
{
    return logy ? (y > 0 ? log10(y) : NAN) : y;
}

const char *nnl_plot_key_corner(const nnl_plot_series *s, int ns, int logy)
{
    /* in the order they are preferred when several are free: a key on
     * the right, where readers look after following the curves */
    static const char *const corner[4] = {"top right", "bottom right", "top left",
                                          "bottom left"};
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++) {
            double x = s[i].x ? s[i].x[k] : (double)(k + 1), y = axis_y(s[i].y[k], logy);
            if (!isfinite(x) || !isfinite(y))
                continue;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    if (!(x1 > x0 && y1 > y0))
        return corner[0];
    /* how much of each curve passes through each corner box (the outer
     * 35% of the width by 30% of the height), sampled along the segments
     * so that a line through a corner counts even without a point there */
    double hits[4] = {0, 0, 0, 0};
    for (int i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++) {
            double xa = s[i].x ? s[i].x[k] : (double)(k + 1), ya = axis_y(s[i].y[k], logy);
            double xb = xa, yb = ya;
            if (k + 1 < s[i].n) {
                xb = s[i].x ? s[i].x[k + 1] : (double)(k + 2);
                yb = axis_y(s[i].y[k + 1], logy);
            }
            for (int t = 0; t < 8; t++) {
                double u = (xa + (xb - xa) * t / 8 - x0) / (x1 - x0);
                double v = (ya + (yb - ya) * t / 8 - y0) / (y1 - y0);
                if (!isfinite(u) || !isfinite(v))
                    continue;
                int right = u > 0.65, left = u < 0.35, top = v > 0.7, bottom = v < 0.3;
                hits[0] += top && right;
                hits[1] += bottom && right;
                hits[2] += top && left;
                hits[3] += bottom && left;
            }
        }
    int best = 0;
    for (int c = 1; c < 4; c++)
        if (hits[c] < hits[best])
            best = c;
    /* every corner crossed (an X of two lines): beside the plot */
    return hits[best] > 0 ? "outside right top" : corner[best];
}
