/* nnlua's plots: options, the house style, and one builder per plot kind.
 *
 * A builder writes a complete gnuplot script (terminal, house style, inline
 * data blocks, plot commands) into an nnl_pbuf from plain C arrays; it
 * knows nothing of Lua or models. nnl_plot_render then keeps the script
 * (opts.script) and runs it through gnuplot. Tests read the script text.
 *
 * House style: the Okabe-Ito palette (safe for colour-blind readers) in a
 * fixed order, a light grid behind the data, axes on two sides, ticks
 * outside, a sans font sized for slides, text taken literally (no
 * "enhanced" markup, so val_loss is not a subscript). */
#ifndef NNL_PLOT_H
#define NNL_PLOT_H

#include <stddef.h>
#include "core/status.h"
#include "plot/script.h"

/* Most points one plot writes into its script (lines, scatter, decision
 * regions): more would make a script of gigabytes; sample the data. */
#define NNL_PLOT_MAX_POINTS ((size_t)2000000)

/* Okabe-Ito colours in the order series use them. */
#define NNL_PLOT_NCOLORS 8
extern const char *const nnl_plot_colors[NNL_PLOT_NCOLORS];
/* Sign colours of weights (heat maps, the model diagram). */
#define NNL_PLOT_POS "#0072B2" /* blue: positive */
#define NNL_PLOT_NEG "#E69F00" /* orange: negative */

/* Where a plot goes, from the file name's extension. */
typedef enum nnl_plot_term {
    NNL_TERM_PNG,    /* .png: pngcairo */
    NNL_TERM_SVG,    /* .svg */
    NNL_TERM_PDF,    /* .pdf: pdfcairo */
    NNL_TERM_TXT,    /* .txt: dumb, into the file */
    NNL_TERM_GIF,    /* .gif: gif (libgd); also every frame of an animation */
    NNL_TERM_WINDOW, /* no file, a display and a window terminal */
    NNL_TERM_TTY     /* no file otherwise: dumb, to standard output */
} nnl_plot_term;

/* Options common to every plot. Strings are borrowed; NULL means the
 * plot kind's default. */
typedef struct nnl_plot_opts {
    const char *file;   /* .png .svg .pdf .txt; NULL: window or text */
    const char *script; /* also save the script (with its data) here */
    const char *title, *xlabel, *ylabel;
    int width, height;  /* pixels; 0: the kind's default */
    int logy;           /* logarithmic y axis (lines, history) */
    int render;         /* 0: build (and save) the script only */
    int persist;        /* window terminal option: keep the window */
    const char *who;    /* the caller's name for messages ("nn.plot.lines", given
                           by the binding); NULL: "plot" */
    /* A frame of an animation (nnl_plot_animation): no terminal, output
     * or closing of the output, which the animation's script sets once
     * around all frames; drawn as a GIF (graphics, not text). The script
     * starts with "# nnlua frame size W,H" (the size it would have). */
    int frame;
    /* The binding hands the script back to Lua instead of rendering it
     * (frames, LivePlot's pictures). */
    int give_script;
    /* History frames: only the first upto epochs are drawn, on the axes
     * (x and each panel's y range) of the whole history, so that frames
     * share their axes. 0: all, axes from the data. */
    size_t upto;
    /* Heat maps of weights: the colour range [-cmax, cmax] (frames share
     * one); 0: from the data. */
    double cmax;
} nnl_plot_opts;

/* Defaults: everything NULL/0, render = 1, persist = 1. */
void nnl_plot_opts_init(nnl_plot_opts *o);

/* The terminal for o (file extension, case-insensitive; a frame is
 * NNL_TERM_GIF whatever its file); an unknown
 * extension is NNL_ERR_ARG naming it and the accepted ones. */
nnl_status nnl_plot_term_of(const nnl_plot_opts *o, nnl_plot_term *term, const char *fn,
                            nnl_error *err);

/* Starts a script: reset, terminal (size w x h pixels unless o overrides,
 * scaled to characters for text), output, house style. */
