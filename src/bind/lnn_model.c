/* The Lua face of src/model: layers (nn.Dense, nn.Activation, nn.Dropout,
 * nn.BatchNormalization, nn.Flatten), nn.Sequential and its methods
 * (add, compile, evaluate, predict, summary, get_weights, set_weights,
 * count_params), and layer:get_weights/set_weights. fit is in
 * lnn_model_fit.c; optimizers, callbacks and the History object are Lua
 * (lua/2*_*.lua).
 *
 * Ownership: an nn.Layer owns its C layer until it is added to a model;
 * then the model owns it and the layer handle keeps the model alive (its
 * uservalue), so the pointer stays valid while the handle is reachable. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "model/init.h"
#include "model/loss.h"
#include "model/metrics.h"
#include "model/optim.h"
#include "simd/kernels.h"

/* ---- models ------------------------------------------------------------- */

nnl_lmodel *nnl_lua_checkmodel(lua_State *L, int idx)
{
    nnl_lmodel *h = luaL_checkudata(L, idx, NNL_MODEL_MT);
    if (!h->m)
        luaL_argerror(L, idx, "model is closed");
    return h;
}

static void check_not_fitting(lua_State *L, nnl_lmodel *h, const char *fn)
{
    if (h->in_fit)
        luaL_error(L, "%s: not allowed while fit is running (from a callback)", fn);
    if (nnl_model_busy(h->m))
        luaL_error(L, "%s: a loss, metric or layer function of the model cannot change it "
                   "(it is in the middle of a step)", fn);
}

/* model:add(layer) -> model */
static int model_add(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    nnl_model *m = h->m; /* stays valid: a close by hand now holds it */
    check_not_fitting(L, h, "add");
    nnl_llayer *lh = nnl_lua_tolayer(L, 2);
    if (!lh)
        return luaL_error(L, "add: expected a layer (nn.Dense, nn.Activation, ...), got %s",
                          luaL_testudata(L, 2, NNL_LAYER_MT) ? "a closed layer"
                                                             : luaL_typename(L, 2));
    if (lh->owned)
        return luaL_error(L, "add: layer '%s' already belongs to a model", lh->l->name);
    /* Make room in the layer list first (a placeholder), so that nothing
     * can fail after the C add has taken the layer. */
    lua_settop(L, 2);
    lua_getiuservalue(L, 1, 1);
    lua_Integer n = luaL_len(L, 3);
    lua_pushboolean(L, 0);
    lua_rawseti(L, 3, n + 1);
    nnl_error err;
    void *was = lh->l->lua;
    lh->l->lua = L; /* a built model builds the layer now: a Lua layer's build runs */
    nnl_status ast = nnl_model_add(m, lh->l, &err);
    lh->l->lua = was;
    if (ast != NNL_OK) {
        lua_pushnil(L);
        lua_rawseti(L, 3, n + 1);
        return nnl_lua_raise_in(L, "add", &err);
    }
    lh->owned = 1;
    lua_pushvalue(L, 2);
    lua_rawseti(L, 3, n + 1);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 2, 1);
    lua_settop(L, 1);
    return 1;
}

