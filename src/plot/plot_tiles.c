/* Small images in a labelled grid: the filters of a convolution
 * (nn.plot.weights of a Conv2D layer) and the feature maps of one input
 * (nn.plot.feature_maps). All tiles share one colour scale, so that
 * strong and weak filters (or maps) can be told apart: weights diverge
 * from white at zero (blue +, orange -), maps run from white at the
 * smallest value to dark at the largest. In text the tiles are characters
 * by value (text_image.c) and every tile keeps its number. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "plot/plot.h"

/* Most pixels of the composed picture (tiles and gaps). */
#define MAX_PIXELS ((size_t)4000000)

typedef enum { BANDS_NONE, BANDS_EVERY_ROW, BANDS_TOP } bands;

/* The grid: nr x nc tiles of th x tw pixels, gx pixels apart across and gy
 * down, with a label band of `band` pixels above every row or above the
 * first only. */
typedef struct tiles {
    size_t th, tw, nr, nc, gx, gy, band;
    size_t n;     /* tiles drawn: tile t in row t / nc, column t % nc */
    bands where;
    size_t W, H;  /* the composed picture */
    double *img;  /* W x H, NaN where no tile is; owned */
    int pw, ph;   /* its size on the page, pixels */
} tiles;

static size_t tile_x(const tiles *g, size_t c)
{
    return c * (g->tw + g->gx);
}

static size_t tile_y(const tiles *g, size_t r)
{
    if (g->where == BANDS_EVERY_ROW)
        return r * (g->th + g->band + g->gy) + g->band;
    return (g->where == BANDS_TOP ? g->band : 0) + r * (g->th + g->gy);
}

/* Sizes the grid and allocates its picture (NaN). The label bands get
 * room for a line of text (a character row in text), and in text the gaps
 * a character at least (else the sampling of the cells may miss them and
 * tiles run together: two are safe); both depend on the scale, which depends on them: a
 * few rounds settle it. lm_px: room on the left for row labels. */
static nnl_status layout(tiles *g, const nnl_plot_opts *o, int lm_px, const char *fn,
                         nnl_error *err)
{
    size_t big = g->th > g->tw ? g->th : g->tw;
    size_t gap = (big + 4) / 8 > 1 ? (big + 4) / 8 : 1;
    g->gx = g->gy = gap;
    g->band = 0;
    int text = nnl_plot_is_text(o);
    for (int round = 0; round < 4; round++) {
        size_t nb = g->where == BANDS_NONE ? 0 : g->where == BANDS_TOP ? 1 : g->nr;
        g->W = g->nc * g->tw + (g->nc - 1) * g->gx;
        g->H = g->nr * g->th + (g->nr - 1) * g->gy + nb * g->band;
        if (g->W > 20000 || g->H > 20000 || g->W * g->H > MAX_PIXELS)
            return nnl_fail(err, NNL_ERR_ARG, "%s: %zux%zu tiles of %zux%zu are too many to "
                            "draw (show fewer)", fn, g->nr, g->nc, g->th, g->tw);
        /* About 620 pixels on the long side; tiny grids not blown up. */
        double scale = 620.0 / (double)(g->W > g->H ? g->W : g->H);
        if (scale > 80)
            scale = 80;
        g->pw = (int)(g->W * scale) + 220 + lm_px;
        g->pw = g->pw < 640 ? 640 : g->pw; /* room for the title */
        g->ph = (int)(g->H * scale) + 110;
        double line_px = 18;
        if (text) {
            int cols, rows;
            nnl_plot_text_size(o, g->pw, g->ph, &cols, &rows);
            line_px = 1.5 * g->ph / rows; /* a character row, with the margins */
            /* characters per picture pixel in the plot area (about: the
             * margins take some 14 columns and 7 rows) */
            double cx = (cols > 20 ? cols - 14 : 6) / (double)g->W;
            double cy = (rows > 12 ? rows - 7 : 5) / (double)g->H;
            size_t want_x = (size_t)ceil(2.0 / cx), want_y = (size_t)ceil(2.0 / cy);
            g->gx = want_x > gap ? want_x : gap;
            g->gy = want_y > gap ? want_y : gap;
        }
        if (g->where != BANDS_NONE)
            g->band = (size_t)ceil(line_px * 1.1 / scale);
    }
    g->img = nnl_malloc(g->W * g->H * sizeof *g->img);
    if (!g->img)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a %zux%zu picture", fn,
                        g->W, g->H);
    for (size_t i = 0; i < g->W * g->H; i++)
        g->img[i] = NAN;
    return NNL_OK;
}

