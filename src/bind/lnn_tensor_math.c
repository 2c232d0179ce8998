/* nn.Tensor: element-wise math over tensor/ag_ew.h (so results record on
 * the autograd tape): the arithmetic metamethods + - * / ^ and unary -,
 * the in-place add_ sub_ mul_ div_, unary math (exp ... relu, and their
 * in-place forms exp_ ...), pow, clamp, act, the comparisons gt ... ne,
 * maximum/minimum, masked_fill and nn.where.
 *
 * Every operand is a number or an nn.Tensor broadcast by numpy's rules.
 * A result goes into a handle made before the C call (nnl_lua_newtensor),
 * so an error at any point leaks nothing. The C core's messages start
 * with the op's name ("add: shapes [2x3] and [4] do not broadcast"),
 * which is the name of the method or of the operator's op. */
#include <math.h>
#include <string.h>

#include "bind/lnn.h"
#include "bind/lnn_tensor.h"
#include "model/activation.h"
#include "tensor/ag_ew.h"

/* The result of a C call into the handle h at the top of the stack, or
 * err raised. */
static int give(lua_State *L, nnl_ltensor *h, nnl_tensor *t, const nnl_error *err)
{
    if (!t)
        return nnl_lua_raise(L, err);
    h->t = t;
    return 1;
}

/* An operand at idx: a tensor (*t), or a number (*s, *t = NULL). A closed
 * tensor is reported as closed; anything else is an error naming fn. */
static void check_operand(lua_State *L, int idx, const char *fn, nnl_tensor **t, float *s)
{
    *t = NULL;
    *s = 0;
    if (luaL_testudata(L, idx, NNL_TENSOR_MT)) {
        *t = nnl_lua_checktensor(L, idx);
        return;
    }
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "%s: expected a number or nn.Tensor, got %s", fn, luaL_typename(L, idx));
    *s = (float)lua_tonumber(L, idx);
}

/* ---- operators -------------------------------------------------------- */

/* a op b for a metamethod: either side may be a number. */
static int arith(lua_State *L, nnl_binop op)
{
    const char *fn = nnl_binop_name(op);
    nnl_tensor *a = luaL_testudata(L, 1, NNL_TENSOR_MT) ? nnl_lua_checktensor(L, 1) : NULL;
    nnl_tensor *b = luaL_testudata(L, 2, NNL_TENSOR_MT) ? nnl_lua_checktensor(L, 2) : NULL;
    nnl_error err;
    if (a && b) {
        nnl_ltensor *h = nnl_lua_newtensor(L);
        return give(L, h, nnl_ag_binop(op, a, b, &err), &err);
    }
    nnl_tensor *t = a ? a : b;
    int spos = a ? 2 : 1;
    if (!t)
        return luaL_error(L, "%s: nn.Tensor expected", fn);
    if (lua_type(L, spos) != LUA_TNUMBER)
        return luaL_error(L, "%s: cannot combine nn.Tensor with %s", fn, luaL_typename(L, spos));
    float s = (float)lua_tonumber(L, spos);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    return give(L, h, nnl_ag_binop_scalar(op, t, s, spos == 1, &err), &err);
}

static int mt_add(lua_State *L) { return arith(L, NNL_ADD); }
static int mt_sub(lua_State *L) { return arith(L, NNL_SUB); }
static int mt_mul(lua_State *L) { return arith(L, NNL_MUL); }
static int mt_div(lua_State *L) { return arith(L, NNL_DIV); }
static int mt_pow(lua_State *L) { return arith(L, NNL_POW); }

static int mt_unm(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, nnl_ag_neg(t, &err), &err);
}

/* ---- methods of two operands ------------------------------------------ */

/* t:op(x) -> a new tensor, x a number or a tensor. */
static int method_binop(lua_State *L, nnl_binop op)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1), *x;
    float s;
    check_operand(L, 2, nnl_binop_name(op), &x, &s);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, x ? nnl_ag_binop(op, t, x, &err) : nnl_ag_binop_scalar(op, t, s, 0, &err),
                &err);
}

static int m_pow(lua_State *L) { return method_binop(L, NNL_POW); }
static int m_maximum(lua_State *L) { return method_binop(L, NNL_MAXIMUM); }
static int m_minimum(lua_State *L) { return method_binop(L, NNL_MINIMUM); }
static int m_gt(lua_State *L) { return method_binop(L, NNL_GT); }
static int m_ge(lua_State *L) { return method_binop(L, NNL_GE); }
static int m_lt(lua_State *L) { return method_binop(L, NNL_LT); }
static int m_le(lua_State *L) { return method_binop(L, NNL_LE); }
static int m_eq(lua_State *L) { return method_binop(L, NNL_EQ); }
static int m_ne(lua_State *L) { return method_binop(L, NNL_NE); }

