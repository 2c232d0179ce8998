/* Model files, the writing half: collects the model's tensors and settings
 * into a safetensors header and writes the file through a temporary name
 * (see modelfile.h). Loading is in modelfile_load.c. */
#include "model/modelfile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/alloc.h"
#include "model/init.h"
#include "model/loss.h"
#include "model/safetensors.h"
#include "simd/kernels.h"

#define NAME_MAX_LEN 128

char *nnl_modelfile_weight_name(char *buf, size_t size, size_t layer,
                                const nnl_layer_ops *kind, const char *weight)
{
    char key[64];
    snprintf(buf, size, "layers.%zu.%s.%s", layer, nnl_layer_snake(kind->type, key, sizeof key),
             weight);
    return buf;
}

/* One tensor to write. The data belong to the model. */
typedef struct out_tensor {
    char name[NAME_MAX_LEN];
    const float *data;
    const nnl_shape *shape;
    size_t n;
} out_tensor;

/* The optimizer's slots line up with the trainable weights (in layer
 * order) once fit has prepared them; otherwise there is no state to keep. */
static int slots_match(const nnl_model *m)
{
    if (!m->compiled || !m->opt || m->opt->nslots == 0)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            const nnl_param *pr = &m->layers[i]->params[p];
            if (!pr->trainable)
                continue;
            if (k >= m->opt->nslots || m->opt->slots[k].n != pr->n)
                return 0;
            k++;
        }
    return k == m->opt->nslots;
}

/* Lists every weight and optimizer slot; *out is nnl_malloc'd. */
static nnl_status collect(const nnl_model *m, int with_slots, out_tensor **out,
                          size_t *count, nnl_error *err)
{
    size_t cap = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i]->built)
            cap += 4 * (size_t)m->layers[i]->nparams; /* weight, m, v, a */
    out_tensor *t = nnl_calloc(cap ? cap : 1, sizeof *t);
    if (!t)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        const nnl_layer *l = m->layers[i];
        for (int p = 0; l->built && p < l->nparams; p++) {
            const nnl_param *pr = &l->params[p];
            nnl_modelfile_weight_name(t[n].name, sizeof t[n].name, i, l->ops, pr->name);
            t[n].data = pr->w;
            t[n].shape = &pr->shape;
            t[n].n = pr->n;
            n++;
        }
    }
    if (with_slots) {
        /* j walks the weights in the order listed above; k the slots */
        size_t j = 0, k = 0;
        for (size_t i = 0; i < m->nlayers; i++)
            for (int p = 0; m->layers[i]->built && p < m->layers[i]->nparams; p++, j++) {
                if (!m->layers[i]->params[p].trainable)
                    continue;
                const nnl_optim_slot *s = &m->opt->slots[k++];
                const float *arr[3] = {s->m, s->v, s->a};
                const char *suf[3] = {"m", "v", "a"};
                for (int a = 0; a < 3; a++) {
                    if (!arr[a])
                        continue;
                    /* t[n] and t[j] are distinct (slots follow the
                     * weights), but the compiler cannot tell: copy first */
                    char wname[sizeof t[0].name];
                    memcpy(wname, t[j].name, sizeof wname);
                    snprintf(t[n].name, sizeof t[n].name, "optimizer.%.100s.%s", wname,
                             suf[a]);
                    t[n].data = arr[a];
                    t[n].shape = t[j].shape;
                    t[n].n = t[j].n;
                    n++;
                }
            }
    }
    *out = t;
    *count = n;
    return NNL_OK;
}

/* Numbers are written as raw JSON text: whole numbers in full, doubles and
 * floats in the fewest digits that read back to the same value (cJSON's
 * own printing may drop the last bit, and resuming must be exact). */
static cJSON *uint_json(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(b);
}

static cJSON *double_json(double v)
{
    char b[40];
    if (!isfinite(v))
        return cJSON_CreateNull();
    for (int p = 15; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(b);
}


/* Attaches item to obj under key (to an array when key is NULL). Any
 * failure (item NULL: cJSON was out of memory making it; the attach failed)
 * clears *ok, and an item that could not be attached is deleted, so a
 * header is either whole or refused, and nothing leaks. */
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

/* Returns j when *ok, else deletes it and returns NULL. */
static cJSON *whole(int ok, cJSON *j)
{
    if (ok)
        return j;
    cJSON_Delete(j);
    return NULL;
}

/* A JSON array of the shape's sizes, or NULL (out of memory). */
static cJSON *shape_json(const nnl_shape *s)
{
    int ok = 1;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < s->ndim; i++)
        put(&ok, a, NULL, uint_json(s->d[i]));
    return whole(ok, a);
}

/* One option's value as JSON (NULL: out of memory): numbers exact, names
 * as strings, sizes and shapes as lists, a regularizer as {l1, l2}. */
