/* Layers written in Lua: nn.Layer{name, init, build, call, get_config}
 * defines a class; Class{opts} makes a layer that works wherever a layer
 * kind of C does (Sequential, fit, summary, plots, model(x)).
 *
 * Each class is a layer kind made at run time (an nnl_layer_ops in a
 * counted block: the class object holds one count and every layer made of
 * it another, so the table outlives whatever uses it). Its callbacks run
 * the class's Lua functions, always protected (lua_pcall), on the thread
 * of the binding call that runs the layer (l->lua):
 * - plan (build): build(self, input_shape), whose self:add_weight{...}
 *   makes the weights as tensors (tape leaves) that the C layer adopts, so
 *   self.w and the model's weights are one storage; then call on a batch
 *   of one zero sample gives the output shape.
 * - forward (fit, predict): call on a copy of the batch; in training the
 *   copy is a leaf and the call is recorded, and backward is the tape's:
 *   dL/dx and each weight's gradient, written where fit reads them (the
 *   weights' own .grad are left as they were).
 * - tape_call (model(x), layer(x)): call on x itself, recorded into the
 *   caller's graph.
 * The layer's per-instance fields (self.factor) live in a table, the
 * handle's uservalue 2, whose metatable's __index is the class. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "bind/lnn_tensor.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "model/init.h"
#include "tensor/autograd.h"

#define CLASS_MT "nn.LayerClass"
#define HANDLES_KEY "nn.lualayer.handles" /* weak: C layer -> its handle */

typedef struct lkind {
    nnl_layer_ops ops;
    long refs;
    char type[NNL_LAYER_NAME_MAX];
} lkind;

typedef struct lweight {
    char name[20];
    nnl_tensor *t;                /* a view with the leaf node (trainable) */
    int trainable;
} lweight;

typedef struct lstate {
    int planned;
    nnl_shape plan_in, plan_out;
    int nw;
    lweight w[NNL_LAYER_MAX_PARAMS];
    nnl_tensor *x_last, *y_last;  /* the last training forward (leaf, output) */
    unsigned long gen_last;
} lstate;

static void kind_ref(const nnl_layer_ops *ops, int delta)
{
    lkind *k = (lkind *)ops; /* ops is the first member */
    k->refs += delta;
    if (k->refs == 0)
        nnl_free(k);
}

static void drop_pending(lstate *s)
{
    for (int i = 0; i < s->nw; i++)
        nnl_tensor_free(s->w[i].t);
    s->nw = 0;
}

static void drop_last(lstate *s)
{
    nnl_tensor_free(s->x_last);
    nnl_tensor_free(s->y_last);
    s->x_last = s->y_last = NULL;
}

static void lua_destroy(nnl_layer *l)
{
    lstate *s = l->state;
    if (!s)
        return;
    drop_pending(s);
    drop_last(s);
    s->planned = 0;
}

/* A tensor handle for t sharing its storage and graph node. */
static void push_shared(lua_State *L, const nnl_tensor *t)
{
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(h->t = nnl_tensor_view(t, &err)))
        nnl_lua_raise(L, &err);
    h->t->node = t->node;
    nnl_agnode_retain(t->node);
}

/* A C tensor sharing the storage and node of the handle at idx. */
static nnl_tensor *take_shared(lua_State *L, int idx, nnl_error *err)
{
    nnl_tensor *t = nnl_lua_totensor(L, idx);
    if (!t) {
        nnl_fail(err, NNL_ERR_ARG, "not an open nn.Tensor");
        return NULL;
    }
    nnl_tensor *v = nnl_tensor_view(t, err);
    if (v) {
        v->node = t->node;
        nnl_agnode_retain(v->node);
    }
    (void)L;
    return v;
}

/* Pushes the handle of layer l (kept alive by its model or the script
 * while C runs it) or raises. */
static void push_handle(lua_State *L, const nnl_layer *l)
{
    lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
    lua_rawgetp(L, -1, l);
    lua_remove(L, -2);
    if (!lua_isuserdata(L, -1))
        luaL_error(L, "the Lua layer '%s' has no handle any more", l->name);
}

