/* nn.plot.loss_surface: a loss over a plane of two weights as a colour map
 * with contour lines (gnuplot computes them from the grid into a table),
 * the lowest point of the grid, and the paths optimizers take on it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "plot/plot.h"

/* Default picture size (pixels); text is sized from it too. */
#define SURFACE_W 820
#define SURFACE_H 680
/* Most contour levels drawn. */
#define MAX_LEVELS 24

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Contour levels: on a log scale 1, 2, 5 per decade from lo to hi; else
 * about ten round steps between lo and hi. Returns how many (at most
 * MAX_LEVELS). */
static int contour_levels(double lo, double hi, int logscale, double *lv)
{
    int n = 0;
    if (logscale) {
        static const double m[3] = {1, 2, 5};
        double d = pow(10, floor(log10(lo)));
        int per = (log10(hi) - log10(lo)) > 6 ? 1 : 3; /* many decades: one a decade */
        for (; d <= hi && n < MAX_LEVELS; d *= 10)
            for (int i = 0; i < 3 && n < MAX_LEVELS; i += 3 / per) {
                double v = d * m[i];
                if (v > lo && v < hi)
                    lv[n++] = v;
            }
        return n;
    }
    double span = hi - lo, raw = span / 10, p = pow(10, floor(log10(raw)));
    double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
    for (double v = ceil(lo / step) * step; v < hi && n < MAX_LEVELS; v += step)
        if (v > lo + step * 1e-9)
            lv[n++] = v;
    return n;
}

/* The level of a grid cell in text: fifths of the colour scale, the lowest
 * fifth blank so that the paths' marks stand out there. */
typedef struct text_scale {
    const double *z;
    size_t W;
    double lo, hi;
    int logscale;
} text_scale;

static int surface_level(const void *ctx, size_t r, size_t c)
{
    const text_scale *t = ctx;
    double v = t->z[r * t->W + c];
    if (!isfinite(v))
        return -1;
    double q;
    if (t->logscale)
        q = (log(v > t->lo ? v : t->lo) - log(t->lo)) / (log(t->hi) - log(t->lo));
    else
        q = (v - t->lo) / (t->hi - t->lo);
    if (!(q >= 0.2))
        return -1;
    return q < 0.4 ? 0 : q < 0.6 ? 1 : q < 0.8 ? 2 : 3;
}

/* The colour image: the grid refined by `f` each way with bilinear
 * interpolation (of the logarithm on a log scale), so that a grid of 60
 * points draws as smooth colours, not as blocks; contours come from the
 * grid itself. Values below lo are drawn as lo. */
static void image_block(nnl_pbuf *b, const nnl_plot_surface_data *s, double lo, int logscale,
                        int f)
{
    int nx = (s->gx - 1) * f + 1, ny = (s->gy - 1) * f + 1;
    double dx = (s->x1 - s->x0) / (nx - 1), dy = (s->y1 - s->y0) / (ny - 1);
    nnl_pbuf_add(b, "$image << EOD\n");
    for (int j = 0; j < ny; j++) {
        int j0 = j / f, j1 = j0 + 1 < s->gy ? j0 + 1 : j0;
        double ty = (double)(j - j0 * f) / f;
        for (int i = 0; i < nx; i++) {
            int i0 = i / f, i1 = i0 + 1 < s->gx ? i0 + 1 : i0;
            double tx = (double)(i - i0 * f) / f;
            double c[4] = {s->z[(size_t)j0 * s->gx + i0], s->z[(size_t)j0 * s->gx + i1],
                           s->z[(size_t)j1 * s->gx + i0], s->z[(size_t)j1 * s->gx + i1]};
            for (int k = 0; k < 4; k++) {
                if (c[k] < lo)
                    c[k] = lo;
                if (logscale)
                    c[k] = log(c[k]);
            }
            double v = (c[0] * (1 - tx) + c[1] * tx) * (1 - ty) + (c[2] * (1 - tx) + c[3] * tx) * ty;
            if (logscale)
                v = exp(v);
            nnl_pbuf_num(b, s->x0 + i * dx);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, s->y0 + j * dy);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, v); /* NaN when a corner is: not drawn */
            nnl_pbuf_add(b, "\n");
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
}