/* nn.Sequential([{layers...}] [, {name=}]) -> model */
static int l_sequential(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_isnoneornil(L, 1) && !lua_istable(L, 1))
        return luaL_error(L, "nn.Sequential: expected a list of layers, got %s",
                          luaL_typename(L, 1));
    static const char *const valid[] = {"name", NULL};
    nnl_lua_check_options(L, 2, "nn.Sequential", valid);
    nnl_lmodel *h = lua_newuserdatauv(L, sizeof *h, 2);
    h->m = h->held = NULL;
    h->in_fit = 0;
    luaL_setmetatable(L, NNL_MODEL_MT);
    int mi = lua_gettop(L);
    lua_newtable(L);
    lua_setiuservalue(L, mi, 1);
    lua_newtable(L);
    char name[64];
    char gbuf[64];
    const char *given = nnl_lua_opt_str(L, 2, "name", "nn.Sequential", NULL, gbuf, sizeof gbuf);
    if (given)
        snprintf(name, sizeof name, "%s", given);
    else
        nnl_lua_default_name(L, name, sizeof name, "sequential");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_setiuservalue(L, mi, 2);
    nnl_error err;
    h->m = nnl_model_new(&err);
    if (!h->m)
        return nnl_lua_raise_in(L, "nn.Sequential", &err);
    if (lua_istable(L, 1)) {
        lua_Integer n = luaL_len(L, 1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_pushcfunction(L, model_add);
            lua_pushvalue(L, mi);
            lua_geti(L, 1, i);
            lua_call(L, 2, 0);
        }
    }
    lua_settop(L, mi);
    return 1;
}

/* Whether running C code may still use the model at idx: through the
 * model handle or one of its layers' (nnl_lua_in_use). */
static int model_in_use(lua_State *L, int idx)
{
    if (nnl_lua_in_use(L, idx))
        return 1;
    int used = 0;
    lua_getiuservalue(L, idx, 1);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && !used; i++) {
        lua_rawgeti(L, -1, i);
        used = nnl_lua_in_use(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return used;
}

/* __gc: by the collector, frees the model (its layer handles, which keep
 * it alive, are unreachable too). By hand (the debug library), closes the
 * handle; the memory waits for the collector when C code may still use it
 * (a fit whose callback did this). */
static int model_gc(lua_State *L)
{
    nnl_lmodel *h = luaL_checkudata(L, 1, NNL_MODEL_MT);
    if (!nnl_lua_collecting(L) && (h->in_fit || model_in_use(L, 1))) {
        if (h->m) {
            nnl_model_free(h->held); /* a handle holds at most one */
            h->held = h->m;
            h->m = NULL;
        }
        return 0;
    }
    nnl_model_free(h->m);
    nnl_model_free(h->held);
    h->m = h->held = NULL;
    return 0;
}

/* Reads the optimizer (a name, or a table from nn.optimizers or written by
 * hand: {name = "sgd", lr = 0.1}) at idx, by that optimizer's declared
 * options. */
void nnl_lua_read_optimizer(lua_State *L, int idx, nnl_optim_config *c, const char *fn0)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        int k = nnl_optim_from_name(lua_tostring(L, idx));
        if (k < 0)
            luaL_error(L, "%s: unknown optimizer '%s' (valid: %s)", fn0,
                       lua_tostring(L, idx), nnl_optim_names());
        nnl_optim_defaults(c, k);
        return;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: optimizer must be a name or an nn.optimizers object, "
                   "got %s", fn0, luaL_typename(L, idx));
    char nbuf[NNL_OPT_STR_MAX];
    char ofn[64];
    snprintf(ofn, sizeof ofn, "%s: optimizer", fn0);
    const char *name = nnl_lua_opt_str(L, idx, "name", ofn, NULL, nbuf, sizeof nbuf);
    int k = name ? nnl_optim_from_name(name) : -1;
    if (k < 0)
        luaL_error(L, "%s: unknown optimizer '%s' (valid: %s)", fn0, name ? name : "?",
                   nnl_optim_names());
    const nnl_optim_desc *d = nnl_optim_desc_of(k);
    char fn[64];
    snprintf(fn, sizeof fn, "%s: %s", fn0, d->name);
    static const char *const extra[] = {"name", NULL};
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(d->options, d->noptions, v);
    nnl_lua_read_options(L, idx, fn, d->options, d->noptions, v, extra);
    nnl_optim_from_values(k, v, c);
}

