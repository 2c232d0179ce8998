/* nn.plot.model: the network drawn as columns of neurons joined by edges.
 * Edge colour is the weight's sign (blue +, orange -), its opacity and
 * width its magnitude relative to the layer's largest; a neuron's fill is
 * its bias the same way. Columns with more than max_shown neurons show the
 * first and last few around a "... N more" mark. Without weights (an
 * untrained or unbuilt model) the structure is drawn in grey. Layers of
 * feature maps (convolutions, pooling, an image input) are stacks of
 * rectangles: the front one h x w in proportion to the largest maps, one
 * sheet more for every doubling of the channels, joined to the next
 * column by grey links (their weights are filters, not edges). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "plot/plot.h"
#include "plot/plot_color.h"
#include "plot/plot_edges.h"

/* Which units of a column are drawn: slots 0..top-1 are units 0..top-1,
 * slot top is the ellipsis when ell, the last bot slots the last units. */
typedef struct column {
    int units, top, bot, ell, slots;
} column;

static column layout(int units, int max_shown)
{
    column c = {units, units, 0, 0, units};
    if (units > max_shown) {
        /* Ten slots at most for an elided column, however many fit. */
        int visible = (max_shown < 10 ? max_shown : 10) - 1;
        c.top = (visible + 1) / 2;
        c.bot = visible / 2;
        c.ell = 1;
        c.slots = c.top + 1 + c.bot;
    }
    return c;
}

/* The unit drawn in slot s, or -1 for the ellipsis. */
static int slot_unit(const column *c, int s)
{
    if (s < c->top)
        return s;
    if (c->ell && s == c->top)
        return -1;
    return c->units - (c->slots - s);
}

static double slot_y(const column *c, int s)
{
    return (c->slots - 1) / 2.0 - s;
}

typedef nnl_plot_edge edge;

/* The extent of a maps block in plot units: x0..x1 (front sheet's left
 * edge to the back sheet's right edge). */
typedef struct block {
    double x0, x1, y0, y1;
} block;

/* The blocks of the maps layers as rectangle objects (the back sheet
 * first, so the front one covers it), and the links between columns in
 * the data block $links. w, h: the picture's size in pixels. */
static void add_blocks(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_layer *layers,
                       const column *col, int n, double top, int hmax, int w, int h)
{
    int text = nnl_plot_is_text(o);
    double xspan = n - 1 + 1.2, yspan = 2 * top + 1.2;
    /* Pixels per plot unit (margins: 2 + 2 characters across, 6 + 7
     * lines down), or for text a character's size in units. */
    double ux = (w - 40.0) / xspan, uy = (h - 220.0 > 100 ? h - 220.0 : 100) / yspan;
    double offx = 5 / ux, offy = 5 / uy;
    if (text) {
        int cols, rows;
        nnl_plot_text_size(o, w, h, &cols, &rows);
        offx = xspan / (cols > 8 ? cols - 4 : 4);
        offy = yspan / (rows > 16 ? rows - 13 : 3);
        offy = offy > 0.05 * yspan ? 0.05 * yspan : offy; /* a short terminal */
        ux = 1 / offx, uy = 2 / offy; /* a character is twice as tall as wide */
    }
    /* First the blocks (objects), then the links (a data block). */
    block at[200]; /* n <= 200 */
    /* Faces in proportion to their maps, the tallest 0.8 of the height;
     * all smaller together when the widest would crowd its neighbours. */
    double widest = 0;
    for (int i = 0; i < n; i++)
        if (layers[i].maps) {
            double fw = 2 * top * 0.8 * layers[i].mw / hmax * uy / ux;
            widest = fw > widest ? fw : widest;
        }
    double shrink = widest > 0.5 ? 0.5 / widest : 1;
    int obj = 0;
    for (int i = 0; i < n; i++) {
        const nnl_plot_layer *ly = &layers[i];
        at[i] = (block){i, i, 0, 0};
        if (!ly->maps)
            continue;
        double fh = 2 * top * 0.8 * shrink * ly->mh / hmax;
        double fw = fh * uy / ux * ly->mw / ly->mh;
        if (fh < 0.1 * top) /* tiny maps stay visible */
            fh = 0.1 * top;
        fw = fw < 0.02 ? 0.02 : fw;
        int ns = 1 + (int)lround(log2((double)ly->mc));
        ns = ns > (text ? 2 : 8) ? (text ? 2 : 8) : ns;
        double tw = fw + (ns - 1) * offx, th = fh + (ns - 1) * offy;
        at[i] = (block){i - tw / 2, i + tw / 2, -th / 2, th / 2};
        const char *fill = ly->learns ? "#cfe0f1" : "#e4e4e4";
        for (int s = ns - 1; s >= 0; s--) {
            double x = at[i].x0 + s * offx, y = at[i].y0 + s * offy;
            nnl_pbuf_addf(b, "set object %d rectangle from %.6g,%.6g to %.6g,%.6g back "
                             "fillcolor rgb '%s' fillstyle solid 1.0 border lc rgb "
                             "'#404040' lw 1\n", ++obj, x, y, x + fw, y + fh, fill);
        }
    }
    nnl_pbuf_add(b, "$links << EOD\n");
    for (int i = 1; i < n; i++) {
        const nnl_plot_layer *ly = &layers[i], *lp = &layers[i - 1];
        if (!ly->maps && !lp->maps)
            continue;
        /* From the right of the previous column to the left of this one: a
         * line between blocks, a fan to or from neurons. */
        const column *pc = &col[i - 1], *cc = &col[i];
        int from = lp->maps ? 1 : pc->slots, to = ly->maps ? 1 : cc->slots;
        for (int s = 0; s < from; s++) {
            if (!lp->maps && slot_unit(pc, s) < 0)
                continue;
            double y0 = lp->maps ? 0 : slot_y(pc, s);
            for (int d = 0; d < to; d++) {
                if (!ly->maps && slot_unit(cc, d) < 0)
                    continue;
                double y1 = ly->maps ? 0 : slot_y(cc, d);
                nnl_pbuf_num(b, at[i - 1].x1);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, y0);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, at[i].x0 - at[i - 1].x1);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, y1 - y0);
                nnl_pbuf_add(b, "\n");
            }
        }
    }
    nnl_pbuf_add(b, "EOD\n");
}