/* Pushes self's function `name` (nil when the class has none). */
static int push_method(lua_State *L, int self, const char *name)
{
    lua_getiuservalue(L, self, 2);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
    return lua_isfunction(L, -1);
}

typedef struct lcall {
    nnl_layer *l;
    int what;                     /* 0 plan, 1 forward, 2 tape call */
    const nnl_shape *in;
    size_t batch;
    const float *x;
    float *y;
    int train;
    const nnl_tensor *xt;         /* tape call: the input */
    nnl_tensor *out;              /* tape call: the result */
} lcall;

/* Checks the result of call at idx against batch x out shape. */
static nnl_tensor *check_result(lua_State *L, int idx, nnl_layer *l, size_t batch,
                                const nnl_shape *out)
{
    char a[96], b[96];
    nnl_tensor *r = nnl_lua_totensor(L, idx);
    if (!r)
        luaL_error(L, "call returned %s, not an nn.Tensor", luaL_typename(L, idx));
    int ok = r->ndim == out->ndim + 1 && r->shape[0] == batch;
    for (int d = 0; ok && d < out->ndim; d++)
        ok = r->shape[d + 1] == out->d[d];
    if (!ok) {
        size_t want[NNL_MAX_DIMS] = {batch};
        for (int d = 0; d < out->ndim; d++)
            want[d + 1] = out->d[d];
        luaL_error(L, "call returned shape %s, expected %s (the batch, then the output shape "
                   "it gave at build)", nnl_shape_str(r, a, sizeof a),
                   nnl_shape_str_raw(out->ndim + 1, want, b, sizeof b));
    }
    (void)l;
    return r;
}

static int body(lua_State *L)
{
    lcall *c = lua_touserdata(L, 1);
    nnl_layer *l = c->l;
    lstate *s = l->state;
    push_handle(L, l);
    int self = lua_gettop(L);
    nnl_error err;
    if (c->what == 0) { /* plan: build, then the output shape */
        drop_pending(s);
        if (push_method(L, self, "build")) {
            lua_pushvalue(L, self);
            nnl_lua_push_shape(L, c->in);
            lua_call(L, 2, 0);
        } else {
            lua_pop(L, 1);
        }
        size_t shape[NNL_MAX_DIMS] = {1};
        for (int d = 0; d < c->in->ndim; d++)
            shape[d + 1] = c->in->d[d];
        nnl_ltensor *x0 = nnl_lua_newtensor(L);
        if (!(x0->t = nnl_tensor_new(c->in->ndim + 1, shape, &err)))
            return nnl_lua_raise(L, &err);
        if (!push_method(L, self, "call"))
            return luaL_error(L, "the class has no call function");
        lua_pushvalue(L, self);
        lua_pushvalue(L, -3);
        lua_pushboolean(L, 0);
        int was = nnl_ag_set_enabled(0);
        int rc = lua_pcall(L, 3, 1, 0);
        nnl_ag_set_enabled(was);
        if (rc != LUA_OK)
            return lua_error(L);
        nnl_tensor *r = nnl_lua_totensor(L, -1);
        if (!r)
            return luaL_error(L, "call returned %s, not an nn.Tensor", luaL_typename(L, -1));
        if (r->ndim < 2 || r->shape[0] != 1)
            return luaL_error(L, "call must keep the batch dimension first: a batch of one "
                              "sample gave shape %s", nnl_shape_str(r, (char[96]){0}, 96));
        s->plan_out.ndim = r->ndim - 1;
        for (int d = 1; d < r->ndim; d++)
            s->plan_out.d[d - 1] = r->shape[d];
        s->plan_in = *c->in;
        s->planned = 1;
        return 0;
    }
    if (c->what == 2) {
        push_shared(L, c->xt);
    } else {
        size_t shape[NNL_MAX_DIMS] = {c->batch};
        for (int d = 0; d < l->in_shape.ndim; d++)
            shape[d + 1] = l->in_shape.d[d];
        nnl_ltensor *xh = nnl_lua_newtensor(L);
        if (!(xh->t = nnl_tensor_new(l->in_shape.ndim + 1, shape, &err)))
            return nnl_lua_raise(L, &err);
        memcpy(xh->t->data, c->x, xh->t->numel * sizeof(float));
        if (c->train && nnl_ag_requires_grad(xh->t, 1, &err) != NNL_OK)
            return nnl_lua_raise(L, &err);
    }
    int xi = lua_gettop(L);
    if (!push_method(L, self, "call"))
        return luaL_error(L, "the class has no call function");
    lua_pushvalue(L, self);
    lua_pushvalue(L, xi);
    lua_pushboolean(L, c->train);
    int was = nnl_ag_set_enabled(c->what == 2 ? nnl_ag_enabled() : c->train);
    int rc = lua_pcall(L, 3, 1, 0);
    nnl_ag_set_enabled(was);
    if (rc != LUA_OK)
        return lua_error(L);
    nnl_tensor *r = check_result(L, -1, l, c->batch, &l->out_shape);
    if (c->what == 2) {
        if (!(c->out = take_shared(L, -1, &err)))
            return nnl_lua_raise(L, &err);
        return 0;
    }
    memcpy(c->y, r->data, r->numel * sizeof(float));
    drop_last(s);
    if (c->train) {
        nnl_tensor *xs = take_shared(L, xi, &err);
        nnl_tensor *ys = xs ? take_shared(L, -1, &err) : NULL;
        if (!ys) {
            nnl_tensor_free(xs);
            return nnl_lua_raise(L, &err);
        }
        s->x_last = xs;
        s->y_last = ys;
        s->gen_last = l->gen;
    }
    return 0;
}

