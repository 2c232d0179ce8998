/* model(x), layer(x), model:trainable_weights(), model:zero_grad() and
 * layer.<weight name>: the model and its layers on the autograd tape
 * (model/model_tape.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "model/loss.h"
#include "model/loss_tape.h"
#include "model/model_tape.h"
#include "tensor/autograd.h"

void nnl_lua_push_weight(lua_State *L, const nnl_param *p)
{
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(h->t = nnl_tensor_view(p->wt, &err)))
        nnl_lua_raise(L, &err);
    h->t->node = p->wt->node;
    nnl_agnode_retain(h->t->node);
}

int nnl_lua_read_training(lua_State *L, int idx, const char *fn)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx))
        return luaL_error(L, "%s: options must be a table ({training = true}), got %s", fn,
                          luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "training"))
            return luaL_error(L, "%s: unknown option '%s' (valid: training)", fn,
                              luaL_tolstring(L, -1, NULL));
    }
    lua_getfield(L, idx, "training");
    int t = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return t;
}

/* model(x [, {training = bool}]) */
static int model_call(lua_State *L)
{
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    nnl_tensor *x = nnl_lua_checktensor(L, 2);
    int train = nnl_lua_read_training(L, 3, "model(x)");
    if (h->in_fit && train)
        return luaL_error(L, "model(x): fit is running; a training call would change the "
                          "state of its step");
    nnl_model *m = h->m;
    lua_State **saved = nnl_lua_layers_enter(L, m); /* pushed below the result */
    nnl_ltensor *out = nnl_lua_newtensor(L);
    nnl_error err;
    /* A Lua layer's call must not change the model under this loop. */
    int in_fit = h->in_fit;
    h->in_fit = 1;
    out->t = nnl_model_call(m, x, train, &err);
    h->in_fit = in_fit;
    nnl_lua_layers_leave(m, saved);
    if (!out->t)
        return nnl_lua_raise_in(L, "model(x)", &err);
    return 1;
}

/* layer(x [, {training = bool}]) */
static int layer_call(lua_State *L)
{
    nnl_llayer *h = nnl_lua_checklayer(L, 1);
    nnl_tensor *x = nnl_lua_checktensor(L, 2);
    int train = nnl_lua_read_training(L, 3, "layer(x)");
    nnl_ltensor *out = nnl_lua_newtensor(L);
    nnl_error err;
    void *was = h->l->lua;
    h->l->lua = L;
    out->t = nnl_layer_call(h->l, x, train, &err);
    h->l->lua = was;
    if (!out->t)
        return nnl_lua_raise_in(L, "layer(x)", &err);
    return 1;
}

/* model:trainable_weights() -> {w, ...} (layer order, Keras's weight
 * order within a layer) */
static int model_trainable_weights(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    lua_newtable(L);
    lua_Integer k = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            if (m->layers[i]->params[p].trainable) {
                nnl_lua_push_weight(L, &m->layers[i]->params[p]);
                lua_rawseti(L, -2, ++k);
            }
    return 1;
}

/* model:zero_grad(): every weight's .grad cleared (nil) */
static int model_zero_grad(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    nnl_error err;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            nnl_param *pr = &m->layers[i]->params[p];
            if (pr->trainable && pr->wt && pr->wt->node &&
                nnl_ag_set_grad(pr->wt, NULL, &err) != NNL_OK)
                return nnl_lua_raise_in(L, "zero_grad", &err);
        }
    lua_settop(L, 1);
    return 1;
}

/* model:gradient_norms() -> {{name = layer name, norm = n}, ...}: for
 * every layer with trainable weights, the 2-norm of all their gradients
 * of the last training step of fit or train_on_batch (what the optimizer
 * applied), for nn.callbacks.GradientLogger. */
static int model_gradient_norms(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    lua_newtable(L);
    lua_Integer k = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        const nnl_layer *l = m->layers[i];
        double s = 0;
        int any = 0;
        for (int p = 0; p < l->nparams; p++) {
            const nnl_param *pr = &l->params[p];
            if (!pr->trainable || !pr->g)
                continue;
            any = 1;
            for (size_t j = 0; j < pr->n; j++)
                s += (double)pr->g[j] * pr->g[j];
        }
        if (!any)
            continue;
        lua_createtable(L, 0, 2);
        lua_pushstring(L, l->name);
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, sqrt(s));
        lua_setfield(L, -2, "norm");
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

/* layer:trainable_weights() */
static int layer_trainable_weights(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    lua_newtable(L);
    lua_Integer k = 0;
    for (int p = 0; p < l->nparams; p++)
        if (l->params[p].trainable) {
            nnl_lua_push_weight(L, &l->params[p]);
            lua_rawseti(L, -2, ++k);
        }
    return 1;
}

/* nn.losses.<name>(y_true, y_pred) -> a one-element tensor (upvalue 1:
 * the loss id) */
static int loss_call(lua_State *L)
{
    int loss = (int)lua_tointeger(L, lua_upvalueindex(1));
    nnl_tensor *yt = nnl_lua_checktensor(L, 1), *yp = nnl_lua_checktensor(L, 2);
    nnl_ltensor *out = nnl_lua_newtensor(L);
    nnl_error err;
    if (!(out->t = nnl_loss_call(loss, yt, yp, &err))) {
        char fn[64];
        snprintf(fn, sizeof fn, "nn.losses.%s", nnl_loss_name(loss));
        return nnl_lua_raise_in(L, fn, &err);
    }
    return 1;
}

void nnl_open_model_tape(lua_State *L)
{
    /* nn.losses: every loss of the table in loss.c, by name and alias. */
    lua_newtable(L);
    for (int k = 0; k < NNL_LOSS_COUNT; k++) {
        const nnl_loss_desc *d = nnl_loss_desc_of(k);
        lua_pushinteger(L, k);
        lua_pushcclosure(L, loss_call, 1);
        if (d->alias) {
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, d->alias);
        }
        lua_setfield(L, -2, d->name);
    }
    lua_setfield(L, -2, "losses");

    luaL_getmetatable(L, NNL_MODEL_MT);
    lua_pushcfunction(L, model_call);
    lua_setfield(L, -2, "__call");
    lua_getfield(L, -1, "__methods");
    lua_pushcfunction(L, model_trainable_weights);
    lua_setfield(L, -2, "trainable_weights");
    lua_pushcfunction(L, model_zero_grad);
    lua_setfield(L, -2, "zero_grad");
    lua_pushcfunction(L, model_gradient_norms);
    lua_setfield(L, -2, "gradient_norms");
    lua_pop(L, 2);
    luaL_getmetatable(L, NNL_LAYER_MT);
    lua_pushcfunction(L, layer_call);
    lua_setfield(L, -2, "__call");
    lua_getfield(L, -1, "__methods");
    lua_pushcfunction(L, layer_trainable_weights);
    lua_setfield(L, -2, "trainable_weights");
    lua_pop(L, 2);
}
