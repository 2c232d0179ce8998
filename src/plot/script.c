/* The gnuplot script builder (see script.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "plot/script.h"

void nnl_pbuf_init(nnl_pbuf *b)
{
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void nnl_pbuf_free(nnl_pbuf *b)
{
    nnl_free(b->s);
    nnl_pbuf_init(b);
}

void nnl_pbuf_clear(nnl_pbuf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->s)
        b->s[0] = '\0';
}

/* Makes room for n more bytes plus the terminator; 0 on failure. */
static int reserve(nnl_pbuf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (n > ((size_t)-1) / 4 - b->len) {
        b->failed = 1;
        return 0;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *s = nnl_malloc(cap);
    if (!s) {
        b->failed = 1;
        return 0;
    }
    if (b->len)
        memcpy(s, b->s, b->len);
    s[b->len] = '\0';
    nnl_free(b->s);
    b->s = s;
    b->cap = cap;
    return 1;
}

void nnl_pbuf_addn(nnl_pbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void nnl_pbuf_add(nnl_pbuf *b, const char *s)
{
    nnl_pbuf_addn(b, s, strlen(s));
}

void nnl_pbuf_addf(nnl_pbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        nnl_pbuf_addn(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nnl_pbuf_num(nnl_pbuf *b, double v)
{
    if (!isfinite(v))
        nnl_pbuf_add(b, "NaN");
    else
        nnl_pbuf_addf(b, "%.9g", v);
}

/* nnl_pbuf_quote, with each % doubled when pct (see nnl_pbuf_quote_tic). */
static void quote(nnl_pbuf *b, const char *s, int pct)
{
    if (!s || !*s) {
        nnl_pbuf_add(b, "''");
        return;
    }
    /* Pieces joined by ".": single-quoted runs of ordinary bytes, and
     * double-quoted runs of apostrophes and control characters. gnuplot
     * reads a piece that starts with two apostrophes as the empty string
     * followed by junk (the title '90s quoted as '''90s' fails), so
     * apostrophes never go in single quotes. A double-quoted piece holds
     * only apostrophes and octal escapes: no backtick (command
     * substitution happens inside double quotes) and no other backslash. */
    int open = 0; /* the quote of the open piece, or 0 */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int dq = *p < 0x20 || *p == 0x7f || *p == '\'';
        int want = dq ? '"' : '\'';
        if (open != want) {
            if (open)
                nnl_pbuf_addf(b, "%c.", open);
            nnl_pbuf_addf(b, "%c", want);
            open = want;
        }
        if (*p == '\'')
            nnl_pbuf_add(b, "'");
        else if (dq)
            nnl_pbuf_addf(b, "\\%03o", (unsigned)*p);
        else if (*p == '%' && pct)
            nnl_pbuf_add(b, "%%");
        else
            nnl_pbuf_addn(b, (const char *)p, 1);
    }
    nnl_pbuf_addf(b, "%c", open);
}

void nnl_pbuf_quote(nnl_pbuf *b, const char *s)
{
    quote(b, s, 0);
}

void nnl_pbuf_quote_tic(nnl_pbuf *b, const char *s)
{
    quote(b, s, 1);
}

void nnl_pbuf_quote_path(nnl_pbuf *b, const char *path)
{
    if (path && (path[0] == '|' || path[0] == '~' || path[0] == '<'))
        nnl_pbuf_add(b, "'./'.");
    nnl_pbuf_quote(b, path);
}

nnl_status nnl_pbuf_check(const nnl_pbuf *b, const char *fn, nnl_error *err)
{
    if (b->failed)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory building the gnuplot script",
                        fn);
    return NNL_OK;
}
