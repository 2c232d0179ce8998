/* nn.plot.neurons: what every unit of a two-input network computes, as
 * TensorFlow Playground draws it. The picture is one page in pixel units
 * (so that the maps stay square whatever the size): columns of small maps
 * from left to right, the inputs first, each map a unit's output over the
 * input plane in its own RGB image (blue +, orange -, white 0 on one scale
 * per column); edges between the maps of consecutive columns, coloured by
 * the weight's sign, wide and opaque by its magnitude; then, on axes of
 * its own (a second plot of a multiplot), the output's classes over the
 * plane with the points. In text the maps are characters by value and the
 * edges are left out (lines of characters would bury the maps). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "plot/plot.h"
#include "plot/plot_color.h"
#include "plot/plot_edges.h"

#define MAX_COLS 50
#define MAX_SHOWN 64

/* Where things are, in pixels from the lower left (text: 9 x 18 pixels a
 * character, so a square of pixels looks square in a terminal too). */
typedef struct geom {
    int text;
    int W, H;          /* the page */
    double T, B;       /* bands at the top (title, column labels) and bottom (key) */
    double under;      /* room under a column ("... N more") */
    double PB, PR;     /* room under the output map (x tics, label) and right of it */
    double s, g, e, S; /* small map side, gap between maps, between columns, output side */
    double left, yc;   /* the first column's left edge; the columns' vertical centre */
    double ox, oy;     /* the output map's lower left */
    double top;        /* the highest edge of any map: labels go above */
    int smax;          /* most maps in a column */
    int ncols;
} geom;

static double col_height(const geom *g, int n)
{
    return n * g->s + (n - 1) * g->g;
}

static double col_x(const geom *g, int i)
{
    return g->left + i * (g->s + g->e);
}

/* The upper edge of a column of n maps: centred on yc; in text on a
 * character's edge, so that no map shares a line with a label. */
static double col_top(const geom *g, int n)
{
    double t = g->yc + col_height(g, n) / 2;
    return g->text ? 18 * floor(t / 18 + 0.5) : t;
}

/* The lower edge of map k (0: the top one) of a column of n maps. */
static double map_y(const geom *g, int n, int k)
{
    return col_top(g, n) - (k + 1) * g->s - k * g->g;
}

/* The fixed bands and the smallest gaps, in pixels. */
static void bands(geom *g, double *gmin, double *emin, double *lm)
{
    if (g->text) {
        g->T = 6 * 18, g->B = 2 * 18, g->under = 2 * 18, g->PB = 3 * 18, g->PR = 8 * 9;
        *gmin = 18, *emin = 8 * 9, *lm = 2 * 9;
    } else {
        g->T = 112, g->B = 40, g->under = 38, g->PB = 52, g->PR = 70;
        *gmin = 15, *emin = 50, *lm = 24; /* a label fits under a map */
    }
}

/* The gaps and the output's side for maps of side s. */
static void sizes(geom *g, double s, double gmin, double emin)
{
    g->s = s;
    g->g = 0.4 * s > gmin ? 0.4 * s : gmin;
    g->e = 1.6 * s > emin ? 1.6 * s : emin;
    if (g->text) { /* whole lines (and characters) */
        g->s = 18 * floor(s / 18) > 18 ? 18 * floor(s / 18) : 18;
        g->g = 18 * floor(g->g / 18 + 0.5);
        g->e = 9 * floor(g->e / 9 + 0.5);
    }
    double room = g->H - g->T - g->B - g->PB;
    g->S = 5 * s < room ? 5 * s : room;
    g->S = g->S < 20 ? 20 : g->S; /* a page too small: crowded, not inverted */
}

static double need_w(const geom *g, double lm)
{
    return lm + g->ncols * (g->s + g->e) + g->S + g->PR;
}

static double need_h(const geom *g)
{
    double c = col_height(g, g->smax) + g->under, o = g->S + g->PB;
    return g->T + g->B + (c > o ? c : o);
}

/* The page size to ask for when the options give none: maps of s0. */
static void default_size(geom *g, int *w, int *h)
{
    double gmin, emin, lm;
    bands(g, &gmin, &emin, &lm);
    g->H = 100000;
    sizes(g, g->text ? 72 : 58, gmin, emin);
    double dw = need_w(g, lm) + 10, dh = need_h(g);
    *w = (int)(dw < 640 ? 640 : dw > 2400 ? 2400 : dw);
    *h = (int)(dh < 480 ? 480 : dh > 1400 ? 1400 : dh);
}

