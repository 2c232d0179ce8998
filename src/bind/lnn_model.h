/* Shared parts of the model bindings (lnn_model.c: layers, Sequential,
 * compile/evaluate/predict/weights; lnn_model_fit.c: fit, progress and
 * Lua callbacks). Not used by other binding files. */
#ifndef NNL_LNN_MODEL_H
#define NNL_LNN_MODEL_H

#include <lua.h>
#include <lauxlib.h>
#include "model/model.h"

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
    int owned;
} nnl_llayer;

/* The open model at idx, or a Lua argument error ("model is closed"). */
nnl_lmodel *nnl_lua_checkmodel(lua_State *L, int idx);
/* The open layer at idx, or an argument error: also when the model that
 * owns it was freed ("layer 'dense' is closed: its model was freed"). */
nnl_llayer *nnl_lua_checklayer(lua_State *L, int idx);
/* As nnl_lua_checklayer, NULL instead of an error. */
nnl_llayer *nnl_lua_tolayer(lua_State *L, int idx);
/* Raises "fn: unknown option 'k' (valid: ...)" for a key of the table at
 * idx that is not in valid (NULL-terminated); non-string keys too. */
void nnl_lua_check_options(lua_State *L, int idx, const char *fn,
                           const char *const *valid);
/* Option readers for the table at idx (which may be nil/none): the default
 * when the field is nil, an error naming fn and the option otherwise. */
lua_Integer nnl_lua_opt_int(lua_State *L, int idx, const char *key, const char *fn,
                            lua_Integer def, lua_Integer min);
double nnl_lua_opt_num(lua_State *L, int idx, const char *key, const char *fn, double def);
int nnl_lua_opt_bool(lua_State *L, int idx, const char *key, const char *fn, int def);

/* Pushes model.optimizer, a live view of the compiled model's optimizer
 * (lnn_model_optim.c); the model (compiled) is at index model. */
void nnl_lua_push_optimizer_view(lua_State *L, int model);

/* model:fit (lnn_model_fit.c). */
int nnl_lua_model_fit(lua_State *L);

#endif
