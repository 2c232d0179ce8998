/* nn.plot.decision_boundary: the class a model gives each point of a grid
 * over the data, as light colours, with the data points on top. */
#include <stdio.h>

#include "plot/plot.h"

/* The class colour mixed with white (light backgrounds for regions). */
static void light(const char *hex, double keep, char out[8])
{
    unsigned v = 0;
    sscanf(hex + 1, "%6x", &v);
    int rgb[3] = {(int)(v >> 16) & 255, (int)(v >> 8) & 255, (int)v & 255};
    for (int i = 0; i < 3; i++)
        rgb[i] = (int)(255 - (255 - rgb[i]) * keep + 0.5);
    snprintf(out, 8, "#%02X%02X%02X", rgb[0] & 255, rgb[1] & 255, rgb[2] & 255);
}

/* Region characters in text, by class: light ones, so that the points'
 * marks (o x + ...) stand out on them; no quotes (they would end the
 * gnuplot string they are written in). Classes beyond these stay blank. */
static const char region_chars[] = ".-:=~;_,";
#define NREGION_CHARS ((int)sizeof region_chars - 1)

/* The level of a grid cell in text: its class, 0-based. */
static int region_level(const void *ctx, size_t r, size_t c)
{
    const nnl_plot_regions *g = ctx;
    return g->grid[r * (size_t)g->gx + c] - 1;
}

/* Default picture size (pixels); text is sized from it too. */
#define BOUNDARY_W 760
#define BOUNDARY_H 600

nnl_status nnl_plot_regions_check_classes(const nnl_plot_regions *r, const char *fn,
                                          const char *cell, nnl_error *err)
{
    if (r->k < 1 || r->k > 64)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d classes (expected 1..64)", fn, r->k);
    if (r->np > NNL_PLOT_MAX_POINTS)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %zu points are too many to draw (at most %zu); "
                        "plot a sample", fn, r->np, NNL_PLOT_MAX_POINTS);
    for (size_t i = 0; i < (size_t)r->gx * (size_t)r->gy; i++)
        if (r->grid[i] < 1 || r->grid[i] > r->k)
            return nnl_fail(err, NNL_ERR_RANGE, "%s: %s %zu has class %d, expected 1..%d", fn,
                            cell, i + 1, r->grid[i], r->k);
    for (size_t i = 0; r->pc && i < r->np; i++)
        if (r->pc[i] < 1 || r->pc[i] > r->k)
            return nnl_fail(err, NNL_ERR_RANGE, "%s: point %zu has class %d, expected 1..%d",
                            fn, i + 1, r->pc[i], r->k);
    return NNL_OK;
}

nnl_status nnl_plot_boundary(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_regions *r,
                             nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (r->gx < 2 || r->gy < 2 || r->gx > 2000 || r->gy > 2000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a %dx%d grid (expected 2..2000 each way)", fn,
                        r->gx, r->gy);
    if (!(r->x1 > r->x0) || !(r->y1 > r->y0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: an empty area [%g,%g]x[%g,%g]", fn, r->x0,
                        r->x1, r->y0, r->y1);
    nnl_status st = nnl_plot_regions_check_classes(r, fn, "grid cell", err);
    if (st != NNL_OK)
        return st;
    st = nnl_plot_begin(b, o, BOUNDARY_W, BOUNDARY_H, fn, err);
    if (st != NNL_OK)
        return st;
    double dx = (r->x1 - r->x0) / (r->gx - 1), dy = (r->y1 - r->y0) / (r->gy - 1);
    nnl_pbuf_add(b, "$regions << EOD\n");
    for (int j = 0; j < r->gy; j++) {
        for (int i = 0; i < r->gx; i++) {
            nnl_pbuf_num(b, r->x0 + i * dx);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, r->y0 + j * dy);
            nnl_pbuf_addf(b, " %d\n", r->grid[(size_t)j * r->gx + i]);
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
    for (int c = 1; c <= r->k; c++) {
        nnl_pbuf_addf(b, "$class%d << EOD\n", c);
        for (size_t i = 0; i < r->np; i++)
            if (r->pc ? r->pc[i] == c : c == 1) {
                nnl_pbuf_num(b, r->px[i]);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, r->py[i]);
                nnl_pbuf_add(b, "\n");
            }
        nnl_pbuf_add(b, "EOD\n");
    }
    nnl_plot_labels(b, o, "decision regions", "x1", "x2");
    /* One flat light colour per class: a palette of k entries. */
    nnl_pbuf_add(b, "set palette defined (");
    for (int c = 1; c <= r->k; c++) {
        char col[8];
        light(nnl_plot_colors[(c - 1) % NNL_PLOT_NCOLORS], 0.28, col);
        nnl_pbuf_addf(b, "%s%d '%s'", c > 1 ? ", " : "", c, col);
    }
    if (r->k == 1)
        nnl_pbuf_addf(b, ", 2 '#ffffff'");
    nnl_pbuf_addf(b, ")\nset palette maxcolors %d\nset cbrange [0.5:%d.5]\nunset colorbox\n",
                  r->k < 2 ? 2 : r->k, r->k < 2 ? 2 : r->k);
    nnl_pbuf_add(b, "set xrange [");
    nnl_pbuf_num(b, r->x0 - dx / 2);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, r->x1 + dx / 2);
    nnl_pbuf_add(b, "]\nset yrange [");
    nnl_pbuf_num(b, r->y0 - dy / 2);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, r->y1 + dy / 2);
    nnl_pbuf_add(b, "]\nunset grid\nset border 15 lc rgb '#505050'\n"
                    "set key outside right top\n");
    double ps = r->np > 2000 ? 0.5 : r->np > 400 ? 0.8 : 1.1;
    int text = nnl_plot_is_text(o);
    if (text) {
        /* The grid's points are the centres of its cells. */
        nnl_plot_text_cells(b, o, BOUNDARY_W, BOUNDARY_H, (size_t)r->gx, (size_t)r->gy,
                            r->x0 - dx / 2, r->x1 + dx / 2, r->y0 - dy / 2, r->y1 + dy / 2,
                            region_level, r, region_chars,
                            r->k < NREGION_CHARS ? r->k : NREGION_CHARS, " lc rgb '#a0a0a0'");
    } else
        nnl_pbuf_add(b, "plot $regions using 1:2:3 with image notitle");
    for (int c = 1; c <= r->k; c++) {
        if (!r->pc && c > 1)
            break;
        int lt = r->pc ? (c - 1) % NNL_PLOT_NCOLORS + 1 : 8;
        if (text) { /* a mark per class; no outline */
            nnl_pbuf_addf(b, ", \\\n     $class%d using 1:2 with points lt %d", c, lt);
            nnl_plot_pt(b, o, lt, 7);
            nnl_pbuf_add(b, " title ");
        } else {
            nnl_pbuf_addf(b, ", \\\n     $class%d using 1:2 with points pt 7 ps %.2g lc rgb "
                          "'#303030' notitle", c, ps + 0.35);
            nnl_pbuf_addf(b, ", \\\n     $class%d using 1:2 with points pt 7 ps %.2g lt %d "
                          "title ", c, ps, lt);
        }
        char t[32] = "points";
        if (r->pc)
            snprintf(t, sizeof t, "class %d", c);
        nnl_pbuf_quote(b, r->names && r->names[c - 1] ? r->names[c - 1] : t);
    }
    nnl_pbuf_add(b, "\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