/* Lays the picture out on a W x H page: the largest maps that fit. */
static void place(geom *g)
{
    double gmin, emin, lm;
    bands(g, &gmin, &emin, &lm);
    double s = 140;
    for (sizes(g, s, gmin, emin); s > 3; s *= 0.98) {
        sizes(g, s, gmin, emin);
        if (need_w(g, lm) <= g->W && need_h(g) <= g->H)
            break;
    }
    /* A page wider than the columns need (their height set the maps'
     * size): a larger output map first, then wider gaps for the edges. */
    double spare = g->W - need_w(g, lm), room = g->H - g->T - g->B - g->PB;
    if (spare > 0 && !g->text) {
        double grow = spare * 0.6 < room - g->S ? spare * 0.6 : room - g->S;
        g->S += grow > 0 ? grow : 0;
        spare = g->W - need_w(g, lm);
        double widen = spare / (g->ncols + 1);
        widen = widen < 2.5 * g->s - g->e ? widen : 2.5 * g->s - g->e;
        g->e += widen > 0 ? widen : 0;
        spare = g->W - need_w(g, lm);
    }
    g->left = lm + (spare > 0 ? spare / 2 : 0);
    if (g->text)
        g->left = 9 * floor(g->left / 9);
    g->yc = g->B + g->under + (g->H - g->T - g->B - g->under) / 2;
    g->ox = col_x(g, g->ncols);
    g->oy = g->yc - g->S / 2;
    if (g->oy < g->B + g->PB)
        g->oy = g->B + g->PB;
    double ctop = col_top(g, g->smax);
    g->top = ctop > g->oy + g->S ? ctop : g->oy + g->S;
}

/* The largest |value| of a column's shown maps: its colour scale. */
static double col_scale(const nnl_plot_ncol *c, int res)
{
    double m = 0;
    size_t n = (size_t)res * (size_t)res;
    for (size_t p = 0; p < n; p++)
        for (int u = 0; u < c->shown; u++) {
            double a = fabs((double)c->values[p * (size_t)c->units + (size_t)u]);
            if (isfinite(a) && a > m)
                m = a;
        }
    return m > 0 ? m : 1;
}

/* The colour of value v on scale m: white at 0, blue +, orange -. */
static unsigned value_rgb(double v, double m)
{
    if (!isfinite(v))
        return 0xC8C8C8u;
    /* A gamma below 1 so that the weaker half of a scale still shows
     * colour (as Playground's maps do); white stays exactly 0. */
    double t = pow(fabs(v) / m, 0.7);
    /* In 24 steps: a GIF (an animation's frames) holds 256 colours in all,
     * and steps that fine do not show in a picture either. */
    t = floor((t > 1 ? 1 : t) * 24 + 0.5) / 24;
    return nnl_plot_mix_white(v >= 0 ? NNL_PLOT_POS : NNL_PLOT_NEG, t);
}

/* The map's data block: picture position, colour, and beside them the
 * unit's output and the point of the plane, for a reader of the script. */
static void map_block(nnl_pbuf *b, const geom *g, const nnl_plot_nnet *net, int ci, int u,
                      int id, double m)
{
    const nnl_plot_ncol *c = &net->cols[ci];
    int res = net->res;
    double mx = col_x(g, ci), my = map_y(g, c->shown, u), px = g->s / res;
    nnl_pbuf_addf(b, "$map%d << EOD\n# column %d, unit %d: picture x, y; red, green, blue; "
                     "the unit's output; x1, x2\n", id, ci + 1, u + 1);
    for (int j = 0; j < res; j++) {
        double y = net->y0 + (net->y1 - net->y0) * j / (res - 1);
        for (int i = 0; i < res; i++) {
            double x = net->x0 + (net->x1 - net->x0) * i / (res - 1);
            double v = c->values[((size_t)j * (size_t)res + (size_t)i) * (size_t)c->units +
                                 (size_t)u];
            unsigned rgb = value_rgb(v, m);
            nnl_pbuf_num(b, mx + (i + 0.5) * px);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, my + (j + 0.5) * px);
            nnl_pbuf_addf(b, " %u %u %u ", rgb >> 16, (rgb >> 8) & 255u, rgb & 255u);
            nnl_pbuf_num(b, v);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, x);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, y);
            nnl_pbuf_add(b, "\n");
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
}

