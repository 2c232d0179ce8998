/* Animated GIFs (nn.callbacks.Animate): the script that draws frames,
 * built beforehand in frame mode (nnl_plot_opts.frame) and saved one
 * after another in a file, into one GIF with gnuplot's gif terminal, in
 * which every plot (or multiplot) is one frame. */
#include "plot/plot.h"

nnl_status nnl_plot_animation(nnl_pbuf *b, const nnl_plot_opts *o, const char *frames, int w,
                              int h, int delay, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    nnl_plot_term term;
    nnl_status st = nnl_plot_term_of(o, &term, fn, err);
    if (st != NNL_OK)
        return st;
    if (!o->file || term != NNL_TERM_GIF || o->frame)
        return nnl_fail(err, NNL_ERR_ARG, "%s: an animation goes into a .gif file", fn);
    if (!frames || !*frames)
        return nnl_fail(err, NNL_ERR_ARG, "%s: no frames to draw", fn);
    if (w < 100 || w > 20000 || h < 80 || h > 20000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a %dx%d animation (expected 100..20000 by "
                        "80..20000 pixels)", fn, w, h);
    if (delay < 1 || delay > 100000)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a delay of %d hundredths of a second (expected "
                        "1..100000)", fn, delay);
    nnl_pbuf_add(b, "# Made by nnlua: an animation of the frames in the file loaded below.\n"
                    "reset session\n");
    nnl_pbuf_addf(b, "set terminal gif animate delay %d loop 0 size %d,%d "
                  "font 'DejaVu Sans,11' noenhanced background rgb 'white'\n", delay, w, h);
    nnl_pbuf_add(b, "set output ");
    nnl_pbuf_quote_path(b, o->file);
    nnl_pbuf_add(b, "\nload ");
    nnl_pbuf_quote(b, frames);
    nnl_pbuf_add(b, "\nunset output\n");
    return nnl_pbuf_check(b, fn, err);
}
