/* nn.plot.graph: a computation graph as boxes and arrows. The layout
 * (columns by distance from the output) is the caller's; this draws. */
#include <math.h>
#include <stdio.h>

#include "plot/plot.h"

nnl_status nnl_plot_graph(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_gnode *nodes,
                          size_t n, const size_t *edges, size_t ne, nnl_error *err)
{
    const char *fn = o->who ? o->who : "plot";
    if (n == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: nothing to draw", fn);
    double xmax = 0, ymax = 0;
    for (size_t i = 0; i < n; i++) {
        xmax = fmax(xmax, nodes[i].x);
        ymax = fmax(ymax, fabs(nodes[i].y));
    }
    for (size_t e = 0; e < ne; e++)
        if (edges[2 * e] >= n || edges[2 * e + 1] >= n)
            return nnl_fail(err, NNL_ERR_ARG, "%s: edge %zu names a node out of range", fn,
                            e + 1);
    /* at least as wide as the title, for a graph of one or two nodes */
    int w = 300 + (int)(xmax * 190);
    nnl_status st = nnl_plot_begin(b, o, w < 560 ? 560 : w, 240 + (int)(ymax * 130), fn, err);
    if (st != NNL_OK)
        return st;
    nnl_plot_labels(b, o, "computation graph (inputs left, result right)", NULL, NULL);
    nnl_pbuf_addf(b, "unset border\nunset xtics\nunset ytics\nunset grid\nunset key\n"
                     "set xrange [-0.7:%.6g]\nset yrange [%.6g:%.6g]\n",
                  xmax + 0.7, -ymax - 0.8, ymax + 0.8);
    /* Boxes: leaves (what gradients flow to) green, operations blue, the
     * result orange; the text says op, shape and the gradient's norm. */
    for (size_t i = 0; i < n; i++) {
        const char *fill = nodes[i].kind == 1 ? "#d9f0d3" : nodes[i].kind == 2 ? "#fde0c5"
                                                                             : "#dbe9f6";
        nnl_pbuf_addf(b, "set object %zu rect center %.6g,%.6g size 0.84,0.8 fc rgb '%s' "
                         "fs solid 1.0 border lc rgb '#606060' back\n",
                      i + 1, nodes[i].x, nodes[i].y, fill);
        nnl_pbuf_add(b, "set label ");
        nnl_pbuf_quote(b, nodes[i].label ? nodes[i].label : "?");
        /* gnuplot puts a label's first line at the point: lift the
         * block of lines by half its height so it sits in the box */
        int lines = 1;
        for (const char *c = nodes[i].label; c && *c; c++)
            lines += *c == '\n';
        nnl_pbuf_addf(b, " at %.6g,%.6g center offset 0,%.2g font ',9' front\n", nodes[i].x,
                      nodes[i].y, (lines - 1) * 0.5);
    }
    for (size_t e = 0; e < ne; e++) {
        const nnl_plot_gnode *a = &nodes[edges[2 * e]], *c = &nodes[edges[2 * e + 1]];
        nnl_pbuf_addf(b, "set arrow from %.6g,%.6g to %.6g,%.6g head size 0.08,20 "
                         "lc rgb '#404040' lw 1.2 back\n",
                      a->x + 0.42, a->y, c->x - 0.42, c->y);
    }
    nnl_pbuf_add(b, "plot NaN notitle\n");
    nnl_plot_end(b, o);
    return nnl_pbuf_check(b, fn, err);
}
