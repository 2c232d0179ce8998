/* Model files, the reading half: checks a safetensors file completely
 * (header length, JSON, every tensor entry, coverage of the data, the
 * architecture against the tensors) before it reads a single weight, then
 * builds the model through the same constructors as the Lua API, so the
 * same value checks apply. See modelfile.h for the layout. */
#include "model/modelfile.h"
#include "model/json_check.h"
#include "model/safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/alloc.h"
#include "model/init.h"
#include "model/loss.h"
#include "simd/kernels.h"

#define MAX_LAYERS 100000
#define MAX_INT_JSON 9007199254740992.0 /* 2^53: larger JSON numbers are inexact */
#define MAX_SAMPLE_NUMEL ((uint64_t)1 << 40)

/* A tensor entry of the header (model/safetensors.h). */
typedef nnl_st_entry entry;

typedef struct loader {
    nnl_st_file st;               /* the source and its checked header */
    nnl_error *err;
    cJSON *arch, *compile, *training; /* owned: the metadata JSON texts parsed */
    nnl_layer_resolver resolve;   /* kinds not built in (NULL: none) */
    void *resolve_ctx;
} loader;

/* Fills the error as NNL_ERR_FORMAT "'what': <message>". */
static nnl_status bad(loader *ld, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static nnl_status bad(loader *ld, const char *fmt, ...)
{
    char msg[NNL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nnl_st_bad(&ld->st, "%s", msg);
}

/* The metadata string `key` parsed as JSON into *out (NULL when absent). */
static nnl_status meta_json(loader *ld, const char *key, cJSON **out)
{
    *out = NULL;
    const cJSON *s = ld->st.meta ? cJSON_GetObjectItemCaseSensitive(ld->st.meta, key) : NULL;
    if (!s)
        return NNL_OK;
    cJSON *j = cJSON_Parse(s->valuestring);
    if (!j && nnl_json_syntax_ok(s->valuestring, strlen(s->valuestring)))
        return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': out of memory for "
                        "__metadata__ %s", ld->st.what, key);
    if (!j)
        return bad(ld, "__metadata__ %s is not valid JSON", key);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return bad(ld, "__metadata__ %s is not a JSON object", key);
    }
    *out = j;
    return NNL_OK;
}

/* ---- reading settings with messages that name the field ----------------- */

/* Reads an optional number (def when absent). */
static nnl_status get_num(loader *ld, const cJSON *o, const char *key, const char *ctx,
                          double def, double *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j) {
        *out = def;
        return NNL_OK;
    }
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return bad(ld, "%s: '%s' must be a finite number", ctx, key);
    *out = j->valuedouble;
    return NNL_OK;
}

static nnl_status get_uint(loader *ld, const cJSON *o, const char *key, const char *ctx,
                           uint64_t def, double max, uint64_t *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j) {
        *out = def;
        return NNL_OK;
    }
    if (!nnl_st_json_uint(j, max, out))
        return bad(ld, "%s: '%s' must be a whole number in 0..%.0f", ctx, key, max);
    return NNL_OK;
}

static nnl_status get_bool(loader *ld, const cJSON *o, const char *key, const char *ctx,
                           int def, int *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j) {
        *out = def;
        return NNL_OK;
    }
    if (!cJSON_IsBool(j))
        return bad(ld, "%s: '%s' must be true or false", ctx, key);
    *out = cJSON_IsTrue(j);
    return NNL_OK;
}

/* An optional string (def when absent; def NULL means required). */
static nnl_status get_str(loader *ld, const cJSON *o, const char *key, const char *ctx,
                          const char *def, const char **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j && def) {
        *out = def;
        return NNL_OK;
    }
    if (!cJSON_IsString(j))
        return bad(ld, "%s: '%s' %s", ctx, key, j ? "must be a string" : "is missing");
    *out = j->valuestring;
    return NNL_OK;
}

/* ---- layers --------------------------------------------------------------- */

/* One option's value from its JSON (absent: the default stays). Every
 * type is checked here; ranges by nnl_value_check when the layer is made. */
