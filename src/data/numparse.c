/* Decimal text to float: see numparse.h. */
#include "data/numparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Powers of ten exactly representable as doubles (10^22 is the last). */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtof on a terminated copy of s[0..n); all of it must be consumed. */
static int parse_slow(const char *s, size_t n, float *out)
{
    char buf[NNL_NUM_MAX_TEXT + 1];
    if (n == 0 || n > NNL_NUM_MAX_TEXT)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* strtof skips leading blanks; a cell with them is not a number here. */
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r' ||
        buf[0] == '\f' || buf[0] == '\v')
        return 0;
    char *stop;
    float v = strtof(buf, &stop);
    if (stop != buf + n)
        return 0;
    *out = v;
    return 1;
}

int nnl_parse_float_prefix(const char *s, const char *end, float *out, const char **stop)
{
    const char *p = s;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = (*p == '-');
        p++;
    }
    uint64_t m = 0;
    int sig = 0;       /* significant digits taken into m */
    int any = 0;       /* a mantissa digit was seen */
    long exp10 = 0;    /* long: a cell of a billion zeros must not overflow */
    while (p < end && (unsigned)(*p - '0') < 10) {
        unsigned d = (unsigned)(*p - '0');
        if (m != 0 || d != 0) {
            if (sig >= 19)
                return 0;
            m = m * 10 + d;
            sig++;
        }
        any = 1;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            unsigned d = (unsigned)(*p - '0');
            if (m != 0 || d != 0) {
                if (sig >= 19)
                    return 0;
                m = m * 10 + d;
                sig++;
            }
            exp10--;
            any = 1;
            p++;
        }
    }
    if (!any)
        return 0; /* nan, inf, or not a number */
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+')) {
            eneg = (*p == '-');
            p++;
        }
        if (p == end || (unsigned)(*p - '0') >= 10)
            return 0; /* "1e" is no number; the caller decides */
        long e = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (e < 100000) /* saturate: anything this large is inf or 0 */
                e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    /* Hex floats ("0x1p3") and "1.5f"-like text must not be read as "0"
     * or "1.5" followed by junk: let the caller's slow path decide. */
    if (p < end && (*p == 'x' || *p == 'X' || *p == 'p' || *p == 'P'))
        return 0;
    *stop = p;
    if (m == 0) {
        *out = neg ? -0.0f : 0.0f;
        return 1;
    }
    if (m > ((uint64_t)1 << 53) || exp10 < -22 || exp10 > 22)
        return 0;
    /* m and 10^|e| are exact doubles, so d is the correctly rounded double
     * of the true value. Rounding d to float is then correct unless d sits
     * exactly halfway between two floats (the low 29 bits of its mantissa
     * are 1000...0); only then can double rounding go wrong. */
    double d = exp10 < 0 ? (double)m / pow10_exact[-exp10]
                         : (double)m * pow10_exact[exp10];
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    if ((bits & 0x1FFFFFFFu) == 0x10000000u)
        return 0;
    float f = (float)d;
    *out = neg ? -f : f;
    return 1;
}

int nnl_parse_float(const char *s, size_t n, float *out)
{
    const char *stop;
    if (nnl_parse_float_prefix(s, s + n, out, &stop) && stop == s + n)
        return 1;
    return parse_slow(s, n, out);
}
