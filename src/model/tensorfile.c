/* Files of named tensors (see tensorfile.h): the tensors of a checked
 * safetensors header made and filled one by one, and a list of tensors
 * written as F32 through model/safetensors.c. */
#include "model/tensorfile.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/alloc.h"
#include "model/safetensors.h"

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = nnl_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void nnl_tensorfile_free(nnl_tensorfile *tf)
{
    for (size_t i = 0; i < tf->n; i++) {
        nnl_free(tf->items[i].name);
        nnl_tensor_free(tf->items[i].t);
    }
    for (size_t i = 0; i < tf->nmeta; i++) {
        nnl_free(tf->meta_keys[i]);
        nnl_free(tf->meta_values[i]);
    }
    nnl_free(tf->items);
    nnl_free(tf->meta_keys);
    nnl_free(tf->meta_values);
    memset(tf, 0, sizeof *tf);
}

static nnl_status nomem(nnl_st_file *sf, const char *tensor)
{
    if (tensor)
        return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': tensor '%.100s': out of memory",
                        sf->what, tensor);
    return nnl_fail(sf->err, NNL_ERR_NOMEM, "'%.200s': out of memory", sf->what);
}

static nnl_status read_meta(nnl_st_file *sf, nnl_tensorfile *out)
{
    size_t n = 0;
    for (const cJSON *m = sf->meta ? sf->meta->child : NULL; m; m = m->next)
        n++;
    if (n == 0)
        return NNL_OK;
    out->meta_keys = nnl_calloc(n, sizeof *out->meta_keys);
    out->meta_values = nnl_calloc(n, sizeof *out->meta_values);
    if (!out->meta_keys || !out->meta_values)
        return nomem(sf, NULL);
    for (const cJSON *m = sf->meta->child; m; m = m->next) {
        /* strings only: checked by nnl_st_parse */
        char *k = dup(m->string ? m->string : ""), *v = dup(m->valuestring);
        if (!k || !v) {
            nnl_free(k);
            nnl_free(v);
            return nomem(sf, NULL);
        }
        out->meta_keys[out->nmeta] = k;
        out->meta_values[out->nmeta++] = v;
    }
    return NNL_OK;
}

static nnl_status load(nnl_st_file *sf, nnl_tensorfile *out)
{
    nnl_status st = nnl_st_parse(sf, 0);
    if (st == NNL_OK)
        st = read_meta(sf, out);
    if (st == NNL_OK && sf->nents && !(out->items = nnl_calloc(sf->nents, sizeof *out->items)))
        st = nomem(sf, NULL);
    for (size_t i = 0; st == NNL_OK && i < sf->nents; i++) {
        const nnl_st_entry *e = &sf->ents[i];
        size_t shape[NNL_MAX_DIMS] = {1};
        int nd = e->ndim ? e->ndim : 1; /* a scalar becomes [1] */
        for (int d = 0; d < e->ndim; d++)
            shape[d] = (size_t)e->shape[d]; /* each fits: product <= data bytes */
        nnl_named_tensor *it = &out->items[out->n];
        nnl_error te;
        if (!(it->name = dup(e->name))) {
            st = nomem(sf, e->name);
            break;
        }
        out->n++;
        if (!(it->t = nnl_tensor_new(nd, shape, &te))) {
            st = nnl_fail(sf->err, te.code, "'%.200s': tensor '%.100s': %s", sf->what,
                          e->name, te.msg);
            break;
        }
        st = nnl_st_read_f32(sf, e, it->t->data);
    }
    if (st != NNL_OK)
        nnl_tensorfile_free(out);
    return st;
}

nnl_status nnl_tensorfile_load_mem(const void *data, size_t size, const char *what,
                                   nnl_tensorfile *out, nnl_error *err)
{
    memset(out, 0, sizeof *out);
    nnl_st_file sf;
    nnl_st_init_mem(&sf, data, size, what, err);
    nnl_status st = load(&sf, out);
    nnl_st_close(&sf);
    return st;
}

nnl_status nnl_tensorfile_load(const char *path, nnl_tensorfile *out, nnl_error *err)
{
    memset(out, 0, sizeof *out);
    nnl_st_file sf;
    nnl_status st = nnl_st_open(&sf, path, err);
    if (st == NNL_OK)
        st = load(&sf, out);
    nnl_st_close(&sf);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const nnl_st_out *)a)->name, ((const nnl_st_out *)b)->name);
}

nnl_status nnl_tensorfile_save(const char *path, const char *const *names,
                               const nnl_tensor *const *ts, size_t n,
                               const char *const *meta_keys,
                               const char *const *meta_values, size_t nmeta,
                               nnl_error *err)
{
    if (!path || !*path)
        return nnl_fail(err, NNL_ERR_ARG, "the path is empty");
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "__metadata__") == 0)
            return nnl_fail(err, NNL_ERR_ARG, "the name '__metadata__' is the format's "
                            "own (the metadata), not a tensor's");
    for (size_t i = 0; i < nmeta; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(meta_keys[i], meta_keys[j]) == 0)
                return nnl_fail(err, NNL_ERR_ARG, "metadata key '%.100s' appears twice",
                                meta_keys[i]);
    nnl_st_out *o = nnl_calloc(n ? n : 1, sizeof *o);
    if (!o)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        o[i].name = names[i];
        o[i].data = ts[i]->data;
        o[i].ndim = ts[i]->ndim;
        o[i].shape = ts[i]->shape;
        o[i].n = ts[i]->numel;
    }
    qsort(o, n, sizeof *o, by_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(o[i - 1].name, o[i].name) == 0) {
            nnl_status st = nnl_fail(err, NNL_ERR_ARG, "tensor name '%.100s' appears twice",
                                     o[i].name);
            nnl_free(o);
            return st;
        }
    cJSON *meta = NULL;
    int ok = 1;
    if (nmeta && !(meta = cJSON_CreateObject()))
        ok = 0;
    for (size_t i = 0; ok && i < nmeta; i++) {
        cJSON *v = cJSON_CreateString(meta_values[i]);
        if (!v || !cJSON_AddItemToObject(meta, meta_keys[i], v)) {
            cJSON_Delete(v);
            ok = 0;
        }
    }
    if (!ok) {
        cJSON_Delete(meta);
        nnl_free(o);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    }
    nnl_status st = nnl_st_write(NULL, path, o, n, meta, err);
    nnl_free(o);
    return st;
}
