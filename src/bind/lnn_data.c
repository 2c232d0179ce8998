/* nn.data: the Lua face of src/data (CSV and IDX loaders, shipped and
 * downloaded data sets, generators, preparation helpers).
 *
 * Only argument checking and conversion happen here. Every C result is
 * parked in a Lua-owned place (an empty nn.Tensor made beforehand, or a
 * boxed nnl_csv_result with __gc) before anything that can raise, so a Lua
 * error never leaks a tensor. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind/lnn.h"
#include "bind/lnn_options.h"
#include "core/rng.h"
#include "data/csv.h"
#include "data/datasets.h"
#include "data/generators.h"
#include "data/idx.h"
#include "data/prep.h"
#include "core/readfile.h"

#define CSVBOX_MT "nn.data.csvresult"

/* A generator for one call, seeded from the global stream: results follow
 * nn.seed, and the global stream moves on by a fixed two draws. */
static void local_rng(nnl_rng *r)
{
    nnl_rng *g = nnl_rng_global();
    uint64_t hi = nnl_rng_u32(g), lo = nnl_rng_u32(g);
    nnl_rng_seed(r, hi << 32 | lo);
}

static int csvbox_gc(lua_State *L)
{
    nnl_csv_result *r = luaL_checkudata(L, 1, CSVBOX_MT);
    nnl_csv_result_free(r);
    return 0;
}

