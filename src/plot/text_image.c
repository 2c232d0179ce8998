/* Images in text: gnuplot's dumb terminal draws no `with image`, so a heat
 * map there becomes characters, one per character cell of the plot area
 * (see nnl_plot_text_image in plot.h). */
#include <math.h>
#include <stdio.h>

#include "plot/plot.h"

/* Diverging levels of value / m: strongly and weakly negative, weakly and
 * strongly positive; near zero stays blank, as white does in pictures. */
static const char levels[4] = {'=', '-', '+', '#'};

static int level_of(double v, double m)
{
    double r = v / m;
    if (!(fabs(r) >= 0.15)) /* NaN too */
        return -1;
    return r < -0.55 ? 0 : r < 0 ? 1 : r <= 0.55 ? 2 : 3;
}

void nnl_plot_text_image(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px,
                         const double *img, size_t W, size_t H, double x0, double x1,
                         double y0, double y1, double m)
{
    if (!(m > 0) || !isfinite(m))
        m = 1;
    int cols, rows;
    nnl_plot_text_size(o, w_px, h_px, &cols, &rows);
    /* Two samples per character each way of the whole picture, so that
     * every cell of the (smaller) plot area gets one. */
    size_t tx = 2 * (size_t)cols, ty = 2 * (size_t)rows;
    for (int lv = 0; lv < 4; lv++) {
        nnl_pbuf_addf(b, "$text%d << EOD\n", lv + 1);
        for (size_t j = 0; j < ty; j++)
            for (size_t i = 0; i < tx; i++) {
                double x = x0 + (i + 0.5) * (x1 - x0) / tx, y = y0 + (j + 0.5) * (y1 - y0) / ty;
                size_t c = (size_t)((i + 0.5) * (double)W / (double)tx),
                       r = (size_t)((j + 0.5) * (double)H / (double)ty);
                if (level_of(img[r * W + c], m) != lv)
                    continue;
                nnl_pbuf_num(b, x);
                nnl_pbuf_add(b, " ");
                nnl_pbuf_num(b, y);
                nnl_pbuf_add(b, "\n");
            }
        nnl_pbuf_add(b, "EOD\n");
    }
    nnl_pbuf_add(b, "unset colorbox\nplot ");
    for (int lv = 0; lv < 4; lv++)
        nnl_pbuf_addf(b, "%s$text%d using 1:2 with points pt '%c' notitle", lv ? ", " : "",
                      lv + 1, levels[lv]);
    nnl_pbuf_add(b, "\n");
}

const char *nnl_plot_text_image_key(void)
{
    return "# + positive, - = negative";
}
