/* nn.registry: the C tables of named things, as Lua tables, for the parts
 * written in Lua (nn.optimizers' constructors, help, plots) and for
 * scripts: layers (each kind with its options), optimizers (each with its
 * options and Keras's defaults), activations, initializers, losses and
 * metrics. Built from the tables in src/model, never copied by hand. */
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "bind/lnn_options.h"
#include "model/activation.h"
#include "model/init.h"
#include "model/loss.h"
#include "model/metrics.h"
#include "model/optim.h"

/* {name = {name =, help =, ...}} entries for a list of names. */
static void push_optimizers(lua_State *L)
{
    lua_newtable(L);
    for (int k = 0; k < NNL_OPT_COUNT; k++) {
        const nnl_optim_desc *d = nnl_optim_desc_of(k);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, d->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, d->class_name);
        lua_setfield(L, -2, "class");
        lua_pushstring(L, d->help);
        lua_setfield(L, -2, "help");
        nnl_lua_push_option_list(L, d->options, d->noptions, 0);
        lua_setfield(L, -2, "options");
        lua_setfield(L, -2, d->class_name);
    }
}

static void push_activations(lua_State *L)
{
    size_t n;
    const nnl_activation *a = nnl_activations(&n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 5);
        lua_pushstring(L, a[i].name);
        lua_setfield(L, -2, "name");
        if (a[i].alias) {
            lua_pushstring(L, a[i].alias);
            lua_setfield(L, -2, "alias");
        }
        lua_pushstring(L, a[i].formula);
        lua_setfield(L, -2, "formula");
        if (a[i].param_name) {
            lua_pushstring(L, a[i].param_name);
            lua_setfield(L, -2, "param");
            lua_pushnumber(L, a[i].param);
            lua_setfield(L, -2, "default");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static void push_initializers(lua_State *L)
{
    lua_createtable(L, NNL_INIT_COUNT, 0);
    for (int i = 0; i < NNL_INIT_COUNT; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, nnl_init_name(i));
        lua_setfield(L, -2, "name");
        lua_pushstring(L, nnl_init_help(i));
        lua_setfield(L, -2, "help");
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_losses(lua_State *L)
{
    lua_createtable(L, NNL_LOSS_COUNT, 0);
    for (int i = 0; i < NNL_LOSS_COUNT; i++) {
        const nnl_loss_desc *d = nnl_loss_desc_of(i);
        lua_createtable(L, 0, 3);
        lua_pushstring(L, d->name);
        lua_setfield(L, -2, "name");
        if (d->alias) {
            lua_pushstring(L, d->alias);
            lua_setfield(L, -2, "alias");
        }
        lua_pushstring(L, d->help);
        lua_setfield(L, -2, "help");
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_metrics(lua_State *L)
{
    lua_newtable(L);
    int k = 0;
    for (const nnl_metric_desc *d = nnl_metric_descs(); d->name; d++) {
        if (!d->help)
            continue; /* an alias */
        lua_createtable(L, 0, 2);
        lua_pushstring(L, d->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, d->help);
        lua_setfield(L, -2, "help");
        lua_rawseti(L, -2, ++k);
    }
}

void nnl_open_registry(lua_State *L)
{
    lua_createtable(L, 0, 6);
    nnl_lua_push_layer_kinds(L);
    lua_setfield(L, -2, "layers");
    push_optimizers(L);
    lua_setfield(L, -2, "optimizers");
    push_activations(L);
    lua_setfield(L, -2, "activations");
    push_initializers(L);
    lua_setfield(L, -2, "initializers");
    push_losses(L);
    lua_setfield(L, -2, "losses");
    push_metrics(L);
    lua_setfield(L, -2, "metrics");
    lua_setfield(L, -2, "registry");
}