nnl_status nnl_plot_network(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_layer *layers,
                            int n, int max_shown, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (n < 1 || n > 200)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d layers to draw (expected 1..200)", fn, n);
    if (max_shown <= 0)
        max_shown = 32;
    if (max_shown < 3)
        max_shown = 3;
    column *col = nnl_calloc((size_t)n, sizeof *col);
    if (!col)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", fn);
    int smax = 1, weighted = 0, maps = 0, hmax = 1, neurons = 0;
    size_t nedges = 0;
    for (int i = 0; i < n; i++) {
        const nnl_plot_layer *ly = &layers[i];
        if (ly->units < 1) {
            nnl_free(col);
            return nnl_fail(err, NNL_ERR_ARG, "%s: layer %d has %d units", fn, i + 1,
                            ly->units);
        }
        if (i == 0 && ly->kernel) {
            nnl_free(col);
            return nnl_fail(err, NNL_ERR_ARG, "%s: the input column cannot have weights", fn);
        }
        if (ly->maps && (ly->mh < 1 || ly->mw < 1 || ly->mc < 1 || ly->kernel ||
                         (ly->maps == 2 && ly->mw != 1))) {
            nnl_free(col);
            return nnl_fail(err, NNL_ERR_ARG, "%s: layer %d: maps of %dx%dx%d%s", fn, i + 1,
                            ly->mh, ly->mw, ly->mc, ly->kernel ? " with edge weights" : "");
        }
        if (ly->maps) {
            /* no neurons: no slots, no edges */
            col[i] = (column){ly->units, 0, 0, 0, 0};
            maps = 1;
            hmax = ly->mh > hmax ? ly->mh : hmax;
            continue;
        }
        neurons = 1;
        col[i] = layout(ly->units, max_shown);
        if (col[i].slots > smax)
            smax = col[i].slots;
        if (layers[i].kernel)
            weighted = 1;
        if (i > 0)
            nedges += (size_t)(col[i - 1].top + col[i - 1].bot) * (size_t)(col[i].top + col[i].bot);
    }
    edge *e = nnl_calloc(nedges ? nedges : 1, sizeof *e);
    if (!e) {
        nnl_free(col);
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for %zu edges", fn, nedges);
    }
    /* Edges, weakest first so the strong ones are drawn on top. */
    size_t ne = 0;
    for (int i = 1; i < n; i++) {
        const float *k = layers[i].kernel;
        double m = nnl_plot_max_abs(k, (size_t)layers[i - 1].units * (size_t)layers[i].units);
        int dense = (col[i - 1].top + col[i - 1].bot) * (col[i].top + col[i].bot) > 60;
        int crowded = (col[i - 1].top + col[i - 1].bot) * (col[i].top + col[i].bot) > 150;
        for (int s = 0; s < col[i - 1].slots; s++) {
            int a = slot_unit(&col[i - 1], s);
            if (a < 0)
                continue;
            for (int d = 0; d < col[i].slots; d++) {
                int c = slot_unit(&col[i], d);
                if (c < 0)
                    continue;
                edge *ed = &e[ne++];
                ed->x0 = i - 1;
                ed->y0 = slot_y(&col[i - 1], s);
                ed->x1 = i;
                ed->y1 = slot_y(&col[i], d);
                double opacity;
                unsigned rgb;
                if (k) {
                    double w = k[(size_t)a * (size_t)layers[i].units + (size_t)c];
                    ed->t = m > 0 && isfinite(w) ? fabs(w) / m : 0;
                    rgb = (unsigned)strtoul((w >= 0 ? NNL_PLOT_POS : NNL_PLOT_NEG) + 1, NULL, 16);
                    /* Weak edges stay visible; crowded layers are fainter so
                     * the strong edges stand out. */
                    opacity = crowded ? 0.06 + 0.64 * ed->t * ed->t : 0.18 + 0.82 * ed->t;
                } else {
                    ed->t = 0.3;
                    rgb = 0x808080u;
                    opacity = dense ? 0.25 : 0.5;
                }
                unsigned transp = (unsigned)((1.0 - opacity) * 255.0 + 0.5);
                ed->argb = (transp << 24) | rgb;
            }
        }
    }
    nnl_plot_edges_sort(e, ne);
    int w = 230 * n + 160;
    w = w < 640 ? 640 : w > 2400 ? 2400 : w;
    int h = 46 * smax + 220;
    h = h < (maps ? 520 : 420) ? (maps ? 520 : 420) : h > 1000 ? 1000 : h;
    nnl_plot_term term;
    if (maps && nnl_plot_term_of(o, &term, fn, NULL) == NNL_OK && term == NNL_TERM_TTY &&
        h < w)
        h = w; /* in a terminal: every line it has (at most), for the blocks */
    nnl_status st = nnl_plot_begin(b, o, w, h, fn, err);
    if (st != NNL_OK)
        goto done;
    /* Edges in four width classes (gnuplot has no per-vector width). */
    static const double widths[4] = {0.5, 1.0, 1.6, 2.4};
    double wscale = nedges > 400 ? 0.6 : 1.0;
    nnl_plot_edge_blocks(b, e, ne);
    /* Neurons: position and fill. */
    nnl_pbuf_add(b, "$neurons << EOD\n");
    for (int i = 0; i < n; i++) {
        double bm = nnl_plot_max_abs(layers[i].bias, (size_t)layers[i].units);
        for (int s = 0; s < col[i].slots; s++) {
            int u = slot_unit(&col[i], s);
            if (u < 0)
                continue;
            unsigned fill;
            if (i == 0)
                fill = 0xE8E8E8u;
            else if (layers[i].bias && bm > 0 && isfinite(layers[i].bias[u])) {
                double bv = layers[i].bias[u];
                fill = nnl_plot_mix_white(bv >= 0 ? NNL_PLOT_POS : NNL_PLOT_NEG,
                                          0.1 + 0.8 * fabs(bv) / bm);
            } else
                fill = 0xFFFFFFu;
            nnl_pbuf_addf(b, "%d ", i);
            nnl_pbuf_num(b, slot_y(&col[i], s));
            nnl_pbuf_addf(b, " %u\n", fill);
        }
    }
    nnl_pbuf_add(b, "EOD\n");
    /* Default title: the sizes, e.g. "network 784-256-128-10" or
     * "network 28x28x1-26x26x32-...-10". */
    char title[256];
    size_t tl = (size_t)snprintf(title, sizeof title, "network ");
    for (int i = 0; i < n && tl + 40 < sizeof title; i++) {
        const nnl_plot_layer *ly = &layers[i];
        if (ly->maps == 2)
            tl += (size_t)snprintf(title + tl, sizeof title - tl, "%s%dx%d", i ? "-" : "",
                                   ly->mh, ly->mc);
        else if (ly->maps)
            tl += (size_t)snprintf(title + tl, sizeof title - tl, "%s%dx%dx%d", i ? "-" : "",
                                   ly->mh, ly->mw, ly->mc);
        else
            tl += (size_t)snprintf(title + tl, sizeof title - tl, "%s%d", i ? "-" : "", ly->units);
    }
    nnl_plot_labels(b, o, title, NULL, NULL);
    double top = (smax - 1) / 2.0;
    if (maps && top < 3.5)
        top = 3.5; /* room for the blocks beside small columns */
    /* Names above and labels below the columns sit at fixed distances in
     * characters (offsets), in margins of fixed size, whatever the number
     * of neurons. */
    nnl_pbuf_addf(b, "unset border\nunset xtics\nunset ytics\nunset grid\nunset colorbox\n"
                     "set xrange [-0.6:%.6g]\nset yrange [%.6g:%.6g]\n"
                     "set tmargin 6\nset bmargin 7\nset lmargin 2\nset rmargin 2\nset title offset 0,1.8\n",
                  n - 1 + 0.6, -top - 0.6, top + 0.6);
    nnl_pbuf_add(b, "set style textbox opaque noborder margins 1,1\n");
    for (int i = 0; i < n; i++) {
        if (layers[i].name) {
            nnl_pbuf_add(b, "set label ");
            nnl_pbuf_quote(b, layers[i].name);
            nnl_pbuf_addf(b, " at %d,%.6g center offset 0,1.6 font ',11' front\n", i, top);
        }
        if (layers[i].label) {
            nnl_pbuf_add(b, "set label ");
            nnl_pbuf_quote(b, layers[i].label);
            nnl_pbuf_addf(b, " at %d,%.6g center offset 0,-2 font ',10' tc rgb '#303030' "
                          "front\n", i, -top);
        }
        if (col[i].ell) {
            char more[48];
            snprintf(more, sizeof more, "... %d more", col[i].units - col[i].top - col[i].bot);
            nnl_pbuf_add(b, "set label ");
            nnl_pbuf_quote(b, more);
            nnl_pbuf_addf(b, " at %d,%.6g center font ',9' tc rgb '#303030' boxed front\n", i,
                          slot_y(&col[i], col[i].top));
        }
    }
    if (maps)
        add_blocks(b, o, layers, col, n, top, hmax, o->width > 0 ? o->width : w,
                   o->height > 0 ? o->height : h);
    /* Neuron size from the room per slot: about half the spacing. */
    double slot_px = ((o->height > 0 ? o->height : h) - 170.0) / (2 * top + 1.5);
    double ps = slot_px * 0.5 / 7.0;
    ps = ps < 0.5 ? 0.5 : ps > 4.0 ? 4.0 : ps;
    nnl_pbuf_add(b, "set key at screen 0.5, screen 0.02 center bottom horizontal nobox\n");
    nnl_pbuf_add(b, "plot ");
    for (int cls = 0; cls < 4; cls++)
        nnl_pbuf_addf(b, "$edges%d using 1:2:3:4:5 with vectors nohead lw %.2g lc rgb variable "
                      "notitle, \\\n     ", cls + 1, weighted ? widths[cls] * wscale : 1.0);
    if (maps)
        nnl_pbuf_add(b, "$links using 1:2:3:4 with vectors nohead lw 1 lc rgb '#909090' "
                        "notitle, \\\n     ");
    if (!neurons) /* the plot command needs an item after the commas */
        nnl_pbuf_add(b, "NaN notitle");
    else if (nnl_plot_is_text(o)) /* a letter for a neuron; fills mean nothing in text */
        nnl_pbuf_add(b, "$neurons using 1:2 with points pt 'O' notitle");
    else
        nnl_pbuf_addf(b, "$neurons using 1:2:3 with points pt 7 ps %.3g lc rgb variable "
                      "notitle, \\\n     $neurons using 1:2 with points pt 6 ps %.3g lw 1.2 "
                      "lc rgb '#404040' notitle", ps, ps);
    /* In text, every edge is drawn with the same characters (by slope, not
     * by colour): a key of signs would say what the picture does not. */
    if (weighted && !nnl_plot_is_text(o))
        nnl_pbuf_addf(b, ", \\\n     NaN with lines lw 3 lc rgb '%s' title 'weight or bias > 0', "
                         "\\\n     NaN with lines lw 3 lc rgb '%s' title 'weight or bias < 0'",
                      NNL_PLOT_POS, NNL_PLOT_NEG);
    nnl_pbuf_add(b, "\n");
    nnl_plot_end(b, o);
    st = nnl_pbuf_check(b, fn, err);
done:
    nnl_free(e);
    nnl_free(col);
    return st;
}
