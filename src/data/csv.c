/* Numeric CSV into tensors: see csv.h.
 *
 * The text is scanned once to read the first row (header detection, label
 * column, column count), once with memchr to bound the number of rows so x
 * and y are allocated up front, and once to read the cells. If a label
 * cell turns out not to be a number, the data pass restarts with string
 * labels, so "1" and "1.0" seen before then are classes of their own. */
#include "data/csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/labelmap.h"
#include "data/numparse.h"
#include "core/readfile.h"

/* Longest cell text quoted in an error message. */
#define SHOW_MAX 40

/* Where the scanner is. scratch holds the unescaped text of the last quoted
 * cell; it is owned by the scanner (freed by scan_free). */
typedef struct scanner {
    const char *p, *end;
    unsigned long line;  /* 1-based line of p */
    char sep;
    int blanks;          /* sep ' ': runs of spaces and tabs separate cells */
    char *scratch;
    size_t scap;
    const char *source;
} scanner;

/* One cell's text, trimmed, quotes removed. s may point into scratch. */
typedef struct cell {
    const char *s;
    size_t n;
} cell;

static void scan_free(scanner *sc)
{
    nnl_free(sc->scratch);
    sc->scratch = NULL;
    sc->scap = 0;
}

/* Padding around a cell: blanks that are not the separator. */
static int is_pad(const scanner *sc, char c)
{
    return c == ' ' || (c == '\t' && sc->sep != '\t');
}

/* A line ends at LF, CRLF or a lone CR (old Mac files). */
static int is_eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Steps over the line end at p (p < end, is_eol(*p); CRLF counts as one)
 * and counts the line. */
static void skip_eol(scanner *sc)
{
    if (*sc->p == '\r' && sc->p + 1 < sc->end && sc->p[1] == '\n')
        sc->p += 2;
    else
        sc->p++;
    sc->line++;
}

/* Skips lines holding only padding. Returns 0 at the end of the text. */
static int skip_blank_lines(scanner *sc)
{
    for (;;) {
        const char *q = sc->p;
        while (q < sc->end && is_pad(sc, *q))
            q++;
        if (q == sc->end) {
            sc->p = q;
            return 0;
        }
        if (!is_eol(*q))
            return 1;
        sc->p = q;
        skip_eol(sc);
    }
}

/* Grows scratch to hold at least need bytes. */
static int scratch_reserve(scanner *sc, size_t need)
{
    if (need <= sc->scap)
        return 1;
    size_t cap = sc->scap ? sc->scap : 64;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2)
            return 0;
        cap *= 2;
    }
    char *s = nnl_malloc(cap);
    if (!s)
        return 0;
    if (sc->scap)
        memcpy(s, sc->scratch, sc->scap);
    nnl_free(sc->scratch);
    sc->scratch = s;
    sc->scap = cap;
    return 1;
}

/* After a cell: consumes the separator, or stops before the line end.
 * Sets *row_end when the row is finished. Fails on text after a closing
 * quote. */
static nnl_status finish_cell(scanner *sc, size_t col, int *row_end,
                              nnl_error *err)
{
    if (sc->blanks) {
        while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t'))
            sc->p++;
        *row_end = (sc->p == sc->end || is_eol(*sc->p));
        return NNL_OK;
    }
    while (sc->p < sc->end && is_pad(sc, *sc->p))
        sc->p++;
    if (sc->p == sc->end || is_eol(*sc->p)) {
        *row_end = 1;
        return NNL_OK;
    }
    if (*sc->p == sc->sep) {
        sc->p++;
        *row_end = 0;
        return NNL_OK;
    }
    return nnl_fail(err, NNL_ERR_FORMAT,
                    "%s:%lu: column %zu: unexpected '%c' after a quoted field",
                    sc->source, sc->line, col, *sc->p);
}