/* Label text at picture coordinates (x, y), centred. */
static void label(nnl_pbuf *b, const nnl_plot_opts *o, const char *s, double x, double y,
                  const char *align)
{
    nnl_pbuf_add(b, "set label ");
    nnl_pbuf_quote(b, s);
    nnl_pbuf_add(b, " at ");
    nnl_pbuf_num(b, x);
    nnl_pbuf_add(b, ",");
    nnl_pbuf_num(b, y);
    nnl_pbuf_addf(b, " %s%s tc rgb '#303030' front\n", align,
                  nnl_plot_is_text(o) ? "" : " font ',9'");
}

/* A number above every tile (the grid layouts). */
static void number_tiles(nnl_pbuf *b, const nnl_plot_opts *o, const tiles *g, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        char s[32];
        snprintf(s, sizeof s, "%zu", t + 1);
        size_t r = t / g->nc, c = t % g->nc;
        label(b, o, s, (double)tile_x(g, c) + (g->tw - 1) / 2.0,
              (double)tile_y(g, r) - 0.5 - g->band / 2.0, "center");
    }
}

/* The picture and the plot command: diverging (weights, range [-m, m])
 * or sequential (maps, [lo, hi]). Frees g->img. */
static nnl_status draw(nnl_pbuf *b, const nnl_plot_opts *o, tiles *g, const char *title,
                       int diverging, double lo, double hi, const char *cblabel,
                       const char *fn, nnl_error *err)
{
    int text = nnl_plot_is_text(o);
    char full[320];
    /* In text the key goes on a line of its own: a title wider than the
     * terminal is not drawn at all. */
    snprintf(full, sizeof full, "%s%s%s", title, text ? "\n" : "",
             !text ? "" : diverging ? nnl_plot_text_image_key() : nnl_plot_text_ramp_key());
    nnl_plot_labels(b, o, full, NULL, NULL);
    nnl_pbuf_addf(b, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", g->W - 1, g->H - 1);
    nnl_pbuf_add(b, "unset xtics\nunset ytics\nunset grid\nunset key\nunset border\n");
    if (text) {
        if (diverging)
            nnl_plot_text_image(b, o, g->pw, g->ph, NULL, g->img, g->W, g->H, -0.5,
                                g->W - 0.5, -0.5, g->H - 0.5, hi);
        else
            nnl_plot_text_ramp(b, o, g->pw, g->ph, g->img, g->W, g->H, -0.5, g->W - 0.5,
                               -0.5, g->H - 0.5, lo, hi);
    } else {
        nnl_pbuf_add(b, "$tiles << EOD\n");
        for (size_t y = 0; y < g->H; y++) {
            for (size_t x = 0; x < g->W; x++) {
                if (x)
                    nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, g->img[y * g->W + x]);
            }
            nnl_pbuf_add(b, "\n");
        }
        nnl_pbuf_add(b, "EOD\n");
        if (diverging) {
            nnl_pbuf_addf(b, "set palette defined (-1 '%s', 0 '#ffffff', 1 '%s')\n",
                          NNL_PLOT_NEG, NNL_PLOT_POS);
            lo = -hi;
        } else {
            nnl_pbuf_addf(b, "set palette defined (0 '#ffffff', 0.5 '%s', 1 '#10243e')\n",
                          NNL_PLOT_POS);
        }
        nnl_pbuf_add(b, "set palette maxcolors 0\nset cbrange [");
        nnl_pbuf_num(b, lo);
        nnl_pbuf_add(b, ":");
        nnl_pbuf_num(b, hi);
        nnl_pbuf_add(b, "]\nset cbtics out nomirror\nset cblabel ");
        nnl_pbuf_quote(b, cblabel);
        /* Each tile framed in grey: white (zero, or the lowest value) still
         * shows where its tile is. */
        nnl_pbuf_add(b, "\n");
        for (size_t t = 0; t < g->n; t++) {
            double x0 = tile_x(g, t % g->nc) - 0.5, y0 = tile_y(g, t / g->nc) - 0.5;
            nnl_pbuf_addf(b, "set object %zu rectangle from %.6g,%.6g to %.6g,%.6g front "
                             "fillstyle empty border lc rgb '#8c8c8c' lw 0.8\n", t + 1, x0, y0,
                          x0 + (double)g->tw, y0 + (double)g->th);
        }
        nnl_pbuf_add(b, "set size ratio -1\nplot $tiles matrix using 1:2:3 with image notitle\n");
    }
    nnl_free(g->img);
    g->img = NULL;
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}

