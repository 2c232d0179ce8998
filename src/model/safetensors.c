/* The safetensors container (see safetensors.h): reading a header with
 * every claim checked against the bytes behind it, reading one tensor's
 * data as float32 from any of the dtypes listed there, and writing float32
 * tensors atomically. Model files and files of named tensors both go
 * through here, so there is one parser of the format. */
#include "model/safetensors.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/alloc.h"
#include "core/readfile.h"
#include "core/writefile.h"
#include "model/json_check.h"

#define MAX_INT_JSON 9007199254740992.0 /* 2^53: larger JSON numbers are inexact */

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [NNL_ST_F32] = {"F32", 4}, [NNL_ST_F64] = {"F64", 8},  [NNL_ST_F16] = {"F16", 2},
    [NNL_ST_BF16] = {"BF16", 2}, [NNL_ST_I64] = {"I64", 8}, [NNL_ST_I32] = {"I32", 4},
    [NNL_ST_I16] = {"I16", 2}, [NNL_ST_I8] = {"I8", 1},   [NNL_ST_U64] = {"U64", 8},
    [NNL_ST_U32] = {"U32", 4}, [NNL_ST_U16] = {"U16", 2}, [NNL_ST_U8] = {"U8", 1},
    [NNL_ST_BOOL] = {"BOOL", 1},
};
#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

const char *nnl_st_dtype_name(nnl_st_dtype d)
{
    return (size_t)d < NDTYPES ? dtypes[d].name : "?";
}

size_t nnl_st_dtype_size(nnl_st_dtype d)
{
    return (size_t)d < NDTYPES ? dtypes[d].size : 1;
}

nnl_status nnl_st_bad(nnl_st_file *sf, const char *fmt, ...)
{
    char msg[NNL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nnl_fail(sf->err, NNL_ERR_FORMAT, "'%.200s': %s", sf->what, msg);
}

void nnl_st_init_mem(nnl_st_file *sf, const void *data, size_t size, const char *what,
                     nnl_error *err)
{
    memset(sf, 0, sizeof *sf);
    sf->mem = data ? data : (const unsigned char *)"";
    sf->size = data ? size : 0;
    sf->what = what ? what : "(memory)";
    sf->err = err;
}

nnl_status nnl_st_open(nnl_st_file *sf, const char *path, nnl_error *err)
{
    memset(sf, 0, sizeof *sf);
    sf->what = path;
    sf->err = err;
    struct stat sb;
    int fd = nnl_open_regular(NULL, path, &sb, err); /* never blocks on a FIFO */
    if (fd < 0)
        return err ? err->code : NNL_ERR_IO;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return nnl_fail(err, NNL_ERR_IO, "cannot read '%.200s': %s", path, strerror(e));
    }
    sf->f = f;
    sf->size = (uint64_t)sb.st_size;
    return NNL_OK;
}

void nnl_st_close(nnl_st_file *sf)
{
    cJSON_Delete(sf->root);
    nnl_free(sf->ents);
    if (sf->f)
        fclose(sf->f); /* read-only: nothing to lose on close */
    sf->root = NULL;
    sf->ents = NULL;
    sf->f = NULL;
    sf->nents = 0;
    sf->meta = NULL;
}

/* n bytes at off; tensor (may be NULL) is named in a read error. */
static nnl_status read_at(nnl_st_file *sf, uint64_t off, void *buf, size_t n,
                          const char *tensor)
{
    if (off > sf->size || n > sf->size - off)
        return nnl_st_bad(sf, "read of %zu bytes at %llu is past the end of the file", n,
                          (unsigned long long)off);
    if (sf->mem) {
        memcpy(buf, sf->mem + off, n);
        return NNL_OK;
    }
    if (fseeko(sf->f, (off_t)off, SEEK_SET) != 0 || fread(buf, 1, n, sf->f) != n)
        return nnl_fail(sf->err, NNL_ERR_IO, "'%.200s': read error at byte %llu%s%.100s%s "
                        "(was the file changed while loading?)", sf->what,
                        (unsigned long long)off, tensor ? " (tensor '" : "",
                        tensor ? tensor : "", tensor ? "')" : "");
    return NNL_OK;
}

int nnl_st_json_uint(const cJSON *j, double max, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0 && d <= max) || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