static nnl_status read_value(loader *ld, const cJSON *cfg, const nnl_option *o,
                             const char *ctx, nnl_value *v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, o->key);
    if (!j && o->type == NNL_OPTION_REGULARIZER &&
        (cJSON_GetObjectItemCaseSensitive(cfg, "l1") || cJSON_GetObjectItemCaseSensitive(cfg, "l2"))) {
        /* format_version 1 kept a kernel regularizer as l1 and l2 */
        nnl_status st = get_num(ld, cfg, "l1", ctx, 0.0, &v->l1);
        if (st == NNL_OK)
            st = get_num(ld, cfg, "l2", ctx, 0.0, &v->l2);
        v->given = 1;
        return st;
    }
    if (!j || cJSON_IsNull(j)) {
        if (o->required)
            return bad(ld, "%s: '%s' is missing", ctx, o->key);
        return NNL_OK;
    }
    v->given = 1;
    switch (o->type) {
    case NNL_OPTION_INT:
        if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
            fabs(j->valuedouble) > MAX_INT_JSON)
            return bad(ld, "%s: '%s' must be a whole number", ctx, o->key);
        v->num = j->valuedouble;
        return NNL_OK;
    case NNL_OPTION_NUM:
        if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
            return bad(ld, "%s: '%s' must be a finite number", ctx, o->key);
        v->num = j->valuedouble;
        return NNL_OK;
    case NNL_OPTION_BOOL:
        if (!cJSON_IsBool(j))
            return bad(ld, "%s: '%s' must be true or false", ctx, o->key);
        v->num = cJSON_IsTrue(j);
        return NNL_OK;
    case NNL_OPTION_CHOICE: {
        if (!cJSON_IsString(j))
            return bad(ld, "%s: '%s' must be the name of %s %s", ctx, o->key,
                       strchr("aeiou", o->choice->what[0]) ? "an" : "a", o->choice->what);
        int k = o->choice->from_name(j->valuestring);
        if (k < 0)
            return bad(ld, "%s: unknown %s '%.40s' (valid: %s)", ctx, o->choice->what,
                       j->valuestring, o->choice->names());
        v->num = k;
        return NNL_OK;
    }
    case NNL_OPTION_SIZES:
    case NNL_OPTION_SHAPE: {
        int n = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : cJSON_IsNumber(j) ? 1 : -1;
        if (n < 1 || n > NNL_VALUE_INTS_MAX)
            return bad(ld, "%s: '%s' must be a list of 1 to %d whole numbers", ctx, o->key,
                       NNL_VALUE_INTS_MAX);
        for (int k = 0; k < n; k++) {
            const cJSON *e = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, k) : j;
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
                fabs(e->valuedouble) > 4294967296.0)
                return bad(ld, "%s: '%s' must be a list of whole numbers", ctx, o->key);
            v->ints[k] = (long)e->valuedouble;
        }
        v->nints = n;
        if (o->type == NNL_OPTION_SIZES && n == 1 && o->count > 1)
            for (int k = (v->nints = o->count, 1); k < o->count; k++)
                v->ints[k] = v->ints[0];
        return NNL_OK;
    }
    case NNL_OPTION_REGULARIZER: {
        if (!cJSON_IsObject(j))
            return bad(ld, "%s: '%s' must be {\"l1\": a, \"l2\": b}", ctx, o->key);
        nnl_status st = get_num(ld, j, "l1", ctx, 0.0, &v->l1);
        return st == NNL_OK ? get_num(ld, j, "l2", ctx, 0.0, &v->l2) : st;
    }
    }
    return bad(ld, "%s: '%s' has a type this nnlua does not read", ctx, o->key);
}

/* Makes layer i from its JSON, by its kind's declared options; *out owned
 * by the caller. */
