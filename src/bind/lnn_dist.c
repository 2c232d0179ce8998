/* nn.dist: the MPI job as Lua sees it (dist/dist.h). rank, size and
 * is_main, and collectives on tensors for custom training loops: barrier,
 * allreduce, broadcast, allgather. Without mpirun the size is 1 and every
 * collective is what it is on one rank. A collective on tensors first
 * compares the shapes over the ranks, so that ranks that disagree all get
 * the same error instead of corrupt data or a hang. */
#include <string.h>

#include "bind/lnn.h"
#include "dist/dist.h"
#include "tensor/tensor.h"

static int l_rank(lua_State *L)
{
    lua_pushinteger(L, nnl_dist_rank());
    return 1;
}

static int l_size(lua_State *L)
{
    lua_pushinteger(L, nnl_dist_size());
    return 1;
}

static int l_is_main(lua_State *L)
{
    lua_pushboolean(L, nnl_dist_rank() == 0);
    return 1;
}

static int l_barrier(lua_State *L)
{
    nnl_error err;
    if (nnl_dist_barrier(&err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.dist.barrier", &err);
    return 0;
}

/* Fails on every rank alike when the ranks' tensors differ in shape
 * (from = 1: in all but the first dimension, as allgather takes them). */
static void check_shapes(lua_State *L, const nnl_tensor *t, int from, const char *fn)
{
    nnl_comm *c = nnl_dist_comm();
    if (!c)
        return; /* one rank */
    double v[NNL_MAX_DIMS + 1], lo[NNL_MAX_DIMS + 1], hi[NNL_MAX_DIMS + 1];
    v[0] = t->ndim;
    for (int i = 0; i < NNL_MAX_DIMS; i++)
        v[i + 1] = i >= from && i < t->ndim ? (double)t->shape[i] : 0.0;
    nnl_error err;
    if (nnl_comm_range(c, v, NNL_MAX_DIMS + 1, lo, hi, &err) != NNL_OK)
        nnl_lua_raise_in(L, fn, &err);
    if (memcmp(lo, hi, sizeof lo) != 0) {
        char a[64];
        luaL_error(L, "%s: the ranks' tensors differ in shape (this rank's is %s)%s", fn,
                   nnl_shape_str(t, a, sizeof a),
                   from ? ": all but the first dimension must agree" : "");
    }
}

/* nn.dist.allreduce(t [, op]) -> t, in place: "sum" (default), "mean",
 * "max" or "min" over the ranks. */
static int l_allreduce(lua_State *L)
{
    static const char *const names[] = {"sum", "mean", "max", "min", NULL};
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    int op = luaL_checkoption(L, 2, "sum", names);
    check_shapes(L, t, 0, "nn.dist.allreduce");
    nnl_comm_op cop = op == 2 ? NNL_COMM_MAX : op == 3 ? NNL_COMM_MIN : NNL_COMM_SUM;
    nnl_error err;
    if (nnl_dist_allreduce(t->data, t->numel, cop, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.dist.allreduce", &err);
    if (op == 1 && nnl_dist_size() > 1) {
        float inv = 1.0f / (float)nnl_dist_size();
        for (size_t i = 0; i < t->numel; i++)
            t->data[i] *= inv;
    }
    nnl_tensor_bump_version(t);
    lua_settop(L, 1);
    return 1;
}

/* nn.dist.broadcast(t, root) -> t, in place: rank root's values. */
static int l_broadcast(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    lua_Integer root = luaL_optinteger(L, 2, 0);
    if (root < 0 || root >= nnl_dist_size())
        return luaL_error(L, "nn.dist.broadcast: root must be a rank 0..%d, got %d",
                          nnl_dist_size() - 1, (int)root);
    check_shapes(L, t, 0, "nn.dist.broadcast");
    nnl_error err;
    if (nnl_dist_bcast(t->data, t->numel * sizeof(float), (int)root, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.dist.broadcast", &err);
    nnl_tensor_bump_version(t);
    lua_settop(L, 1);
    return 1;
}

/* nn.dist.allgather(t) -> a new tensor: every rank's t in rank order,
 * along the first dimension (which may differ between ranks). */
static int l_allgather(lua_State *L)
{
    nnl_tensor *t = nnl_lua_checktensor(L, 1);
    check_shapes(L, t, 1, "nn.dist.allgather");
    int size = nnl_dist_size();
    double *rows = lua_newuserdatauv(L, (size_t)size * (sizeof(double) + sizeof(size_t)), 0);
    size_t *counts = (size_t *)(rows + size);
    memset(rows, 0, (size_t)size * sizeof *rows);
    rows[nnl_dist_rank()] = (double)t->shape[0];
    nnl_error err;
    if (nnl_dist_allreduce_d(rows, (size_t)size, NNL_COMM_SUM, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.dist.allgather", &err);
    size_t per = 1, total = 0; /* from the shape: a rank may give no rows */
    for (int i = 1; i < t->ndim; i++)
        per *= t->shape[i];
    for (int r = 0; r < size; r++) {
        counts[r] = (size_t)rows[r] * per;
        total += (size_t)rows[r];
    }
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[0] = total;
    nnl_tensor *out = nnl_tensor_new(t->ndim, shape, &err);
    if (!out)
        return nnl_lua_raise_in(L, "nn.dist.allgather", &err);
    if (nnl_dist_allgatherv(t->data, out->data, counts, &err) != NNL_OK) {
        nnl_tensor_free(out);
        return nnl_lua_raise_in(L, "nn.dist.allgather", &err);
    }
    nnl_lua_pushtensor(L, out, &err);
    return 1;
}

/* nn.dist.stats([reset]) -> what the collectives cost so far. */
static int l_stats(lua_State *L)
{
    nnl_dist_stats s;
    nnl_dist_get_stats(&s, lua_toboolean(L, 1));
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)s.steps);
    lua_setfield(L, -2, "steps");
    lua_pushinteger(L, (lua_Integer)s.buckets);
    lua_setfield(L, -2, "buckets");
    lua_pushnumber(L, s.bytes);
    lua_setfield(L, -2, "bytes");
    lua_pushnumber(L, s.wait_seconds);
    lua_setfield(L, -2, "wait_seconds");
    lua_pushinteger(L, (lua_Integer)s.reductions);
    lua_setfield(L, -2, "reductions");
    lua_pushnumber(L, s.reduce_seconds);
    lua_setfield(L, -2, "reduce_seconds");
    nnl_comm *c = nnl_dist_comm();
    lua_pushboolean(L, !c || c->overlap);
    lua_setfield(L, -2, "overlap");
    lua_pushboolean(L, nnl_dist_available());
    lua_setfield(L, -2, "mpi");
    lua_pushstring(L, s.progress_thread ? "thread" : "poll");
    lua_setfield(L, -2, "progress");
    return 1;
}

/* nn.dist._solo(f, ...) -> f(...): runs f with this rank's models on
 * their own (no collectives): what rank 0 draws, the others skip. */
static int l_solo(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    nnl_comm *c = nnl_dist_comm();
    if (c)
        c->solo++;
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (c)
        c->solo--;
    if (st != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

void nnl_open_dist(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"rank", l_rank},           {"size", l_size},
        {"is_main", l_is_main},     {"barrier", l_barrier},
        {"allreduce", l_allreduce}, {"broadcast", l_broadcast},
        {"allgather", l_allgather}, {"stats", l_stats},
        {"_solo", l_solo},
        {NULL, NULL},
    };
    nnl_error err;
    if (nnl_dist_init(&err) != NNL_OK)
        lua_warning(L, err.msg, 0); /* one process, as without mpirun */
    lua_newtable(L);
    luaL_setfuncs(L, funcs, 0);
    lua_setfield(L, -2, "dist");
}