char *nnl_st_shape_text(const uint64_t *d, int ndim, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)d[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

static nnl_status parse_entry(nnl_st_file *sf, const cJSON *j, nnl_st_entry *e, int only_f32)
{
    const char *n = e->name;
    if (!cJSON_IsObject(j))
        return nnl_st_bad(sf, "tensor '%.100s': expected an object with dtype, shape and "
                          "data_offsets", n);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(dt))
        return nnl_st_bad(sf, "tensor '%.100s': dtype is missing or not a string", n);
    size_t k = 0;
    while (k < NDTYPES && strcmp(dt->valuestring, dtypes[k].name) != 0)
        k++;
    if (only_f32 && k != NNL_ST_F32)
        return nnl_st_bad(sf, "tensor '%.100s' has dtype %.20s; nnlua reads only F32", n,
                          dt->valuestring);
    if (k == NDTYPES)
        return nnl_st_bad(sf, "tensor '%.100s' has dtype %.20s; nnlua reads F32, F64, F16, "
                          "BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL", n,
                          dt->valuestring);
    e->dtype = (nnl_st_dtype)k;
    uint64_t es = dtypes[k].size;
    if (!cJSON_IsArray(sh))
        return nnl_st_bad(sf, "tensor '%.100s': shape is missing or not a list", n);
    int nd = cJSON_GetArraySize(sh);
    if (nd > NNL_ST_MAX_DIMS)
        return nnl_st_bad(sf, "tensor '%.100s': shape has %d dimensions (at most %d)", n, nd,
                          NNL_ST_MAX_DIMS);
    e->ndim = nd;
    int zero = 0;
    for (int i = 0; i < nd; i++) {
        if (!nnl_st_json_uint(cJSON_GetArrayItem(sh, i), MAX_INT_JSON, &e->shape[i]))
            return nnl_st_bad(sf, "tensor '%.100s': shape[%d] is not a size (a whole number "
                              ">= 0)", n, i);
        zero |= e->shape[i] == 0;
    }
    /* The product must fit the data (es bytes an element): checked as it
     * grows, so it cannot overflow. */
    uint64_t limit = sf->data_size / es;
    e->numel = zero ? 0 : 1;
    for (int i = 0; !zero && i < nd; i++) {
        if (e->numel > limit / e->shape[i])
            return nnl_st_bad(sf, "tensor '%.100s': its shape needs more bytes than the "
                              "data has (%llu)", n, (unsigned long long)sf->data_size);
        e->numel *= e->shape[i];
    }
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 ||
        !nnl_st_json_uint(cJSON_GetArrayItem(of, 0), MAX_INT_JSON, &e->begin) ||
        !nnl_st_json_uint(cJSON_GetArrayItem(of, 1), MAX_INT_JSON, &e->end))
        return nnl_st_bad(sf, "tensor '%.100s': data_offsets must be [begin, end], two "
                          "whole numbers", n);
    if (e->begin > e->end || e->end > sf->data_size)
        return nnl_st_bad(sf, "tensor '%.100s': data_offsets [%llu, %llu] are outside the "
                          "data (%llu bytes)", n, (unsigned long long)e->begin,
                          (unsigned long long)e->end, (unsigned long long)sf->data_size);
    if (e->end - e->begin != e->numel * es) {
        char s[160];
        return nnl_st_bad(sf, "tensor '%.100s': shape %s needs %llu bytes as %s but "
                          "data_offsets [%llu, %llu] hold %llu", n,
                          nnl_st_shape_text(e->shape, e->ndim, s, sizeof s),
                          (unsigned long long)(e->numel * es), dtypes[k].name, (unsigned long long)e->begin,
                          (unsigned long long)e->end,
                          (unsigned long long)(e->end - e->begin));
    }
    return NNL_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const nnl_st_entry *)a)->name, ((const nnl_st_entry *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
    const nnl_st_entry *x = *(const nnl_st_entry *const *)a;
    const nnl_st_entry *y = *(const nnl_st_entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The data region must be covered exactly: no overlaps, no holes (as the
 * safetensors format requires): sorted by offsets, each tensor begins
 * where the one before ended. */
static nnl_status check_coverage(nnl_st_file *sf)
{
    if (sf->nents == 0) {
        if (sf->data_size)
            return nnl_st_bad(sf, "the data has %llu bytes but the header lists no tensors",
                              (unsigned long long)sf->data_size);
        return NNL_OK;
    }
    const nnl_st_entry **order = nnl_malloc(sf->nents * sizeof *order);
    if (!order)
        return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': out of memory", sf->what);
    for (size_t i = 0; i < sf->nents; i++)
        order[i] = &sf->ents[i];
    qsort(order, sf->nents, sizeof *order, by_offset);
    uint64_t at = 0;
    const nnl_st_entry *last = NULL; /* the entry ending at `at` */
    nnl_status st = NNL_OK;
    for (size_t i = 0; i < sf->nents && st == NNL_OK; i++) {
        const nnl_st_entry *e = order[i];
        if (e->begin < at)
            st = nnl_st_bad(sf, "tensors '%.100s' and '%.100s' overlap (data_offsets "
                            "[%llu, %llu] and [%llu, %llu])", last->name, e->name,
                            (unsigned long long)last->begin, (unsigned long long)last->end,
                            (unsigned long long)e->begin, (unsigned long long)e->end);
        else if (e->begin > at)
            st = nnl_st_bad(sf, "bytes %llu to %llu of the data belong to no tensor",
                            (unsigned long long)at, (unsigned long long)e->begin);
        else if (e->end > at) {
            at = e->end;
            last = e;
        }
    }
    if (st == NNL_OK && at != sf->data_size)
        st = nnl_st_bad(sf, "the data has %llu bytes after the last tensor",
                        (unsigned long long)(sf->data_size - at));
    nnl_free(order);
    return st;
}

nnl_status nnl_st_parse(nnl_st_file *sf, int only_f32)
{
    unsigned char b8[8];
    uint64_t size = sf->size;
    if (size < 8)
        return nnl_st_bad(sf, "the file has %llu bytes, too few for a safetensors header "
                          "(an 8-byte length, then JSON)", (unsigned long long)size);
    nnl_status st = read_at(sf, 0, b8, 8, NULL);
    if (st != NNL_OK)
        return st;
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--)
        hlen = (hlen << 8) | b8[k];
    if (hlen > NNL_ST_MAX_HEADER)
        return nnl_st_bad(sf, "header length %llu is above the limit of %zu bytes (not a "
                          "safetensors file?)", (unsigned long long)hlen, NNL_ST_MAX_HEADER);
    if (hlen > size - 8)
        return nnl_st_bad(sf, "header length %llu is beyond the end of the file (%llu "
                          "bytes follow the length)", (unsigned long long)hlen,
                          (unsigned long long)(size - 8));
    if (hlen < 2)
        return nnl_st_bad(sf, "header length %llu is too small for a JSON object",
                          (unsigned long long)hlen);
    sf->hlen = hlen;
    sf->data_start = 8 + hlen;
    sf->data_size = size - 8 - hlen;
    char *h = nnl_malloc((size_t)hlen + 1);
    if (!h)
        return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': out of memory for a "
                        "header of %llu bytes", sf->what, (unsigned long long)hlen);
    if ((st = read_at(sf, 8, h, (size_t)hlen, NULL)) != NNL_OK) {
        nnl_free(h);
        return st;
    }
    h[hlen] = '\0';
    const char *end = NULL;
    sf->root = cJSON_ParseWithLengthOpts(h, (size_t)hlen, &end, 0);
    if (!sf->root) {
        size_t at = end && end >= h && end <= h + hlen ? (size_t)(end - h) : 0;
        int syntax_ok = nnl_json_syntax_ok(h, (size_t)hlen);
        nnl_free(h);
        if (syntax_ok) /* good text: the parser ran out of memory */
            return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': out of memory for "
                            "the header of %llu bytes", sf->what,
                            (unsigned long long)hlen);
        return nnl_st_bad(sf, "the header is not valid JSON (error near byte %zu of %llu)",
                          at, (unsigned long long)hlen);
    }
    for (const char *p = end ? end : h + hlen; p < h + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            size_t at = (size_t)(p - h);
            nnl_free(h);
            return nnl_st_bad(sf, "the header has text after its JSON object (at byte %zu)",
                              at);
        }
    nnl_free(h);
    if (!cJSON_IsObject(sf->root))
        return nnl_st_bad(sf, "the header is not a JSON object");

    size_t n = 0;
    for (const cJSON *c = sf->root->child; c; c = c->next)
        n++;
    sf->ents = nnl_calloc(n ? n : 1, sizeof *sf->ents);
    if (!sf->ents)
        return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': out of memory", sf->what);
    for (const cJSON *c = sf->root->child; c; c = c->next) {
        const char *name = c->string ? c->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (sf->meta)
                return nnl_st_bad(sf, "__metadata__ appears twice");
            if (!cJSON_IsObject(c))
                return nnl_st_bad(sf, "__metadata__ is not an object");
            for (const cJSON *m = c->child; m; m = m->next)
                if (!cJSON_IsString(m))
                    return nnl_st_bad(sf, "__metadata__ value '%.100s' is not a string "
                                      "(the format allows only strings)",
                                      m->string ? m->string : "");
            sf->meta = c;
            continue;
        }
        nnl_st_entry *e = &sf->ents[sf->nents++];
        e->name = name;
        if ((st = parse_entry(sf, c, e, only_f32)) != NNL_OK)
            return st;
    }
    qsort(sf->ents, sf->nents, sizeof *sf->ents, by_name);
    for (size_t i = 1; i < sf->nents; i++)
        if (strcmp(sf->ents[i - 1].name, sf->ents[i].name) == 0)
            return nnl_st_bad(sf, "tensor '%.100s' appears twice", sf->ents[i].name);
    return check_coverage(sf);
}

