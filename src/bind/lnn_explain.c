/* What nn.explain (lua/50_explain.lua) reads from inside a model that the
 * public surface does not show: each layer's weights with their names,
 * the gradients the last training step applied, and the optimizer's state
 * (Adam's m and v, ...). All are copies or weight views, read only: the
 * explanations never change a model except through train_on_batch. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"

/* Pushes a new tensor of shape s holding a copy of the n floats at src. */
static void push_copy(lua_State *L, const nnl_shape *s, const float *src, size_t n)
{
    nnl_ltensor *h = nnl_lua_newtensor(L);
    size_t shape[NNL_MAX_DIMS];
    for (int i = 0; i < s->ndim; i++)
        shape[i] = s->d[i];
    nnl_error err;
    nnl_tensor *c = nnl_tensor_new(s->ndim, shape, &err);
    if (!c)
        nnl_lua_raise(L, &err);
    memcpy(c->data, src, n * sizeof(float));
    h->t = c;
}

/* nn._explain_params(layer) -> {{name =, trainable =, regularized =,
 * weight = tensor sharing the layer's storage (its tape leaf)}, ...} in
 * the layer's weight order; empty before the layer is built. */
static int l_explain_params(lua_State *L)
{
    nnl_layer *l = nnl_lua_checklayer(L, 1)->l;
    lua_createtable(L, l->nparams, 0);
    for (int p = 0; l->built && p < l->nparams; p++) {
        const nnl_param *pr = &l->params[p];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, pr->name);
        lua_setfield(L, -2, "name");
        lua_pushboolean(L, pr->trainable);
        lua_setfield(L, -2, "trainable");
        lua_pushboolean(L, pr->regularized);
        lua_setfield(L, -2, "regularized");
        nnl_lua_push_weight(L, pr);
        lua_setfield(L, -2, "weight");
        lua_rawseti(L, -2, p + 1);
    }
    return 1;
}

/* nn._explain_grads(model) -> {g, ...}: for every trainable weight (the
 * order of model:trainable_weights()), a copy of the gradient the last
 * train_on_batch or fit step computed (regularizers included), what the
 * optimizer applied; false for a weight without one. */
static int l_explain_grads(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    lua_newtable(L);
    lua_Integer k = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            const nnl_param *pr = &m->layers[i]->params[p];
            if (!pr->trainable)
                continue;
            if (pr->g)
                push_copy(L, &pr->shape, pr->g, pr->n);
            else
                lua_pushboolean(L, 0);
            lua_rawseti(L, -2, ++k);
        }
    return 1;
}

/* nn._explain_optim_state(model) -> {iterations = t, slots = {{m =, v =,
 * a =}, ...}} with copies shaped as the weights (a field is absent when
 * the rule keeps no such state; slots is empty before the first step);
 * nil when the model is not compiled. */
static int l_explain_optim_state(lua_State *L)
{
    nnl_model *m = nnl_lua_checkmodel(L, 1)->m;
    if (!m->compiled || !m->opt) {
        lua_pushnil(L);
        return 1;
    }
    const nnl_optim *o = m->opt;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)o->iterations);
    lua_setfield(L, -2, "iterations");
    lua_newtable(L);
    size_t slot = 0;
    for (size_t i = 0; i < m->nlayers && o->nslots > 0; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            const nnl_param *pr = &m->layers[i]->params[p];
            if (!pr->trainable)
                continue;
            if (slot >= o->nslots || o->slots[slot].n != pr->n)
                return luaL_error(L, "nn.explain: the optimizer's state does not match "
                                  "the model's weights");
            const nnl_optim_slot *s = &o->slots[slot];
            lua_createtable(L, 0, 3);
            const struct { const char *k; const float *f; } parts[] = {
                {"m", s->m}, {"v", s->v}, {"a", s->a}};
            for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++)
                if (parts[j].f) {
                    push_copy(L, &pr->shape, parts[j].f, pr->n);
                    lua_setfield(L, -2, parts[j].k);
                }
            lua_rawseti(L, -2, (lua_Integer)++slot);
        }
    lua_setfield(L, -2, "slots");
    return 1;
}

void nnl_open_explain(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"_explain_params", l_explain_params},
        {"_explain_grads", l_explain_grads},
        {"_explain_optim_state", l_explain_optim_state},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