/* Reads the cell at p (1-based column col, for messages). */
static nnl_status read_cell(scanner *sc, size_t col, cell *c, int *row_end,
                            nnl_error *err)
{
    while (sc->p < sc->end && is_pad(sc, *sc->p))
        sc->p++;
    if (sc->p < sc->end && *sc->p == '"') {
        unsigned long start_line = sc->line;
        size_t n = 0;
        sc->p++;
        for (;;) {
            if (sc->p == sc->end)
                return nnl_fail(err, NNL_ERR_FORMAT,
                                "%s:%lu: column %zu: quoted field never closed",
                                sc->source, start_line, col);
            char ch = *sc->p++;
            if (ch == '"') {
                if (sc->p < sc->end && *sc->p == '"')
                    sc->p++;
                else
                    break;
            } else if (ch == '\n' || (ch == '\r' && (sc->p == sc->end || *sc->p != '\n'))) {
                sc->line++; /* LF, or a CR that is not the start of a CRLF */
            }
            if (n + 1 > sc->scap && !scratch_reserve(sc, n + 1))
                return nnl_fail(err, NNL_ERR_NOMEM,
                                "%s:%lu: out of memory reading a quoted field",
                                sc->source, start_line);
            sc->scratch[n++] = ch;
        }
        c->s = n ? sc->scratch : ""; /* scratch is NULL before the first use */
        c->n = n;
        return finish_cell(sc, col, row_end, err);
    }
    const char *start = sc->p;
    if (sc->blanks) {
        while (sc->p < sc->end && *sc->p != ' ' && *sc->p != '\t' && !is_eol(*sc->p))
            sc->p++;
    } else {
        const char sep = sc->sep;
        while (sc->p < sc->end && *sc->p != sep && !is_eol(*sc->p))
            sc->p++;
    }
    const char *stop = sc->p;
    while (stop > start && is_pad(sc, stop[-1]))
        stop--;
    c->s = start;
    c->n = (size_t)(stop - start);
    return finish_cell(sc, col, row_end, err);
}

/* Consumes the line end that ends a row, if any. */
static void end_row(scanner *sc)
{
    if (sc->p < sc->end && is_eol(*sc->p))
        skip_eol(sc);
}

/* An owned list of strings (the first row's cells). */
typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static void strvec_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        nnl_free(sv->v[i]);
    nnl_free(sv->v);
    memset(sv, 0, sizeof *sv);
}

static char *dup_span(const char *s, size_t n)
{
    char *d = nnl_malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int strvec_push(strvec *sv, const char *s, size_t n)
{
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = nnl_malloc(cap * sizeof *v);
        if (!v)
            return 0;
        if (sv->n)
            memcpy(v, sv->v, sv->n * sizeof *v);
        nnl_free(sv->v);
        sv->v = v;
        sv->cap = cap;
    }
    char *d = dup_span(s, n);
    if (!d)
        return 0;
    sv->v[sv->n++] = d;
    return 1;
}

/* Reads one whole row's cells as strings. */
static nnl_status read_row_strings(scanner *sc, strvec *sv, nnl_error *err)
{
    int row_end = 0;
    do {
        cell c;
        nnl_status st = read_cell(sc, sv->n + 1, &c, &row_end, err);
        if (st)
            return st;
        if (!strvec_push(sv, c.s, c.n))
            return nnl_fail(err, NNL_ERR_NOMEM, "%s:%lu: out of memory",
                            sc->source, sc->line);
    } while (!row_end);
    end_row(sc);
    return NNL_OK;
}

static int is_number(const char *s, size_t n)
{
    float v;
    return nnl_parse_float(s, n, &v);
}

/* Decides whether the first row is a header when the caller did not say:
 * yes when any feature cell is not a number. A file whose only column is
 * the label is a header when its first cell is not a number but the next
 * row's is. */