static nnl_status make_layer(loader *ld, size_t i, const cJSON *lj, nnl_layer **out)
{
    char ctx[96];
    snprintf(ctx, sizeof ctx, "architecture: layer %zu", i + 1);
    if (!cJSON_IsObject(lj))
        return bad(ld, "%s is not an object", ctx);
    const char *cls = "", *name = "";
    nnl_status st = get_str(ld, lj, "class", ctx, NULL, &cls);
    if (st != NNL_OK)
        return st;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(lj, "config");
    if (cfg && !cJSON_IsObject(cfg))
        return bad(ld, "%s (%.40s): config is not an object", ctx, cls);
    static const cJSON empty = {0};
    if (!cfg)
        cfg = &empty;
    const nnl_layer_ops *kind = nnl_layer_kind(cls);
    if (!kind && ld->resolve) {
        nnl_layer *l = NULL;
        nnl_error e;
        if (ld->resolve(ld->resolve_ctx, cls, cfg, &l, &e) != NNL_OK) {
            if (e.code == NNL_ERR_NOMEM)
                return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
            return bad(ld, "%s (%.40s): %s", ctx, cls, e.msg);
        }
        if (l) {
            *out = l;
            return NNL_OK;
        }
    }
    if (!kind) {
        char list[512];
        size_t used = 0;
        list[0] = '\0';
        for (int k = 0; nnl_layer_kinds[k] && used < sizeof list; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                                     nnl_layer_kinds[k]->type);
        return bad(ld, "%s: unknown layer kind '%.40s' (nnlua builds %s; a layer written in "
                   "Lua loads with nn.load(path, {custom_objects = {%.40s = Class}}))", ctx, cls,
                   list, cls);
    }
    snprintf(ctx, sizeof ctx, "architecture: layer %zu (%.30s)", i + 1, cls);
    if ((st = get_str(ld, cfg, "name", ctx, "", &name)) != NNL_OK)
        return st;
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(kind->options, kind->noptions, v);
    for (size_t k = 0; k < kind->noptions; k++)
        if ((st = read_value(ld, cfg, &kind->options[k], ctx, &v[k])) != NNL_OK)
            return st;
    nnl_error e;
    nnl_layer *l = nnl_layer_create(kind, v, &e);
    if (!l) {
        if (e.code == NNL_ERR_NOMEM)
            return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
        return bad(ld, "%s: %s", ctx, e.msg);
    }
    if (*name)
        nnl_layer_set_name(l, name);
    *out = l;
    return NNL_OK;
}

static int shape_equal(const entry *e, const nnl_shape *s)
{
    if (e->ndim != s->ndim)
        return 0;
    for (int i = 0; i < s->ndim; i++)
        if (e->shape[i] != s->d[i])
            return 0;
    return 1;
}

/* Checks that tensor `name` exists with shape s and marks it used. */
static nnl_status want_tensor(loader *ld, const char *name, const nnl_shape *s,
                              const char *who, entry **out)
{
    entry *e = nnl_st_find(&ld->st, name);
    if (!e)
        return bad(ld, "tensor '%s' is missing (%s)", name, who);
    if (!shape_equal(e, s)) {
        char a[160], b[160];
        uint64_t d[NNL_MAX_DIMS];
        for (int i = 0; i < s->ndim; i++)
            d[i] = s->d[i];
        return bad(ld, "tensor '%s' has shape %s but %s needs %s", name,
                   nnl_st_shape_text(e->shape, e->ndim, a, sizeof a), who,
                   nnl_st_shape_text(d, s->ndim, b, sizeof b));
    }
    e->used = 1;
    if (out)
        *out = e;
    return NNL_OK;
}

static nnl_status read_input_shape(loader *ld, const cJSON *arch, nnl_shape *s, int *has)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(arch, "input_shape");
    *has = 0;
    if (!j || cJSON_IsNull(j))
        return NNL_OK;
    int n = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1;
    if (n < 1 || n > NNL_MAX_DIMS - 1)
        return bad(ld, "architecture: input_shape must list 1 to %d sizes",
                   NNL_MAX_DIMS - 1);
    memset(s, 0, sizeof *s);
    s->ndim = n;
    uint64_t total = 1;
    for (int i = 0; i < n; i++) {
        uint64_t d;
        if (!nnl_st_json_uint(cJSON_GetArrayItem(j, i), (double)MAX_SAMPLE_NUMEL, &d) || d == 0)
            return bad(ld, "architecture: input_shape[%d] must be a whole number >= 1",
                       i + 1);
        if (total > MAX_SAMPLE_NUMEL / d)
            return bad(ld, "architecture: input_shape is too large");
        total *= d;
        s->d[i] = (size_t)d;
    }
    *has = 1;
    return NNL_OK;
}

/* Builds the layers of the architecture into m, checking each layer's
 * tensors before it allocates its weights. */