/* The radius of the dots where several outputs' edges arrive. */
static double dot_r(const geom *g)
{
    return g->s > 40 ? 5.0 : 3.5;
}

typedef nnl_plot_edge edge;

/* An edge of weight w on scale m; crowded: many edges between the two
 * columns, so the weak ones fade more and the strong ones stand out. */
static edge make_edge(double x0, double y0, double x1, double y1, double w, double m,
                      int crowded)
{
    edge e = {x0, y0, x1, y1, m > 0 && isfinite(w) ? fabs(w) / m : 0, 0};
    /* Opacity in 8 steps (a GIF's 256 colours, see value_rgb). */
    double q = floor(e.t * 8 + 0.5) / 8;
    double opacity = crowded ? 0.08 + 0.72 * q * q : 0.2 + 0.75 * q;
    unsigned rgb = nnl_plot_mix_white(w >= 0 ? NNL_PLOT_POS : NNL_PLOT_NEG, 1);
    unsigned transp = (unsigned)((1.0 - opacity) * 255.0 + 0.5);
    e.argb = (transp << 24) | rgb;
    return e;
}

/* Where the edges of output u arrive on the output map's left side: the
 * middle for one output, spread over the middle half for several (a dot
 * each, just left of the map, which the second plot covers). */
static double out_x(const geom *g, int out_units)
{
    return out_units == 1 ? g->ox : g->ox - dot_r(g) - 1;
}

static double out_y(const geom *g, int out_units, int u)
{
    if (out_units == 1)
        return g->oy + g->S / 2;
    return g->oy + g->S * (0.75 - 0.5 * u / (out_units - 1));
}

/* Every edge (weakest first, so the strong ones are drawn on top); *n
 * gets their count. NULL when out of memory. */
static edge *edges(const geom *g, const nnl_plot_nnet *net, size_t *n)
{
    size_t total = 0;
    for (int i = 1; i < net->ncols; i++)
        if (net->cols[i].kernel)
            total += (size_t)net->cols[i - 1].shown * (size_t)net->cols[i].shown;
    const nnl_plot_ncol *last = &net->cols[net->ncols - 1];
    if (net->out_kernel)
        total += (size_t)last->shown * (size_t)net->out_units;
    edge *e = nnl_calloc(total ? total : 1, sizeof *e);
    if (!e)
        return NULL;
    size_t k = 0;
    for (int i = 1; i < net->ncols; i++) {
        const nnl_plot_ncol *p = &net->cols[i - 1], *c = &net->cols[i];
        if (!c->kernel)
            continue;
        double m = nnl_plot_max_abs(c->kernel, (size_t)p->units * (size_t)c->units);
        int crowded = p->shown * c->shown > 40;
        for (int a = 0; a < p->shown; a++)
            for (int d = 0; d < c->shown; d++)
                e[k++] = make_edge(col_x(g, i - 1) + g->s, map_y(g, p->shown, a) + g->s / 2,
                                   col_x(g, i), map_y(g, c->shown, d) + g->s / 2,
                                   c->kernel[(size_t)a * (size_t)c->units + (size_t)d], m,
                                   crowded);
    }
    if (net->out_kernel) {
        double m = nnl_plot_max_abs(net->out_kernel, (size_t)last->units * (size_t)net->out_units);
        int crowded = last->shown * net->out_units > 40;
        for (int a = 0; a < last->shown; a++)
            for (int u = 0; u < net->out_units; u++)
                e[k++] = make_edge(col_x(g, net->ncols - 1) + g->s,
                                   map_y(g, last->shown, a) + g->s / 2, out_x(g, net->out_units),
                                   out_y(g, net->out_units, u),
                                   net->out_kernel[(size_t)a * (size_t)net->out_units +
                                                   (size_t)u], m, crowded);
    }
    nnl_plot_edges_sort(e, k);
    *n = k;
    return e;
}

/* A label at page position (x, y); extra: justification, offsets, font. */
static void label_at(nnl_pbuf *b, const char *s, double x, double y, const char *extra)
{
    nnl_pbuf_add(b, "set label ");
    nnl_pbuf_quote(b, s);
    nnl_pbuf_add(b, " at ");
    nnl_pbuf_num(b, x);
    nnl_pbuf_add(b, ",");
    nnl_pbuf_num(b, y);
    nnl_pbuf_addf(b, " %s front\n", extra);
}

