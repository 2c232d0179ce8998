/* Printing of nn.Tensor, numpy style:
 *
 *   tensor([[1, 2],
 *           [3, 4]])
 *
 * One number format for the whole tensor (integers when every value is
 * integral, else fixed with 4 decimals, else scientific when values are very
 * large or very small), right-aligned to a common width. Tensors of more
 * than SUMMARY_THRESHOLD elements show the first and last EDGE_ITEMS of
 * each long dimension with "..." between, and their shape. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"

#define SUMMARY_THRESHOLD 100
#define EDGE_ITEMS 3
#define PREFIX "tensor("

typedef struct printer {
    const nnl_tensor *t;
    int summarize;
    const char *fmt;  /* printf format of one finite value */
    int width;        /* widest formatted value shown */
    luaL_Buffer *b;
} printer;

static int shown(const printer *p, size_t len, size_t i)
{
    return !p->summarize || len <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= len - EDGE_ITEMS;
}

static int format_value(const printer *p, float v, char *buf, size_t size)
{
    if (isnan(v))
        return snprintf(buf, size, "nan");
    if (isinf(v))
        return snprintf(buf, size, v > 0 ? "inf" : "-inf");
    if (v == 0.0f)
        v = 0.0f; /* no "-0" */
    return snprintf(buf, size, p->fmt, (double)v);
}

/* Visits every shown element (flat offset) to pick the format and width. */
static void measure(printer *p, int d, size_t off)
{
    const nnl_tensor *t = p->t;
    if (d >= t->ndim || d >= NNL_MAX_DIMS) /* never; tells gcc -O3 d is in range */
        return;
    size_t stride = 1;
    for (int i = d + 1; i < t->ndim; i++)
        stride *= t->shape[i];
    for (size_t i = 0; i < t->shape[d]; i++) {
        if (!shown(p, t->shape[d], i))
            continue;
        if (d + 1 < t->ndim) {
            measure(p, d + 1, off + i * stride);
            continue;
        }
        char buf[64];
        int w = format_value(p, t->data[off + i], buf, sizeof buf);
        if (w > p->width)
            p->width = w;
    }
}

static void choose_format(printer *p)
{
    const nnl_tensor *t = p->t;
    int integral = 1;
    double maxabs = 0.0, minabs = INFINITY;
    for (size_t i = 0; i < t->numel; i++) {
        float v = t->data[i];
        if (!isfinite(v))
            continue;
        double a = fabs((double)v);
        if (a > maxabs)
            maxabs = a;
        if (a > 0 && a < minabs)
            minabs = a;
        if (v != floorf(v))
            integral = 0;
    }
    if (integral && maxabs < 1e9)
        p->fmt = "%.0f";
    else if (maxabs >= 1e6 || minabs < 1e-4)
        p->fmt = "%.4e";
    else
        p->fmt = "%.4f";
    p->width = 1;
    measure(p, 0, 0);
}

static void add_spaces(luaL_Buffer *b, size_t n)
{
    while (n--)
        luaL_addchar(b, ' ');
}

static void print_dim(printer *p, int d, size_t off)
{
    const nnl_tensor *t = p->t;
    luaL_Buffer *b = p->b;
    size_t len = t->shape[d];
    size_t stride = 1;
    for (int i = d + 1; i < t->ndim; i++)
        stride *= t->shape[i];
    luaL_addchar(b, '[');
    int first = 1;
    for (size_t i = 0; i < len; i++) {
        if (!shown(p, len, i)) {
            if (i == EDGE_ITEMS) {
                /* the elision mark stands where the hidden items would */
                if (d + 1 == t->ndim) {
                    luaL_addstring(b, ", ...");
                } else {
                    /* as between blocks: one blank line per extra dim */
                    luaL_addchar(b, ',');
                    for (int k = d + 1; k < t->ndim; k++)
                        luaL_addchar(b, '\n');
                    add_spaces(b, strlen(PREFIX) + (size_t)d + 1);
                    luaL_addstring(b, "...");
                }
            }
            continue;
        }
        if (!first) {
            luaL_addchar(b, ',');
            if (d + 1 == t->ndim) {
                luaL_addchar(b, ' ');
            } else {
                for (int k = d + 1; k < t->ndim; k++)
                    luaL_addchar(b, '\n');
                add_spaces(b, strlen(PREFIX) + (size_t)d + 1);
            }
        }
        first = 0;
        if (d + 1 < t->ndim) {
            print_dim(p, d + 1, off + i * stride);
        } else {
            char buf[64];
            int w = format_value(p, t->data[off + i], buf, sizeof buf);
            add_spaces(b, (size_t)(p->width - w));
            luaL_addstring(b, buf);
        }
    }
    luaL_addchar(b, ']');
}

int nnl_tensor_tostring(lua_State *L)
{
    nnl_tensor *t = nnl_lua_totensor(L, 1);
    if (!t) {
        lua_pushstring(L, "tensor(closed)");
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    printer p = {t, t->numel > SUMMARY_THRESHOLD, "%.0f", 1, &b};
    char sb[96];
    luaL_addstring(&b, PREFIX);
    if (t->numel == 0) {
        luaL_addstring(&b, "[], shape=");
        luaL_addstring(&b, nnl_shape_str(t, sb, sizeof sb));
    } else {
        choose_format(&p);
        print_dim(&p, 0, 0);
        if (p.summarize) {
            luaL_addstring(&b, ", shape=");
            luaL_addstring(&b, nnl_shape_str(t, sb, sizeof sb));
        }
    }
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    return 1;
}
