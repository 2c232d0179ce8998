/* The weighted edges of the network pictures (nn.plot.model, nn.plot.neurons):
 * one record per drawn edge, sorted weakest first so strong edges lie on
 * top, written as four data blocks by strength (gnuplot has no per-vector
 * width). Internal to src/plot. */
#ifndef NNL_PLOT_EDGES_H
#define NNL_PLOT_EDGES_H

#include <stddef.h>
#include "plot/script.h"

typedef struct nnl_plot_edge {
    double x0, y0, x1, y1, t; /* t: |w| / the layer's largest |w| */
    unsigned argb;
} nnl_plot_edge;

/* The largest finite |w[i]| (0 for none; w may be NULL). */
double nnl_plot_max_abs(const float *w, size_t n);
/* Sorts e weakest first (by t). */
void nnl_plot_edges_sort(nnl_plot_edge *e, size_t n);
/* Data blocks $edges1..$edges4 (t below 0.25, 0.5, 0.75, and above), one
 * row "x y dx dy argb" per edge, for `with vectors ... lc rgb variable`. */
void nnl_plot_edge_blocks(nnl_pbuf *b, const nnl_plot_edge *e, size_t n);

#endif