nnl_status nnl_plot_begin(nnl_pbuf *b, const nnl_plot_opts *o, int w, int h, const char *fn,
                          nnl_error *err);
/* 1 when o's output is text (.txt, or the terminal without a window). */
int nnl_plot_is_text(const nnl_plot_opts *o);
/* The size in characters of a text plot started with w x h pixels (o's
 * width/height override them), as nnl_plot_begin sets it. */
void nnl_plot_text_size(const nnl_plot_opts *o, int w, int h, int *cols, int *rows);
/* Appends " pt N" (graphics) or, in text, the point character of line
 * type lt (1-based), so that series differ in text too, where colours do
 * not show: o x + ^ v < > ~ in the order of the colours. */
void nnl_plot_pt(nnl_pbuf *b, const nnl_plot_opts *o, int lt, int pt);
/* The mark character of line type lt in text. */
char nnl_plot_text_mark(int lt);
/* An image in text (gnuplot's dumb terminal draws no images): a W x H
 * grid of cells covering data coordinates [x0, x1] x [y0, y1] (row 0 at
 * y0), sampled twice per character each way of a w_px x h_px picture;
 * every sample gets the character chars[level(ctx, row, col)] (a level
 * outside 0..nl-1: nothing; the characters must not be quotes). Writes a
 * data block per level and starts
 * the plot command with an item each (style, e.g. a colour, appended to
 * each; may be NULL); the caller adds items or ends the line. */
void nnl_plot_text_cells(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px, size_t W,
                         size_t H, double x0, double x1, double y0, double y1,
                         int (*level)(const void *ctx, size_t r, size_t c), const void *ctx,
                         const char *chars, int nl, const char *style);
/* A heat map in text: the W x H values (row-major floats f, or doubles d
 * when f is NULL; NaN: nothing) as = - (negative) + # (positive) by value
 * against m (|v| < 0.15 m: blank), with nnl_plot_text_cells. Writes the
 * whole plot command. */
void nnl_plot_text_image(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px,
                         const float *f, const double *d, size_t W, size_t H, double x0,
                         double x1, double y0, double y1, double m);
/* What the characters of nnl_plot_text_image mean, for a title. */
const char *nnl_plot_text_image_key(void);
/* A sequential image in text (feature maps): the W x H doubles d (NaN:
 * nothing) in fifths of [lo, hi] as blank . : + # with nnl_plot_text_cells.
 * Writes the whole plot command. */
void nnl_plot_text_ramp(nnl_pbuf *b, const nnl_plot_opts *o, int w_px, int h_px,
                        const double *d, size_t W, size_t H, double x0, double x1, double y0,
                        double y1, double lo, double hi);
/* What the characters of nnl_plot_text_ramp mean, for a title. */
const char *nnl_plot_text_ramp_key(void);
/* Title and axis labels: o's when given, else the defaults (NULL: none). */
void nnl_plot_labels(nnl_pbuf *b, const nnl_plot_opts *o, const char *title,
                     const char *xlabel, const char *ylabel);
/* Ends a script: closes the output so the file is complete (not in a
 * frame: the animation closes it after the last). */
void nnl_plot_end(nnl_pbuf *b, const nnl_plot_opts *o);
/* Writes a data block "$name << EOD" with n rows of ncol values taken
 * from cols[c][r] (a NULL column gives r+1: 1-based row numbers). */
void nnl_plot_datablock(nnl_pbuf *b, const char *name, size_t n, int ncol,
                        const double *const *cols);

/* Saves the script to o->script when set, then (if o->render) runs it
 * through gnuplot; a file plot is then checked (nnl_plot_check_file). A
 * failed write of the script says why and removes it. Errors name fn (and
 * the file). */
nnl_status nnl_plot_render(const nnl_pbuf *b, const nnl_plot_opts *o, const char *fn,
                           nnl_error *err);