static nnl_status detect_header(const scanner *sc, const strvec *first, long lab,
                                int *hdr, nnl_error *err)
{
    int any_feature = 0;
    *hdr = 0;
    for (size_t j = 0; j < first->n; j++) {
        if ((long)j == lab)
            continue;
        any_feature = 1;
        if (!is_number(first->v[j], strlen(first->v[j])))
            *hdr = 1;
    }
    if (any_feature || lab < 0 || is_number(first->v[lab], strlen(first->v[lab])))
        return NNL_OK;
    scanner peek = *sc; /* sc is at the second row; peek has its own scratch */
    peek.scratch = NULL;
    peek.scap = 0;
    if (skip_blank_lines(&peek)) {
        cell c;
        int row_end;
        nnl_status st = read_cell(&peek, 1, &c, &row_end, err);
        if (st) {
            scan_free(&peek);
            return st;
        }
        *hdr = is_number(c.s, c.n);
    }
    scan_free(&peek);
    return NNL_OK;
}

/* The high bit set in exactly the zero bytes of x (no false hits). */
static uint64_t zero_bytes(uint64_t x)
{
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    return ~(((x & low7) + low7) | x | low7);
}

/* Upper bound on the rows left: one per line end (LF, or a CR not
 * followed by LF), plus a last line. Eight bytes at a time (memchr per
 * line costs a call per row). */
static size_t count_rows(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, nl = ones * '\n', cr = ones * '\r';
    size_t n = 1;
    while (end - p >= 9) {
        uint64_t w, next; /* next: the same bytes shifted by one */
        memcpy(&w, p, 8);
        memcpy(&next, p + 1, 8);
        uint64_t z = zero_bytes(w ^ nl) | (zero_bytes(w ^ cr) & ~zero_bytes(next ^ nl));
        n += (size_t)(((z >> 7) * ones) >> 56); /* sum of the 0/1 bytes */
        p += 8;
    }
    for (; p < end; p++)
        n += *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] != '\n'));
    return n;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Maps numeric labels y[0..n) to classes 1..k in sorted order of value and
 * makes their names. */
static nnl_status numeric_classes(const char *src, float *y, size_t n,
                                  nnl_csv_result *out, nnl_error *err)
{
    float *sorted = nnl_malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory mapping classes", src);
    for (size_t i = 0; i < n; i++) {
        if (y[i] != y[i]) {
            nnl_free(sorted);
            return nnl_fail(err, NNL_ERR_FORMAT,
                            "%s: label in data row %zu is NaN; cannot map to a class",
                            src, i + 1);
        }
        sorted[i] = y[i] == 0.0f ? 0.0f : y[i]; /* -0 and 0 are one class */
    }
    qsort(sorted, n, sizeof *sorted, cmp_float);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || sorted[i] != sorted[k - 1])
            sorted[k++] = sorted[i];
    char **names = nnl_calloc(k ? k : 1, sizeof *names);
    if (!names) {
        nnl_free(sorted);
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory mapping classes", src);
    }
    for (size_t i = 0; i < k; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.9g", (double)sorted[i]);
        names[i] = dup_span(buf, strlen(buf));
        if (!names[i]) {
            for (size_t j = 0; j < i; j++)
                nnl_free(names[j]);
            nnl_free(names);
            nnl_free(sorted);
            return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory mapping classes", src);
        }
    }
    for (size_t i = 0; i < n; i++) {
        float v = y[i];
        size_t lo = 0, hi = k; /* binary search: v is present */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] <= v)
                lo = mid;
            else
                hi = mid;
        }
        y[i] = (float)(lo + 1);
    }
    nnl_free(sorted);
    out->classes = names;
    out->nclasses = k;
    return NNL_OK;
}

void nnl_csv_opts_init(nnl_csv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sep = ',';
    o->header = NNL_CSV_DETECT;
    o->label_col = -1;
}

void nnl_csv_result_free(nnl_csv_result *r)
{
    nnl_tensor_free(r->x);
    nnl_tensor_free(r->y);
    if (r->columns)
        for (size_t i = 0; i < r->nfeatures; i++)
            nnl_free(r->columns[i]);
    nnl_free(r->columns);
    nnl_free(r->label_column);
    if (r->classes)
        for (size_t i = 0; i < r->nclasses; i++)
            nnl_free(r->classes[i]);
    nnl_free(r->classes);
    memset(r, 0, sizeof *r);
}

