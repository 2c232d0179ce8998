/* The house style and the parts every plot script shares: terminal chosen
 * from the file name, output, colours, grid, fonts (saving and rendering a
 * script: render.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plot/gnuplot.h"
#include "plot/plot.h"

const char *const nnl_plot_colors[NNL_PLOT_NCOLORS] = {
    "#0072B2", /* blue */
    "#E69F00", /* orange */
    "#009E73", /* bluish green */
    "#D55E00", /* vermillion */
    "#CC79A7", /* reddish purple */
    "#56B4E9", /* sky blue */
    "#F0E442", /* yellow */
    "#000000", /* black */
};

void nnl_plot_opts_init(nnl_plot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->render = 1;
    o->persist = 1;
}

/* 1 when name ends with ext, ignoring case. */
static int ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n < e)
        return 0;
    for (size_t i = 0; i < e; i++)
        if (tolower((unsigned char)name[n - e + i]) != ext[i])
            return 0;
    return 1;
}

nnl_status nnl_plot_term_of(const nnl_plot_opts *o, nnl_plot_term *term, const char *fn,
                            nnl_error *err)
{
    if (o->frame) {
        *term = NNL_TERM_GIF;
        return NNL_OK;
    }
    if (!o->file) {
        *term = nnl_gnuplot_window_terminal() ? NNL_TERM_WINDOW : NNL_TERM_TTY;
        return NNL_OK;
    }
    if (ends_with(o->file, ".png"))
        *term = NNL_TERM_PNG;
    else if (ends_with(o->file, ".svg"))
        *term = NNL_TERM_SVG;
    else if (ends_with(o->file, ".pdf"))
        *term = NNL_TERM_PDF;
    else if (ends_with(o->file, ".txt"))
        *term = NNL_TERM_TXT;
    else if (ends_with(o->file, ".gif"))
        *term = NNL_TERM_GIF;
    else {
        const char *dot = strrchr(o->file, '.');
        const char *slash = strrchr(o->file, '/');
        return nnl_fail(err, NNL_ERR_ARG, "%s: cannot tell the file type of '%.200s'%s%.20s%s "
                        "(use .png, .svg, .pdf, .gif or .txt)", fn, o->file,
                        dot && (!slash || dot > slash) ? " from '" : "",
                        dot && (!slash || dot > slash) ? dot : "",
                        dot && (!slash || dot > slash) ? "'" : "");
    }
    return NNL_OK;
}