/* Calls f(ud) on l's thread, protected; a Lua error becomes err naming
 * the layer. While the class's Lua runs in the middle of a step, the model
 * (or the layer alone) refuses to run or change: its buffers and caches
 * are the step's. */
static nnl_status call_layer_lua(const nnl_layer *l, lua_CFunction f, void *ud, nnl_error *err)
{
    lua_State *L = l->lua;
    char prefix[NNL_LAYER_NAME_MAX + 48];
    snprintf(prefix, sizeof prefix, "%s (%s): ", l->name, l->ops->type);
    lua_pushcfunction(L, f);
    lua_pushlightuserdata(L, ud);
    nnl_model_set_busy(l->owner, (nnl_layer *)l, 1);
    nnl_status st = nnl_lua_pcall_err(L, 1, prefix, err);
    nnl_model_set_busy(l->owner, (nnl_layer *)l, -1);
    return st;
}

/* Runs body for c. */
static nnl_status run(lcall *c, nnl_error *err)
{
    if (!c->l->lua)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a Lua layer runs only from Lua", c->l->name);
    return call_layer_lua(c->l, body, c, err);
}

static nnl_status lua_plan(const nnl_layer *cl, const nnl_shape *in, nnl_shape *out,
                           nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_layer *l = (nnl_layer *)cl; /* planning a Lua layer runs its build */
    lstate *s = l->state;
    int same = s->planned && s->plan_in.ndim == in->ndim;
    for (int d = 0; same && d < in->ndim; d++)
        same = s->plan_in.d[d] == in->d[d];
    if (!same) {
        s->planned = 0;
        lcall c = {.l = l, .what = 0, .in = in};
        nnl_status st = run(&c, err);
        if (st != NNL_OK)
            return st;
    }
    *out = s->plan_out;
    *nw = s->nw;
    for (int i = 0; i < s->nw; i++) {
        w[i].name = s->w[i].name;
        w[i].shape.ndim = s->w[i].t->ndim;
        for (int d = 0; d < s->w[i].t->ndim; d++)
            w[i].shape.d[d] = s->w[i].t->shape[d];
        w[i].trainable = s->w[i].trainable;
        w[i].regularized = 0;
    }
    return NNL_OK;
}