/* Puts where in front of a message from another module (the label map,
 * tensor allocation): "src: ..." or "src:line: ...". Returns the code. */
static nnl_status locate(nnl_error *err, const char *src, unsigned long line)
{
    if (!err)
        return NNL_ERR_NOMEM;
    char why[NNL_ERROR_MAX];
    snprintf(why, sizeof why, "%s", err->msg);
    if (line)
        return nnl_fail(err, err->code, "%s:%lu: %s", src, line, why);
    return nnl_fail(err, err->code, "%s: %s", src, why);
}

/* Message for a cell that is not a number. */
static nnl_status bad_cell(const scanner *sc, unsigned long line, size_t col,
                           const nnl_csv_result *out, long lab, const cell *c,
                           nnl_error *err)
{
    const char *name = NULL;
    if (out->has_header && out->columns) {
        size_t f = (lab >= 0 && col - 1 > (size_t)lab) ? col - 2 : col - 1;
        if ((long)(col - 1) != lab && f < out->nfeatures)
            name = out->columns[f];
    }
    if (c->n == 0)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s:%lu: column %zu%s%s%s: empty cell",
                        sc->source, line, col, name ? " (" : "", name ? name : "",
                        name ? ")" : "");
    int show = c->n > SHOW_MAX ? SHOW_MAX : (int)c->n;
    return nnl_fail(err, NNL_ERR_FORMAT,
                    "%s:%lu: column %zu%s%s%s: '%.*s%s' is not a number", sc->source,
                    line, col, name ? " (" : "", name ? name : "", name ? ")" : "",
                    show, c->s, c->n > SHOW_MAX ? "..." : "");
}

/* Fills out->columns / label_column from the first row or by number. */
static nnl_status name_columns(const char *src, const strvec *first, int hdr,
                               long lab, nnl_csv_result *out, nnl_error *err)
{
    out->columns = nnl_calloc(out->nfeatures ? out->nfeatures : 1, sizeof(char *));
    if (!out->columns)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", src);
    size_t f = 0;
    for (size_t j = 0; j < first->n; j++) {
        char buf[32];
        const char *name = first->v[j];
        if (!hdr) {
            snprintf(buf, sizeof buf, "col%zu", j + 1);
            name = buf;
        }
        char *d = dup_span(name, strlen(name));
        if (!d)
            return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", src);
        if ((long)j == lab)
            out->label_column = d;
        else
            out->columns[f++] = d;
    }
    return NNL_OK;
}

/* The common case, without copying or rescanning: an unquoted number
 * straight after p, then padding, then a separator or the line end.
 * Returns 1 and consumes the cell when that is what is there; returns 0
 * with p unchanged otherwise (read_cell then handles the cell). */
static int fast_number(scanner *sc, float *out, int *row_end)
{
    const char *stop;
    if (sc->blanks || !nnl_parse_float_prefix(sc->p, sc->end, out, &stop))
        return 0;
    if (stop == sc->p)
        return 0;
    const char *q = stop;
    while (q < sc->end && is_pad(sc, *q))
        q++;
    if (q == sc->end || is_eol(*q)) {
        *row_end = 1;
    } else if (*q == sc->sep) {
        *row_end = 0;
        q++;
    } else {
        return 0;
    }
    sc->p = q;
    return 1;
}

static nnl_status bad_width(const scanner *sc, const char *row0, unsigned long line, size_t n,
                            size_t ncols, nnl_error *err);

/* The data pass. Returns NNL_OK with *restart set when a label is not a
 * number and labels were being read as numbers: on the first row (a
 * column of class names), or later when mixed_ok. A number column with
 * one stray word (a typo, "n/a") would otherwise turn every label into a
 * class of its own without a word: that is an error naming the cell
 * unless the caller asked for classes. */