static nnl_status build_layers(loader *ld, nnl_model *m, nnl_modelfile_info *info)
{
    const cJSON *arch = ld->arch;
    const char *cls = "", *name = "";
    nnl_status st = get_str(ld, arch, "class", "architecture", "Sequential", &cls);
    if (st != NNL_OK)
        return st;
    if (strcmp(cls, "Sequential") != 0)
        return bad(ld, "architecture: class '%.40s' is not one nnlua builds "
                   "(Sequential)", cls);
    if ((st = get_str(ld, arch, "name", "architecture", "", &name)) != NNL_OK)
        return st;
    if (info)
        snprintf(info->name, sizeof info->name, "%s", name);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(arch, "layers");
    if (!cJSON_IsArray(layers))
        return bad(ld, "architecture: 'layers' is missing or not a list");
    int nl = cJSON_GetArraySize(layers);
    if (nl < 1 || nl > MAX_LAYERS)
        return bad(ld, "architecture: %d layers (expected 1 to %d)", nl, MAX_LAYERS);
    nnl_shape in, cur;
    int built;
    if ((st = read_input_shape(ld, arch, &in, &built)) != NNL_OK)
        return st;
    cur = in;
    /* Weights come from the file: the initializers draw from a local
     * generator so loading leaves nn.seed's stream alone. */
    nnl_rng rng;
    nnl_rng_seed(&rng, 0x6d6f64656c66696cULL);
    size_t i = 0;
    for (const cJSON *lj = layers->child; lj; lj = lj->next, i++) {
        nnl_layer *l = NULL;
        if ((st = make_layer(ld, i, lj, &l)) != NNL_OK)
            return st;
        char who[128];
        snprintf(who, sizeof who, "layer %zu (%s '%.40s')", i + 1, l->ops->type, l->name);
        nnl_error e;
        /* The file's tensors are checked against the layer's plan before
         * the layer allocates anything the file claims. */
        nnl_weight_spec w[NNL_LAYER_MAX_PARAMS];
        int nw = 0;
        nnl_shape out;
        if (built && nnl_layer_plan(l, &cur, &out, w, &nw, &e) != NNL_OK) {
            nnl_layer_free(l);
            return bad(ld, "architecture: %s: %s", who, e.msg);
        }
        for (int p = 0; built && p < nw; p++) {
            char tn[128];
            nnl_modelfile_weight_name(tn, sizeof tn, i, l->ops, w[p].name);
            if ((st = want_tensor(ld, tn, &w[p].shape, who, NULL)) != NNL_OK) {
                nnl_layer_free(l);
                return st;
            }
        }
        if (built) {
            if ((i == 0 && nnl_layer_set_input_shape(l, &in, &e) != NNL_OK) ||
                nnl_layer_build(l, &cur, &rng, &e) != NNL_OK) {
                nnl_layer_free(l);
                if (e.code == NNL_ERR_NOMEM)
                    return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
                return bad(ld, "architecture: %s: %s", who, e.msg);
            }
            int same = l->nparams == nw;
            for (int p = 0; same && p < nw; p++)
                same = strcmp(l->params[p].name, w[p].name) == 0 &&
                       l->params[p].n == nnl_shape_numel(&w[p].shape);
            if (!same) {
                nnl_layer_free(l);
                return bad(ld, "architecture: %s built other weights than expected", who);
            }
            uint64_t total = 1;
            for (int d = 0; d < l->out_shape.ndim; d++) {
                uint64_t v = l->out_shape.d[d];
                total = v && total > MAX_SAMPLE_NUMEL / v ? MAX_SAMPLE_NUMEL + 1 : total * v;
            }
            if (total > MAX_SAMPLE_NUMEL) {
                nnl_layer_free(l);
                return bad(ld, "architecture: %s: output per sample is too large", who);
            }
            cur = l->out_shape;
        }
        if (nnl_model_add(m, l, &e) != NNL_OK) {
            nnl_layer_free(l);
            if (e.code == NNL_ERR_NOMEM)
                return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
            return bad(ld, "architecture: %s: %s", who, e.msg);
        }
    }
    return NNL_OK;
}

/* ---- compile settings and optimizer state -------------------------------- */