/* model:compile{loss=, optimizer=, metrics=} -> model */
static int model_compile(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    nnl_model *m = h->m; /* stays valid: a close by hand now holds it */
    check_not_fitting(L, h, "compile");
    static const char *const valid[] = {"loss", "optimizer", "metrics", NULL};
    if (!lua_istable(L, 2))
        return luaL_error(L, "compile: expected an options table {loss = ..., "
                          "optimizer = ..., metrics = {...}}, got %s", luaL_typename(L, 2));
    lua_settop(L, 2);
    nnl_lua_check_options(L, 2, "compile", valid);
    char lbuf[NNL_OPT_STR_MAX];
    const char *lname;
    int loss;
    /* A Lua function of (y_true, y_pred) is a custom loss (lnn_model_host.c):
     * kept below with the settings; fit and the rest call it. */
    int loss_fn = lua_getfield(L, 2, "loss") == LUA_TFUNCTION;
    lua_pop(L, 1);
    if (loss_fn) {
        lname = "custom";
        loss = NNL_LOSS_CUSTOM;
    } else {
        lname = nnl_lua_opt_str(L, 2, "loss", "compile", NULL, lbuf, sizeof lbuf);
        if (!lname)
            return luaL_error(L, "compile: option 'loss' is required (a name: %s; or a "
                              "function of (y_true, y_pred))", nnl_loss_names());
        loss = nnl_loss_from_name(lname);
        if (loss < 0)
            return luaL_error(L, "compile: unknown loss '%s' (valid: %s; or a function of "
                              "(y_true, y_pred))", lname, nnl_loss_names());
    }
    nnl_optim_config oc;
    if (lua_getfield(L, 2, "optimizer") == LUA_TNIL)
        nnl_optim_defaults(&oc, NNL_OPT_RMSPROP); /* Keras's default */
    else
        nnl_lua_read_optimizer(L, -1, &oc, "compile");
    lua_pop(L, 1);
    /* Copied, as opt_str does: a metrics table with __index may give
     * strings nothing anchors. */
    char mbuf[NNL_MODEL_MAX_METRICS][NNL_OPT_STR_MAX];
    const char *metrics[NNL_MODEL_MAX_METRICS];
    size_t nm = 0;
    lua_newtable(L); /* the metric functions by position (false: built in) */
    int fns = lua_gettop(L);
    if (lua_getfield(L, 2, "metrics") != LUA_TNIL) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            snprintf(mbuf[nm], sizeof mbuf[nm], "%s", lua_tostring(L, -1));
            metrics[nm] = mbuf[nm];
            nm++;
        } else if (lua_istable(L, -1)) {
            lua_Integer n = luaL_len(L, -1);
            if (n > NNL_MODEL_MAX_METRICS)
                return luaL_error(L, "compile: at most %d metrics", NNL_MODEL_MAX_METRICS);
            for (lua_Integer i = 1; i <= n; i++) {
                int t = lua_geti(L, -1, i);
                if (t == LUA_TFUNCTION) { /* named by its place, as metric_2 */
                    snprintf(mbuf[nm], sizeof mbuf[nm], "custom:metric_%d", (int)i);
                    lua_pushvalue(L, -1);
                    lua_rawseti(L, fns, i);
                } else if (t == LUA_TTABLE) { /* {name, function} */
                    lua_geti(L, -1, 1);
                    lua_geti(L, -2, 2);
                    if (lua_type(L, -2) != LUA_TSTRING || !lua_isfunction(L, -1) ||
                        lua_rawlen(L, -2) == 0 || lua_rawlen(L, -2) >= NNL_METRIC_NAME_MAX)
                        return luaL_error(L, "compile: metrics[%d] as a table must be {name, "
                                          "function} with a name of 1 to %d characters",
                                          (int)i, NNL_METRIC_NAME_MAX - 1);
                    snprintf(mbuf[nm], sizeof mbuf[nm], "custom:%s", lua_tostring(L, -2));
                    lua_rawseti(L, fns, i);
                    lua_pop(L, 1);
                } else if (t == LUA_TSTRING) {
                    snprintf(mbuf[nm], sizeof mbuf[nm], "%s", lua_tostring(L, -1));
                    lua_pushboolean(L, 0);
                    lua_rawseti(L, fns, i);
                } else {
                    return luaL_error(L, "compile: metrics[%d] must be a metric name (valid: "
                                      "%s), a function of (y_true, y_pred) or {name, "
                                      "function}", (int)i, nnl_metric_names()); /* i <= 8 */
                }
                metrics[nm] = mbuf[nm];
                nm++;
                lua_pop(L, 1);
            }
        } else {
            return luaL_error(L, "compile: metrics must be a list of names, got %s",
                              luaL_typename(L, -1));
        }
    }
    nnl_error err;
    if (nnl_model_compile(m, loss, metrics, nm, &oc, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "compile", &err);
    lua_pop(L, 1);
    /* Keep the settings as given, for model.loss/optimizer/metrics, and
     * the functions the host calls (lnn_model_host.c). */
    lua_getiuservalue(L, 1, 2);
    lua_pushvalue(L, fns);
    lua_setfield(L, -2, "_metric_fns");
    if (loss_fn)
        lua_getfield(L, 2, "loss");
    else
        lua_pushstring(L, lname);
    lua_setfield(L, -2, "loss");
    lua_getfield(L, 2, "optimizer");
    lua_setfield(L, -2, "optimizer");
    lua_getfield(L, 2, "metrics");
    lua_setfield(L, -2, "metrics");
    lua_settop(L, 1);
    return 1;
}

