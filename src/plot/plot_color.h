/* Colour arithmetic shared by the plot builders that compute colours
 * themselves (the model diagram's neuron fills, nn.plot.neurons' maps)
 * rather than leave them to a gnuplot palette. */
#ifndef NNL_PLOT_COLOR_H
#define NNL_PLOT_COLOR_H

#include <stdlib.h>

/* "#RRGGBB" mixed with white as 0xRRGGBB: keep = 1 is the colour, 0 white. */
static inline unsigned nnl_plot_mix_white(const char *hex, double keep)
{
    unsigned v = (unsigned)strtoul(hex + 1, NULL, 16), out = 0;
    for (int sh = 16; sh >= 0; sh -= 8) {
        unsigned ch = (v >> sh) & 255u;
        unsigned m = (unsigned)(255.0 - (255.0 - ch) * keep + 0.5);
        out |= (m & 255u) << sh;
    }
    return out;
}

#endif