static nnl_status read_data(scanner *sc, size_t ncols, long lab, int string_labels,
                            int mixed_ok, size_t rows_ub, float *x, float *y,
                            nnl_labelmap *map, nnl_csv_result *out, size_t *nrows,
                            int *restart, nnl_error *err)
{
    const size_t nfeat = out->nfeatures;
    size_t row = 0;
    *restart = 0;
    while (skip_blank_lines(sc)) {
        if (row >= rows_ub) /* cannot happen: every row ends at a newline */
            return nnl_fail(err, NNL_ERR_FORMAT, "%s:%lu: more rows than lines",
                            sc->source, sc->line);
        float *xr = x + row * nfeat;
        size_t j = 0;
        int row_end = 0;
        unsigned long row_line = sc->line;
        const char *row_start = sc->p;
        do {
            if (j < ncols && (long)j != lab && fast_number(sc, xr, &row_end)) {
                xr++;
                j++;
                continue;
            }
            if ((long)j == lab && !string_labels && fast_number(sc, &y[row], &row_end)) {
                j++;
                continue;
            }
            unsigned long line = sc->line;
            cell c;
            nnl_status st = read_cell(sc, j + 1, &c, &row_end, err);
            if (st)
                return st;
            if (j >= ncols) {
                size_t n = j + 1;
                while (!row_end) {
                    st = read_cell(sc, n + 1, &c, &row_end, err);
                    if (st)
                        return st;
                    n++;
                }
                return bad_width(sc, row_start, row_line, n, ncols, err);
            }
            if ((long)j == lab) {
                if (c.n == 0)
                    return nnl_fail(err, NNL_ERR_FORMAT, "%s:%lu: column %zu: empty label",
                                    sc->source, line, j + 1);
                if (string_labels) {
                    size_t cls;
                    st = nnl_labelmap_get(map, c.s, c.n, &cls, err);
                    if (st)
                        return locate(err, sc->source, line);
                    y[row] = (float)(cls + 1);
                } else if (!nnl_parse_float(c.s, c.n, &y[row])) {
                    if (row > 0 && !mixed_ok) {
                        int show = c.n > SHOW_MAX ? SHOW_MAX : (int)c.n;
                        return nnl_fail(err, NNL_ERR_FORMAT,
                                        "%s:%lu: label '%.*s%s' is not a number, but the "
                                        "%zu labels before it are: fix the cell, or pass "
                                        "classes = true to read every label as a class name",
                                        sc->source, line, show, c.s,
                                        c.n > SHOW_MAX ? "..." : "", row);
                    }
                    *restart = 1;
                    return NNL_OK;
                }
            } else {
                if (!nnl_parse_float(c.s, c.n, xr))
                    return bad_cell(sc, line, j + 1, out, lab, &c, err);
                xr++;
            }
            j++;
        } while (!row_end);
        if (j < ncols)
            return bad_width(sc, row_start, row_line, j, ncols, err);
        end_row(sc);
        row++;
    }
    *nrows = row;
    return NNL_OK;
}

static const char *const sep_shown[] = {"'\\t'", "';'", "','", "'|'", "' '"};
static const char *const sep_what[] = {"tabs", "semicolons", "commas", "bars", "spaces"};

/* Which likely separator other than sc's the line at row0 holds (an index
 * of sep_shown), or -1: a TSV read as CSV is the usual cause of a wrong
 * column count. */
static int other_sep(const scanner *sc, const char *row0)
{
    static const char cand[] = {'\t', ';', ',', '|', ' '};
    const char *eol = row0;
    while (eol < sc->end && !is_eol(*eol))
        eol++;
    for (int k = 0; k < 5; k++) {
        if (cand[k] == sc->sep || (cand[k] == ' ' && sc->blanks))
            continue;
        for (const char *q = row0; q < eol; q++)
            /* a blank between cells, not one around the text */
            if (*q == cand[k] && (cand[k] != ' ' || (q > row0 && q[-1] != ' ' && q + 1 < eol &&
                                                     q[1] != ' ')))
                return k;
    }
    return -1;
}