static nnl_status compile_model(loader *ld, nnl_model *m)
{
    const cJSON *c = ld->compile;
    const char *ctx = "compile", *lname = "", *oname = "";
    nnl_status st = get_str(ld, c, "loss", ctx, NULL, &lname);
    if (st != NNL_OK)
        return st;
    int loss = strcmp(lname, "custom") == 0 ? NNL_LOSS_CUSTOM : nnl_loss_from_name(lname);
    if (loss < 0)
        return bad(ld, "compile: unknown loss '%.40s'", lname);
    const char *metrics[NNL_MODEL_MAX_METRICS];
    size_t nm = 0;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(c, "metrics");
    if (ms) {
        if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) > NNL_MODEL_MAX_METRICS)
            return bad(ld, "compile: 'metrics' must be a list of at most %d names",
                       NNL_MODEL_MAX_METRICS);
        for (const cJSON *j = ms->child; j; j = j->next) {
            if (!cJSON_IsString(j))
                return bad(ld, "compile: metrics[%zu] is not a name", nm + 1);
            metrics[nm++] = j->valuestring;
        }
    }
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(c, "optimizer");
    if (!cJSON_IsObject(o))
        return bad(ld, "compile: 'optimizer' is missing or not an object");
    ctx = "compile: optimizer";
    if ((st = get_str(ld, o, "name", ctx, NULL, &oname)) != NNL_OK)
        return st;
    int kind = nnl_optim_from_name(oname);
    if (kind < 0)
        return bad(ld, "compile: unknown optimizer '%.40s'", oname);
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, kind);
    if ((st = get_num(ld, o, "learning_rate", ctx, oc.lr, &oc.lr)) != NNL_OK ||
        (st = get_num(ld, o, "momentum", ctx, oc.momentum, &oc.momentum)) != NNL_OK ||
        (st = get_bool(ld, o, "nesterov", ctx, oc.nesterov, &oc.nesterov)) != NNL_OK ||
        (st = get_num(ld, o, "beta_1", ctx, oc.beta1, &oc.beta1)) != NNL_OK ||
        (st = get_num(ld, o, "beta_2", ctx, oc.beta2, &oc.beta2)) != NNL_OK ||
        (st = get_num(ld, o, "epsilon", ctx, oc.epsilon, &oc.epsilon)) != NNL_OK ||
        (st = get_num(ld, o, "weight_decay", ctx, oc.weight_decay, &oc.weight_decay)) != NNL_OK ||
        (st = get_num(ld, o, "rho", ctx, oc.rho, &oc.rho)) != NNL_OK ||
        (st = get_bool(ld, o, "centered", ctx, oc.centered, &oc.centered)) != NNL_OK ||
        (st = get_num(ld, o, "initial_accumulator_value", ctx, oc.initial_accumulator,
                      &oc.initial_accumulator)) != NNL_OK)
        return st;
    nnl_error e;
    if (nnl_model_compile(m, loss, metrics, nm, &oc, &e) != NNL_OK) {
        if (e.code == NNL_ERR_NOMEM)
            return nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
        return bad(ld, "compile: %s", e.msg);
    }
    return NNL_OK;
}

/* Prepares the optimizer's slots and checks their tensors; the data are
 * read later with the weights. */
static nnl_status check_slots(loader *ld, nnl_model *m, uint64_t nslots,
                              uint64_t iterations)
{
    size_t ntrain = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            ntrain += m->layers[i]->params[p].trainable;
    if (nslots == 0) {
        if (m->opt)
            m->opt->iterations = (long)iterations;
        return NNL_OK;
    }
    if (!m->compiled)
        return bad(ld, "training: optimizer_slots is %llu but the file has no compile "
                   "settings", (unsigned long long)nslots);
    if (nslots != ntrain)
        return bad(ld, "training: optimizer_slots is %llu but the model has %zu "
                   "trainable weight arrays", (unsigned long long)nslots, ntrain);
    nnl_error e;
    nnl_status st = nnl_model_prepare_optim(m, &e);
    if (st != NNL_OK)
        return nnl_fail(ld->err, st, "'%.200s': %s", ld->st.what, e.msg);
    m->opt->iterations = (long)iterations;
    size_t k = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_layer *l = m->layers[i];
        for (int p = 0; p < l->nparams; p++) {
            if (!l->params[p].trainable)
                continue;
            const nnl_optim_slot *s = &m->opt->slots[k++];
            char wn[128], tn[160];
            nnl_modelfile_weight_name(wn, sizeof wn, i, l->ops, l->params[p].name);
            if (s->m) {
                snprintf(tn, sizeof tn, "optimizer.%s.m", wn);
                if ((st = want_tensor(ld, tn, &l->params[p].shape, "the optimizer",
                                      NULL)) != NNL_OK)
                    return st;
            }
            if (s->v) {
                snprintf(tn, sizeof tn, "optimizer.%s.v", wn);
                if ((st = want_tensor(ld, tn, &l->params[p].shape, "the optimizer",
                                      NULL)) != NNL_OK)
                    return st;
            }
            if (s->a) {
                snprintf(tn, sizeof tn, "optimizer.%s.a", wn);
                if ((st = want_tensor(ld, tn, &l->params[p].shape, "the optimizer",
                                      NULL)) != NNL_OK)
                    return st;
            }
        }
    }
    return NNL_OK;
}