nnl_st_entry *nnl_st_find(nnl_st_file *sf, const char *name)
{
    nnl_st_entry key;
    memset(&key, 0, sizeof key);
    key.name = name;
    return sf->nents ? bsearch(&key, sf->ents, sf->nents, sizeof *sf->ents, by_name) : NULL;
}

/* ---- conversion to float32 ------------------------------------------------ */

static uint64_t le(const unsigned char *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

/* IEEE half to float, exactly (every half is a float). */
static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24); /* zero and subnormals */
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25);
    return h & 0x8000 ? -v : v;
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A double to the nearest float; beyond float's range, +-inf, as IEEE
 * rounding gives (written out: C leaves such a conversion undefined).
 * Values below FLT_MAX plus half its last place round down to FLT_MAX. */
static float double_to_float(double d)
{
    const double edge = (double)FLT_MAX + ldexp(1.0, 103);
    if (d > FLT_MAX || d < -FLT_MAX) {
        float big = fabs(d) < edge ? FLT_MAX : INFINITY;
        return d < 0 ? -big : big;
    }
    return (float)d;
}

static float convert(nnl_st_dtype dt, const unsigned char *b)
{
    switch (dt) {
    case NNL_ST_F32: return bits_to_float((uint32_t)le(b, 4));
    case NNL_ST_F64: {
        uint64_t u = le(b, 8);
        double d;
        memcpy(&d, &u, 8);
        return double_to_float(d);
    }
    case NNL_ST_F16: return half_to_float((uint16_t)le(b, 2));
    case NNL_ST_BF16: return bits_to_float((uint32_t)le(b, 2) << 16);
    case NNL_ST_I64: return (float)(int64_t)le(b, 8);
    case NNL_ST_I32: return (float)(int32_t)(uint32_t)le(b, 4);
    case NNL_ST_I16: return (float)(int16_t)(uint16_t)le(b, 2);
    case NNL_ST_I8: return (float)(int8_t)b[0];
    case NNL_ST_U64: return (float)le(b, 8);
    case NNL_ST_U32: return (float)(uint32_t)le(b, 4);
    case NNL_ST_U16: return (float)(uint16_t)le(b, 2);
    case NNL_ST_U8: return (float)b[0];
    case NNL_ST_BOOL: return b[0] ? 1.0f : 0.0f;
    }
    return 0.0f;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

nnl_status nnl_st_read_f32(nnl_st_file *sf, const nnl_st_entry *e, float *dst)
{
    size_t es = nnl_st_dtype_size(e->dtype);
    uint64_t off = sf->data_start + e->begin;
    if (e->numel == 0)
        return NNL_OK;
    if (e->dtype == NNL_ST_F32 && host_little_endian())
        return read_at(sf, off, dst, (size_t)e->numel * 4, e->name);
    /* Through a small buffer: no second copy of the tensor in memory. */
    unsigned char buf[16384];
    size_t per = sizeof buf / es;
    for (uint64_t i = 0; i < e->numel;) {
        size_t k = e->numel - i < per ? (size_t)(e->numel - i) : per;
        nnl_status st = read_at(sf, off + i * es, buf, k * es, e->name);
        if (st != NNL_OK)
            return st;
        for (size_t j = 0; j < k; j++)
            dst[i + j] = convert(e->dtype, buf + j * es);
        i += k;
    }
    return NNL_OK;
}

/* ---- writing ----------------------------------------------------------------- */

static cJSON *uint_json(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(b);
}

/* Attaches item to obj under key (to an array when key is NULL); a failure
 * clears *ok and deletes the item. */
static void put(int *ok, cJSON *obj, const char *key, cJSON *item)
{
    if (!item) {
        *ok = 0;
        return;
    }
    if (!obj || !(key ? cJSON_AddItemToObject(obj, key, item) : cJSON_AddItemToArray(obj, item))) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* The header text padded with spaces to a multiple of 8, in *out (free
 * with cJSON_free). meta is consumed. */
static nnl_status make_header(const nnl_st_out *t, size_t n, cJSON *meta, char **out,
                              size_t *len, nnl_error *err)
{
    int ok = 1;
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        cJSON_Delete(meta);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    }
    if (meta)
        put(&ok, root, "__metadata__", meta);
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(),
              *offs = cJSON_CreateArray();
        if (!e || !shape || !offs) {
            cJSON_Delete(e);
            cJSON_Delete(shape);
            cJSON_Delete(offs);
            ok = 0;
            break;
        }
        put(&ok, e, "dtype", cJSON_CreateString("F32"));
        for (int d = 0; d < t[i].ndim; d++)
            put(&ok, shape, NULL, uint_json(t[i].shape[d]));
        put(&ok, e, "shape", shape);
        put(&ok, offs, NULL, uint_json(off));
        off += (uint64_t)t[i].n * sizeof(float);
        put(&ok, offs, NULL, uint_json(off));
        put(&ok, e, "data_offsets", offs);
        put(&ok, root, t[i].name, e);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    size_t l = strlen(text), padded = (l + 7) / 8 * 8;
    char *p = cJSON_malloc(padded + 1);
    if (!p) {
        cJSON_free(text);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    }
    memcpy(p, text, l);
    memset(p + l, ' ', padded - l);
    p[padded] = '\0';
    cJSON_free(text);
    *out = p;
    *len = padded;
    return NNL_OK;
}

/* Writes n floats little-endian; 0 on a write error (kept in w). */
static int write_floats(nnl_wfile *w, const float *x, size_t n)
{
    if (host_little_endian())
        return n == 0 || nnl_wfile_write(w, x, n * sizeof(float));
    unsigned char b[4096];
    while (n > 0) {
        size_t k = n < sizeof b / 4 ? n : sizeof b / 4;
        for (size_t i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            for (int j = 0; j < 4; j++)
                b[4 * i + (size_t)j] = (unsigned char)(u >> (8 * j));
        }
        if (!nnl_wfile_write(w, b, 4 * k))
            return 0;
        x += k;
        n -= k;
    }
    return 1;
}

nnl_status nnl_st_write(const char *who, const char *path, const nnl_st_out *t, size_t n,
                        cJSON *meta, nnl_error *err)
{
    char *header = NULL;
    size_t hlen = 0;
    nnl_status st = make_header(t, n, meta, &header, &hlen, err);
    if (st != NNL_OK)
        return st;
    nnl_wfile w;
    if ((st = nnl_wfile_open(who, path, &w, err)) != NNL_OK) {
        cJSON_free(header);
        return st;
    }
    unsigned char len8[8];
    for (int k = 0; k < 8; k++)
        len8[k] = (unsigned char)((uint64_t)hlen >> (8 * k));
    int ok = nnl_wfile_write(&w, len8, 8) && nnl_wfile_write(&w, header, hlen);
    for (size_t i = 0; ok && i < n; i++)
        ok = write_floats(&w, t[i].data, t[i].n);
    cJSON_free(header);
    /* commit reports a failed write too, and removes the temporary */
    return nnl_wfile_commit(&w, err);
}
