/* Shared parts of the model bindings (lnn_layer.c: layers; lnn_model.c:
 * Sequential, compile/evaluate/predict/weights; lnn_model_fit.c: fit,
 * progress and Lua callbacks). */
#ifndef NNL_LNN_MODEL_H
#define NNL_LNN_MODEL_H

#include <lua.h>
#include <lauxlib.h>
#include "model/model.h"
#include "bind/lnn_options.h"

#define NNL_MODEL_MT "nn.Model"
#define NNL_LAYER_MT "nn.Layer"

/* nn.Model payload. Uservalue 1: the list of nn.Layer handles
 * (model.layers); uservalue 2: a table of other fields (the compile
 * settings as given, fields set by scripts). */
typedef struct nnl_lmodel {
    nnl_model *m;                 /* owned; NULL after __gc */
    nnl_model *held;              /* owned: freed by __gc by hand while C
                                     code may still use it (nnl_lua_in_use);
                                     released when the handle is collected */
    int in_fit;                   /* fit is running: no add/compile/fit */
} nnl_lmodel;

/* nn.Layer payload. Uservalue 1: the model that owns the layer, if any. */
typedef struct nnl_llayer {
    nnl_layer *l;                 /* owned unless `owned` (then the model's) */
    int owned;                    /* 1: a model's; 2: a loader's, in nn.load */
} nnl_llayer;

/* The open model at idx, or a Lua argument error ("model is closed"). */
nnl_lmodel *nnl_lua_checkmodel(lua_State *L, int idx);

/* Layers (lnn_layer.c). */
/* The open layer at idx, or an argument error: also when the model that
 * owns it was freed ("layer 'dense' is closed: its model was freed"). */
nnl_llayer *nnl_lua_checklayer(lua_State *L, int idx);
/* As nnl_lua_checklayer, NULL instead of an error. */
nnl_llayer *nnl_lua_tolayer(lua_State *L, int idx);
/* Pushes a new empty layer handle (the C layer is stored after). */
nnl_llayer *nnl_lua_newlayer(lua_State *L);
/* Keras's default names: base, base_1, base_2, ... per base, counted in a
 * registry table of this Lua state. */
void nnl_lua_default_name(lua_State *L, char *buf, size_t size, const char *base);
/* Pushes a copy of parameter p as a tensor. */
void nnl_lua_push_param(lua_State *L, const nnl_param *p);
/* Copies the tensor at idx into parameter p of l after checking its shape
 * (an error naming fn, the layer and both shapes). */
void nnl_lua_set_param(lua_State *L, int idx, const nnl_layer *l, nnl_param *p,
                       const char *fn);
/* Pushes a per-sample shape as a list. */
void nnl_lua_push_shape(lua_State *L, const nnl_shape *s);
/* The layer methods (get_weights, set_weights, count_params). */
extern const luaL_Reg nnl_layer_methods[];
/* Creates the nn.Layer metatable and the constructor of every layer kind
 * in the nn table at the top of the stack. */
void nnl_open_layers(lua_State *L);
/* Pushes parameter p's weights as a tensor sharing the layer's storage
 * and, for a trainable one, its tape leaf (so .grad is the layer's). */
void nnl_lua_push_weight(lua_State *L, const nnl_param *p);
/* The calls l(x [, {training = bool}]) and model(x [, ...]) (model_tape.h):
 * arguments from stack index 2 on; fn names the call in errors. */
int nnl_lua_read_training(lua_State *L, int idx, const char *fn);
/* Reads an optimizer (a name or an nn.optimizers object) at idx into c;
 * errors start with fn. */
void nnl_lua_read_optimizer(lua_State *L, int idx, nnl_optim_config *c, const char *fn);
/* Pushes the table of layer kinds for nn.registry.layers. */
void nnl_lua_push_layer_kinds(lua_State *L);

/* Pushes model.optimizer, a live view of the compiled model's optimizer
 * (lnn_model_optim.c); the model (compiled) is at index model. */
void nnl_lua_push_optimizer_view(lua_State *L, int model);

/* model(x), layer(x), trainable_weights, zero_grad (lnn_model_tape.c):
 * adds them to the model and layer metatables. */
void nnl_open_model_tape(lua_State *L);

/* nn._optim_step / _optim_zero_grad / _optim_iterations (lnn_model_optim.c)
 * into the nn table at the top of the stack: opt:step of nn.optimizers. */
void nnl_open_optim_step(lua_State *L);

/* Custom losses and metrics (lnn_model_host.c): between begin and end,
 * the model at stack index model computes them by calling its Lua
 * functions on this thread. Pairs nest (a callback's evaluate inside fit);
 * end restores what begin found. Call end before raising an error. */
typedef struct nnl_lhost {
    lua_State *L;
    int model;                    /* absolute stack index of the model */
    nnl_model_host_fn prev_fn;
    void *prev_ctx;
    lua_State **saved;            /* the layers' threads before (enter) */
} nnl_lhost;
void nnl_lua_host_begin(lua_State *L, int model, nnl_lhost *hc);
void nnl_lua_host_end(nnl_model *m, nnl_lhost *hc);

/* Layers written in Lua (lnn_lualayer.c): nn.Layer into the nn table at
 * the top of the stack; the fields of such a layer (self.factor, class
 * functions, add_weight) for layer_index (pushes, returns 1; 0: none) and
 * its __newindex (returns 1 when l is one); and the thread that runs the
 * model's Lua layers, set by each binding call that may run them. */
void nnl_open_lualayer(lua_State *L);
int nnl_lua_layer_field(lua_State *L, int idx, const char *k);
int nnl_lua_layer_setfield(lua_State *L, int idx, const char *k, int v);
/* Sets every layer's thread to L for a binding call, pushing (a userdata)
 * and returning what they had; leave puts it back (scoped, so a thread
 * that ends is never kept). */
lua_State **nnl_lua_layers_enter(lua_State *L, nnl_model *m);
void nnl_lua_layers_leave(nnl_model *m, lua_State **saved);
/* nn.load's maker of Lua layers (model/modelfile.h nnl_layer_resolver):
 * ctx is an nnl_lua_resolver_ctx; the class comes from the table at objs,
 * and the handle it makes is kept in the table at made, by C layer. */
typedef struct nnl_lua_resolver_ctx {
    lua_State *L;
    int objs, made;
} nnl_lua_resolver_ctx;
struct cJSON;
nnl_status nnl_lua_resolve_layer(void *ctx, const char *cls, const struct cJSON *config,
                                 nnl_layer **out, nnl_error *err);

/* model:fit (lnn_model_fit.c). */
int nnl_lua_model_fit(lua_State *L);

#endif