/* What a file looked like (to tell whether gnuplot wrote it). */
typedef struct nnl_plot_filestamp {
    int exists;
    unsigned long long dev, ino;
    long long size, mtime[2], ctime[2];
} nnl_plot_filestamp;
/* Takes file's stamp (exists = 0 when there is none; file may be NULL). */
void nnl_plot_stamp(const char *file, nnl_plot_filestamp *st);
/* Checks a plot's file after gnuplot exited: it exists, was written since
 * before (its stamp then; NULL: no check), is not empty, and ends as its
 * format (from the extension) does: PNG, SVG, PDF, GIF (its header and
 * trailer byte). A device or pipe is
 * not looked at. Errors name the file, after "fn: " (fn may be NULL). */
nnl_status nnl_plot_check_file(const char *file, const nnl_plot_filestamp *before,
                               const char *fn, nnl_error *err);

/* One named sequence of points; x NULL means 1, 2, ..., n. */
typedef struct nnl_plot_series {
    const char *name;
    const double *x, *y;
    size_t n;
} nnl_plot_series;

/* Training history: one panel per quantity (loss, each metric), with the
 * training series solid and "val_<name>" dashed in the same panel; x is
 * the epoch. Series are drawn in the given order. */
nnl_status nnl_plot_history(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                            int ns, nnl_error *err);

/* Lines: each series a line (points too when short); names in the key. */
nnl_status nnl_plot_lines(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                          int ns, nnl_error *err);

/* Scatter of (x[i], y[i]); cls (NULL: one colour) gives each point's class
 * 1..k, coloured and named in the key by names (NULL: "class i"). */
nnl_status nnl_plot_scatter(nnl_pbuf *b, const nnl_plot_opts *o, const double *x,
                            const double *y, size_t n, const int *cls, int k,
                            const char *const *names, nnl_error *err);

/* Histogram of v with `bins` equal bins (0: chosen from n); NaN skipped. */
nnl_status nnl_plot_hist(nnl_pbuf *b, const nnl_plot_opts *o, const double *v, size_t n,
                         int bins, nnl_error *err);

/* Heat map of a weight matrix w[rows x cols] (row-major: inputs x units),
 * blue positive, orange negative, symmetric colour range. With tile_h and
 * tile_w > 0 (tile_h * tile_w == rows), each unit's incoming weights are
 * drawn as a tile_h x tile_w image, tiles in a grid, at most max_tiles
 * (0: 100) of them. */
nnl_status nnl_plot_heatmap(nnl_pbuf *b, const nnl_plot_opts *o, const float *w, size_t rows,
                            size_t cols, int tile_h, int tile_w, int max_tiles,
                            nnl_error *err);

/* The filters of a convolution as tiles, on one colour scale (blue +,
 * orange -). k is the kernel [kh][kw][cin][cout] (row-major, Keras's
 * layout; a 1-D convolution is kh = 1). With one input channel, or mean,
 * a grid of one numbered tile per filter (mean: the average over the
 * input channels, said in the title); otherwise, as Keras's tutorials show
 * them, a row per filter with a tile per input channel (the first
 * max_channels, 0: 8). At most max_filters filters (0: 64 in a grid, 16 in
 * rows). what names the layer in the title (NULL: "filters"). */
nnl_status nnl_plot_filters(nnl_pbuf *b, const nnl_plot_opts *o, const float *k, size_t kh,
                            size_t kw, size_t cin, size_t cout, int max_filters,
                            int max_channels, int mean, const char *what, nnl_error *err);

/* Feature maps of one sample: x[h][w][c] (channels last), a numbered tile
 * per channel (at most max_maps, 0: 64) on one scale from the smallest
 * (white) to the largest value shown. sequence (with h = 1: x[steps][c]):
 * a strip per channel instead, one above the other, numbered on the left.
 * what names the layer. */
nnl_status nnl_plot_feature_maps(nnl_pbuf *b, const nnl_plot_opts *o, const float *x,
                                 size_t h, size_t w, size_t c, int sequence, int max_maps,
                                 const char *what, nnl_error *err);

/* Confusion matrix counts[k x k] (row: true class, column: predicted),
 * every cell annotated; names NULL gives 1..k. */