static double kernel_at(const float *k, size_t kw, size_t cin, size_t cout, size_t r,
                        size_t c, size_t ch, size_t f)
{
    return k[((r * kw + c) * cin + ch) * cout + f];
}

nnl_status nnl_plot_filters(nnl_pbuf *b, const nnl_plot_opts *o, const float *k, size_t kh,
                            size_t kw, size_t cin, size_t cout, int max_filters,
                            int max_channels, int mean, const char *what, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (kh == 0 || kw == 0 || cin == 0 || cout == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: an empty %zux%zux%zux%zu kernel", fn, kh, kw,
                        cin, cout);
    if (kh > 1000 || kw > 1000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zux%zu filters are too large to draw", fn, kh,
                        kw);
    int by_channel = cin > 1 && !mean;
    /* A row per filter is long: fewer of them by default. */
    size_t nf = max_filters > 0 ? (size_t)max_filters : by_channel ? 16 : 64;
    nf = nf < cout ? nf : cout;
    size_t nch = by_channel ? (max_channels > 0 ? (size_t)max_channels : 8) : 1;
    nch = nch < cin ? nch : cin;
    tiles g = {.th = kh, .tw = kw};
    if (by_channel) {
        g.nr = nf, g.nc = nch, g.n = nf * nch, g.where = BANDS_TOP;
    } else {
        g.nc = (size_t)ceil(sqrt((double)nf));
        g.nr = (nf + g.nc - 1) / g.nc, g.n = nf, g.where = BANDS_EVERY_ROW;
    }
    nnl_status st = layout(&g, o, by_channel ? 60 : 0, fn, err);
    if (st != NNL_OK)
        return st;
    double m = 0; /* the largest |w| shown: the shared colour scale */
    for (size_t f = 0; f < nf; f++)
        for (size_t t = 0; t < (by_channel ? nch : 1); t++) {
            size_t r = by_channel ? f : f / g.nc, c = by_channel ? t : f % g.nc;
            size_t ox = tile_x(&g, c), oy = tile_y(&g, r);
            for (size_t i = 0; i < kh; i++)
                for (size_t j = 0; j < kw; j++) {
                    double v = 0;
                    if (by_channel) {
                        v = kernel_at(k, kw, cin, cout, i, j, t, f);
                    } else {
                        for (size_t ch = 0; ch < cin; ch++)
                            v += kernel_at(k, kw, cin, cout, i, j, ch, f);
                        v /= (double)cin;
                    }
                    g.img[(oy + i) * g.W + ox + j] = v;
                    if (isfinite(v) && fabs(v) > m)
                        m = fabs(v);
                }
        }
    if (o->cmax > 0)
        m = o->cmax;
    st = nnl_plot_begin(b, o, g.pw, g.ph, fn, err);
    if (st != NNL_OK) {
        nnl_free(g.img);
        return st;
    }
    char title[256], part[96];
    const char *name = what && *what ? what : "filters";
    if (nf < cout)
        snprintf(part, sizeof part, "filters 1-%zu of %zu", nf, cout);
    else
        snprintf(part, sizeof part, "%zu filter%s", cout, cout == 1 ? "" : "s");
    if (by_channel) {
        char chs[64] = "";
        if (nch < cin)
            snprintf(chs, sizeof chs, " (1-%zu of %zu)", nch, cin);
        snprintf(title, sizeof title, "%s: %s (%zux%zu), a row each, by input channel%s", name,
                 part, kh, kw, chs);
        for (size_t f = 0; f < nf; f++) {
            char s[32];
            snprintf(s, sizeof s, "filter %zu", f + 1);
            label(b, o, s, -0.5, tile_y(&g, f) + (kh - 1) / 2.0, "right offset -1,0");
        }
        for (size_t c = 0; c < nch; c++) {
            char s[32];
            snprintf(s, sizeof s, "ch %zu", c + 1);
            label(b, o, s, tile_x(&g, c) + (kw - 1) / 2.0, g.band / 2.0 - 0.5, "center");
        }
        nnl_pbuf_add(b, "set lmargin 10\n");
    } else {
        if (cin > 1)
            snprintf(title, sizeof title, "%s: %s (%zux%zu), mean over %zu input channels",
                     name, part, kh, kw, cin);
        else
            snprintf(title, sizeof title, "%s: %s (%zux%zu)", name, part, kh, kw);
        number_tiles(b, o, &g, nf);
    }
    return draw(b, o, &g, title, 1, -m, m > 0 ? m : 1, "weight", fn, err);
}