/* The tensor argument idx of fn; tables of numbers are converted with
 * nn.tensor. Leaves the tensor handle at idx. */
static nnl_tensor *arg_tensor(lua_State *L, int idx, const char *fn, const char *what)
{
    nnl_tensor *t = nnl_lua_totensor(L, idx);
    if (t)
        return t;
    if (lua_istable(L, idx)) {
        lua_getglobal(L, "nn");
        if (lua_istable(L, -1) && lua_getfield(L, -1, "tensor") == LUA_TFUNCTION) {
            lua_pushvalue(L, idx);
            lua_call(L, 1, 1);
            lua_replace(L, idx);
            lua_pop(L, 1);
            return nnl_lua_checktensor(L, idx);
        }
    }
    luaL_error(L, "%s: %s must be an nn.Tensor, got %s", fn, what, luaL_typename(L, idx));
    return NULL;
}


/* model:predict(x [, {batch_size=, upto=}]) -> tensor; upto = i gives the
 * output of layer i instead of the model's (a look inside: feature maps). */
static int model_predict(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m; /* valid for the call (held) */
    lua_settop(L, 3);
    nnl_tensor *x = arg_tensor(L, 2, "predict", "x");
    static const char *const valid[] = {"batch_size", "verbose", "upto", NULL};
    nnl_lua_check_options(L, 3, "predict", valid);
    lua_Integer bs = nnl_lua_opt_int(L, 3, "batch_size", "predict", 32, 1);
    lua_Integer upto = nnl_lua_opt_int(L, 3, "upto", "predict", (lua_Integer)m->nlayers, 1);
    if ((lua_Unsigned)upto > m->nlayers)
        return luaL_error(L, "predict: upto is %I but the model has %I layers", upto,
                          (lua_Integer)m->nlayers);
    lua_State **saved = nnl_lua_layers_enter(L, m); /* pushed below the result */
    nnl_ltensor *out = nnl_lua_newtensor(L);
    nnl_error err;
    x = nnl_lua_checktensor(L, 2); /* after the options' metamethods */
    nnl_tensor *p = nnl_model_predict_upto(m, x, (size_t)bs, (size_t)upto, &err);
    nnl_lua_layers_leave(m, saved);
    if (!p)
        return nnl_lua_raise_in(L, "predict", &err);
    out->t = p;
    return 1;
}

