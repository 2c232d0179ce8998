/* nn.Tensor: element-wise math, broadcasting arithmetic and comparisons (tensor/tensor_ew.h). */
#include "bind/lnn.h"
#include "bind/lnn_tensor.h"

void nnl_tensor_open_math(lua_State *L, int nn, int methods, int mt)
{
    (void)L; (void)nn; (void)methods; (void)mt;
}
