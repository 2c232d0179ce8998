/* nn.plot.weights: a weight matrix as a heat map (blue positive, orange
 * negative, white zero, symmetric range), or each unit's incoming weights
 * as a small image (tiles), e.g. the first layer of a digits model. */
#include <math.h>
#include <stdio.h>

#include "core/alloc.h"
#include "plot/plot.h"

/* The diverging palette and a symmetric colour range [-m, m]. */
static void diverging(nnl_pbuf *b, double m, const char *cblabel)
{
    if (!(m > 0) || !isfinite(m))
        m = 1;
    nnl_pbuf_addf(b, "set palette defined (-1 '%s', 0 '#ffffff', 1 '%s')\n", NNL_PLOT_NEG,
                  NNL_PLOT_POS);
    nnl_pbuf_add(b, "set palette maxcolors 0\n");
    nnl_pbuf_add(b, "set cbrange [");
    nnl_pbuf_num(b, -m);
    nnl_pbuf_add(b, ":");
    nnl_pbuf_num(b, m);
    nnl_pbuf_add(b, "]\nset cbtics out nomirror\n");
    if (cblabel) {
        nnl_pbuf_add(b, "set cblabel ");
        nnl_pbuf_quote(b, cblabel);
        nnl_pbuf_add(b, "\n");
    }
}

static double max_abs(const float *w, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs((double)w[i]);
        if (isfinite(a) && a > m)
            m = a;
    }
    return m;
}