/* Pushes a table {name = value} of logs. */
static void push_logs(lua_State *L, const nnl_logs *logs, size_t first)
{
    lua_createtable(L, 0, (int)logs->n);
    for (size_t i = first; i < logs->n; i++) {
        lua_pushnumber(L, logs->values[i]);
        lua_setfield(L, -2, logs->names[i]);
    }
}

/* model:evaluate(x, y [, {batch_size=}]) -> loss, {metric = value} */
static int model_evaluate(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m; /* valid for the call (held) */
    lua_settop(L, 4);
    nnl_tensor *x = arg_tensor(L, 2, "evaluate", "x");
    nnl_tensor *y = arg_tensor(L, 3, "evaluate", "y");
    static const char *const valid[] = {"batch_size", "verbose", NULL};
    nnl_lua_check_options(L, 4, "evaluate", valid);
    lua_Integer bs = nnl_lua_opt_int(L, 4, "batch_size", "evaluate", 32, 1);
    nnl_logs logs;
    nnl_error err;
    x = nnl_lua_checktensor(L, 2); /* after the options' metamethods */
    y = nnl_lua_checktensor(L, 3);
    nnl_lhost hc;
    nnl_lua_host_begin(L, 1, &hc);
    nnl_status st = nnl_model_evaluate(m, x, y, (size_t)bs, &logs, &err);
    nnl_lua_host_end(m, &hc);
    if (st != NNL_OK)
        return nnl_lua_raise_in(L, "evaluate", &err);
    lua_pushnumber(L, logs.values[0]);
    push_logs(L, &logs, 1);
    return 2;
}

/* model:train_on_batch(x, y) / model:test_on_batch(x, y) -> loss, {metric = value} */
static int on_batch(lua_State *L, int train, const char *fn)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    if (train)
        check_not_fitting(L, h, fn);
    nnl_tensor *x = arg_tensor(L, 2, fn, "x");
    nnl_tensor *y = arg_tensor(L, 3, fn, "y");
    nnl_logs logs;
    nnl_error err;
    nnl_model *m = h->m;
    nnl_lhost hc;
    nnl_lua_host_begin(L, 1, &hc);
    nnl_status st = nnl_model_on_batch(m, x, y, train, &logs, &err);
    nnl_lua_host_end(m, &hc);
    if (st != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    lua_pushnumber(L, logs.values[0]);
    push_logs(L, &logs, 1);
    return 2;
}

static int model_train_on_batch(lua_State *L) { return on_batch(L, 1, "train_on_batch"); }
static int model_test_on_batch(lua_State *L) { return on_batch(L, 0, "test_on_batch"); }

/* model:summary() prints the table and returns it as a string. */
/* model:summary([{print = true}]): prints the layer table, as Keras does,
 * and returns nothing, so that the REPL does not show it twice; with
 * print = false it returns the text instead of printing it. */
static int model_summary(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m; /* valid for the call (held) */
    int print = 1;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "print") != 0)
                return luaL_error(L, "summary: unknown option '%s' (valid: print)",
                                  luaL_tolstring(L, -1, NULL));
        }
        lua_getfield(L, 2, "print");
        print = lua_isnil(L, -1) || lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    m = nnl_lua_checkmodel(L, 1)->m; /* a metamethod above may have run */
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, 2);
    lua_getfield(L, -1, "name");
    const char *name = lua_tostring(L, -1); /* a script may set name to anything */
    if (!name)
        name = "sequential";
    size_t need = nnl_model_summary(m, name, NULL, 0);
    luaL_Buffer b;
    char *buf = luaL_buffinitsize(L, &b, need + 1);
    nnl_model_summary(m, name, buf, need + 1);
    luaL_pushresultsize(&b, need);
    if (!print)
        return 1;
    fwrite(lua_tostring(L, -1), 1, need, stdout);
    fflush(stdout);
    return 0;
}