static nnl_status lua_adopt(nnl_layer *l, int i, nnl_param *p, nnl_error *err)
{
    lstate *s = l->state;
    lweight *w = &s->w[i];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", w->name);
    p->shape.ndim = w->t->ndim;
    for (int d = 0; d < w->t->ndim; d++)
        p->shape.d[d] = w->t->shape[d];
    p->n = w->t->numel;
    p->trainable = w->trainable;
    if (!(p->wt = nnl_tensor_view(w->t, err)))
        return err->code;
    p->wt->node = w->t->node;
    nnl_agnode_retain(p->wt->node);
    if (p->wt->node)
        p->wt->node->pinned = 1; /* self.w keeps feeding the layer's gradient */
    p->w = p->wt->data;
    if (w->trainable && !(p->g = nnl_calloc(p->n ? p->n : 1, sizeof(float)))) {
        nnl_tensor_free(p->wt);
        p->wt = NULL;
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", l->name);
    }
    return NNL_OK;
}

static nnl_status lua_forward(nnl_layer *l, size_t batch, const float *x, float *y, int train,
                              nnl_error *err)
{
    lcall c = {.l = l, .what = 1, .batch = batch, .x = x, .y = y, .train = train};
    return run(&c, err);
}

static nnl_status lua_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                               float *dy, float *dx, nnl_error *err)
{
    (void)x;
    (void)y;
    lstate *s = l->state;
    if (!s->y_last || s->gen_last != l->gen || s->y_last->shape[0] != batch)
        return nnl_fail(err, NNL_ERR_ARG, "%s: backward without its training forward",
                        l->name);
    nnl_tensor *g = nnl_tensor_new_like(s->y_last, err);
    if (!g)
        return err->code;
    memcpy(g->data, dy, g->numel * sizeof(float));
    /* The weights' own .grad stay as the script left them: this backward
     * writes fit's gradient arrays only. */
    nnl_tensor *kept[NNL_LAYER_MAX_PARAMS] = {0};
    for (int p = 0; p < l->nparams; p++) {
        nnl_agnode *n = l->params[p].wt ? l->params[p].wt->node : NULL;
        if (n) {
            kept[p] = n->grad;
            n->grad = NULL;
        }
    }
    /* An output that depends on nothing differentiable (a constant)
     * passes no gradient back: zeros. */
    nnl_status st = s->y_last->node ? nnl_ag_backward(s->y_last, g, 0, err) : NNL_OK;
    nnl_tensor_free(g);
    for (int p = 0; p < l->nparams; p++) {
        nnl_param *pr = &l->params[p];
        nnl_agnode *n = pr->wt ? pr->wt->node : NULL;
        if (!n)
            continue;
        if (st == NNL_OK && pr->g) {
            if (n->grad)
                memcpy(pr->g, n->grad->data, pr->n * sizeof(float));
            else
                memset(pr->g, 0, pr->n * sizeof(float));
        }
        nnl_tensor_free(n->grad);
        n->grad = kept[p];
    }
    if (st == NNL_OK && dx) {
        const nnl_tensor *gx = nnl_ag_grad(s->x_last);
        if (gx)
            memcpy(dx, gx->data, gx->numel * sizeof(float));
        else
            memset(dx, 0, s->x_last->numel * sizeof(float));
    }
    drop_last(s);
    return st;
}

static nnl_tensor *lua_tape_call(nnl_layer *l, const nnl_tensor *x, int train, nnl_error *err)
{
    lcall c = {.l = l, .what = 2, .batch = x->shape[0], .xt = x, .train = train};
    if (run(&c, err) != NNL_OK)
        return NULL;
    return c.out;
}

/* ---- model files: get_config out, the class's constructor in ---- */

/* Whether the table at idx is a sequence 1..n (n > 0) and nothing else. */
static int is_array(lua_State *L, int idx)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    return n > 0 && count == n;
}

/* Raises unless the Lua value at idx can be JSON: numbers (finite),
 * strings, booleans, and tables of them (a sequence is an array, else the
 * keys must be strings), at most 16 deep (which also stops cycles). */
static void check_json(lua_State *L, int idx, int depth, const char *where)
{
    luaL_checkstack(L, 4, "get_config nests too deep");
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
    case LUA_TSTRING:
        return;
    case LUA_TNUMBER:
        if (!isfinite(lua_tonumber(L, idx)))
            luaL_error(L, "get_config: %s is %s, which a model file cannot hold", where,
                       lua_tostring(L, idx));
        return;
    case LUA_TTABLE: {
        if (depth > 16)
            luaL_error(L, "get_config: %s nests deeper than 16 tables (a cycle?)", where);
        int array = is_array(L, idx);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (!array && lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "get_config: %s has a key that is not a string", where);
            check_json(L, -1, depth + 1, where);
            lua_pop(L, 1);
        }
        return;
    }
    default:
        luaL_error(L, "get_config: %s is a %s, which a model file cannot hold (numbers, "
                   "strings, booleans and tables of them)", where, luaL_typename(L, idx));
    }
}

