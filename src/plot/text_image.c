/* Images in text: gnuplot's dumb terminal draws no `with image`, so a heat
 * map or the regions of a decision boundary become characters, one in
 * every character cell of the plot area (see plot.h). */
#include <math.h>
#include <stdio.h>

#include "plot/plot.h"

void nnl_plot_text_cells(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px, size_t W,
                         size_t H, double x0, double x1, double y0, double y1,
                         int (*level)(const void *ctx, size_t r, size_t c), const void *ctx,
                         const char *chars, int nl, const char *style)
{
    int cols, rows;
    nnl_plot_text_size(o, w_px, h_px, &cols, &rows);
    /* Two samples per character each way of the whole picture, so that
     * every cell of the (smaller) plot area gets one: where gnuplot puts
     * the area's edges is not known here. */
    size_t tx = 2 * (size_t)cols, ty = 2 * (size_t)rows;
    for (int lv = 0; lv < nl; lv++) {
        nnl_pbuf_addf(b, "$text%d << EOD\n", lv + 1);
        for (size_t j = 0; j < ty; j++)
            for (size_t i = 0; i < tx; i++) {
                size_t c = (size_t)((i + 0.5) * (double)W / (double)tx),
                       r = (size_t)((j + 0.5) * (double)H / (double)ty);
                if (level(ctx, r, c) != lv)
                    continue;
                nnl_pbuf_num(b, x0 + (i + 0.5) * (x1 - x0) / (double)tx);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, y0 + (j + 0.5) * (y1 - y0) / (double)ty);
                nnl_pbuf_add(b, "\n");
            }
        nnl_pbuf_add(b, "EOD\n");
    }
    nnl_pbuf_add(b, "plot ");
    for (int lv = 0; lv < nl; lv++)
        nnl_pbuf_addf(b, "%s$text%d using 1:2 with points pt '%c'%s notitle",
                      lv ? ", \\\n     " : "", lv + 1, chars[lv], style ? style : "");
}

/* Diverging levels of value / m: strongly and weakly negative, weakly and
 * strongly positive; near zero stays blank, as white does in pictures. */
typedef struct diverging_image {
    const float *f;  /* the values: f, or d when f is NULL */
    const double *d;
    size_t W;
    double m;
} diverging_image;

static int diverging_level(const void *ctx, size_t r, size_t c)
{
    const diverging_image *im = ctx;
    double v = im->f ? (double)im->f[r * im->W + c] : im->d[r * im->W + c];
    double q = v / im->m;
    if (!(fabs(q) >= 0.15)) /* NaN too */
        return -1;
    return q < -0.55 ? 0 : q < 0 ? 1 : q <= 0.55 ? 2 : 3;
}

void nnl_plot_text_image(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px,
                         const float *f, const double *d, size_t W, size_t H, double x0,
                         double x1, double y0, double y1, double m)
{
    diverging_image im = {f, d, W, m > 0 && isfinite(m) ? m : 1};
    nnl_pbuf_add(b, "unset colorbox\n");
    nnl_plot_text_cells(b, o, w_px, h_px, W, H, x0, x1, y0, y1, diverging_level, &im, "=-+#",
                        4, NULL);
    nnl_pbuf_add(b, "\n");
}

const char *nnl_plot_text_image_key(void)
{
    return "# + positive, - = negative";
}

/* Sequential levels of (value - lo) / (hi - lo) in fifths: the lowest fifth
 * stays blank, as the palette's white does in pictures. */
typedef struct ramp_image {
    const double *d;
    size_t W;
    double lo, span;
} ramp_image;

static int ramp_level(const void *ctx, size_t r, size_t c)
{
    const ramp_image *im = ctx;
    double q = (im->d[r * im->W + c] - im->lo) / im->span;
    if (!(q >= 0.2)) /* NaN too */
        return -1;
    return q < 0.4 ? 0 : q < 0.6 ? 1 : q < 0.8 ? 2 : 3;
}

void nnl_plot_text_ramp(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px,
                        const double *d, size_t W, size_t H, double x0, double x1, double y0,
                        double y1, double lo, double hi)
{
    ramp_image im = {d, W, lo, hi > lo && isfinite(hi - lo) ? hi - lo : 1};
    nnl_pbuf_add(b, "unset colorbox\n");
    nnl_plot_text_cells(b, o, w_px, h_px, W, H, x0, x1, y0, y1, ramp_level, &im, ".:+#", 4,
                        NULL);
    nnl_pbuf_add(b, "\n");
}

const char *nnl_plot_text_ramp_key(void)
{
    return "# highest, then + : . and blank lowest";
}
