/* nn.plot.confusion: the confusion matrix as shaded cells (white to blue
 * by the share of the true class), every cell annotated with its count. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/plot.h"

nnl_status nnl_plot_confusion(nnl_pbuf *b, const nnl_plot_opts *o, const double *counts,
                              int k, const char *const *names, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (k < 1 || k > 1000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d classes (expected 1..1000)", fn, k);
    double total = 0;
    for (int i = 0; i < k * k; i++) {
        if (!(counts[i] >= 0) || !isfinite(counts[i]))
            return nnl_fail(err, NNL_ERR_ARG, "%s: cell %d,%d is %g, not a count", fn,
                            i / k + 1, i % k + 1, counts[i]);
        total += counts[i];
    }
    int side = k <= 4 ? 520 : k <= 12 ? 640 : 820;
    nnl_status st = nnl_plot_begin(b, o, side + 120, side, fn, err);
    if (st != NNL_OK)
        return st;
    /* Cells: x = predicted, y = true, count, share of the row, and the
     * text colour (white on dark cells). */
    nnl_pbuf_add(b, "$cells << EOD\n");
    double correct = 0;
    for (int i = 0; i < k; i++) {
        double row = 0;
        for (int j = 0; j < k; j++)
            row += counts[i * k + j];
        correct += counts[i * k + i];
        for (int j = 0; j < k; j++) {
            double c = counts[i * k + j];
            double share = row > 0 ? c / row : 0;
            nnl_pbuf_addf(b, "%d %d %.17g %.6f %s\n", j + 1, i + 1, c, share,
                          share > 0.55 ? "16777215" : "2105376");
        }
    }
    nnl_pbuf_add(b, "EOD\n");
    char title[160];
    /* In text the y label would be written over the class names (the dumb
     * terminal does not rotate it), so the title says what rows are. */
    int text = nnl_plot_is_text(o);
    snprintf(title, sizeof title, "confusion matrix (accuracy %.1f%% of %.0f)%s",
             total > 0 ? 100.0 * correct / total : 0.0, total, text ? "; rows: true class" : "");
    nnl_plot_labels(b, o, title, "predicted class", text ? NULL : "true class");
    nnl_pbuf_add(b, "set palette defined (0 '#ffffff', 1 '#0072B2')\n"
                    "set cbrange [0:1]\nset cblabel 'share of the true class'\n"
                    "set cbtics 0.25 out nomirror\n");
    nnl_pbuf_addf(b, "set xrange [0.5:%d.5]\nset yrange [%d.5:0.5]\n", k, k);
    nnl_pbuf_add(b, "set size ratio -1\nunset grid\nset border 15 lc rgb '#505050'\n"
                    "set tics scale 0\nunset key\n");
    for (int axis = 0; axis < 2; axis++) {
        nnl_pbuf_add(b, axis == 0 ? "set xtics (" : "set ytics (");
        for (int i = 0; i < k; i++) {
            char num[32];
            snprintf(num, sizeof num, "%d", i + 1);
            nnl_pbuf_add(b, i ? ", " : "");
            nnl_pbuf_quote_tic(b, names && names[i] ? names[i] : num);
            nnl_pbuf_addf(b, " %d", i + 1);
        }
        nnl_pbuf_add(b, ")\n");
    }
    size_t longest = 0;
    for (int i = 0; names && i < k; i++)
        if (names[i] && strlen(names[i]) > longest)
            longest = strlen(names[i]);
    if (longest > 3 && k * longest > 40)
        nnl_pbuf_add(b, "set xtics rotate by 45 right\n");
    int font = k <= 6 ? 14 : k <= 12 ? 11 : 8;
    if (text) /* no shading (no images, no colours): the counts alone */
        nnl_pbuf_add(b, "unset colorbox\n"
                        "plot $cells using 1:2:(sprintf('%d', int($3))) with labels notitle\n");
    else
        nnl_pbuf_addf(b, "plot $cells using 1:2:4 with image notitle, \\\n"
                         "     $cells using 1:2:(sprintf('%%d', int($3))):5 with labels "
                         "tc rgb variable font ',%d' notitle\n", font);
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