/* The value at idx (checked by check_json) as JSON; NULL only when out of
 * memory. Raises nothing, so nothing it made can leak. */
static cJSON *to_json(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        return cJSON_CreateNumber(lua_tonumber(L, idx));
    case LUA_TSTRING:
        return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TTABLE:
        break;
    default:
        return NULL;
    }
    if (is_array(L, idx)) {
        cJSON *o = cJSON_CreateArray();
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; o && i <= n; i++) {
            lua_rawgeti(L, idx, i);
            cJSON *v = to_json(L, -1);
            lua_pop(L, 1);
            if (!v || !cJSON_AddItemToArray(o, v)) {
                cJSON_Delete(v);
                cJSON_Delete(o);
                return NULL;
            }
        }
        return o;
    }
    cJSON *o = cJSON_CreateObject();
    lua_pushnil(L);
    while (o && lua_next(L, idx)) {
        cJSON *v = to_json(L, -1);
        if (!v || !cJSON_AddItemToObject(o, lua_tostring(L, -2), v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            lua_pop(L, 2);
            return NULL;
        }
        lua_pop(L, 1);
    }
    return o;
}

/* Pushes JSON j as a Lua value. */
static void push_json(lua_State *L, const cJSON *j, int depth)
{
    luaL_checkstack(L, 4, "config too deep");
    if (depth > 32) {
        lua_pushnil(L);
        return;
    }
    if (cJSON_IsBool(j))
        lua_pushboolean(L, cJSON_IsTrue(j));
    else if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
    } else if (cJSON_IsString(j))
        lua_pushstring(L, j->valuestring);
    else if (cJSON_IsArray(j)) {
        lua_newtable(L);
        lua_Integer i = 0;
        for (const cJSON *c = j->child; c; c = c->next) {
            push_json(L, c, depth + 1);
            lua_rawseti(L, -2, ++i);
        }
    } else if (cJSON_IsObject(j)) {
        lua_newtable(L);
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!c->string)
                continue;
            push_json(L, c, depth + 1);
            lua_setfield(L, -2, c->string);
        }
    } else
        lua_pushnil(L);
}

typedef struct cfg_call {
    const nnl_layer *l;
    cJSON *c;
} cfg_call;

static int cfg_body(lua_State *L)
{
    cfg_call *a = lua_touserdata(L, 1);
    push_handle(L, a->l);
    int self = lua_gettop(L);
    if (!push_method(L, self, "get_config"))
        return 0; /* nothing but the name to keep */
    lua_pushvalue(L, self);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1))
        return 0;
    if (!lua_istable(L, -1))
        return luaL_error(L, "get_config must return a table, got %s", luaL_typename(L, -1));
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "get_config: every key must be a string");
        const char *k = lua_tostring(L, -2);
        if (strcmp(k, "name") != 0) {
            check_json(L, -1, 0, k);
            cJSON *v = to_json(L, -1);
            if (!v || !cJSON_AddItemToObject(a->c, k, v)) {
                cJSON_Delete(v);
                return luaL_error(L, "get_config: out of memory");
            }
        }
        lua_pop(L, 1);
    }
    return 0;
}

static nnl_status lua_save_config(const nnl_layer *l, cJSON *c, nnl_error *err)
{
    lua_State *L = l->lua;
    if (!L)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a Lua layer saves only from Lua", l->name);
    cfg_call a = {l, c};
    return call_layer_lua(l, cfg_body, &a, err); /* busy: the save reads the model */
}

typedef struct res_call {
    nnl_lua_resolver_ctx *rc;
    const char *cls;
    const cJSON *config;
    nnl_layer *out;
} res_call;