static void sep_name(const scanner *sc, char sep[8])
{
    if (sc->sep == '\t')
        snprintf(sep, 8, "'\\t'");
    else
        snprintf(sep, 8, "'%c'", sc->sep);
}

/* A row of the wrong width; when its line holds another likely separator,
 * says to use it. */
static nnl_status bad_width(const scanner *sc, const char *row0, unsigned long line, size_t n,
                            size_t ncols, nnl_error *err)
{
    int found = other_sep(sc, row0);
    char sep[8];
    sep_name(sc, sep);
    if (found >= 0)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s:%lu: row has %zu columns, expected %zu "
                        "(with sep %s; the line contains %s: is the separator %s?)",
                        sc->source, line, n, ncols, sep, sep_what[found], sep_shown[found]);
    return nnl_fail(err, NNL_ERR_FORMAT, "%s:%lu: row has %zu columns, expected %zu",
                    sc->source, line, n, ncols);
}

/* The error for a first row of one cell that is the label: no features.
 * Names the separator and, when the line holds another likely one, says
 * to use it. */
static nnl_status no_features(const scanner *sc, const char *row0, unsigned long line,
                              nnl_error *err)
{
    int found = other_sep(sc, row0);
    char sep[8];
    sep_name(sc, sep);
    if (found >= 0)
        return nnl_fail(err, NNL_ERR_FORMAT,
                        "%s:%lu: no feature columns: only 1 column found with sep %s; the "
                        "lines contain %s: use sep = %s", sc->source, line, sep, sep_what[found],
                        sep_shown[found]);
    return nnl_fail(err, NNL_ERR_FORMAT,
                    "%s:%lu: no feature columns: only 1 column found with sep %s, and it is "
                    "the label (label = false reads it as a feature)", sc->source, line, sep);
}