/* model:get_weights() -> every layer's weights in order, one list. */
static int model_get_weights(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    lua_newtable(L);
    int k = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; m->layers[i]->built && p < m->layers[i]->nparams; p++) {
            nnl_lua_push_param(L, &m->layers[i]->params[p]);
            lua_rawseti(L, -2, ++k);
        }
    return 1;
}

/* model:set_weights(list): the same number and shapes as get_weights. */
static int model_set_weights(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!m->built)
        return luaL_error(L, "set_weights: the model is not built yet (give input_dim "
                          "to the first layer, or fit/predict first)");
    lua_Integer n = luaL_len(L, 2);
    int total = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        total += m->layers[i]->nparams;
    if (n != total)
        return luaL_error(L, "set_weights: the model has %d weight arrays, got %I",
                          total, n);
    /* Check every shape before changing anything. */
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        for (size_t i = 0; i < m->nlayers; i++)
            for (int p = 0; p < m->layers[i]->nparams; p++) {
                nnl_param *pr = &m->layers[i]->params[p];
                lua_geti(L, 2, ++k);
                if (pass == 0) {
                    nnl_tensor *t = nnl_lua_totensor(L, -1);
                    int ok = t && (size_t)t->numel == pr->n && t->ndim == pr->shape.ndim;
                    for (int d = 0; ok && d < t->ndim; d++)
                        ok = t->shape[d] == pr->shape.d[d];
                    if (!ok)
                        nnl_lua_set_param(L, -1, m->layers[i], pr, "set_weights"); /* raises */
                } else {
                    nnl_lua_set_param(L, -1, m->layers[i], pr, "set_weights");
                }
                lua_pop(L, 1);
            }
    }
    return 0;
}

static int model_count_params(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    lua_pushinteger(L, (lua_Integer)nnl_model_count_params(m, 0));
    return 1;
}

/* model:get_learning_rate() / model:set_learning_rate(lr): the compiled
 * optimizer's rate (LearningRateScheduler uses these). */
static int model_get_lr(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    if (!m->opt)
        return luaL_error(L, "get_learning_rate: compile the model first");
    lua_pushnumber(L, m->opt->cfg.lr);
    return 1;
}

static int model_set_lr(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    double lr = luaL_checknumber(L, 2);
    if (!m->opt)
        return luaL_error(L, "set_learning_rate: compile the model first");
    if (!(lr > 0.0) || !isfinite(lr))
        return luaL_error(L, "set_learning_rate: the rate must be > 0, got %s", luaL_tolstring(L, 2, NULL));
    m->opt->cfg.lr = lr;
    return 0;
}

static int model_tostring(lua_State *L)
{
    nnl_lmodel *h = luaL_checkudata(L, 1, NNL_MODEL_MT);
    if (!h->m) {
        lua_pushliteral(L, "nn.Sequential (closed)");
        return 1;
    }
    lua_getiuservalue(L, 1, 2);
    lua_getfield(L, -1, "name");
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    lua_Integer np = (lua_Integer)nnl_model_count_params(h->m, 0);
    lua_pushfstring(L, "nn.Sequential '%s' (%I %s, %I %s%s)", name, (lua_Integer)h->m->nlayers,
                    h->m->nlayers == 1 ? "layer" : "layers", np, np == 1 ? "param" : "params",
                    h->m->compiled ? ", compiled" : "");
    return 1;
}

/* model.layers, .stop_training, .built, .compiled, .input_shape,
 * .output_shape, then methods, then fields stored by compile or scripts. */