static int res_body(lua_State *L)
{
    res_call *a = lua_touserdata(L, 1); /* custom_objects at 2, made at 3 */
    lua_getfield(L, 2, a->cls);
    if (lua_isnil(L, -1))
        return 0;
    lua_pushvalue(L, -1);
    push_json(L, a->config, 0);
    lua_call(L, 1, 1);
    nnl_llayer *h = luaL_testudata(L, -1, NNL_LAYER_MT);
    if (!h || !h->l || h->l->ops->plan != lua_plan || strcmp(h->l->ops->type, a->cls) != 0)
        return luaL_error(L, "custom_objects.%s did not make a %s layer (pass the class "
                          "nn.Layer returned)", a->cls, a->cls);
    if (h->owned)
        return luaL_error(L, "custom_objects.%s returned a layer already in a model", a->cls);
    /* The loader owns the layer now (the model it builds, or it frees it);
     * nn.load makes it the model's, or closes the handle on a failure. */
    h->owned = 2;
    h->l->lua = L; /* the loader builds it on this thread */
    lua_pushvalue(L, -1);
    lua_rawsetp(L, 3, h->l);
    a->out = h->l;
    return 0;
}

nnl_status nnl_lua_resolve_layer(void *ctx, const char *cls, const cJSON *config,
                                 nnl_layer **out, nnl_error *err)
{
    nnl_lua_resolver_ctx *rc = ctx;
    lua_State *L = rc->L;
    res_call a = {rc, cls, config, NULL};
    lua_pushcfunction(L, res_body);
    lua_pushlightuserdata(L, &a);
    lua_pushvalue(L, rc->objs); /* indices of the caller's frame (nn.load) */
    lua_pushvalue(L, rc->made);
    nnl_status st = nnl_lua_pcall_err(L, 3, "", err);
    *out = a.out;
    return st;
}

/* ---- self:add_weight{name, shape, initializer, trainable} ---- */

