/* Reading a decimal number from a span of text, fast and correctly rounded.
 *
 * The CSV loader spends most of its time here. Most cells in real data have
 * at most 19 significant digits and a small exponent; those are converted
 * with one exact double operation (Clinger's fast path) and a check that the
 * float rounding is not a tie, which makes the result the correctly rounded
 * float. Anything else (long mantissas, large exponents, nan, inf) falls back
 * to strtof on a terminated copy. */
#ifndef NNL_NUMPARSE_H
#define NNL_NUMPARSE_H
#include <stddef.h>

/* Longest cell text handed to the strtof fallback; longer cells are not
 * numbers for us (no real data set writes 200-digit numbers). */
#define NNL_NUM_MAX_TEXT 200

/* Parses all of s[0..n) as one number (no surrounding blanks allowed) and
 * stores it in *out. Returns 1 on success, 0 when the text is not exactly
 * one number. Accepts [+-]digits[.digits][e[+-]digits], ".5", "5.", and what
 * strtof accepts (nan, inf, infinity, hex floats). Out-of-range values give
 * +-inf or 0 as strtof does. */
int nnl_parse_float(const char *s, size_t n, float *out);

/* The fast path alone, for callers that find the end of a cell as they
 * go: reads a decimal number at s (not past end) and, when it is one the
 * fast path converts exactly, stores it, sets *stop after its last
 * character and returns 1. Returns 0 for anything else (no number, nan,
 * inf, hex, 20+ significant digits, large exponents, float ties); the
 * caller then finds the cell's end and uses nnl_parse_float. */
int nnl_parse_float_prefix(const char *s, const char *end, float *out,
                           const char **stop);

#endif