static cJSON *value_json(const nnl_option *o, const nnl_value *v)
{
    switch (o->type) {
    case NNL_OPTION_INT:
    case NNL_OPTION_NUM:
        return double_json(v->num);
    case NNL_OPTION_BOOL:
        return cJSON_CreateBool(v->num != 0.0);
    case NNL_OPTION_CHOICE: {
        const char *n = v->num >= 0 ? o->choice->name((int)v->num) : NULL;
        return n ? cJSON_CreateString(n) : cJSON_CreateNull();
    }
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE: {
        int ok = 1;
        cJSON *a = cJSON_CreateArray();
        for (int k = 0; a && k < v->nints; k++)
            put(&ok, a, NULL, double_json((double)v->ints[k]));
        return whole(ok, a);
    }
    case NNL_OPTION_REGULARIZER: {
        int ok = 1;
        cJSON *r = cJSON_CreateObject();
        put(&ok, r, "l1", double_json(v->l1));
        put(&ok, r, "l2", double_json(v->l2));
        return whole(ok, r);
    }
    }
    return NULL;
}

/* {"class": "Dense", "config": {"name": ..., <every option of the kind>}} */
static cJSON *layer_json(nnl_layer *l, nnl_error *err)
{
    int ok = 1;
    cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject();
    if (!o || !c) {
        cJSON_Delete(o);
        cJSON_Delete(c);
        return NULL;
    }
    put(&ok, o, "class", cJSON_CreateString(l->ops->type));
    put(&ok, c, "name", cJSON_CreateString(l->name));
    for (size_t i = 0; i < l->ops->noptions; i++)
        put(&ok, c, l->ops->options[i].key, value_json(&l->ops->options[i], &l->config[i]));
    if (ok && l->ops->save_config && l->ops->save_config(l, c, err) != NNL_OK) {
        cJSON_Delete(o);
        cJSON_Delete(c);
        return NULL;
    }
    put(&ok, o, "config", c); /* last: a failed attach deletes c */
    return whole(ok, o);
}

/* *cfail set when a layer's own config failed (its error in err). */
static cJSON *architecture_json(nnl_model *m, const char *name, nnl_error *err, int *cfail)
{
    int ok = 1;
    cJSON *a = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    if (!a || !layers) {
        cJSON_Delete(a);
        cJSON_Delete(layers);
        return NULL;
    }
    put(&ok, a, "class", cJSON_CreateString("Sequential"));
    put(&ok, a, "name", cJSON_CreateString(name));
    put(&ok, a, "input_shape", m->built ? shape_json(&m->in_shape) : cJSON_CreateNull());
    for (size_t i = 0; ok && i < m->nlayers; i++) {
        err->code = NNL_OK;
        cJSON *lj = layer_json(m->layers[i], err);
        if (!lj && err->code != NNL_OK)
            *cfail = 1;
        put(&ok, layers, NULL, lj);
    }
    put(&ok, a, "layers", layers);
    return whole(ok, a);
}

static cJSON *compile_json(const nnl_model *m)
{
    int ok = 1;
    cJSON *c = cJSON_CreateObject(), *ms = cJSON_CreateArray(), *o = cJSON_CreateObject();
    if (!c || !ms || !o) {
        cJSON_Delete(c);
        cJSON_Delete(ms);
        cJSON_Delete(o);
        return NULL;
    }
    const nnl_optim_config *oc = &m->opt->cfg;
    put(&ok, c, "loss", cJSON_CreateString(nnl_loss_name(m->loss)));
    for (size_t i = 0; i < m->nmetrics; i++)
        if (m->metrics[i].kind == NNL_METRIC_CUSTOM) {
            char nb[NNL_METRIC_NAME_MAX + 8];
            snprintf(nb, sizeof nb, "custom:%s", m->metrics[i].name);
            put(&ok, ms, NULL, cJSON_CreateString(nb));
        } else {
            put(&ok, ms, NULL, cJSON_CreateString(m->metrics[i].name));
        }
    put(&ok, c, "metrics", ms);
    put(&ok, o, "name", cJSON_CreateString(nnl_optim_name(oc->kind)));
    put(&ok, o, "learning_rate", double_json(oc->lr));
    put(&ok, o, "momentum", double_json(oc->momentum));
    put(&ok, o, "nesterov", cJSON_CreateBool(oc->nesterov));
    put(&ok, o, "beta_1", double_json(oc->beta1));
    put(&ok, o, "beta_2", double_json(oc->beta2));
    put(&ok, o, "epsilon", double_json(oc->epsilon));
    put(&ok, o, "weight_decay", double_json(oc->weight_decay));
    put(&ok, o, "rho", double_json(oc->rho));
    put(&ok, o, "centered", cJSON_CreateBool(oc->centered));
    put(&ok, o, "initial_accumulator_value", double_json(oc->initial_accumulator));
    put(&ok, c, "optimizer", o);
    return whole(ok, c);
}