nnl_status nnl_plot_confusion(nnl_pbuf *b, const nnl_plot_opts *o, const double *counts,
                              int k, const char *const *names, nnl_error *err);

/* Decision regions: grid[gy x gx] of classes 1..k over [x0,x1]x[y0,y1]
 * (row 0 at y0), as light colours; then the points (px, py) coloured by
 * pc (1..k; NULL: black). names as for scatter. */
typedef struct nnl_plot_regions {
    const int *grid;
    int gx, gy;
    double x0, x1, y0, y1;
    const double *px, *py;
    const int *pc;
    size_t np;
    int k;
    const char *const *names;
} nnl_plot_regions;
/* The classes of r: 1..64 of them, every grid cell and point in 1..k, at
 * most NNL_PLOT_MAX_POINTS points; messages name fn and call a cell `cell`
 * (plot_boundary.c; nn.plot.neurons' output map checks the same). */
nnl_status nnl_plot_regions_check_classes(const nnl_plot_regions *r, const char *fn,
                                          const char *cell, nnl_error *err);
nnl_status nnl_plot_boundary(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_regions *r,
                             nnl_error *err);

/* One column of nn.plot.neurons: the two inputs, or a hidden layer (a
 * Dense layer and the activation and dropout after it). */
typedef struct nnl_plot_ncol {
    int units;            /* the layer's units */
    int shown;            /* maps drawn: of units 1..shown (the rest: "... N more") */
    const char *label;    /* above the column ("\n" allowed) */
    const float *values;  /* the column's output on the grid: res * res rows (row-major,
                             grid row 0 at y0, x fastest) of `units` values */
    const float *kernel;  /* [previous column's units x units]; NULL: no edges (the inputs) */
    const char *const *names; /* under each shown map, or NULL */
} nnl_plot_ncol;
/* The picture: columns, the input plane, the output layer and its classes. */
typedef struct nnl_plot_nnet {
    const nnl_plot_ncol *cols; /* inputs first; 1..50 */
    int ncols;
    int res;                   /* each small map is res x res (2..500) */
    double x0, x1, y0, y1;     /* the input plane the grids cover */
    const float *out_kernel;   /* the output layer's [last column's units x out_units] */
    int out_units;
    const char *out_label;     /* above the output map */
    nnl_plot_regions out;      /* the output's classes over the plane, and the points */
} nnl_plot_nnet;
/* For a model of two inputs, TensorFlow Playground's picture: each column
 * a stack of small square maps, one per unit, of its output over the input
 * plane (blue +, orange -, white 0, on one scale per column), edges between
 * the maps of consecutive columns coloured by the weight's sign and as wide
 * as its magnitude, and on the right a larger map of the output's classes
 * with the points. Every map's data block keeps the unit's values and the
 * plane's coordinates beside its colours. */
nnl_status nnl_plot_neurons(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_nnet *net,
                            nnl_error *err);

/* One box of a computation graph (nn.plot.graph) at (x, y) in units of
 * boxes; kind 0 an operation, 1 a leaf, 2 the result. */
typedef struct nnl_plot_gnode {
    double x, y;
    const char *label;  /* "\n" allowed */
    int kind;
} nnl_plot_gnode;
/* Boxes and arrows: edges are ne pairs (from, to) of node indices. */
nnl_status nnl_plot_graph(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_gnode *nodes,
                          size_t n, const size_t *edges, size_t ne, nnl_error *err);