static int model_index(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "layers") == 0) {
        lua_getiuservalue(L, 1, 1);
        return 1;
    }
    if (k && strcmp(k, "stop_training") == 0) {
        lua_pushboolean(L, h->m->stop_training);
        return 1;
    }
    if (k && strcmp(k, "built") == 0) {
        lua_pushboolean(L, h->m->built);
        return 1;
    }
    if (k && strcmp(k, "compiled") == 0) {
        lua_pushboolean(L, h->m->compiled);
        return 1;
    }
    if (k && strcmp(k, "optimizer") == 0 && h->m->compiled && h->m->opt) {
        nnl_lua_push_optimizer_view(L, 1);
        return 1;
    }
    if (k && strcmp(k, "input_shape") == 0 && h->m->built) {
        nnl_lua_push_shape(L, &h->m->in_shape);
        return 1;
    }
    if (k && strcmp(k, "output_shape") == 0 && h->m->built) {
        nnl_lua_push_shape(L, nnl_model_out_shape(h->m));
        return 1;
    }
    luaL_getmetatable(L, NNL_MODEL_MT);
    lua_getfield(L, -1, "__methods");
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL)
        return 1;
    lua_getiuservalue(L, 1, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int model_newindex(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "stop_training") == 0) {
        h->m->stop_training = lua_toboolean(L, 3);
        return 0;
    }
    if (k && strcmp(k, "optimizer") == 0 && h->m->compiled)
        return luaL_error(L, "model.optimizer is read-only: compile again to change "
                          "the optimizer, or set model.optimizer.learning_rate");
    if (k && (strcmp(k, "layers") == 0 || strcmp(k, "built") == 0 ||
              strcmp(k, "compiled") == 0))
        return luaL_error(L, "model.%s is read-only", k);
    lua_getiuservalue(L, 1, 2);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);
    return 0;
}

static const luaL_Reg model_methods[] = {
    {"add", model_add},
    {"compile", model_compile},
    {"fit", nnl_lua_model_fit},
    {"evaluate", model_evaluate},
    {"train_on_batch", model_train_on_batch},
    {"test_on_batch", model_test_on_batch},
    {"predict", model_predict},
    {"summary", model_summary},
    {"get_weights", model_get_weights},
    {"set_weights", model_set_weights},
    {"count_params", model_count_params},
    {"get_learning_rate", model_get_lr},
    {"set_learning_rate", model_set_lr},
    {NULL, NULL},
};

static const luaL_Reg nn_funcs[] = {
    {"Sequential", l_sequential},
    {NULL, NULL},
};

/* nn.get_weights and the like: the layer method for a layer, else the
 * model method (upvalues 1 and 2: C functions without upvalues, called
 * directly so that their errors name nn.get_weights). */
static int model_or_layer(lua_State *L)
{
    int up = luaL_testudata(L, 1, NNL_LAYER_MT) ? 2 : 1;
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(up));
    return f(L);
}

void nnl_open_model(lua_State *L)
{
    nnl_open_layers(L);
    luaL_newmetatable(L, NNL_MODEL_MT);
    lua_pushcfunction(L, model_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, model_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, model_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, model_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, model_methods);
    lua_setfield(L, -2, "__methods");
    nnl_lua_protect_metatable(L, -1);
    lua_pop(L, 1);

    luaL_setfuncs(L, nn_funcs, 0);
    /* nn.Model: the methods table, so lua/ files and other parts can add
     * methods (model:save, ...). */
    luaL_getmetatable(L, NNL_MODEL_MT);
    lua_getfield(L, -1, "__methods");
    lua_setfield(L, -3, "Model");
    lua_pop(L, 1);
    /* The functional forms: nn.compile(model, ...) is model:compile(...);
     * the ones layers also have take a layer too (nn.get_weights(layer)). */
    for (const luaL_Reg *r = model_methods; r->name; r++) {
        lua_CFunction lf = NULL;
        for (const luaL_Reg *q = nnl_layer_methods; q->name; q++)
            if (strcmp(q->name, r->name) == 0)
                lf = q->func;
        if (lf) {
            lua_pushcfunction(L, r->func);
            lua_pushcfunction(L, lf);
            lua_pushcclosure(L, model_or_layer, 2);
        } else {
            lua_pushcfunction(L, r->func);
        }
        lua_setfield(L, -2, r->name);
    }
    nnl_open_model_tape(L);
    nnl_open_optim_step(L);
    nnl_open_lualayer(L);
}
