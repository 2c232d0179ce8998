/* The gnuplot script builder: a growable text buffer with helpers for
 * numbers, inline data blocks and safely quoted strings.
 *
 * Every append can fail only by running out of memory; the buffer then
 * remembers the failure (sticky) and ignores later appends, so a builder
 * appends freely and checks once with nnl_pbuf_check at the end. */
#ifndef NNL_PLOT_SCRIPT_H
#define NNL_PLOT_SCRIPT_H

#include <stddef.h>
#include "core/status.h"

/* Owns s (nnl_malloc'd, always NUL-terminated once anything was added). */
typedef struct nnl_pbuf {
    char *s;
    size_t len, cap;
    int failed; /* an allocation failed: the text is incomplete */
} nnl_pbuf;

void nnl_pbuf_init(nnl_pbuf *b);
/* Releases the text; the buffer is empty and reusable afterwards. */
void nnl_pbuf_free(nnl_pbuf *b);
/* Empties the text, keeping the memory. */
void nnl_pbuf_clear(nnl_pbuf *b);
void nnl_pbuf_addn(nnl_pbuf *b, const char *s, size_t n);
void nnl_pbuf_add(nnl_pbuf *b, const char *s);
void nnl_pbuf_addf(nnl_pbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A number as gnuplot reads it back exactly enough (%.9g); NaN and
 * infinities become NaN, which gnuplot skips as a missing point. */
void nnl_pbuf_num(nnl_pbuf *b, double v);
/* s as a gnuplot string expression that evaluates to exactly s: single-
 * quoted pieces (backslashes, $, backticks and @ are literal there, so
 * nothing is substituted or executed) joined with "." to double-quoted
 * pieces of apostrophes and octal escapes for control characters such as
 * newlines, which a single-quoted string cannot hold. NULL is the empty
 * string. */
void nnl_pbuf_quote(nnl_pbuf *b, const char *s);
/* A tick label for `set xtics ("label" pos, ...)`: gnuplot reads it as a
 * format (a % starts a number's conversion, "%s" fails), so each % is
 * doubled; otherwise as nnl_pbuf_quote. */
void nnl_pbuf_quote_tic(nnl_pbuf *b, const char *s);
/* A file name for `set output`: quoted as above, and prefixed with "./"
 * when gnuplot would otherwise read it as a pipe ('|cmd') or expand a
 * leading '~', so the file gets exactly the requested name. */
void nnl_pbuf_quote_path(nnl_pbuf *b, const char *path);
/* NNL_OK, or NNL_ERR_NOMEM (naming fn) if any append failed. */
nnl_status nnl_pbuf_check(const nnl_pbuf *b, const char *fn, nnl_error *err);

#endif
