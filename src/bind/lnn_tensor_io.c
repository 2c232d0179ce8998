/* nn.Tensor: creation helpers and safetensors files of tensors. */
#include "bind/lnn.h"
#include "bind/lnn_tensor.h"

void nnl_tensor_open_io(lua_State *L, int nn, int methods, int mt)
{
    (void)L; (void)nn; (void)methods; (void)mt;
}