nnl_status nnl_plot_heatmap(nnl_pbuf *b, const nnl_plot_opts *o, const float *w, size_t rows,
                            size_t cols, int tile_h, int tile_w, int max_tiles,
                            nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (rows == 0 || cols == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: an empty %zux%zu matrix", fn, rows, cols);
    if (rows > 100000 || cols > 100000 || rows * cols > 20000000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a %zux%zu matrix is too large to draw", fn,
                        rows, cols);
    int tiles = tile_h > 0 || tile_w > 0;
    if (tiles && (tile_h <= 0 || tile_w <= 0 || (size_t)tile_h * (size_t)tile_w != rows))
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: image {%d, %d} holds %lld weights but each "
                        "unit has %zu inputs", fn, tile_h, tile_w,
                        (long long)tile_h * tile_w, rows);
    double m = o->cmax > 0 ? o->cmax : max_abs(w, rows * cols);
    nnl_status st;
    char title[200];
    int text = nnl_plot_is_text(o);
    if (!tiles) {
        int pw = cols > rows ? 900 : 700, ph = cols > rows ? 560 : 700;
        st = nnl_plot_begin(b, o, pw, ph, fn, err);
        if (st != NNL_OK)
            return st;
        snprintf(title, sizeof title, "weights (%zu inputs x %zu units)%s%s", rows, cols,
                 text ? ": " : "", text ? nnl_plot_text_image_key() : "");
        if (text) {
            nnl_plot_labels(b, o, title, "unit", "input");
            nnl_pbuf_addf(b, "set xrange [0.5:%zu.5]\nset yrange [%zu.5:0.5]\n", cols, rows);
        nnl_plot_whole_tics(b, "x", cols);
        nnl_plot_whole_tics(b, "y", rows);
            nnl_pbuf_add(b, "unset grid\nunset key\nset border 15\n");
            nnl_plot_text_image(b, o, pw, ph, w, NULL, cols, rows, 0.5, cols + 0.5, 0.5,
                                rows + 0.5, m);
            nnl_plot_end(b, o);
            return nnl_pbuf_check(b, fn, err);
        }
        nnl_pbuf_add(b, "$w << EOD\n");
        for (size_t r = 0; r < rows; r++) {
            for (size_t c = 0; c < cols; c++) {
                if (c)
                    nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, w[r * cols + c]);
            }
            nnl_pbuf_add(b, "\n");
        }
        nnl_pbuf_add(b, "EOD\n");
        nnl_plot_labels(b, o, title, "unit", "input");
        diverging(b, m, "weight");
        nnl_pbuf_addf(b, "set xrange [0.5:%zu.5]\nset yrange [%zu.5:0.5]\n", cols, rows);
        nnl_plot_whole_tics(b, "x", cols);
        nnl_plot_whole_tics(b, "y", rows);
        nnl_pbuf_add(b, "unset grid\nset tics out\nunset key\n"
                        "set border 15 lc rgb '#505050'\n"
                        "plot $w matrix using ($1+1):($2+1):3 with image notitle\n");
        nnl_plot_end(b, o);
        return nnl_pbuf_check(b, fn, err);
    }
    if (max_tiles <= 0)
        max_tiles = 100;
    size_t nt = cols < (size_t)max_tiles ? cols : (size_t)max_tiles;
    size_t gc = (size_t)ceil(sqrt((double)nt));
    size_t gr = (nt + gc - 1) / gc;
    size_t W = gc * (size_t)(tile_w + 1) - 1, H = gr * (size_t)(tile_h + 1) - 1;
    /* Square-ish pictures: about 600 pixels on the long side of the grid. */
    double scale = 620.0 / (double)(W > H ? W : H);
    int pw = (int)(W * scale) + 220, ph = (int)(H * scale) + 110;
    st = nnl_plot_begin(b, o, pw, ph, fn, err);
    if (st != NNL_OK)
        return st;
    double *img = nnl_malloc(W * H * sizeof *img);
    if (!img)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a %zux%zu image", fn, W, H);
    for (size_t i = 0; i < W * H; i++)
        img[i] = NAN; /* the gaps between tiles stay blank */
    double tm = 0; /* the largest |w| among the units drawn */
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < nt; t++) {
            double a = fabs((double)w[r * cols + t]);
            if (isfinite(a) && a > tm)
                tm = a;
        }
    for (size_t t = 0; t < nt; t++) {
        size_t ox = (t % gc) * (size_t)(tile_w + 1), oy = (t / gc) * (size_t)(tile_h + 1);
        for (size_t r = 0; r < rows; r++)
            img[(oy + r / (size_t)tile_w) * W + ox + r % (size_t)tile_w] = w[r * cols + t];
    }
    if (nt < cols)
        snprintf(title, sizeof title, "incoming weights of units 1-%zu of %zu (%dx%d each)%s%s",
                 nt, cols, tile_h, tile_w, text ? ": " : "", text ? nnl_plot_text_image_key() : "");
    else
        snprintf(title, sizeof title, "incoming weights of %zu units (%dx%d each)%s%s", cols,
                 tile_h, tile_w, text ? ": " : "", text ? nnl_plot_text_image_key() : "");
    if (text) {
        nnl_plot_labels(b, o, title, NULL, NULL);
        nnl_pbuf_addf(b, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", W - 1, H - 1);
        nnl_pbuf_add(b, "unset xtics\nunset ytics\nunset grid\nunset key\nset border 15\n");
        nnl_plot_text_image(b, o, pw, ph, NULL, img, W, H, -0.5, W - 0.5, -0.5, H - 0.5, tm);
        nnl_free(img);
        nnl_plot_end(b, o);
        return nnl_pbuf_check(b, fn, err);
    }
    nnl_pbuf_add(b, "$tiles << EOD\n");
    for (size_t y = 0; y < H; y++) {
        for (size_t x = 0; x < W; x++) {
            if (x)
                nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, img[y * W + x]);
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
    nnl_free(img);
    nnl_plot_labels(b, o, title, NULL, NULL);
    diverging(b, tm, "weight");
    nnl_pbuf_addf(b, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n", W - 1, H - 1);
    /* Grey shows between the tiles (their gaps are NaN, not drawn). */
    nnl_pbuf_add(b, "set object 1 rectangle from graph 0,0 to graph 1,1 behind "
                    "fillcolor rgb '#8c8c8c' fillstyle solid 1.0 noborder\n");
    nnl_pbuf_add(b, "set size ratio -1\nunset xtics\nunset ytics\nunset border\nunset grid\n"
                    "unset key\nplot $tiles matrix using 1:2:3 with image notitle\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