/* Epochs, optimizer step count and slots, Dropout generators. */
static nnl_status apply_training(loader *ld, nnl_model *m, nnl_modelfile_info *info)
{
    const cJSON *t = ld->training;
    static const cJSON empty = {0};
    if (!t)
        t = &empty;
    const char *ctx = "training";
    uint64_t epochs = 0, iters = 0, nslots = 0;
    nnl_status st;
    if ((st = get_uint(ld, t, "epochs", ctx, 0, MAX_INT_JSON, &epochs)) != NNL_OK ||
        (st = get_uint(ld, t, "optimizer_iterations", ctx, 0, MAX_INT_JSON, &iters)) != NNL_OK ||
        (st = get_uint(ld, t, "optimizer_slots", ctx, 0, MAX_INT_JSON, &nslots)) != NNL_OK)
        return st;
    if (info)
        info->epochs = (long)epochs;
    if ((st = check_slots(ld, m, nslots, iters)) != NNL_OK)
        return st;
    const cJSON *rngs = cJSON_GetObjectItemCaseSensitive(t, "dropout_rng");
    if (!rngs)
        return NNL_OK;
    if (!cJSON_IsArray(rngs))
        return bad(ld, "training: 'dropout_rng' is not a list");
    for (const cJSON *r = rngs->child; r; r = r->next) {
        uint64_t li, v[4];
        const cJSON *s = cJSON_IsObject(r) ? cJSON_GetObjectItemCaseSensitive(r, "state")
                                           : NULL;
        if (!s || !nnl_st_json_uint(cJSON_GetObjectItemCaseSensitive(r, "layer"),
                             (double)(m->nlayers - 1), &li) ||
            !cJSON_IsArray(s) || cJSON_GetArraySize(s) != 4)
            return bad(ld, "training: a dropout_rng entry is not {layer = index of a "
                       "layer, state = four whole numbers}");
        for (int k = 0; k < 4; k++)
            if (!nnl_st_json_uint(cJSON_GetArrayItem(s, k), 4294967295.0, &v[k]))
                return bad(ld, "training: dropout_rng state[%d] is not a 32-bit "
                           "whole number", k + 1);
        nnl_layer *gl = m->layers[li];
        nnl_rng *g = gl->ops->rng ? gl->ops->rng(gl) : NULL;
        if (!g)
            return bad(ld, "training: dropout_rng names layer %llu, which has no "
                       "generator of its own", (unsigned long long)li + 1);
        if (!m->layers[li]->built)
            continue; /* seeded again when it is built */
        for (int k = 0; k < 4; k++)
            g->s[k] = (uint32_t)v[k];
    }
    return NNL_OK;
}

/* ---- data ------------------------------------------------------------------ */

static nnl_status read_floats(loader *ld, const char *name, float *dst, size_t n)
{
    entry *e = nnl_st_find(&ld->st, name);
    if (!e || e->numel != n) /* checked before; defensive */
        return bad(ld, "tensor '%s' is missing or has another size", name);
    return nnl_st_read_f32(&ld->st, e, dst);
}

static nnl_status read_data(loader *ld, nnl_model *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        nnl_layer *l = m->layers[i];
        for (int p = 0; l->built && p < l->nparams; p++) {
            nnl_param *pr = &l->params[p];
            char wn[128], tn[160];
            nnl_modelfile_weight_name(wn, sizeof wn, i, l->ops, pr->name);
            nnl_status st = read_floats(ld, wn, pr->w, pr->n);
            if (st != NNL_OK)
                return st;
            if (!pr->trainable || !m->opt || m->opt->nslots == 0)
                continue;
            const nnl_optim_slot *s = &m->opt->slots[k++];
            if (s->m) {
                snprintf(tn, sizeof tn, "optimizer.%s.m", wn);
                if ((st = read_floats(ld, tn, s->m, s->n)) != NNL_OK)
                    return st;
            }
            if (s->v) {
                snprintf(tn, sizeof tn, "optimizer.%s.v", wn);
                if ((st = read_floats(ld, tn, s->v, s->n)) != NNL_OK)
                    return st;
            }
            if (s->a) {
                snprintf(tn, sizeof tn, "optimizer.%s.a", wn);
                if ((st = read_floats(ld, tn, s->a, s->n)) != NNL_OK)
                    return st;
            }
        }
    }
    return NNL_OK;
}

