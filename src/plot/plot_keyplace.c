/* Where a plot's key goes: the inside corner its box would hide the least
 * of the lines in, so that no key sits over a curve a student is reading. */
#include <math.h>
#include <stddef.h>

#include "plot/plot.h"

/* The corners in order of preference (gnuplot's default first). */
static const char *const corner_name[4] = {"top right", "top left", "bottom right",
                                           "bottom left"};

static double y_of(double y, int logy)
{
    if (!isfinite(y))
        return NAN;
    if (logy)
        return y > 0 ? log10(y) : NAN;
    return y;
}

static double x_of(const nnl_plot_series *s, size_t k)
{
    return s->x ? s->x[k] : (double)(k + 1);
}

const char *nnl_plot_key_corner(const nnl_plot_series *s, int ns, const int *panel, int q,
                                int logy, int width, int height, int nkeys, size_t longest,
                                int bottom_first)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < ns; i++) {
        if (panel && panel[i] != q)
            continue;
        for (size_t k = 0; k < s[i].n; k++) {
            double x = x_of(&s[i], k), y = y_of(s[i].y[k], logy);
            if (!isfinite(x) || !isfinite(y))
                continue;
            x0 = fmin(x0, x), x1 = fmax(x1, x);
            y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    }
    if (!(x1 > x0) || !(y1 > y0))
        return corner_name[0];
    /* The key's box as a share of the plot area: about 6.5 pixels a
     * character plus 60 for the sample line, 17 a row, in the page less
     * its margins (measured on pngcairo's default font). */
    double pw = fmax(width - 90.0, 100.0), ph = fmax(height - 110.0, 80.0);
    double fw = fmin(((double)longest * 6.5 + 60.0) / pw, 0.95);
    double fh = fmin((nkeys * 17.0 + 10.0) / ph, 0.95);
    size_t hits[4] = {0, 0, 0, 0};
    for (int i = 0; i < ns; i++) {
        if (panel && panel[i] != q)
            continue;
        for (size_t k = 0; k < s[i].n; k++) {
            /* points along each segment too: a steep line crosses a corner
             * between two of its points */
            size_t last = k + 1 < s[i].n ? 8 : 1;
            for (size_t t = 0; t < last; t++) {
                double a = (double)t / 8.0;
                double x = x_of(&s[i], k), y = y_of(s[i].y[k], logy);
                if (t) {
                    x += a * (x_of(&s[i], k + 1) - x);
                    y += a * (y_of(s[i].y[k + 1], logy) - y);
                }
                if (!isfinite(x) || !isfinite(y))
                    continue;
                double u = (x - x0) / (x1 - x0), v = (y - y0) / (y1 - y0);
                int right = u >= 1 - fw, left = u <= fw, top = v >= 1 - fh, bottom = v <= fh;
                hits[0] += right && top;
                hits[1] += left && top;
                hits[2] += right && bottom;
                hits[3] += left && bottom;
            }
        }
    }
    static const int top_first[4] = {0, 1, 2, 3}, low_first[4] = {2, 3, 0, 1};
    const int *order = bottom_first ? low_first : top_first;
    for (int c = 0; c < 4; c++)
        if (hits[order[c]] == 0)
            return corner_name[order[c]];
    return NULL;
}
