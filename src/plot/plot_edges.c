/* The weighted edges of the network pictures: see plot_edges.h. */
#include "plot/plot_edges.h"

#include <math.h>
#include <stdlib.h>

double nnl_plot_max_abs(const float *w, size_t n)
{
    double m = 0;
    for (size_t i = 0; w && i < n; i++) {
        double a = fabs((double)w[i]);
        if (isfinite(a) && a > m)
            m = a;
    }
    return m;
}

static int by_strength(const void *a, const void *b)
{
    double ta = ((const nnl_plot_edge *)a)->t, tb = ((const nnl_plot_edge *)b)->t;
    return (ta > tb) - (ta < tb);
}

void nnl_plot_edges_sort(nnl_plot_edge *e, size_t n)
{
    qsort(e, n, sizeof *e, by_strength);
}

void nnl_plot_edge_blocks(nnl_pbuf *b, const nnl_plot_edge *e, size_t n)
{
    for (int cls = 0; cls < 4; cls++) {
        nnl_pbuf_addf(b, "$edges%d << EOD\n", cls + 1);
        for (size_t i = 0; i < n; i++) {
            int ec = e[i].t < 0.25 ? 0 : e[i].t < 0.5 ? 1 : e[i].t < 0.75 ? 2 : 3;
            if (ec != cls)
                continue;
            nnl_pbuf_num(b, e[i].x0);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, e[i].y0);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, e[i].x1 - e[i].x0);
            nnl_pbuf_add(b, " ");
            nnl_pbuf_num(b, e[i].y1 - e[i].y0);
            nnl_pbuf_addf(b, " %u\n", e[i].argb);
        }
        nnl_pbuf_add(b, "EOD\n");
    }
}