static int l_add_weight(lua_State *L)
{
    nnl_llayer *h = nnl_lua_checklayer(L, 1);
    nnl_layer *l = h->l;
    if (l->ops->plan != lua_plan)
        return luaL_error(L, "add_weight: only a layer of nn.Layer can add weights");
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const valid[] = {"name", "shape", "initializer", "trainable", NULL};
    nnl_lua_check_options(L, 2, "add_weight", valid);
    lstate *s = l->state;
    if (s->nw >= NNL_LAYER_MAX_PARAMS)
        return luaL_error(L, "add_weight: at most %d weights per layer", NNL_LAYER_MAX_PARAMS);
    char nbuf[NNL_OPT_STR_MAX];
    char def[20];
    snprintf(def, sizeof def, "w%d", s->nw + 1);
    const char *name = nnl_lua_opt_str(L, 2, "name", "add_weight", def, nbuf, sizeof nbuf);
    if (strlen(name) >= sizeof s->w[0].name)
        return luaL_error(L, "add_weight: name '%s' is longer than %d characters", name,
                          (int)sizeof s->w[0].name - 1);
    for (int i = 0; i < s->nw; i++)
        if (strcmp(s->w[i].name, name) == 0)
            return luaL_error(L, "add_weight: a weight named '%s' exists", name);
    lua_getfield(L, 2, "shape");
    size_t shape[NNL_MAX_DIMS];
    int nd;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_Integer v = lua_tointeger(L, -1);
        if (v < 0)
            return luaL_error(L, "add_weight: shape must not be negative");
        shape[0] = (size_t)v;
        nd = 1;
    } else if (lua_istable(L, -1)) {
        nd = nnl_lua_shape_args(L, lua_gettop(L), "add_weight", shape);
    } else {
        return luaL_error(L, "add_weight: shape must be a number or a table of sizes, got %s",
                          luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    lua_getfield(L, 2, "trainable");
    int trainable = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    /* The initializer by name (model/init.h; Keras's default for
     * add_weight is glorot_uniform), fans as Keras takes them: the last
     * dimension out, the product of the others in. */
    char ibuf[NNL_OPT_STR_MAX];
    const char *iname = nnl_lua_opt_str(L, 2, "initializer", "add_weight", "glorot_uniform",
                                        ibuf, sizeof ibuf);
    int init = nnl_init_from_name(iname);
    if (init < 0)
        return luaL_error(L, "add_weight: unknown initializer '%s' (valid: %s)", iname,
                          nnl_init_names());
    nnl_ltensor *th = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(th->t = nnl_tensor_new(nd, shape, &err)))
        return nnl_lua_raise_in(L, "add_weight", &err);
    int ti = lua_gettop(L);
    size_t fan_out = shape[nd - 1], fan_in = nd > 1 ? th->t->numel / (fan_out ? fan_out : 1) : fan_out;
    nnl_init_fill(init, th->t->data, th->t->numel, fan_in, fan_out, nnl_rng_global());
    if (trainable && nnl_ag_requires_grad(th->t, 1, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "add_weight", &err);
    lweight *w = &s->w[s->nw];
    if (!(w->t = take_shared(L, ti, &err)))
        return nnl_lua_raise_in(L, "add_weight", &err);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->trainable = trainable;
    s->nw++;
    lua_settop(L, ti);
    return 1;
}

/* ---- classes ---- */

static int class_gc(lua_State *L)
{
    lkind **k = luaL_checkudata(L, 1, CLASS_MT);
    if (*k)
        kind_ref(&(*k)->ops, -1);
    *k = NULL;
    return 0;
}

/* Class{opts} (upvalue 1: the class userdata; 2: the class definition) */
static int class_new(lua_State *L)
{
    lkind **kp = lua_touserdata(L, lua_upvalueindex(1));
    lkind *k = *kp;
    lua_remove(L, 1); /* the class itself (a __call) */
    int opts = lua_istable(L, 1) ? 1 : 0;
    if (!opts && !lua_isnoneornil(L, 1))
        return luaL_error(L, "%s: options must be a table, got %s", k->type,
                          luaL_typename(L, 1));
    if (!opts) {
        lua_newtable(L);
        lua_replace(L, 1);
        opts = 1;
    }
    lua_settop(L, 1);
    nnl_llayer *h = lua_newuserdatauv(L, sizeof *h, 2);
    h->l = NULL;
    h->owned = 0;
    luaL_setmetatable(L, NNL_LAYER_MT);
    int hi = lua_gettop(L);
    nnl_error err;
    if (!(h->l = nnl_layer_create(&k->ops, NULL, &err)))
        return nnl_lua_raise_in(L, k->type, &err);
    h->l->lua = L;
    /* the instance table: fields of self, the class behind them */
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setiuservalue(L, hi, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
    lua_pushvalue(L, hi);
    lua_rawsetp(L, -2, h->l);
    lua_pop(L, 1);
    /* name and input_shape as every layer takes them */
    char nbuf[NNL_OPT_STR_MAX], def[NNL_LAYER_NAME_MAX], snake[NNL_LAYER_NAME_MAX];
    nnl_layer_snake(k->type, snake, sizeof snake);
    nnl_lua_default_name(L, def, sizeof def, snake);
    const char *name = nnl_lua_opt_str(L, 1, "name", k->type, def, nbuf, sizeof nbuf);
    snprintf(h->l->name, sizeof h->l->name, "%s", name);
    if (lua_getfield(L, 1, "input_shape") != LUA_TNIL) {
        nnl_shape s = {0, {0}};
        s.ndim = nnl_lua_shape_args(L, lua_gettop(L), k->type, s.d);
        if (s.ndim > NNL_MAX_DIMS - 1)
            return luaL_error(L, "%s: input_shape has too many dimensions", k->type);
        h->l->in_shape = s;
        h->l->has_input_shape = 1;
    }
    lua_pop(L, 1);
    if (push_method(L, hi, "init")) {
        lua_pushvalue(L, hi);
        lua_pushvalue(L, 1);
        lua_call(L, 2, 0);
    } else {
        lua_pop(L, 1);
    }
    lua_settop(L, hi);
    return 1;
}

/* nn.Layer{name = "Scale", init =, build =, call =, get_config =} -> class */
static int l_layer_class(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    const char *type = lua_tostring(L, -1);
    if (!type || !*type || strlen(type) >= NNL_LAYER_NAME_MAX)
        return luaL_error(L, "nn.Layer: name (the class name) must be a string of 1 to %d "
                          "characters", NNL_LAYER_NAME_MAX - 1);
    if (nnl_layer_kind(type))
        return luaL_error(L, "nn.Layer: '%s' is a built-in layer kind; choose another name",
                          type);
    lua_getfield(L, 1, "call");
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "nn.Layer: %s needs call = function(self, x, training)", type);
    lua_pop(L, 1);
    for (const char *const *f = (const char *const[]){"init", "build", "get_config", NULL}; *f;
         f++) {
        lua_getfield(L, 1, *f);
        if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
            return luaL_error(L, "nn.Layer: %s.%s must be a function", type, *f);
        lua_pop(L, 1);
    }
    lkind **kp = lua_newuserdatauv(L, sizeof *kp, 0);
    *kp = NULL;
    luaL_setmetatable(L, CLASS_MT);
    int ku = lua_gettop(L);
    lkind *k = nnl_calloc(1, sizeof *k);
    if (!k)
        return luaL_error(L, "nn.Layer: out of memory");
    snprintf(k->type, sizeof k->type, "%s", type);
    k->refs = 1;
    k->ops = (nnl_layer_ops){
        .type = k->type,
        .help = "a layer written in Lua (nn.Layer)",
        .state_size = sizeof(lstate),
        .plan = lua_plan,
        .forward = lua_forward,
        .backward = lua_backward,
        .destroy = lua_destroy,
        .draw = NNL_DRAW_NONE,
        .kind_ref = kind_ref,
        .adopt = lua_adopt,
        .tape_call = lua_tape_call,
        .save_config = lua_save_config,
    };
    *kp = k;
    /* the class: a table {name=..., definition fields} callable as Class{} */
    lua_newtable(L); /* the definition as given, copied */
    int def = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, def);
    }
    lua_newtable(L); /* the class object */
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, ku);
    lua_pushvalue(L, def);
    lua_pushcclosure(L, class_new, 2);
    lua_setfield(L, -2, "__call");
    lua_pushvalue(L, def);
    lua_setfield(L, -2, "__index");
    lua_pushfstring(L, "nn.Layer class %s", type);
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    return 1;
}