nnl_status nnl_csv_parse_buffer(const char *buf, size_t len, const nnl_csv_opts *o,
                                nnl_csv_result *out, nnl_error *err)
{
    nnl_csv_opts defaults;
    if (!o) {
        nnl_csv_opts_init(&defaults);
        o = &defaults;
    }
    memset(out, 0, sizeof *out);
    const char *src = o->source ? o->source : "<buffer>";
    if (o->sep == '"' || o->sep == '\n' || o->sep == '\r' || o->sep == '\0')
        return nnl_fail(err, NNL_ERR_ARG, "%s: separator must not be a quote, "
                        "line end or NUL", src);
    if (o->label_col < -1)
        return nnl_fail(err, NNL_ERR_ARG, "%s: label column %ld is not valid",
                        src, o->label_col);
    if (o->label_name && o->header == 0)
        return nnl_fail(err, NNL_ERR_ARG, "%s: label column named '%s' but "
                        "header = false", src, o->label_name);

    scanner sc = {buf, buf + len, 1, o->sep, o->sep == ' ', NULL, 0, src};
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        sc.p += 3;
    strvec first = {0};
    nnl_labelmap map;
    nnl_labelmap_init(&map);
    nnl_tensor *xt = NULL, *yt = NULL;
    nnl_status st;

    if (!skip_blank_lines(&sc)) {
        st = nnl_fail(err, NNL_ERR_FORMAT, "%s: no data (%s)", src,
                      len == 0 ? "the file is empty" : "only blank lines");
        goto fail;
    }
    const char *row0 = sc.p;
    unsigned long row0_line = sc.line;
    if ((st = read_row_strings(&sc, &first, err)))
        goto fail;
    size_t ncols = first.n;

    long lab;
    int hdr = o->header;
    if (o->label_name) {
        lab = -1;
        for (size_t j = 0; j < ncols; j++)
            if (strcmp(first.v[j], o->label_name) == 0) {
                lab = (long)j;
                break;
            }
        if (lab < 0) {
            st = nnl_fail(err, NNL_ERR_ARG, "%s:%lu: no column named '%s' in the header",
                          src, row0_line, o->label_name);
            goto fail;
        }
        hdr = 1;
    } else if (o->label_col == -1) {
        lab = (long)ncols - 1;
    } else if (o->label_col == 0) {
        lab = -1;
    } else if ((size_t)o->label_col > ncols) {
        st = nnl_fail(err, NNL_ERR_ARG, "%s:%lu: label column %ld but the first row "
                      "has %zu columns", src, row0_line, o->label_col, ncols);
        goto fail;
    } else {
        lab = o->label_col - 1;
    }
    if (ncols == 1 && lab == 0) {
        st = no_features(&sc, row0, row0_line, err);
        goto fail;
    }
    if (hdr == NNL_CSV_DETECT && (st = detect_header(&sc, &first, lab, &hdr, err)))
        goto fail;
    out->has_header = hdr;
    out->nfeatures = ncols - (lab >= 0);
    if ((st = name_columns(src, &first, hdr, lab, out, err)))
        goto fail;
    if (!hdr) {
        sc.p = row0;
        sc.line = row0_line;
    }
    const char *data = sc.p;
    unsigned long data_line = sc.line;
    size_t rows_ub = count_rows(sc.p, sc.end);
    if (out->nfeatures && rows_ub > NNL_ALLOC_MAX / sizeof(float) / out->nfeatures) {
        st = nnl_fail(err, NNL_ERR_NOMEM, "%s: too large (%zu lines x %zu columns)",
                      src, rows_ub, out->nfeatures);
        goto fail;
    }
    xt = nnl_tensor_new2(rows_ub, out->nfeatures, err);
    if (!xt) {
        st = locate(err, src, 0);
        goto fail;
    }
    if (lab >= 0 && !(yt = nnl_tensor_new1(rows_ub, err))) {
        st = locate(err, src, 0);
        goto fail;
    }

    size_t nrows = 0;
    int restart;
    st = read_data(&sc, ncols, lab, 0, o->classes, rows_ub, xt->data, yt ? yt->data : NULL,
                   &map, out, &nrows, &restart, err);
    if (st == NNL_OK && restart) {
        sc.p = data;
        sc.line = data_line;
        st = read_data(&sc, ncols, lab, 1, 1, rows_ub, xt->data, yt->data, &map, out,
                       &nrows, &restart, err);
        if (st == NNL_OK)
            out->classes = nnl_labelmap_take_names(&map, &out->nclasses);
    } else if (st == NNL_OK && o->classes && yt) {
        st = numeric_classes(src, yt->data, nrows, out, err);
    }
    if (st)
        goto fail;
    if (nrows == 0) { /* only possible after a header */
        st = nnl_fail(err, NNL_ERR_FORMAT, "%s: no data: only a header (line %lu), no rows "
                      "after it", src, row0_line);
        goto fail;
    }

    out->x = nnl_tensor_rows(xt, 0, nrows, err);
    if (!out->x) {
        st = locate(err, src, 0);
        goto fail;
    }
    if (yt && !(out->y = nnl_tensor_rows(yt, 0, nrows, err))) {
        st = locate(err, src, 0);
        goto fail;
    }
    nnl_tensor_free(xt);
    nnl_tensor_free(yt);
    strvec_free(&first);
    nnl_labelmap_free(&map);
    scan_free(&sc);
    return NNL_OK;

fail:
    nnl_tensor_free(xt);
    nnl_tensor_free(yt);
    strvec_free(&first);
    nnl_labelmap_free(&map);
    scan_free(&sc);
    nnl_csv_result_free(out);
    return st;
}

nnl_status nnl_csv_load(const char *path, const nnl_csv_opts *o, nnl_csv_result *out,
                        nnl_error *err)
{
    memset(out, 0, sizeof *out);
    nnl_file f;
    nnl_status st = nnl_file_open(NULL, path, &f, err);
    if (st)
        return st;
    nnl_csv_opts opts;
    if (o)
        opts = *o;
    else
        nnl_csv_opts_init(&opts);
    if (!opts.source)
        opts.source = path;
    st = nnl_csv_parse_buffer(f.data, f.len, &opts, out, err);
    nnl_file_close(&f);
    return st;
}