/* Pushes a zeroed result box whose __gc frees whatever it holds. */
static nnl_csv_result *push_csvbox(lua_State *L)
{
    nnl_csv_result *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    if (luaL_newmetatable(L, CSVBOX_MT)) {
        lua_pushcfunction(L, csvbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return r;
}

/* Pushes an array of n strings. */
static void push_strings(lua_State *L, char *const *s, size_t n)
{
    lua_createtable(L, (int)(n < 1000000 ? n : 0), 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, s[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* With the box at index box, replaces it by x, y (or nil), info. The
 * tensors move into handles made first, so a raise leaves nothing owned
 * by C. Returns 3. */
static int push_csv_result(lua_State *L, int box)
{
    nnl_csv_result *r = lua_touserdata(L, box);
    nnl_ltensor *hx = nnl_lua_newtensor(L);
    if (r->y) {
        nnl_ltensor *hy = nnl_lua_newtensor(L);
        hy->t = r->y;
        r->y = NULL;
    } else {
        lua_pushnil(L);
    }
    hx->t = r->x;
    r->x = NULL;
    lua_createtable(L, 0, 4);
    push_strings(L, r->columns, r->nfeatures);
    lua_setfield(L, -2, "columns");
    if (r->nclasses) {
        push_strings(L, r->classes, r->nclasses);
        lua_setfield(L, -2, "classes");
    }
    if (r->label_column) {
        lua_pushstring(L, r->label_column);
        lua_setfield(L, -2, "label");
    }
    lua_pushboolean(L, r->has_header);
    lua_setfield(L, -2, "header");
    return 3;
}

/* nn.data.csv(path [, opts]) -> x, y, info */
static int l_csv(lua_State *L)
{
    const char *path = nnl_lua_checkpath(L, 1, "nn.data.csv", "path");
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        int t = lua_getfield(L, 2, "header");
        if (t != LUA_TNIL) {
            if (t != LUA_TBOOLEAN)
                return luaL_error(L, "nn.data.csv: opts.header must be a boolean, got %s",
                                  luaL_typename(L, -1));
            o.header = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
        t = lua_getfield(L, 2, "label");
        if (t == LUA_TBOOLEAN) {
            if (lua_toboolean(L, -1))
                return luaL_error(L, "nn.data.csv: opts.label must be a column name, "
                                  "a column number or false");
            o.label_col = 0;
        } else if (t == LUA_TNUMBER) {
            o.label_col = (long)nnl_lua_checkint(L, -1, "nn.data.csv",
                                                 "opts.label (a column number)", 1,
                                                 LONG_MAX < LUA_MAXINTEGER ? LONG_MAX
                                                                           : LUA_MAXINTEGER);
        } else if (t == LUA_TSTRING) {
            o.label_name = lua_tostring(L, -1); /* stays on the stack below */
        } else if (t != LUA_TNIL) {
            return luaL_error(L, "nn.data.csv: opts.label must be a column name, a "
                              "column number or false, got %s", luaL_typename(L, -1));
        }
        /* label stays pushed (keeps label_name alive) */
        t = lua_getfield(L, 2, "sep");
        if (t != LUA_TNIL) {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            if (t != LUA_TSTRING || n != 1)
                return luaL_error(L, "nn.data.csv: opts.sep must be one character");
            o.sep = s[0];
        }
        lua_pop(L, 1);
        t = lua_getfield(L, 2, "classes");
        o.classes = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    nnl_csv_result *r = push_csvbox(L);
    int box = lua_gettop(L);
    nnl_error err;
    if (nnl_csv_load(path, &o, r, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.csv", &err);
    return push_csv_result(L, box);
}

/* nn.data.iris() / nn.data.digits([opts]) -> x, y, info. side > 0 turns
 * the rows of x into side x side x 1 images (channels last, as
 * nn.Conv2D takes them): a view, the flat tensor goes with the box. */
static int shipped(lua_State *L, const char *name, const char *fn, long side)
{
    nnl_csv_result *r = push_csvbox(L);
    int box = lua_gettop(L);
    nnl_error err;
    if (nnl_data_shipped(name, r, &err) != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    int n = push_csv_result(L, box);
    if (side > 0) {
        nnl_ltensor *hx = lua_touserdata(L, box + 1);
        long shape[4] = {-1, side, side, 1};
        nnl_tensor *img = nnl_tensor_reshape(hx->t, 4, shape, &err);
        if (!img)
            return nnl_lua_raise_in(L, fn, &err);
        nnl_tensor_free(hx->t);
        hx->t = img;
    }
    return n;
}

/* opts.flatten of a loader of images (default true); every other key is an
 * error, so a misspelt option does not pass unnoticed. */
static int opt_flatten(lua_State *L, int idx, const char *fn, const char *const *valid)
{
    nnl_lua_check_options(L, idx, fn, valid);
    return nnl_lua_opt_bool(L, idx, "flatten", fn, 1);
}

static int l_iris(lua_State *L)
{
    if (!lua_isnoneornil(L, 1))
        return luaL_error(L, "nn.data.iris: takes no arguments, got %s",
                          luaL_typename(L, 1));
    return shipped(L, "iris", "nn.data.iris", 0);
}

static int l_digits(lua_State *L)
{
    static const char *const valid[] = {"flatten", NULL};
    int flatten = opt_flatten(L, 1, "nn.data.digits", valid);
    lua_settop(L, 0);
    return shipped(L, "digits", "nn.data.digits", flatten ? 0 : 8);
}

/* nn.data.idx(path) -> tensor (values as stored: uint8 gives 0..255) */
static int l_idx(lua_State *L)
{
    const char *path = nnl_lua_checkpath(L, 1, "nn.data.idx", "path");
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    if (nnl_idx_load(path, 1.0f, 0.0f, &h->t, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.idx", &err);
    return 1;
}

/* nn.data.fashion_mnist([opts]) -> {x_train, y_train, x_test, y_test,
 * classes}. opts.flatten (default true: 784 columns; false: n x 28 x 28 x
 * 1 images), opts.path (a folder), opts.split ("train" or "test": only
 * that half is read, the other's fields are nil). */
static int l_fashion(lua_State *L)
{
    static const char *const valid[] = {"flatten", "path", "split", NULL};
    int flatten = opt_flatten(L, 1, "nn.data.fashion_mnist", valid);
    char sbuf[NNL_OPT_STR_MAX];
    const char *split = nnl_lua_opt_str(L, 1, "split", "nn.data.fashion_mnist", NULL, sbuf,
                                        sizeof sbuf);
    int parts = NNL_FASHION_TRAIN | NNL_FASHION_TEST;
    if (split && strcmp(split, "train") == 0)
        parts = NNL_FASHION_TRAIN;
    else if (split && strcmp(split, "test") == 0)
        parts = NNL_FASHION_TEST;
    else if (split)
        return luaL_error(L, "nn.data.fashion_mnist: opts.split must be \"train\" or "
                          "\"test\" (or nil for both), got \"%s\"", split);
    const char *dir = NULL;
    if (!lua_isnoneornil(L, 1)) {
        if (lua_getfield(L, 1, "path") != LUA_TNIL) /* kept on the stack */
            dir = nnl_lua_checkpath(L, -1, "nn.data.fashion_mnist", "opts.path");
    }
    lua_createtable(L, 0, 5);
    int tab = lua_gettop(L);
    nnl_ltensor *h[4];
    static const char *const keys[4] = {"x_train", "y_train", "x_test", "y_test"};
    for (int i = 0; i < 4; i++) {
        h[i] = nnl_lua_newtensor(L);
        lua_setfield(L, tab, keys[i]);
    }
    nnl_fashion f;
    nnl_error err;
    if (nnl_fashion_load_parts(dir, flatten, parts, &f, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.fashion_mnist", &err);
    nnl_tensor *got[4] = {f.x_train, f.y_train, f.x_test, f.y_test};
    for (int i = 0; i < 4; i++) {
        h[i]->t = got[i];
        if (!got[i]) { /* not asked for: the field is nil */
            lua_pushnil(L);
            lua_setfield(L, tab, keys[i]);
        }
    }
    lua_createtable(L, NNL_FASHION_CLASSES, 0);
    for (int k = 0; k < NNL_FASHION_CLASSES; k++) {
        lua_pushstring(L, nnl_fashion_classes[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, tab, "classes");
    lua_pushvalue(L, tab);
    return 1;
}

/* An optional count argument of fn in 1..NNL_GEN_MAX (def when nil),
 * reported as given when it is not one ("got 2.5", "got 1e+10"). */
static size_t opt_count(lua_State *L, int arg, lua_Integer def, const char *fn,
                        const char *what)
{
    if (lua_isnoneornil(L, arg))
        return (size_t)def;
    return (size_t)nnl_lua_checkint(L, arg, fn, what, 1, (lua_Integer)NNL_GEN_MAX);
}

/* Makes the two result handles, runs a generator, returns x, y. */
typedef nnl_status (*gen_fn)(nnl_rng *, size_t, size_t, float, nnl_tensor **,
                             nnl_tensor **, nnl_error *);
static int run_gen(lua_State *L, const char *fn, gen_fn g, size_t n, size_t k, float noise)
{
    nnl_ltensor *hx = nnl_lua_newtensor(L);
    nnl_ltensor *hy = nnl_lua_newtensor(L);
    nnl_rng r;
    local_rng(&r);
    nnl_error err;
    if (g(&r, n, k, noise, &hx->t, &hy->t, &err) != NNL_OK)
        return nnl_lua_raise_in(L, fn, &err);
    return 2;
}

static nnl_status gen_xor(nnl_rng *r, size_t n, size_t k, float noise, nnl_tensor **x,
                          nnl_tensor **y, nnl_error *err)
{
    (void)r, (void)n, (void)k, (void)noise;
    return nnl_gen_xor(x, y, err);
}
static nnl_status gen_spiral(nnl_rng *r, size_t n, size_t k, float noise, nnl_tensor **x,
                             nnl_tensor **y, nnl_error *err)
{
    (void)noise;
    return nnl_gen_spiral(r, n, k, x, y, err);
}
static nnl_status gen_moons(nnl_rng *r, size_t n, size_t k, float noise, nnl_tensor **x,
                            nnl_tensor **y, nnl_error *err)
{
    (void)k;
    return nnl_gen_moons(r, n, noise, x, y, err);
}
static nnl_status gen_sine(nnl_rng *r, size_t n, size_t k, float noise, nnl_tensor **x,
                           nnl_tensor **y, nnl_error *err)
{
    (void)k;
    return nnl_gen_sine(r, n, noise, x, y, err);
}

/* nn.data.xor() -> x (4x2), y (4x1) */
static int l_xor(lua_State *L) { return run_gen(L, "nn.data.xor", gen_xor, 4, 0, 0); }

/* nn.data.spiral([n=300 [, classes=3]]) -> x (n x 2), y (n, 1..classes) */
static int l_spiral(lua_State *L)
{
    size_t n = opt_count(L, 1, 300, "nn.data.spiral", "n");
    size_t k = opt_count(L, 2, 3, "nn.data.spiral", "classes");
    return run_gen(L, "nn.data.spiral", gen_spiral, n, k, 0);
}

/* nn.data.moons([n=200 [, noise=0.1]]) -> x (n x 2), y (n, 1..2) */
static int l_moons(lua_State *L)
{
    size_t n = opt_count(L, 1, 200, "nn.data.moons", "n");
    float noise = (float)luaL_optnumber(L, 2, 0.1);
    return run_gen(L, "nn.data.moons", gen_moons, n, 0, noise);
}

/* nn.data.sine([n=200 [, noise=0]]) -> x (n x 1), y (n x 1) */
static int l_sine(lua_State *L)
{
    size_t n = opt_count(L, 1, 200, "nn.data.sine", "n");
    float noise = (float)luaL_optnumber(L, 2, 0.0);
    return run_gen(L, "nn.data.sine", gen_sine, n, 0, noise);
}

/* nn.data.one_hot(y [, k]) -> N x k; k defaults to the largest label. */
static int l_one_hot(lua_State *L)
{
    nnl_tensor *y = nnl_lua_checktensor(L, 1);
    lua_Integer k;
    if (lua_isnoneornil(L, 2)) {
        float mx = 0;
        for (size_t i = 0; i < y->numel; i++)
            if (y->data[i] > mx)
                mx = y->data[i];
        k = mx >= 1 && mx <= (float)(1 << 24) ? (lua_Integer)mx : 1;
    } else {
        k = nnl_lua_checkint(L, 2, "nn.data.one_hot", "the number of classes", 1, 1 << 24);
    }
    nnl_ltensor *h = nnl_lua_newtensor(L);
    nnl_error err;
    h->t = nnl_one_hot(y, (size_t)k, &err);
    if (!h->t)
        return nnl_lua_raise_in(L, "nn.data.one_hot", &err);
    return 1;
}

/* nn.data.split(x, y [, frac=0.8]) -> x_train, y_train, x_test, y_test
 * (y may be nil: then the y results are nil). */
static int l_split(lua_State *L)
{
    nnl_tensor *x = nnl_lua_checktensor(L, 1);
    nnl_tensor *y = lua_isnoneornil(L, 2) ? NULL : nnl_lua_checktensor(L, 2);
    double frac = luaL_optnumber(L, 3, 0.8);
    nnl_ltensor *h[4];
    for (int i = 0; i < 4; i++)
        h[i] = nnl_lua_newtensor(L);
    nnl_rng r;
    local_rng(&r);
    nnl_error err;
    if (nnl_split(&r, x, y, frac, &h[0]->t, &h[1]->t, &h[2]->t, &h[3]->t, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.split", &err);
    if (!y) { /* results x_train, nil, x_test, nil */
        lua_pushnil(L);
        lua_replace(L, -4);
        lua_pushnil(L);
        lua_replace(L, -2);
    }
    return 4;
}

/* nn.data.shuffle(x [, y]) -> x, y: new tensors, rows in one random order. */
static int l_shuffle(lua_State *L)
{
    nnl_tensor *x = nnl_lua_checktensor(L, 1);
    nnl_tensor *y = lua_isnoneornil(L, 2) ? NULL : nnl_lua_checktensor(L, 2);
    nnl_ltensor *hx = nnl_lua_newtensor(L);
    nnl_ltensor *hy = nnl_lua_newtensor(L);
    nnl_rng r;
    local_rng(&r);
    nnl_error err;
    if (nnl_shuffle(&r, x, y, &hx->t, &hy->t, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.shuffle", &err);
    if (!y) {
        lua_pushnil(L);
        lua_replace(L, -2);
    }
    return 2;
}

/* nn.data.standardize(x [, mean, std]) -> x, mean, std */
static int l_standardize(lua_State *L)
{
    nnl_tensor *x = nnl_lua_checktensor(L, 1);
    nnl_tensor *m = NULL, *s = NULL;
    if (!lua_isnoneornil(L, 2) || !lua_isnoneornil(L, 3)) {
        m = nnl_lua_checktensor(L, 2);
        s = nnl_lua_checktensor(L, 3);
    }
    nnl_ltensor *h[3];
    for (int i = 0; i < 3; i++)
        h[i] = nnl_lua_newtensor(L);
    nnl_error err;
    if (nnl_standardize(x, m, s, &h[0]->t, &h[1]->t, &h[2]->t, &err) != NNL_OK)
        return nnl_lua_raise_in(L, "nn.data.standardize", &err);
    return 3;
}

static const luaL_Reg data_funcs[] = {
    {"csv", l_csv},           {"idx", l_idx},
    {"fashion_mnist", l_fashion}, {"iris", l_iris},
    {"digits", l_digits},     {"xor", l_xor},
    {"spiral", l_spiral},     {"moons", l_moons},
    {"sine", l_sine},         {"one_hot", l_one_hot},
    {"split", l_split},       {"shuffle", l_shuffle},
    {"standardize", l_standardize},
    {NULL, NULL}};

/* __close of a log file: as liolib's, fclose's result as io results. */
static int log_fclose(lua_State *L)
{
    luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    errno = 0;
    int ok = fclose(p->f) == 0;
    return luaL_fileresult(L, ok, NULL);
}

/* open_log(path, append) -> file, had_data | nil, message: the file of
 * nn.callbacks.CSVLogger (lua/20_callbacks.lua takes it out of nn.data and
 * removes the field), an io library file. io.open would block for ever in
 * open() on a FIFO with no reader, and reading the old log to decide on
 * the header would block on one with no writer; this opens without
 * blocking, refuses what cannot hold a log (a FIFO nobody reads, a
 * folder), and says whether a regular file already has rows (append: no
 * second header). */
static int l_open_log(lua_State *L)
{
    const char *fn = "nn.callbacks.CSVLogger";
    const char *path = nnl_lua_checkpath(L, 1, fn, "path");
    int append = lua_toboolean(L, 2);
    if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TNIL)
        return luaL_error(L, "%s: needs the io library", fn);
    lua_pop(L, 1);
    /* the handle first, closed (closef NULL), so an error leaks nothing */
    luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->f = NULL;
    p->closef = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                            (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        lua_pushnil(L);
        if (e == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
            lua_pushfstring(L, "cannot open '%s': it is a FIFO (named pipe) that nobody "
                            "reads", path);
        else if (e == ENXIO && stat(path, &st) == 0)
            lua_pushfstring(L, "cannot open '%s': it is %s", path, nnl_file_kind(st.st_mode));
        else
            lua_pushfstring(L, "cannot open '%s': %s", path, strerror(e));
        return 2;
    }
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (fstat(fd, &st) == 0 && fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0)
        f = fdopen(fd, append ? "a" : "w");
    if (!f) {
        int e = errno;
        close(fd);
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open '%s': %s", path, strerror(e));
        return 2;
    }
    p->f = f;
    p->closef = log_fclose;
    lua_pushboolean(L, S_ISREG(st.st_mode) && st.st_size > 0);
    return 2;
}

/* Adds nn.data to the nn table at the top of the stack (see lnn.h). */
void nnl_open_data(lua_State *L)
{
    luaL_newlib(L, data_funcs);
    lua_pushcfunction(L, l_open_log);
    lua_setfield(L, -2, "__open_log"); /* taken away by lua/20_callbacks.lua */
    lua_setfield(L, -2, "data");
}