/* The lines of s ("\n" separated). */
static int lines_of(const char *s)
{
    int n = 1;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* Text: the level of a page cell: the character of the value of the map
 * there (-1 off the maps). */
typedef struct text_page {
    const geom *g;
    const nnl_plot_nnet *net;
    const double *scale;
} text_page;

static const char text_chars[] = "=-.+#";

static int page_level(const void *ctx, size_t r, size_t c)
{
    const text_page *tp = ctx;
    const geom *g = tp->g;
    const nnl_plot_nnet *net = tp->net;
    double x = (double)c + 0.5, y = (double)r + 0.5;
    int i = (int)floor((x - g->left) / (g->s + g->e));
    if (i < 0 || i >= net->ncols || x > col_x(g, i) + g->s)
        return -1;
    const nnl_plot_ncol *col = &net->cols[i];
    double ctop = col_top(g, col->shown);
    int k = (int)floor((ctop - y) / (g->s + g->g));
    if (k < 0 || k >= col->shown)
        return -1;
    double my = map_y(g, col->shown, k), mx = col_x(g, i);
    if (y < my || y > my + g->s)
        return -1;
    int res = net->res;
    int ci = (int)((x - mx) / g->s * res), cj = (int)((y - my) / g->s * res);
    ci = ci < 0 ? 0 : ci >= res ? res - 1 : ci;
    cj = cj < 0 ? 0 : cj >= res ? res - 1 : cj;
    double v = col->values[((size_t)cj * (size_t)res + (size_t)ci) * (size_t)col->units +
                           (size_t)k];
    double q = v / tp->scale[i];
    if (q != q)
        return -1;
    return q < -0.55 ? 0 : q < -0.15 ? 1 : q <= 0.15 ? 2 : q <= 0.55 ? 3 : 4;
}

/* Text: the output's class at a cell of its grid (0-based). */
static int region_level(const void *ctx, size_t r, size_t c)
{
    const nnl_plot_regions *rg = ctx;
    return rg->grid[r * (size_t)rg->gx + c] - 1;
}

/* The characters of the classes in text (as nn.plot.decision_boundary's:
 * light ones, under the points' marks; no quotes). */
static const char region_chars[] = ".-:=~;_,";
#define NREGION_CHARS ((int)sizeof region_chars - 1)

static nnl_status check(const nnl_plot_nnet *net, const char *fn, nnl_error *err)
{
    const nnl_plot_regions *r = &net->out;
    if (net->ncols < 1 || net->ncols > MAX_COLS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d columns to draw (expected 1..%d)", fn,
                        net->ncols, MAX_COLS);
    if (net->res < 2 || net->res > 500)
        return nnl_fail(err, NNL_ERR_ARG, "%s: maps of %dx%d (expected 2..500 each way)", fn,
                        net->res, net->res);
    if (!(net->x1 > net->x0) || !(net->y1 > net->y0) || !isfinite(net->x1 - net->x0) ||
        !isfinite(net->y1 - net->y0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: an empty plane [%g,%g]x[%g,%g]", fn, net->x0,
                        net->x1, net->y0, net->y1);
    for (int i = 0; i < net->ncols; i++) {
        const nnl_plot_ncol *c = &net->cols[i];
        if (c->units < 1 || c->shown < 1 || c->shown > c->units || c->shown > MAX_SHOWN ||
            !c->values)
            return nnl_fail(err, NNL_ERR_ARG, "%s: column %d shows %d of %d units (expected "
                            "1..%d of at least 1, with their values)", fn, i + 1, c->shown,
                            c->units, MAX_SHOWN);
        if (i == 0 && c->kernel)
            return nnl_fail(err, NNL_ERR_ARG, "%s: the input column cannot have weights", fn);
    }
    /* Every map's pixels are rows of the script. */
    size_t maps = 0;
    for (int i = 0; i < net->ncols; i++)
        maps += (size_t)net->cols[i].shown;
    if (maps * (size_t)net->res * (size_t)net->res > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu maps of %dx%d are too many to draw (lower "
                        "the resolution or max_units)", fn, maps, net->res, net->res);
    if (net->out_units < 1 || net->out_units > 64)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d outputs (expected 1..64)", fn,
                        net->out_units);
    if (r->gx < 2 || r->gy < 2 || r->gx > 2000 || r->gy > 2000 || !r->grid)
        return nnl_fail(err, NNL_ERR_ARG, "%s: an output grid of %dx%d (expected 2..2000 each "
                        "way)", fn, r->gx, r->gy);
    return nnl_plot_regions_check_classes(r, fn, "output grid cell", err);
}

/* The colour (index into nnl_plot_colors) of class c (1-based): class 1
 * blue, class 2 orange, ..., as nn.plot.decision_boundary and scatter
 * colour them, so the same model's regions look the same in both
 * pictures (the key names the classes; the maps' and edges' blue and
 * orange are signs, named in the caption). */
static int class_color(int c)
{
    return (c - 1) % NNL_PLOT_NCOLORS;
}

/* The line type of class c's points: its colour's, black without labels. */
static int class_lt(const nnl_plot_nnet *net, int c)
{
    return net->out.pc ? class_color(c) + 1 : 8;
}

/* The name of class c (1-based) in the key. */
static void class_name(nnl_pbuf *b, const nnl_plot_regions *r, int c)
{
    char t[32];
    snprintf(t, sizeof t, "class %d", c);
    if (!r->pc) /* no labels: one key entry for all the points */
        nnl_pbuf_quote(b, "points");
    else
        nnl_pbuf_quote(b, r->names && r->names[c - 1] ? r->names[c - 1] : t);
}

/* A tic step for a range of `span` with at most `most` tics: 1, 2 or 5
 * times a power of ten. */
static double tic_step(double span, int most)
{
    double raw = span / (most > 1 ? most : 1), p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* The second plot: the output's classes on axes of their own, square,
 * where the page's layout put them. */
static void output_panel(nnl_pbuf *b, const nnl_plot_opts *o, const geom *g,
                         const nnl_plot_nnet *net, int page_w, int page_h)
{
    const nnl_plot_regions *r = &net->out;
    int text = g->text;
    double dx = (r->x1 - r->x0) / (r->gx - 1), dy = (r->y1 - r->y0) / (r->gy - 1);
    nnl_pbuf_add(b, "unset label\nunset object\n");
    nnl_pbuf_addf(b, "set lmargin at screen %.6g\nset rmargin at screen %.6g\n"
                     "set bmargin at screen %.6g\nset tmargin at screen %.6g\n",
                  g->ox / g->W, (g->ox + g->S) / g->W, g->oy / g->H, (g->oy + g->S) / g->H);
    /* Tics on the right: the edges arrive on the left side. */
    /* About a tic per 55 pixels (text: 8 characters across, 3 lines up):
     * numbers like "-0.5" side by side need that much. */
    int most_x = (int)(g->S / (text ? 72 : 55)), most_y = (int)(g->S / (text ? 54 : 40));
    nnl_pbuf_addf(b, "set border 15 lc rgb '#505050'\nset xtics out nomirror %.6g%s\n"
                     "unset ytics\nset y2tics out nomirror %.6g%s\nset link y2\n",
                  tic_step(r->x1 - r->x0, most_x), text ? "" : " font ',9'",
                  tic_step(r->y1 - r->y0, most_y), text ? "" : " font ',9'");
    nnl_pbuf_add(b, "set xrange [");
    nnl_pbuf_num(b, r->x0 - dx / 2);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, r->x1 + dx / 2);
    nnl_pbuf_add(b, "]\nset yrange [");
    nnl_pbuf_num(b, r->y0 - dy / 2);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, r->y1 + dy / 2);
    nnl_pbuf_add(b, "]\nset xlabel ");
    nnl_pbuf_quote(b, o->xlabel ? o->xlabel : "x1");
    nnl_pbuf_addf(b, "%s\nset y2label ", text ? "" : " offset 0,0.6");
    nnl_pbuf_quote(b, o->ylabel ? o->ylabel : "x2");
    nnl_pbuf_addf(b, "%s\nunset key\n", text ? "" : " offset -1,0");
    nnl_pbuf_add(b, "set palette defined (");
    for (int c = 1; c <= r->k; c++)
        nnl_pbuf_addf(b, "%s%d '#%06X'", c > 1 ? ", " : "", c,
                      nnl_plot_mix_white(nnl_plot_colors[class_color(c)], 0.28));
    if (r->k == 1)
        nnl_pbuf_add(b, ", 2 '#ffffff'");
    nnl_pbuf_addf(b, ")\nset palette maxcolors %d\nset cbrange [0.5:%d.5]\nunset colorbox\n",
                  r->k < 2 ? 2 : r->k, r->k < 2 ? 2 : r->k);
    if (text)
        nnl_plot_text_cells(b, o, page_w, page_h, (size_t)r->gx, (size_t)r->gy,
                            r->x0 - dx / 2, r->x1 + dx / 2, r->y0 - dy / 2, r->y1 + dy / 2,
                            region_level, r, region_chars,
                            r->k < NREGION_CHARS ? r->k : NREGION_CHARS, " lc rgb '#a0a0a0'");
    else
        nnl_pbuf_add(b, "plot $regions using 1:2:3 with image notitle");
    double ps = r->np > 2000 ? 0.45 : r->np > 400 ? 0.7 : 0.95;
    ps *= g->S < 250 ? g->S / 250 > 0.5 ? g->S / 250 : 0.5 : 1; /* a small map: smaller points */
    for (int c = 1; c <= (r->pc ? r->k : 1); c++) {
        int lt = class_lt(net, c);
        if (text) {
            nnl_pbuf_addf(b, ", \\\n     $class%d using 1:2 with points lt %d", c, lt);
            nnl_plot_pt(b, o, lt, 7);
            nnl_pbuf_add(b, " notitle");
        } else {
            nnl_pbuf_addf(b, ", \\\n     $class%d using 1:2 with points pt 7 ps %.2g lc rgb "
                          "'#303030' notitle, \\\n     $class%d using 1:2 with points pt 7 ps "
                          "%.2g lt %d notitle", c, ps + 0.3, c, ps, lt);
        }
    }
    nnl_pbuf_add(b, "\n");
}

/* Whether the layout fits its page: the output's axes on it (gnuplot draws
 * nothing at all otherwise), maps of a useful size, in text every map. */
static int fits(const geom *g)
{
    double gmin, emin, lm;
    geom t = *g;
    bands(&t, &gmin, &emin, &lm);
    if (g->ox + g->S + 8 > g->W || g->oy + g->S > g->H)
        return 0;
    if (g->text)
        return need_w(g, lm) <= g->W && need_h(g) <= g->H && g->s >= 36; /* 4 x 2 characters */
    return g->s >= 14;
}

nnl_status nnl_plot_neurons(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_nnet *given,
                            nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    nnl_status st = check(given, fn, err);
    if (st != NNL_OK)
        return st;
    /* A copy whose hidden columns may show fewer maps than given: as many
     * as the page holds (a terminal of 24 lines, a small picture). */
    nnl_plot_ncol cols[MAX_COLS];
    memcpy(cols, given->cols, (size_t)given->ncols * sizeof *cols);
    nnl_plot_nnet copy = *given;
    copy.cols = cols;
    const nnl_plot_nnet *net = &copy;
    const nnl_plot_regions *r = &net->out;
    geom g;
    memset(&g, 0, sizeof g);
    g.text = nnl_plot_is_text(o);
    g.ncols = net->ncols;
    g.smax = 2;
    for (int i = 0; i < net->ncols; i++)
        g.smax = net->cols[i].shown > g.smax ? net->cols[i].shown : g.smax;
    int dw, dh;
    default_size(&g, &dw, &dh);
    if (g.text) {
        int tc, tr;
        nnl_plot_text_size(o, dw, dh, &tc, &tr);
        g.W = 9 * tc, g.H = 18 * tr;
    } else {
        g.W = o->width > 0 ? o->width : dw;
        g.H = o->height > 0 ? o->height : dh;
        g.W = g.W < 100 ? 100 : g.W, g.H = g.H < 80 ? 80 : g.H; /* as nnl_plot_begin */
    }
    for (;;) {
        place(&g);
        if (fits(&g))
            break;
        if (g.smax <= 2) {
            if (g.text)
                return nnl_fail(err, NNL_ERR_ARG, "%s: %d x %d characters are too few to "
                                "draw %d columns of maps (a larger terminal, or a file)", fn,
                                g.W / 9, g.H / 18, net->ncols);
            return nnl_fail(err, NNL_ERR_ARG, "%s: a %d x %d picture is too small to draw %d "
                            "columns of maps (make it larger: width, height)", fn, g.W, g.H,
                            net->ncols);
        }
        g.smax--;
        for (int i = 1; i < net->ncols; i++)
            cols[i].shown = cols[i].shown < g.smax ? cols[i].shown : g.smax;
    }
    double scale[MAX_COLS];
    for (int i = 0; i < net->ncols; i++)
        scale[i] = col_scale(&net->cols[i], net->res);
    size_t ne = 0;
    edge *e = g.text ? NULL : edges(&g, net, &ne);
    if (!g.text && !e)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for the edges", fn);
    st = nnl_plot_begin(b, o, dw, dh, fn, err);
    if (st != NNL_OK) {
        nnl_free(e);
        return st;
    }
    /* The data: maps, edges, the output's regions and points. */
    int id = 0;
    for (int i = 0; i < net->ncols; i++)
        for (int u = 0; u < net->cols[i].shown; u++)
            map_block(b, &g, net, i, u, ++id, scale[i]);
    static const double widths[4] = {0.6, 1.2, 2.0, 3.0};
    if (!g.text)
        nnl_plot_edge_blocks(b, e, ne);
    nnl_free(e);
    double dx = (r->x1 - r->x0) / (r->gx - 1), dy = (r->y1 - r->y0) / (r->gy - 1);
    nnl_pbuf_add(b, "$regions << EOD\n");
    for (int j = 0; j < r->gy; j++) {
        for (int i = 0; i < r->gx; i++) {
            nnl_pbuf_num(b, r->x0 + i * dx);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, r->y0 + j * dy);
            nnl_pbuf_addf(b, " %d\n", r->grid[(size_t)j * (size_t)r->gx + (size_t)i]);
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
    for (int c = 1; c <= (r->pc ? r->k : 1); c++) {
        nnl_pbuf_addf(b, "$class%d << EOD\n", c);
        for (size_t i = 0; i < r->np; i++)
            if (!r->pc || r->pc[i] == c) {
                nnl_pbuf_num(b, r->px[i]);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, r->py[i]);
                nnl_pbuf_add(b, "\n");
            }
        nnl_pbuf_add(b, "EOD\n");
    }

    /* The first plot: the whole page in pixels. */
    nnl_pbuf_add(b, "set multiplot\n"
                    "set lmargin at screen 0\nset rmargin at screen 1\n"
                    "set bmargin at screen 0\nset tmargin at screen 1\n"
                    "unset border\nunset xtics\nunset ytics\nunset grid\nunset colorbox\n");
    nnl_pbuf_addf(b, "set xrange [0:%d]\nset yrange [0:%d]\n", g.W, g.H);
    /* The title: the options' or the network's sizes, "2-8-8-1". */
    char title[320];
    size_t tl = (size_t)snprintf(title, sizeof title, "what each neuron computes: network ");
    for (int i = 0; i < net->ncols && tl + 16 < sizeof title; i++)
        tl += (size_t)snprintf(title + tl, sizeof title - tl, "%d-", net->cols[i].units);
    if (tl + 16 < sizeof title)
        snprintf(title + tl, sizeof title - tl, "%d", net->out_units);
    const char *t = o->title ? o->title : title;
    const char *font_t = g.text ? "center" : "center font ',13'";
    const char *font_c = g.text ? "center" : "center font ',11'";
    const char *font_s = g.text ? "center" : "center font ',9' tc rgb '#303030'";
    label_at(b, t, g.W / 2.0, g.H - (g.text ? 9 : 22), font_t);
    /* What the colours mean, under the title (text: the characters). */
    label_at(b, g.text ? "maps: # + positive, - = negative, . near 0\n"
                         "(# is the +- value under a column; edges: in a picture file)"
                       : "maps: a unit's output over the plane (x1, x2); white 0, full colour "
                         "at the \xc2\xb1 value under the column\n"
                         "edges: weights, blue positive, orange negative, wider for larger |w|",
             g.W / 2.0, g.H - (g.text ? 27 : 42), g.text ? "center" : font_s);
    /* Column labels above the maps, their last lines at one height (gnuplot puts
     * a label's first line at its position). */
    double line = g.text ? 18 : 15, lab0 = g.top + (g.text ? 18 : 14);
    for (int i = 0; i <= net->ncols; i++) {
        const char *s = i < net->ncols ? net->cols[i].label : net->out_label;
        if (!s)
            continue;
        double x = i < net->ncols ? col_x(&g, i) + g.s / 2 : g.ox + g.S / 2;
        label_at(b, s, x, lab0 + line * (lines_of(s) - 1), font_c);
    }
    for (int i = 0; i < net->ncols; i++) {
        const nnl_plot_ncol *c = &net->cols[i];
        double mx = col_x(&g, i);
        for (int u = 0; c->names && u < c->shown; u++)
            if (c->names[u])
                label_at(b, c->names[u], mx + g.s / 2, map_y(&g, c->shown, u) - g.g / 2,
                         font_s);
        /* Under the column: how many units are not shown, and the value
         * of full colour (the column's scale). */
        char under[96];
        size_t ul = 0;
        if (c->shown < c->units)
            ul = (size_t)snprintf(under, sizeof under, "... %d more\n", c->units - c->shown);
        snprintf(under + ul, sizeof under - ul, "%s%.3g", g.text ? "+-" : "\xc2\xb1", scale[i]);
        double below = c->names ? g.g / 2 + (g.text ? 18 : 14) : g.text ? 9 : 11;
        label_at(b, under, mx + g.s / 2,
                 col_top(&g, c->shown) - col_height(&g, c->shown) - below, font_s);
    }
    if (!g.text) {
        /* A grey frame around every map: white (zero) still shows its map. */
        int obj = 0;
        for (int i = 0; i < net->ncols; i++)
            for (int u = 0; u < net->cols[i].shown; u++) {
                double mx = col_x(&g, i), my = map_y(&g, net->cols[i].shown, u);
                nnl_pbuf_addf(b, "set object %d rectangle from %.6g,%.6g to %.6g,%.6g front "
                                 "fillstyle empty border lc rgb '#8c8c8c' lw 0.8\n", ++obj,
                              mx, my, mx + g.s, my + g.s);
            }
        /* Several outputs: a dot of its class's colour where each one's
         * edges arrive. */
        for (int u = 0; net->out_units > 1 && u < net->out_units; u++)
            nnl_pbuf_addf(b, "set object %d circle at %.6g,%.6g size %.3g front fillcolor "
                             "rgb '%s' fillstyle solid 1.0 border lc rgb '#303030'\n", ++obj,
                          out_x(&g, net->out_units), out_y(&g, net->out_units, u), dot_r(&g),
                          nnl_plot_colors[u % NNL_PLOT_NCOLORS]);
    }
    nnl_pbuf_add(b, "set key at screen 0.5, screen 0.01 center bottom horizontal maxrows 1 nobox\n");
    if (g.text) {
        text_page tp = {&g, net, scale};
        nnl_plot_text_cells(b, o, dw, dh, (size_t)g.W, (size_t)g.H, 0, g.W, 0, g.H,
                            page_level, &tp, text_chars, 5, NULL);
    } else {
        nnl_pbuf_add(b, "plot ");
        for (int cls = 0; cls < 4; cls++)
            nnl_pbuf_addf(b, "$edges%d using 1:2:3:4:5 with vectors nohead lw %.2g lc rgb "
                          "variable notitle, \\\n     ", cls + 1, widths[cls]);
        for (int m = 1; m <= id; m++)
            nnl_pbuf_addf(b, "$map%d using 1:2:3:4:5 with rgbimage notitle, \\\n     ", m);
        nnl_pbuf_addf(b, "NaN with lines lw 4 lc rgb '%s' title 'positive', "
                         "\\\n     NaN with lines lw 4 lc rgb '%s' title 'negative'",
                      NNL_PLOT_POS, NNL_PLOT_NEG);
    }
    /* The classes' key (the points are drawn in the second plot). */
    for (int c = 1; c <= (r->pc ? r->k : 1); c++) {
        int lt = class_lt(net, c);
        nnl_pbuf_addf(b, ", \\\n     NaN with points lt %d", lt);
        nnl_plot_pt(b, o, lt, 7);
        nnl_pbuf_addf(b, "%s title ", g.text ? "" : " ps 1.2");
        class_name(b, r, c);
    }
    nnl_pbuf_add(b, "\n");
    output_panel(b, o, &g, net, dw, dh);
    nnl_pbuf_add(b, "unset multiplot\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