static cJSON *training_json(nnl_model *m, long epochs, size_t nslots)
{
    int ok = 1;
    cJSON *t = cJSON_CreateObject(), *rngs = cJSON_CreateArray();
    if (!t || !rngs) {
        cJSON_Delete(t);
        cJSON_Delete(rngs);
        return NULL;
    }
    put(&ok, t, "epochs", uint_json(epochs > 0 ? (uint64_t)epochs : 0));
    long it = m->compiled && m->opt ? m->opt->iterations : 0;
    put(&ok, t, "optimizer_iterations", uint_json(it > 0 ? (uint64_t)it : 0));
    put(&ok, t, "optimizer_slots", uint_json(nslots));
    for (size_t i = 0; ok && i < m->nlayers; i++) {
        nnl_rng *r = m->layers[i]->ops->rng ? m->layers[i]->ops->rng(m->layers[i]) : NULL;
        if (!r || !m->layers[i]->built)
            continue;
        cJSON *e = cJSON_CreateObject(), *s = cJSON_CreateArray();
        if (!e || !s) {
            cJSON_Delete(e);
            cJSON_Delete(s);
            ok = 0;
            break;
        }
        put(&ok, e, "layer", uint_json(i));
        for (int k = 0; k < 4; k++)
            put(&ok, s, NULL, uint_json(r->s[k]));
        put(&ok, e, "state", s);
        put(&ok, rngs, NULL, e);
    }
    put(&ok, t, "dropout_rng", rngs);
    return whole(ok, t);
}

/* Adds key = the JSON text of j (consumed) to the metadata object; 0 when
 * out of memory. */
static int add_json_string(cJSON *meta, const char *key, cJSON *j)
{
    if (!j)
        return 0;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        return 0;
    int ok = 1;
    put(&ok, meta, key, cJSON_CreateString(s));
    cJSON_free(s);
    return ok;
}

/* The __metadata__ object into *out (NULL when out of memory: a header
 * missing a part is never written). */
static nnl_status make_meta(nnl_model *m, const nnl_modelfile_info *info, size_t nslots,
                            cJSON **out, nnl_error *err)
{
    int ok = 1;
    cJSON *meta = cJSON_CreateObject();
    if (!meta)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    char ver[16];
    snprintf(ver, sizeof ver, "%d", NNL_MODELFILE_VERSION);
    put(&ok, meta, "format", cJSON_CreateString("nnlua"));
    put(&ok, meta, "format_version", cJSON_CreateString(ver));
    put(&ok, meta, "nnlua_version", cJSON_CreateString(NNL_VERSION));
    int cfail = 0;
    ok = ok && add_json_string(meta, "architecture",
                               architecture_json(m, info ? info->name : "", err, &cfail));
    if (cfail) {
        cJSON_Delete(meta);
        return err->code;
    }
    ok = ok && (!m->compiled || add_json_string(meta, "compile", compile_json(m)));
    ok = ok && add_json_string(meta, "training",
                               training_json(m, info ? info->epochs : 0, nslots));
    if (!ok) {
        cJSON_Delete(meta);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the header");
    }
    *out = meta;
    return NNL_OK;
}

nnl_status nnl_modelfile_save(nnl_model *m, const char *path,
                              const nnl_modelfile_info *info, nnl_error *err)
{
    if (!path || !*path)
        return nnl_fail(err, NNL_ERR_ARG, "the path is empty");
    if (m->nlayers == 0)
        return nnl_fail(err, NNL_ERR_ARG, "the model has no layers");
    int with_slots = slots_match(m);
    out_tensor *t = NULL;
    size_t n = 0, nslots = with_slots ? m->opt->nslots : 0;
    nnl_status st = collect(m, with_slots, &t, &n, err);
    if (st != NNL_OK)
        return st;
    cJSON *meta = NULL;
    nnl_st_out *o = (st = make_meta(m, info, nslots, &meta, err)) == NNL_OK
                        ? nnl_calloc(n ? n : 1, sizeof *o) : NULL;
    if (st == NNL_OK && !o) {
        cJSON_Delete(meta);
        st = nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    }
    if (st != NNL_OK) {
        nnl_free(t);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        o[i].name = t[i].name;
        o[i].data = t[i].data;
        o[i].ndim = t[i].shape->ndim;
        o[i].shape = t[i].shape->d;
        o[i].n = t[i].n;
    }
    st = nnl_st_write(NULL, path, o, n, meta, err);
    nnl_free(o);
    nnl_free(t);
    return st;
}
