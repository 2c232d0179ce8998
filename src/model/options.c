/* Declared options and their values: see options.h. */
#include "model/options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double nnl_value_from_float(float f)
{
    char b[32];
    if (!isfinite(f))
        return (double)f;
    for (int p = 6; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*g", p, (double)f);
        if ((float)strtod(b, NULL) == f)
            break;
    }
    return strtod(b, NULL);
}

void nnl_values_default(const nnl_option *opts, size_t n, nnl_value *v)
{
    memset(v, 0, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const nnl_option *o = &opts[i];
        switch (o->type) {
        case NNL_OPTION_INT:
        case NNL_OPTION_NUM:
        case NNL_OPTION_BOOL:
            v[i].num = o->def;
            break;
        case NNL_OPTION_CHOICE:
            v[i].num = o->def_name ? o->choice->from_name(o->def_name) : -1;
            break;
        case NNL_OPTION_SIZES:
            v[i].nints = o->count;
            for (int k = 0; k < o->count; k++)
                v[i].ints[k] = (long)o->def;
            break;
        case NNL_OPTION_SHAPE:
        case NNL_OPTION_REGULARIZER:
            break;
        }
    }
    nnl_values_resolve(opts, n, v);
}

void nnl_values_resolve(const nnl_option *opts, size_t n, nnl_value *v)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].type == NNL_OPTION_SIZES && opts[i].def_like > 0 && !v[i].given &&
            (size_t)opts[i].def_like - 1 < n) {
            v[i] = v[opts[i].def_like - 1];
            v[i].given = 0;
        }
}

int nnl_option_num_ok(const nnl_option *o, double x)
{
    return (o->open_min ? x > o->min : x >= o->min) && (o->open_max ? x < o->max : x <= o->max);
}

char *nnl_option_range_text(const nnl_option *o, char *buf, size_t size)
{
    if (o->max >= 1e30)
        snprintf(buf, size, "%s %g", o->open_min ? ">" : ">=", o->min);
    else
        snprintf(buf, size, "in %c%g, %g%c", o->open_min ? '(' : '[', o->min, o->max,
                 o->open_max ? ')' : ']');
    return buf;
}

nnl_status nnl_value_check(const nnl_option *o, const nnl_value *v, nnl_error *err)
{
    switch (o->type) {
    case NNL_OPTION_INT:
        if (!(v->num >= o->min && v->num <= o->max) || v->num != floor(v->num))
            return nnl_fail(err, NNL_ERR_ARG, "%s must be an integer in %.17g..%.17g, "
                            "got %.17g", o->key, o->min, o->max, v->num);
        break;
    case NNL_OPTION_NUM:
        if (!nnl_option_num_ok(o, v->num)) {
            char range[64];
            return nnl_fail(err, NNL_ERR_ARG, "%s must be %s, got %g", o->key,
                            nnl_option_range_text(o, range, sizeof range), v->num);
        }
        break;
    case NNL_OPTION_BOOL:
        if (v->num != 0.0 && v->num != 1.0)
            return nnl_fail(err, NNL_ERR_ARG, "%s must be true or false", o->key);
        break;
    case NNL_OPTION_CHOICE:
        if (!(v->num >= 0) || !o->choice->name((int)v->num))
            return nnl_fail(err, NNL_ERR_ARG, "unknown %s (valid: %s)", o->key,
                            o->choice->names());
        break;
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE: {
        int want = o->type == NNL_OPTION_SIZES ? o->count : -1;
        if (want > 0 ? v->nints != want : (v->nints < 1 || v->nints > NNL_VALUE_INTS_MAX))
            return nnl_fail(err, NNL_ERR_ARG, "%s must have %s%d entries, got %d", o->key,
                            want > 0 ? "" : "1 to ", want > 0 ? want : NNL_VALUE_INTS_MAX,
                            v->nints);
        int inferred = 0;
        for (int k = 0; k < v->nints; k++) {
            if (o->type == NNL_OPTION_SHAPE && o->min < 0 && v->ints[k] == -1) {
                if (inferred++)
                    return nnl_fail(err, NNL_ERR_ARG, "%s may have one -1, got two",
                                    o->key);
                continue;
            }
            if (!((double)v->ints[k] >= (o->min < 0 ? 1 : o->min) &&
                  (double)v->ints[k] <= o->max))
                return nnl_fail(err, NNL_ERR_ARG, "%s[%d] must be an integer in "
                                "%.17g..%.17g, got %ld", o->key, k + 1,
                                o->min < 0 ? 1 : o->min, o->max, v->ints[k]);
        }
        break;
    }
    case NNL_OPTION_REGULARIZER:
        if (!(v->l1 >= 0.0 && v->l1 <= 1e30) || !(v->l2 >= 0.0 && v->l2 <= 1e30))
            return nnl_fail(err, NNL_ERR_ARG, "%s: l1 and l2 must be numbers >= 0",
                            o->key);
        break;
    }
    return NNL_OK;
}

/* Whether key is one of the '|'-separated names of list. */
static int in_list(const char *list, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == k && strncmp(p, key, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int nnl_option_find(const nnl_option *opts, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].key, key) == 0 || in_list(opts[i].alias, key))
            return (int)i;
    return -1;
}

/* Lua text of a number: integers without a fraction. */
static void num_text(double x, char *buf, size_t size)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, size, "%.0f", x);
    else
        snprintf(buf, size, "%g", x);
}

char *nnl_value_text(const nnl_option *o, const nnl_value *v, char *buf, size_t size)
{
    char a[32];
    switch (o->type) {
    case NNL_OPTION_INT:
    case NNL_OPTION_NUM:
        num_text(v->num, buf, size);
        break;
    case NNL_OPTION_BOOL:
        snprintf(buf, size, "%s", v->num != 0.0 ? "true" : "false");
        break;
    case NNL_OPTION_CHOICE: {
        const char *n = v->num >= 0 ? o->choice->name((int)v->num) : NULL;
        snprintf(buf, size, n ? "\"%s\"" : "nil", n);
        break;
    }
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE: {
        if (v->nints == 0) {
            snprintf(buf, size, "nil");
            break;
        }
        size_t used = (size_t)snprintf(buf, size, "{");
        for (int k = 0; k < v->nints && used < size; k++)
            used += (size_t)snprintf(buf + used, size - used, "%s%ld", k ? ", " : "",
                                     v->ints[k]);
        if (used < size)
            snprintf(buf + used, size - used, "}");
        break;
    }
    case NNL_OPTION_REGULARIZER:
        if (v->l1 == 0.0 && v->l2 == 0.0) {
            snprintf(buf, size, "nil");
        } else {
            char b[32];
            num_text(v->l1, a, sizeof a);
            num_text(v->l2, b, sizeof b);
            snprintf(buf, size, "{l1 = %s, l2 = %s}", a, b);
        }
        break;
    }
    return buf;
}

char *nnl_option_default_text(const nnl_option *opts, const nnl_option *o, char *buf,
                              size_t size)
{
    if (o->required) {
        snprintf(buf, size, "nil");
        return buf;
    }
    if (o->type == NNL_OPTION_SIZES && o->def_like > 0) {
        snprintf(buf, size, "%s", opts[o->def_like - 1].key);
        return buf;
    }
    nnl_value v;
    nnl_values_default(o, 1, &v);
    return nnl_value_text(o, &v, buf, size);
}