/* One column of the model diagram. The first is the input (no kernel). */
typedef struct nnl_plot_layer {
    int units;
    const char *name;   /* shown above the column */
    const char *label;  /* shown below: activation, notes ("\n" allowed) */
    const float *kernel; /* [previous units x units] or NULL (structure only) */
    const float *bias;   /* [units] or NULL */
    /* A block of feature maps instead of a column of neurons (convolutions,
     * pooling, an image input): maps h x w, c of them (units = h * w * c);
     * maps = 1 for images, 2 for sequences (steps = h, w = 1, shown as
     * "h x c"); learns: the layer has weights (filled blue, else grey). */
    int maps, mh, mw, mc, learns;
} nnl_plot_layer;
/* The network: layers as columns of neurons, edges shaded by weight sign
 * (blue +, orange -) and magnitude, neurons filled by bias. A column of at
 * most max_shown units (0: 32) shows them all; a larger one shows its
 * first and last few (10 slots at most) around "... N more". A maps layer
 * is a stack of rectangles instead (sized by h and w, more sheets for more
 * channels), joined to its neighbours by grey links. */
nnl_status nnl_plot_network(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_layer *layers,
                            int n, int max_shown, nnl_error *err);

/* A logarithmic axis ("y") for data whose positive values span [lo, hi]:
 * gnuplot's own ticks for two decades or more, else the range as it is
 * with readable ticks (axes.c). _reset undoes it for the next plot. */
void nnl_plot_log_axis(nnl_pbuf *b, const char *axis, double lo, double hi);
void nnl_plot_log_axis_reset(nnl_pbuf *b, const char *axis);
/* Small multiples: a grid of panels (titles[p], np of them), series i
 * in panel[i] (0-based). A panel's first series is solid in the panel's
 * colour, its next ones dashed in the same colour, each in its panel's key
 * (plot_panels.c). */
nnl_status nnl_plot_panels(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_series *s,
                           int ns, const int *panel, const char *const *titles, int np,
                           nnl_error *err);
/* Whole-number ticks (1-2-5 steps, at most about 12, and 1) on an axis
 * that counts 1..n (units, inputs, classes). */
void nnl_plot_whole_tics(nnl_pbuf *b, const char *axis, size_t n);
/* The corner of the plot ("top right", "top left", "bottom right",
 * "bottom left") that no curve passes through, for the key; "outside
 * right top" when every corner has one. logy: the corners of a log axis. */
const char *nnl_plot_key_corner(const nnl_plot_series *s, int ns, int logy);
/* The smallest and largest positive finite y of the series (lo = +inf
 * when there is none). */
void nnl_plot_positive_range(const nnl_plot_series *s, int ns, double *lo, double *hi);

/* One optimizer's path on a loss surface: points (w1[i], w2[i]), the
 * start first. */
typedef struct nnl_plot_path {
    const char *name;
    const double *w1, *w2;
    size_t n;
} nnl_plot_path;
/* A loss surface: z[gy x gx] (row-major, row 0 at y0; NaN: not drawn)
 * over [x0,x1]x[y0,y1] as a colour map with contour lines and a colour
 * bar, the lowest cell marked, and the paths on top (a dot per step, the
 * end a square); mark_name set: a ring at (mark_x, mark_y) so named (the
 * paths' start, a model's weights). logscale: 1 log colours
 * and contours, 0 linear, -1 chosen from the values (log when they are
 * positive and most crowd the bottom). title, axis labels (NULL: "loss
 * surface", "w1", "w2"; o's win) and zlabel (the colour bar; NULL:
 * "loss"). */
typedef struct nnl_plot_surface {
    const double *z;
    int gx, gy;
    double x0, x1, y0, y1;
    const nnl_plot_path *paths;
    int np;
    int logscale;
    const char *title, *xlabel, *ylabel, *zlabel;
    const char *mark_name;
    double mark_x, mark_y;
} nnl_plot_surface_data;
nnl_status nnl_plot_surface(nnl_pbuf *b, const nnl_plot_opts *o, const nnl_plot_surface_data *s,
                            nnl_error *err);

/* An animated GIF of frames: the script that draws into o->file (a .gif)
 * the frames in the file `frames` (scripts built with o.frame, one after
 * another; each plot, or multiplot, is a frame), w x h pixels, delay
 * hundredths of a second per frame, looping. */
nnl_status nnl_plot_animation(nnl_pbuf *b, const nnl_plot_opts *o, const char *frames, int w,
                              int h, int delay, nnl_error *err);

#endif