/* ---- the whole load --------------------------------------------------------- */

static nnl_model *load(loader *ld, nnl_modelfile_info *info)
{
    nnl_model *m = NULL;
    nnl_status st = nnl_st_parse(&ld->st, 1);
    if (st == NNL_OK) {
        const cJSON *v = ld->st.meta ? cJSON_GetObjectItemCaseSensitive(ld->st.meta,
                                                                     "format_version")
                                  : NULL;
        uint64_t ver = 0;
        if (v) {
            char *end;
            errno = 0;
            unsigned long long u = strtoull(v->valuestring, &end, 10);
            if (!*v->valuestring || *end || errno)
                st = bad(ld, "__metadata__ format_version '%.20s' is not a number",
                         v->valuestring);
            ver = u;
        }
        if (st == NNL_OK && ver > NNL_MODELFILE_VERSION)
            st = bad(ld, "format_version %llu is newer than this nnlua reads (%d)",
                     (unsigned long long)ver, NNL_MODELFILE_VERSION);
    }
    if (st == NNL_OK && (st = meta_json(ld, "architecture", &ld->arch)) == NNL_OK &&
        !ld->arch)
        st = bad(ld, "no architecture in __metadata__: nn.load reads files written by "
                 "model:save (other safetensors files hold only tensors)");
    if (st == NNL_OK)
        st = meta_json(ld, "compile", &ld->compile);
    if (st == NNL_OK)
        st = meta_json(ld, "training", &ld->training);
    nnl_error e;
    if (st == NNL_OK && !(m = nnl_model_new(&e)))
        st = nnl_fail(ld->err, NNL_ERR_NOMEM, "'%.200s': %s", ld->st.what, e.msg);
    if (info) {
        info->name[0] = '\0';
        info->epochs = 0;
    }
    if (st == NNL_OK)
        st = build_layers(ld, m, info);
    if (st == NNL_OK && ld->compile)
        st = compile_model(ld, m);
    if (st == NNL_OK)
        st = apply_training(ld, m, info);
    for (size_t i = 0; st == NNL_OK && i < ld->st.nents; i++)
        if (!ld->st.ents[i].used)
            st = bad(ld, "tensor '%.100s' is not part of the model (the architecture "
                     "has no such weight)", ld->st.ents[i].name);
    if (st == NNL_OK)
        st = read_data(ld, m);
    cJSON_Delete(ld->arch);
    cJSON_Delete(ld->compile);
    cJSON_Delete(ld->training);
    if (st != NNL_OK) {
        nnl_model_free(m);
        return NULL;
    }
    return m;
}

nnl_model *nnl_modelfile_load_mem(const void *data, size_t size, const char *what,
                                  nnl_modelfile_info *info, nnl_error *err)
{
    loader ld;
    memset(&ld, 0, sizeof ld);
    nnl_st_init_mem(&ld.st, data, size, what, err);
    ld.err = err;
    nnl_model *m = load(&ld, info);
    nnl_st_close(&ld.st);
    return m;
}

nnl_model *nnl_modelfile_load_custom(const char *path, nnl_modelfile_info *info,
                                     nnl_layer_resolver resolve, void *ctx, nnl_error *err)
{
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.resolve = resolve;
    ld.resolve_ctx = ctx;
    nnl_model *m = NULL;
    if (nnl_st_open(&ld.st, path, err) == NNL_OK) {
        ld.err = err;
        m = load(&ld, info);
    }
    nnl_st_close(&ld.st);
    return m;
}

nnl_model *nnl_modelfile_load(const char *path, nnl_modelfile_info *info, nnl_error *err)
{
    return nnl_modelfile_load_custom(path, info, NULL, NULL, err);
}
