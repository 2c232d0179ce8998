/* Internal interface between the nn.Tensor binding files. */
#ifndef NNL_LNN_TENSOR_H
#define NNL_LNN_TENSOR_H
#include <stddef.h>
#include <lua.h>

/* Reads a shape given either as integer arguments from stack index first
 * on, or as one table at first; fills shape and returns the number of
 * dimensions. Raises a Lua error naming fn on anything else. */
int nnl_lua_shape_args(lua_State *L, int first, const char *fn, size_t *shape);

/* __tostring of nn.Tensor: numpy-like text, elided when large. */
int nnl_tensor_tostring(lua_State *L);

#endif