/* A positive integer from the environment, or def. */
static int env_int(const char *name, int def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return (*end == '\0' && v > 0 && v < 10000) ? (int)v : def;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Point marks in text, one per line type: symbols that the dumb terminal
 * does not use for lines (it draws those with * # $ % @ & = and, by
 * slope, . - |). Its own marks for point types 7, 5, 9 are the letters
 * G, E, I. */
static const char text_marks[NNL_PLOT_NCOLORS + 1] = "ox+^v<>~";

char nnl_plot_text_mark(int lt)
{
    return text_marks[((lt - 1) % NNL_PLOT_NCOLORS + NNL_PLOT_NCOLORS) % NNL_PLOT_NCOLORS];
}

void nnl_plot_pt(nnl_pbuf *b, const nnl_plot_opts *o, int lt, int pt)
{
    if (nnl_plot_is_text(o))
        nnl_pbuf_addf(b, " pt '%c'", nnl_plot_text_mark(lt));
    else
        nnl_pbuf_addf(b, " pt %d", pt);
}

/* The house style: Okabe-Ito line types, grid, border, ticks, key. */
static void house_style(nnl_pbuf *b, nnl_plot_term term)
{
    static const int points[NNL_PLOT_NCOLORS] = {7, 5, 9, 11, 13, 7, 5, 9};
    int text = term == NNL_TERM_TXT || term == NNL_TERM_TTY;
    for (int i = 0; i < NNL_PLOT_NCOLORS; i++) {
        nnl_pbuf_addf(b, "set linetype %d lc rgb '%s' lw 2", i + 1, nnl_plot_colors[i]);
        if (text)
            nnl_pbuf_addf(b, " pt '%c'", text_marks[i]);
        else
            nnl_pbuf_addf(b, " pt %d", points[i]);
        nnl_pbuf_add(b, " ps 0.9 dt solid\n");
    }
    nnl_pbuf_add(b, "set linetype cycle 8\n"
                    "set border 3 lc rgb '#505050' lw 1\n"
                    "set tics nomirror out scale 0.6 textcolor rgb '#303030'\n");
    /* A grid in text would be drawn in characters over the curves. */
    if (term != NNL_TERM_TXT && term != NNL_TERM_TTY)
        nnl_pbuf_add(b, "set grid back lt 1 lc rgb '#e3e3e3' lw 1\n");
    nnl_pbuf_add(b, "set key top right noopaque nobox samplen 2.5 spacing 1.1\n");
    /* GIF (libgd) draws a translucent fill as grey, the colour box too */
    nnl_pbuf_addf(b, "set style fill solid %s border lc rgb '#ffffff'\n",
                  term == NNL_TERM_GIF ? "1" : "0.85");
    if (term == NNL_TERM_TXT || term == NNL_TERM_TTY)
        nnl_pbuf_add(b, "set tics scale 0.5\n");
    else
        nnl_pbuf_add(b, "set title font ',13'\n");
}

/* Characters of a text plot of w x h pixels: a .txt file at 9 x 18
 * pixels a character; the terminal as wide as $COLUMNS, as high as the
 * picture's proportions give (a character is about 2:1), at most $LINES. */
static void text_size(nnl_plot_term term, int w, int h, int *cols, int *rows)
{
    if (term == NNL_TERM_TXT) {
        *cols = clampi(w / 9, 40, 400);
        *rows = clampi(h / 18, 15, 200);
        return;
    }
    *cols = clampi(env_int("COLUMNS", 80), 40, 300);
    int most = clampi(env_int("LINES", 25) - 1, 15, 100);
    *rows = clampi((int)((double)*cols * h / w / 2.0 + 0.5), 12, most);
}

void nnl_plot_text_size(const nnl_plot_opts *o, int w, int h, int *cols, int *rows)
{
    nnl_plot_term term;
    if (nnl_plot_term_of(o, &term, "", NULL) != NNL_OK || term != NNL_TERM_TXT)
        term = NNL_TERM_TTY;
    if (o->width > 0)
        w = o->width;
    if (o->height > 0)
        h = o->height;
    text_size(term, clampi(w, 100, 20000), clampi(h, 80, 20000), cols, rows);
}

nnl_status nnl_plot_begin(nnl_pbuf *b, const nnl_plot_opts *o, int w, int h, const char *fn,
                          nnl_error *err)
{
    nnl_plot_term term;
    nnl_status st = nnl_plot_term_of(o, &term, fn, err);
    if (st != NNL_OK)
        return st;
    if (o->width > 0)
        w = o->width;
    if (o->height > 0)
        h = o->height;
    w = clampi(w, 100, 20000);
    h = clampi(h, 80, 20000);
    if (o->frame) {
        /* Settings of the frame before go (reset keeps the terminal and
         * its output); the size is for the animation to take. */
        nnl_pbuf_addf(b, "# nnlua frame size %d,%d\nreset session\n", w, h);
        house_style(b, term);
        return NNL_OK;
    }
    nnl_pbuf_add(b, "# Made by nnlua. Run `gnuplot <this file>` to draw it again.\n"
                    "reset session\n");
    const char *font = "'DejaVu Sans,11'";
    switch (term) {
    case NNL_TERM_PNG:
        nnl_pbuf_addf(b, "set terminal pngcairo size %d,%d font %s noenhanced "
                      "background rgb 'white' linewidth 1.2\n", w, h, font);
        break;
    case NNL_TERM_SVG:
        nnl_pbuf_addf(b, "set terminal svg size %d,%d dynamic font %s noenhanced "
                      "background rgb 'white' linewidth 1.2\n", w, h, font);
        break;
    case NNL_TERM_GIF:
        nnl_pbuf_addf(b, "set terminal gif size %d,%d font %s noenhanced "
                      "background rgb 'white'\n", w, h, font);
        break;
    case NNL_TERM_PDF:
        nnl_pbuf_addf(b, "set terminal pdfcairo size %.2fin,%.2fin font %s noenhanced "
                      "linewidth 1.2\n", w / 100.0, h / 100.0, font);
        break;
    case NNL_TERM_TXT:
    case NNL_TERM_TTY: {
        int cols, rows;
        text_size(term, w, h, &cols, &rows);
        nnl_pbuf_addf(b, "set terminal dumb size %d,%d noenhanced\n", cols, rows);
        break;
    }
    case NNL_TERM_WINDOW:
        /* The window's title bar says whose window it is and what it
         * shows, so several of them can be told apart. */
        nnl_pbuf_addf(b, "set terminal %s size %d,%d font %s noenhanced%s title 'nnlua",
                      nnl_gnuplot_window_terminal(), w, h, font, o->persist ? " persist" : "");
        /* Terminal options take one literal, not a string expression (a
         * single-quoted one: nothing is substituted there): an apostrophe
         * doubled, but one right after another as U+2019 (gnuplot reads
         * four apostrophes in a row as one and a stray token), control
         * characters (a newline would end the command) as blanks, about
         * 200 bytes (not cutting a UTF-8 character). */
        if (o->title && *o->title) {
            nnl_pbuf_add(b, ": ");
            size_t n = 0;
            int after_quote = 0;
            for (const char *t = o->title;
                 *t && (n < 200 || ((unsigned char)*t & 0xc0) == 0x80); t++, n++) {
                unsigned char ch = (unsigned char)*t;
                if (ch == '\'')
                    nnl_pbuf_add(b, after_quote ? "\xe2\x80\x99" : "''");
                else if (ch < 0x20 || ch == 0x7f)
                    nnl_pbuf_add(b, " ");
                else
                    nnl_pbuf_addn(b, t, 1);
                after_quote = ch == '\'';
            }
        }
        nnl_pbuf_add(b, "'\n");
        break;
    }
    if (o->file) {
        nnl_pbuf_add(b, "set output ");
        nnl_pbuf_quote_path(b, o->file);
        nnl_pbuf_add(b, "\n");
    }
    house_style(b, term);
    return NNL_OK;
}

int nnl_plot_is_text(const nnl_plot_opts *o)
{
    nnl_plot_term term;
    if (nnl_plot_term_of(o, &term, "", NULL) != NNL_OK)
        return 0;
    return term == NNL_TERM_TXT || term == NNL_TERM_TTY;
}

void nnl_plot_labels(nnl_pbuf *b, const nnl_plot_opts *o, const char *title,
                     const char *xlabel, const char *ylabel)
{
    const char *t = o->title ? o->title : title;
    const char *x = o->xlabel ? o->xlabel : xlabel;
    const char *y = o->ylabel ? o->ylabel : ylabel;
    if (t && *t) {
        nnl_pbuf_add(b, "set title ");
        nnl_pbuf_quote(b, t);
        nnl_pbuf_add(b, "\n");
    }
    if (x && *x) {
        nnl_pbuf_add(b, "set xlabel ");
        nnl_pbuf_quote(b, x);
        nnl_pbuf_add(b, "\n");
    }
    if (y && *y) {
        nnl_pbuf_add(b, "set ylabel ");
        nnl_pbuf_quote(b, y);
        nnl_pbuf_add(b, "\n");
    }
}

void nnl_plot_end(nnl_pbuf *b, const nnl_plot_opts *o)
{
    if (!o->frame)
        nnl_pbuf_add(b, "unset output\n");
}

void nnl_plot_datablock(nnl_pbuf *b, const char *name, size_t n, int ncol,
                        const double *const *cols)
{
    nnl_pbuf_addf(b, "$%s << EOD\n", name);
    for (size_t r = 0; r < n; r++) {
        for (int c = 0; c < ncol; c++) {
            if (c)
                nnl_pbuf_add(b, " ");
            if (cols[c])
                nnl_pbuf_num(b, cols[c][r]);
            else
                nnl_pbuf_addf(b, "%zu", r + 1);
        }
        nnl_pbuf_add(b, "\n");
    }
    nnl_pbuf_add(b, "EOD\n");
}