/* t:op_(x [, alpha]) in place -> t; alpha only for add_. */
static int method_inplace(lua_State *L, nnl_binop op, const char *fn)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1), *x;
    float s;
    check_operand(L, 2, fn, &x, &s);
    int scaled = op == NNL_ADD && !lua_isnoneornil(L, 3);
    float alpha = 1.0f;
    if (scaled) {
        if (lua_type(L, 3) != LUA_TNUMBER)
            return luaL_error(L, "%s: alpha must be a number, got %s", fn, luaL_typename(L, 3));
        alpha = (float)lua_tonumber(L, 3);
    }
    nnl_error err;
    nnl_status st;
    if (x)
        st = scaled ? nnl_ag_add_scaled_(t, x, alpha, &err) : nnl_ag_binop_(op, t, x, &err);
    else
        st = nnl_ag_binop_scalar_(op, t, scaled ? alpha * s : s, &err);
    if (st != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int m_add_(lua_State *L) { return method_inplace(L, NNL_ADD, "add_"); }
static int m_sub_(lua_State *L) { return method_inplace(L, NNL_SUB, "sub_"); }
static int m_mul_(lua_State *L) { return method_inplace(L, NNL_MUL, "mul_"); }
static int m_div_(lua_State *L) { return method_inplace(L, NNL_DIV, "div_"); }

/* ---- unary ------------------------------------------------------------ */

static int unary(lua_State *L, nnl_unop op)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, nnl_ag_unop(op, t, &err), &err);
}