nnl_status nnl_plot_feature_maps(nnl_pbuf *b, const nnl_plot_opts *o, const float *x,
                                 size_t h, size_t w, size_t c, int sequence, int max_maps,
                                 const char *what, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (h == 0 || w == 0 || c == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: empty %zux%zux%zu feature maps", fn, h, w, c);
    size_t nm = max_maps > 0 ? (size_t)max_maps : 64;
    nm = nm < c ? nm : c;
    /* Sequences: a strip per channel, one above the other, numbered on the
     * left; images: a grid of numbered tiles. */
    int strips = sequence && h == 1;
    tiles g = {.th = h, .tw = w, .n = nm, .where = strips ? BANDS_NONE : BANDS_EVERY_ROW};
    g.nc = strips ? 1 : (size_t)ceil(sqrt((double)nm * (double)h / (double)w));
    g.nc = g.nc < 1 ? 1 : g.nc > nm ? nm : g.nc;
    g.nr = (nm + g.nc - 1) / g.nc;
    nnl_status st = layout(&g, o, strips ? 40 : 0, fn, err);
    if (st != NNL_OK)
        return st;
    double lo = INFINITY, hi = -INFINITY; /* over the maps shown */
    for (size_t t = 0; t < nm; t++) {
        size_t ox = tile_x(&g, t % g.nc), oy = tile_y(&g, t / g.nc);
        for (size_t i = 0; i < h; i++)
            for (size_t j = 0; j < w; j++) {
                double v = x[(i * w + j) * c + t];
                g.img[(oy + i) * g.W + ox + j] = v;
                if (isfinite(v)) {
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
            }
    }
    if (!(hi >= lo)) /* nothing finite */
        lo = 0, hi = 1;
    if (hi == lo)
        hi = lo + 1; /* one value (all zero: dead maps) shows as white */
    st = nnl_plot_begin(b, o, g.pw, g.ph, fn, err);
    if (st != NNL_OK) {
        nnl_free(g.img);
        return st;
    }
    char title[256], part[96];
    if (nm < c)
        snprintf(part, sizeof part, "feature maps 1-%zu of %zu", nm, c);
    else
        snprintf(part, sizeof part, "%zu feature map%s", c, c == 1 ? "" : "s");
    char size[48];
    if (strips)
        snprintf(size, sizeof size, "%zu step%s", w, w == 1 ? "" : "s");
    else
        snprintf(size, sizeof size, "%zux%zu", h, w);
    snprintf(title, sizeof title, "%s: %s (%s) of one input", what && *what ? what : "layer",
             part, size);
    if (strips) {
        for (size_t t = 0; t < nm; t++) {
            char s[32];
            snprintf(s, sizeof s, "%zu", t + 1);
            label(b, o, s, -0.5, (double)tile_y(&g, t), "right offset -1,0");
        }
        nnl_pbuf_add(b, "set lmargin 6\n");
    } else {
        number_tiles(b, o, &g, nm);
    }
    return draw(b, o, &g, title, 0, lo, hi, "output", fn, err);
}