int nnl_lua_layer_field(lua_State *L, int idx, const char *k)
{
    nnl_llayer *h = luaL_testudata(L, idx, NNL_LAYER_MT);
    if (h && h->l && strcmp(k, "add_weight") == 0) { /* it says whom it serves */
        lua_pushcfunction(L, l_add_weight);
        return 1;
    }
    if (!h || !h->l || h->l->ops->plan != lua_plan)
        return 0;
    lua_getiuservalue(L, idx, 2);
    lua_getfield(L, -1, k);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

int nnl_lua_layer_setfield(lua_State *L, int idx, const char *k, int v)
{
    nnl_llayer *h = luaL_testudata(L, idx, NNL_LAYER_MT);
    if (!h || !h->l || h->l->ops->plan != lua_plan)
        return 0;
    lua_getiuservalue(L, idx, 2);
    lua_pushstring(L, k);
    lua_pushvalue(L, v);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

lua_State **nnl_lua_layers_enter(lua_State *L, nnl_model *m)
{
    size_t n = m->nlayers;
    lua_State **s = lua_newuserdatauv(L, (n + 1) * sizeof *s, 0);
    s[0] = (lua_State *)(uintptr_t)n;
    for (size_t i = 0; i < n; i++) {
        s[i + 1] = m->layers[i]->lua;
        m->layers[i]->lua = L;
    }
    return s;
}

void nnl_lua_layers_leave(nnl_model *m, lua_State **saved)
{
    size_t n = (size_t)(uintptr_t)saved[0];
    for (size_t i = 0; i < n && i < m->nlayers; i++)
        m->layers[i]->lua = saved[i + 1];
}

void nnl_open_lualayer(lua_State *L)
{
    luaL_newmetatable(L, CLASS_MT);
    lua_pushcfunction(L, class_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
    lua_pushcfunction(L, l_layer_class);
    lua_setfield(L, -2, "Layer");
}