static int unary_(lua_State *L, nnl_unop op)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    nnl_error err;
    if (nnl_ag_unop_(op, t, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* One function per op and form: the C names say which. */
#define UNARY(name, OP)                                              \
    static int m_##name(lua_State *L) { return unary(L, OP); }       \
    static int m_##name##_(lua_State *L) { return unary_(L, OP); }
UNARY(exp, NNL_EXP)
UNARY(log, NNL_LOG)
UNARY(log1p, NNL_LOG1P)
UNARY(sqrt, NNL_SQRT)
UNARY(rsqrt, NNL_RSQRT)
UNARY(abs, NNL_ABS)
UNARY(sign, NNL_SIGN)
UNARY(floor, NNL_FLOOR)
UNARY(ceil, NNL_CEIL)
UNARY(round, NNL_ROUND)
UNARY(sin, NNL_SIN)
UNARY(cos, NNL_COS)
UNARY(tanh, NNL_TANH)
UNARY(sigmoid, NNL_SIGMOID)
UNARY(relu, NNL_RELU)
UNARY(neg, NNL_NEG)
#undef UNARY

/* ---- clamp, act ------------------------------------------------------- */

/* The bounds of clamp(lo, hi) at stack 2 and 3: numbers or nil (none),
 * at least one of them given. */
static void clamp_bounds(lua_State *L, const char *fn, float *lo, float *hi)
{
    for (int i = 2; i <= 3; i++)
        if (!lua_isnoneornil(L, i) && lua_type(L, i) != LUA_TNUMBER)
            luaL_error(L, "%s: %s must be a number or nil, got %s", fn, i == 2 ? "lo" : "hi",
                       luaL_typename(L, i));
    if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
        luaL_error(L, "%s: needs lo or hi (nil for no bound)", fn);
    *lo = lua_isnoneornil(L, 2) ? -INFINITY : (float)lua_tonumber(L, 2);
    *hi = lua_isnoneornil(L, 3) ? INFINITY : (float)lua_tonumber(L, 3);
}

static int m_clamp(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    float lo, hi;
    clamp_bounds(L, "clamp", &lo, &hi);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, nnl_ag_clamp(t, lo, hi, &err), &err);
}

static int m_clamp_(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    float lo, hi;
    clamp_bounds(L, "clamp_", &lo, &hi);
    nnl_error err;
    if (nnl_ag_clamp_(t, lo, hi, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* t:act(name [, param]): any activation of model/activation.h but
 * softmax; param defaults to the activation's own (leaky_relu 0.2). */
static int m_act(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int a = nnl_activation_find(name);
    if (a < 0)
        return luaL_error(L, "act: unknown activation '%s' (one of %s)", name,
                          nnl_activation_names());
    if (a == NNL_ACT_SOFTMAX)
        return luaL_error(L, "act: softmax is row-wise: use t:softmax([dim])");
    float param = nnl_activation_param(a);
    if (!lua_isnoneornil(L, 3)) {
        if (lua_type(L, 3) != LUA_TNUMBER)
            return luaL_error(L, "act: param must be a number, got %s", luaL_typename(L, 3));
        param = (float)lua_tonumber(L, 3);
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, nnl_ag_act(nnl_act_kernel(a), param, t, &err), &err);
}

/* ---- selection -------------------------------------------------------- */

/* t:masked_fill(mask, v): mask a tensor broadcasting to t, v a number. */
static int m_masked_fill(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    if (!luaL_testudata(L, 2, NNL_TENSOR_MT))
        return luaL_error(L, "masked_fill: mask must be an nn.Tensor, got %s",
                          luaL_typename(L, 2));
    nnl_tensor *mask = nnl_lua_checktensor(L, 2);
    if (lua_type(L, 3) != LUA_TNUMBER)
        return luaL_error(L, "masked_fill: value must be a number, got %s", luaL_typename(L, 3));
    float v = (float)lua_tonumber(L, 3);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    return give(L, h, nnl_ag_masked_fill(t, mask, v, &err), &err);
}

/* The tensor at idx, or a new one-element tensor (pushed, so collected)
 * holding the number there. */
static nnl_tensor *tensor_or_number(lua_State *L, int idx, const char *fn, const char *what)
{
    if (luaL_testudata(L, idx, NNL_TENSOR_MT))
        return nnl_lua_checktensor(L, idx);
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "%s: %s must be a number or nn.Tensor, got %s", fn, what,
                   luaL_typename(L, idx));
    float v = (float)lua_tonumber(L, idx);
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    give(L, h, nnl_tensor_new1(1, &err), &err);
    h->t->data[0] = v;
    return h->t;
}

/* nn.where(cond, a, b): a where cond != 0, else b; a and b tensors or
 * numbers, all three broadcast together. */
static int l_where(lua_State *L)
{
    if (!luaL_testudata(L, 1, NNL_TENSOR_MT))
        return luaL_error(L, "nn.where: cond must be an nn.Tensor, got %s", luaL_typename(L, 1));
    nnl_tensor *c = nnl_lua_checktensor(L, 1);
    lua_settop(L, 3);
    nnl_tensor *a = tensor_or_number(L, 2, "nn.where", "a");
    nnl_tensor *b = tensor_or_number(L, 3, "nn.where", "b");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    nnl_tensor *y = nnl_ag_where(c, a, b, &err);
    if (!y) /* the core says "where: ..." */
        return strncmp(err.msg, "where:", 6) == 0 ? luaL_error(L, "nn.where:%s", err.msg + 6)
                                                  : nnl_lua_raise_in(L, "nn.where", &err);
    h->t = y;
    return 1;
}

static const luaL_Reg module_funcs[] = {
    {"where", l_where},
    {NULL, NULL},
};

static const luaL_Reg methods[] = {
    {"add_", m_add_},         {"sub_", m_sub_},       {"mul_", m_mul_},
    {"div_", m_div_},         {"exp", m_exp},         {"log", m_log},
    {"log1p", m_log1p},       {"sqrt", m_sqrt},       {"rsqrt", m_rsqrt},
    {"abs", m_abs},           {"sign", m_sign},       {"floor", m_floor},
    {"ceil", m_ceil},         {"round", m_round},     {"sin", m_sin},
    {"cos", m_cos},           {"tanh", m_tanh},       {"sigmoid", m_sigmoid},
    {"relu", m_relu},         {"neg", m_neg},         {"exp_", m_exp_},
    {"log_", m_log_},         {"log1p_", m_log1p_},   {"sqrt_", m_sqrt_},
    {"rsqrt_", m_rsqrt_},     {"abs_", m_abs_},       {"sign_", m_sign_},
    {"floor_", m_floor_},     {"ceil_", m_ceil_},     {"round_", m_round_},
    {"sin_", m_sin_},         {"cos_", m_cos_},       {"tanh_", m_tanh_},
    {"sigmoid_", m_sigmoid_}, {"relu_", m_relu_},     {"neg_", m_neg_},
    {"pow", m_pow},           {"clamp", m_clamp},     {"clamp_", m_clamp_},
    {"act", m_act},           {"gt", m_gt},           {"ge", m_ge},
    {"lt", m_lt},             {"le", m_le},           {"eq", m_eq},
    {"ne", m_ne},             {"maximum", m_maximum}, {"minimum", m_minimum},
    {"masked_fill", m_masked_fill},
    {NULL, NULL},
};

static const luaL_Reg metamethods[] = {
    {"__add", mt_add}, {"__sub", mt_sub}, {"__mul", mt_mul}, {"__div", mt_div},
    {"__pow", mt_pow}, {"__unm", mt_unm}, {NULL, NULL},
};

void nnl_tensor_open_math(lua_State *L, int nn, int methods_idx, int mt)
{
    lua_pushvalue(L, nn);
    luaL_setfuncs(L, module_funcs, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, methods_idx);
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, mt);
    luaL_setfuncs(L, metamethods, 0);
    lua_pop(L, 1);
}