static void range_cmd(nnl_pbuf *b, const char *axis, double lo, double hi)
{
    nnl_pbuf_addf(b, "set %srange [", axis);
    nnl_pbuf_num(b, lo);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, hi);
    nnl_pbuf_add(b, "]\n");
}

nnl_status nnl_plot_surface(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_surface_data *s,
                            nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (s->gx < 2 || s->gy < 2 || s->gx > 1000 || s->gy > 1000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a %dx%d grid (expected 2..1000 each way)", fn,
                        s->gx, s->gy);
    if (!(s->x1 > s->x0) || !(s->y1 > s->y0) || !isfinite(s->x1 - s->x0) ||
        !isfinite(s->y1 - s->y0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: an empty or infinite area [%g,%g]x[%g,%g]", fn,
                        s->x0, s->x1, s->y0, s->y1);
    if (s->np < 0 || s->np > 64)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d paths (expected 0..64)", fn, s->np);
    size_t total = (size_t)s->gx * (size_t)s->gy;
    for (int p = 0; p < s->np; p++)
        total += s->paths[p].n;
    if (total > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu points are too many to draw (at most %zu)",
                        fn, total, NNL_PLOT_MAX_POINTS);
    /* The value range of the finite cells, and where the lowest is. */
    size_t ncell = (size_t)s->gx * (size_t)s->gy, imin = 0, nfin = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ncell; i++) {
        double v = s->z[i];
        if (!isfinite(v))
            continue;
        nfin++;
        if (v < lo) {
            lo = v;
            imin = i;
        }
        if (v > hi)
            hi = v;
    }
    if (nfin == 0)
        return nnl_fail(err, NNL_ERR_RANGE, "%s: the loss is not finite anywhere on the grid",
                        fn);
    int logscale = s->logscale;
    if (logscale < 0) {
        /* Automatic: a log scale when the values are positive and most of
         * them crowd the bottom of a linear scale (valleys such as
         * Rosenbrock's), which would show as one colour. */
        logscale = 0;
        if (lo >= 0 && hi > 0) {
            double *sorted = nnl_malloc(nfin * sizeof *sorted);
            if (!sorted)
                return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", fn);
            size_t k = 0;
            for (size_t i = 0; i < ncell; i++)
                if (isfinite(s->z[i]))
                    sorted[k++] = s->z[i];
            qsort(sorted, nfin, sizeof *sorted, cmp_double);
            double median = sorted[nfin / 2];
            nnl_free(sorted);
            logscale = median - lo < 0.15 * (hi - lo);
        }
    } else if (logscale && !(hi > 0))
        logscale = 0;
    /* On a log scale at most five decades: below them (zeros too) is drawn
     * as the bottom, where contours would only trace the grid's noise. */
    if (logscale && lo < hi * 1e-5)
        lo = hi * 1e-5;
    if (logscale && !(lo > 0))
        logscale = 0;
    if (!(hi > lo)) /* a flat surface: a unit around it */
        hi = lo + (logscale ? lo : 1);
    nnl_status st = nnl_plot_begin(b, o, SURFACE_W, SURFACE_H, fn, err);
    if (st != NNL_OK)
        return st;
    int text = nnl_plot_is_text(o);
    double dx = (s->x1 - s->x0) / (s->gx - 1), dy = (s->y1 - s->y0) / (s->gy - 1);
    /* The picture's image has about 200 cells each way (image_block); its
     * outer cells' halves border the axes, as the grid's do in text. */
    int gmax = s->gx > s->gy ? s->gx : s->gy, refine = 200 / (gmax - 1);
    refine = text || refine < 1 ? 1 : refine > 4 ? 4 : refine;
    double hx = dx / refine / 2, hy = dy / refine / 2;
    nnl_pbuf_add(b, "$grid << EOD\n");
    for (int j = 0; j < s->gy; j++) {
        for (int i = 0; i < s->gx; i++) {
            double v = s->z[(size_t)j * s->gx + i];
            if (logscale && v < lo)
                v = lo;
            nnl_pbuf_num(b, s->x0 + i * dx);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, s->y0 + j * dy);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, v);
            nnl_pbuf_add(b, "\n");
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
    for (int p = 0; p < s->np; p++) {
        char name[32];
        snprintf(name, sizeof name, "path%d", p + 1);
        const double *cols[2] = {s->paths[p].w1, s->paths[p].w2};
        nnl_plot_datablock(b, name, s->paths[p].n, 2, cols);
    }
    if (s->mark_name) {
        nnl_pbuf_add(b, "$mark << EOD\n");
        nnl_pbuf_num(b, s->mark_x);
        nnl_pbuf_add(b, " ");
        nnl_pbuf_num(b, s->mark_y);
        nnl_pbuf_add(b, "\nEOD\n");
    }
    nnl_pbuf_add(b, "$lowest << EOD\n");
    nnl_pbuf_num(b, s->x0 + (double)(imin % (size_t)s->gx) * dx);
    nnl_pbuf_add(b, " ");
    nnl_pbuf_num(b, s->y0 + (double)(imin / (size_t)s->gx) * dy);
    nnl_pbuf_add(b, "\nEOD\n");
    if (!text) {
        image_block(b, s, logscale ? lo : -INFINITY, logscale, refine);
        /* Contour lines: gnuplot traces them on the grid into a table,
         * which the 2-D plot then draws over the colours. */
        double lv[MAX_LEVELS];
        /* On a log scale, lines only in the top three decades: lower ones
         * run along a narrow valley's floor, finer than the grid. */
        int nl = contour_levels(logscale && lo < hi * 1e-3 ? hi * 1e-3 : lo, hi, logscale, lv);
        if (nl > 0) {
            nnl_pbuf_add(b, "set contour base\nunset surface\nset view map\n"
                            "set cntrparam levels discrete ");
            for (int i = 0; i < nl; i++) {
                if (i)
                    nnl_pbuf_add(b, ",");
                nnl_pbuf_num(b, lv[i]);
            }
            nnl_pbuf_add(b, "\nset table $contours\nsplot $grid using 1:2:3 with lines "
                            "notitle\nunset table\nunset contour\nset surface\n");
        }
        if (nl == 0)
            nnl_pbuf_add(b, "$contours << EOD\nNaN NaN\nEOD\n");
    }
    nnl_plot_labels(b, o, s->title ? s->title : "loss surface", s->xlabel ? s->xlabel : "w1",
                    s->ylabel ? s->ylabel : "w2");
    range_cmd(b, "x", s->x0 - hx, s->x1 + hx);
    range_cmd(b, "y", s->y0 - hy, s->y1 + hy);
    nnl_pbuf_add(b, "unset grid\nset border 15 lc rgb '#505050'\n");
    /* Equal units on both axes (a circle of equal loss looks round) unless
     * that would make a strip of the picture; text cells are not square. */
    double aspect = (s->y1 - s->y0) / (s->x1 - s->x0);
    if (!text && aspect >= 0.4 && aspect <= 2.5)
        nnl_pbuf_add(b, "set size ratio -1\n");
    if (text) {
        nnl_pbuf_add(b, "set key below\n");
        text_scale ts = {s->z, (size_t)s->gx, lo, hi, logscale};
        nnl_plot_text_cells(b, o, SURFACE_W, SURFACE_H, (size_t)s->gx, (size_t)s->gy,
                            s->x0 - dx / 2, s->x1 + dx / 2, s->y0 - dy / 2, s->y1 + dy / 2,
                            surface_level, &ts, ".:-=", 4, " lc rgb '#a0a0a0'");
    } else {
        /* From light cream (low) to mid grey (high): no hue of its own, so
         * that every path in the house colours stands out on every part. */
        nnl_pbuf_add(b, "set palette defined (0 '#FFF3C4', 0.4 '#EDEAD8', 1 '#9C9CA6')\n");
        range_cmd(b, "cb", lo, hi);
        if (logscale) {
            /* Ticks at 1, 2, 5 in every decade (gnuplot labels only the
             * powers of ten, often one or two on a loss's range). */
            nnl_pbuf_add(b, "set logscale cb\nset format cb '%g'\nset cbtics (");
            double tv[MAX_LEVELS];
            int nt = contour_levels(lo, hi, 1, tv);
            for (int i = 0; i < nt; i++) {
                if (i)
                    nnl_pbuf_add(b, ", ");
                nnl_pbuf_num(b, tv[i]);
            }
            nnl_pbuf_add(b, nt ? ")\n" : "1)\n");
        }
        nnl_pbuf_add(b, "set colorbox vertical user origin graph 1.03, graph 0 size "
                        "character 1.5, graph 1\n");
        nnl_pbuf_add(b, "set cblabel ");
        nnl_pbuf_quote(b, s->zlabel ? s->zlabel : "loss");
        nnl_pbuf_add(b, logscale ? " . ' (log scale)'" : "");
        nnl_pbuf_add(b, " offset 1\nset rmargin at screen 0.84\n"
                        "set key below maxrows 3 width 1 samplen 2\n");
        nnl_pbuf_add(b, "plot $image using 1:2:3 with image notitle, \\\n"
                        "     $contours using 1:2 with lines lc rgb '#606060' lw 0.7 "
                        "notitle");
    }
    /* Each path: a line with a dot per step (steps shrinking show); then
     * its end as a square in its colour, the start (or weights) a ring. */
    for (int p = 0; p < s->np; p++) {
        int lt = p % NNL_PLOT_NCOLORS + 1;
        /* Paths drawn later are thinner, so one that runs along an
         * earlier one still shows that one's colour on both sides. */
        double lw = 2 + 2.5 * (s->np - 1 - p) / (s->np > 1 ? s->np - 1 : 1);
        nnl_pbuf_addf(b, ", \\\n     $path%d using 1:2 with linespoints lt %d lw %.2g", p + 1,
                      lt, lw);
        nnl_plot_pt(b, o, lt, 7);
        nnl_pbuf_add(b, text ? " title " : " ps 0.45 title ");
        nnl_pbuf_quote(b, s->paths[p].name ? s->paths[p].name : "path");
    }
    /* The ends after every path, so that no later path hides one. */
    for (int p = 0; p < s->np; p++) {
        int lt = p % NNL_PLOT_NCOLORS + 1;
        if (!text && s->paths[p].n > 0) /* black rim, then the colour */
            nnl_pbuf_addf(b, ", \\\n     $path%d every ::%zu::%zu using 1:2 with points pt 5 "
                          "ps 1.7 lc rgb '#202020' notitle, \\\n     $path%d every ::%zu::%zu "
                          "using 1:2 with points pt 5 ps 1.2 lt %d notitle",
                          p + 1, s->paths[p].n - 1, s->paths[p].n - 1, p + 1,
                          s->paths[p].n - 1, s->paths[p].n - 1, lt);
    }
    if (s->mark_name) {
        nnl_pbuf_add(b, ", \\\n     $mark using 1:2 with points ");
        nnl_pbuf_add(b, text ? "pt 'O'" : "pt 6 ps 2.6 lw 2.5 lc rgb '#000000'");
        nnl_pbuf_add(b, " title ");
        nnl_pbuf_quote(b, s->mark_name);
    }
    if (!text && s->np > 0)
        nnl_pbuf_add(b, ", \\\n     NaN with points pt 5 ps 1.2 lc rgb '#606060' "
                        "title 'end (square)'");
    if (text)
        nnl_pbuf_add(b, ", \\\n     NaN with points pt '=' title 'loss: blank lowest, "
                        "then . : - ='");
    nnl_pbuf_add(b, text ? ", \\\n     $lowest using 1:2 with points pt '*' title "
                           "'lowest on the grid'"
                         : ", \\\n     $lowest using 1:2 with points pt 3 ps 2.2 lw 2 lc rgb "
                           "'#000000' title 'lowest on the grid'");
    nnl_pbuf_add(b, "\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
