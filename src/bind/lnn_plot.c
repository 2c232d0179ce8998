/* The Lua face of src/plot: the primitives behind nn.plot. Each takes the
 * public function's name (for messages), the checked options table and
 * plain data (tables of numbers or tensors), converts them to C arrays and
 * calls a builder, then renders. lua/30_plot.lua defines the public
 * functions on top of these (option checks, models, LivePlot) and removes
 * them from nn.plot.
 *
 * Temporary arrays live in userdata on the Lua stack, so a conversion
 * error frees them with the rest; the script buffer is only held between
 * conversions and rendering, where nothing raises, and is freed before a
 * C error is raised. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bind/lnn.h"
#include "core/interrupt.h"
#include "plot/gnuplot.h"
#include "plot/plot.h"

#define SESSION_MT "nn.plot.Session"

/* Session handle: NULL after close. */
typedef struct lsession {
    nnl_gnuplot_session *s;
    char who[40]; /* names the owner in the message of an error found at collection */
    nnl_plot_filestamp before; /* the plot's file when the session started */
    int has_file;
    char file[]; /* the plot's file (checked when gnuplot has ended), if has_file */
} lsession;

/* Pushes a new, empty session handle for fn drawing into file (NULL: no
 * file). */
static lsession *new_session(lua_State *L, const char *fn, const char *file)
{
    size_t n = file ? strlen(file) : 0;
    lsession *h = lua_newuserdatauv(L, sizeof *h + n + 1, 0);
    h->s = NULL;
    snprintf(h->who, sizeof h->who, "%s", fn);
    h->has_file = file != NULL;
    memcpy(h->file, file ? file : "", n + 1);
    nnl_plot_stamp(file, &h->before);
    luaL_setmetatable(L, SESSION_MT);
    return h;
}

/* Ends h's gnuplot (waiting for it, bounded), then checks the plot's file:
 * a gnuplot that exits 0 without writing it is no success. */
static nnl_status end_session(lsession *h, nnl_error *err)
{
    nnl_gnuplot_session *s = h->s;
    h->s = NULL;
    if (!s)
        return NNL_OK;
    nnl_status st = nnl_gnuplot_close(s, err);
    if (st == NNL_OK && h->has_file)
        st = nnl_plot_check_file(h->file, &h->before, NULL, err);
    return st;
}

/* A temporary array of n elements of the given size, owned by the Lua
 * stack (a userdata pushed there). */
static void *temp(lua_State *L, size_t n, size_t size)
{
    return lua_newuserdatauv(L, (n ? n : 1) * size, 0);
}

/* How many numbers the table or tensor at idx holds (its raw length: no
 * __len, so a count is never taken from a metamethod), or -1 when it is
 * neither. */
static lua_Integer count_numbers(lua_State *L, int idx)
{
    nnl_tensor *t = nnl_lua_totensor(L, idx);
    if (t)
        return (lua_Integer)t->numel;
    return lua_istable(L, idx) ? (lua_Integer)lua_rawlen(L, idx) : -1;
}

/* The numbers of the table or tensor at idx as doubles (pushes the array
 * as a userdata). At most max of them: the count is checked before
 * anything is allocated. what names the argument in errors. */
static double *check_numbers(lua_State *L, int idx, size_t *n, size_t max, const char *fn,
                             const char *what)
{
    idx = lua_absindex(L, idx);
    lua_Integer len = count_numbers(L, idx);
    if (len < 0)
        luaL_error(L, "%s: %s must be a table of numbers or an nn.Tensor, got %s", fn, what,
                   luaL_typename(L, idx));
    if ((lua_Unsigned)len > max)
        luaL_error(L, "%s: %s has %I values, more than a plot takes (%I); sample the data",
                   fn, what, len, (lua_Integer)max);
    double *v = temp(L, (size_t)len, sizeof *v);
    nnl_tensor *t = nnl_lua_totensor(L, idx);
    if (t) {
        for (size_t i = 0; i < (size_t)len; i++)
            v[i] = t->data[i];
        *n = (size_t)len;
        return v;
    }
    for (lua_Integer i = 1; i <= len; i++) {
        int isnum;
        lua_rawgeti(L, idx, i);
        lua_Number x = lua_tonumberx(L, -1, &isnum);
        if (!isnum)
            luaL_error(L, "%s: %s[%I] is %s, expected a number", fn, what, i,
                       luaL_typename(L, -1));
        v[i - 1] = x;
        lua_pop(L, 1);
    }
    *n = (size_t)len;
    return v;
}

/* Most numbers one argument may hold: the points of a plot, or values
 * that are only counted (histograms, histories). */
#define MAX_POINTS NNL_PLOT_MAX_POINTS
#define MAX_VALUES ((size_t)100000000)

/* The string at idx (a string or a number) for fn, or a Lua error when it
 * holds a NUL byte: C would cut it there and gnuplot show something else.
 * what names it ("option 'title'"). NULL for nil. */
static const char *check_text(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_isnil(L, idx))
        return NULL;
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (!s)
        luaL_error(L, "%s: %s must be a string, got %s", fn, what, luaL_typename(L, idx));
    if (strlen(s) != len)
        luaL_error(L, "%s: %s contains a NUL byte (\\0) at byte %d", fn, what,
                   (int)strlen(s) + 1);
    return s;
}

/* Class numbers 1..k from a table or tensor (non-integers are errors). */
static int *check_classes(lua_State *L, int idx, size_t n_expect, const char *fn,
                          const char *what)
{
    size_t n;
    lua_Integer have = count_numbers(L, idx);
    if (have >= 0 && (size_t)have != n_expect)
        luaL_error(L, "%s: %s has %I entries, expected %I", fn, what, have,
                   (lua_Integer)n_expect);
    double *v = check_numbers(L, idx, &n, n_expect, fn, what);
    int *c = temp(L, n, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= -1e9 && v[i] <= 1e9) || v[i] != (double)(int)v[i]) {
            char num[48];
            snprintf(num, sizeof num, "%.17g", v[i]); /* lua_pushfstring has no %g */
            luaL_error(L, "%s: %s[%d] is %s, expected a class number", fn, what, (int)i + 1,
                       num);
        }
        c[i] = (int)v[i];
    }
    return c;
}

/* A list of names (or nil) at idx, k entries; numbers become strings.
 * Pushes a table that keeps the strings alive, then the array. */
static const char **check_names(lua_State *L, int idx, int k, const char *fn, const char *what)
{
    if (lua_isnoneornil(L, idx))
        return NULL;
    luaL_checktype(L, idx, LUA_TTABLE);
    idx = lua_absindex(L, idx);
    lua_createtable(L, k, 0);
    int keep = lua_gettop(L);
    const char **names = temp(L, (size_t)k, sizeof *names);
    for (int i = 0; i < k; i++) {
        int t = lua_geti(L, idx, i + 1);
        if (t == LUA_TNIL) {
            names[i] = NULL;
        } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
            char item[64];
            snprintf(item, sizeof item, "%s[%d]", what, i + 1);
            lua_pushvalue(L, -1);
            names[i] = check_text(L, -1, fn, item); /* a number becomes a new string... */
            lua_rawseti(L, keep, i + 1);            /* ...kept alive here */
        } else {
            luaL_error(L, "%s: %s[%d] must be a string, got %s", fn, what, i + 1,
                       luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
    return names;
}

/* The hidden options of nn.callbacks.Animate and LivePlot's pictures
 * (lua/33_animate.lua): _frame (a frame of an animation), _script (hand
 * the script back), _upto (history frames), _cmax (the colour range of
 * weight frames). */
static void check_frame_opts(lua_State *L, int idx, nnl_plot_opts *o, const char *fn)
{
    lua_getfield(L, idx, "_frame");
    o->frame = lua_toboolean(L, -1);
    lua_getfield(L, idx, "_script");
    o->give_script = o->frame || lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (lua_getfield(L, idx, "_upto") != LUA_TNIL)
        o->upto = (size_t)nnl_lua_checkint(L, lua_gettop(L), fn, "option '_upto'", 1,
                                           100000000);
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "_cmax") != LUA_TNIL) {
        o->cmax = luaL_checknumber(L, -1);
        if (!(o->cmax >= 0 && o->cmax < 1e300))
            luaL_error(L, "%s: option '_cmax' must be a finite number >= 0", fn);
    }
    lua_pop(L, 1);
}

/* Reads the common options (already checked for unknown keys by Lua):
 * paths without NUL bytes, texts without NUL bytes, sizes as integers in
 * range (reported as given). */
static void check_opts(lua_State *L, int idx, nnl_plot_opts *o, const char *fn)
{
    nnl_plot_opts_init(o);
    o->who = fn;
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    struct {
        const char *key, *what;
        const char **dst;
        int path;
    } strs[] = {{"file", "option 'file'", &o->file, 1},
                {"script", "option 'script'", &o->script, 1},
                {"title", "option 'title'", &o->title, 0},
                {"xlabel", "option 'xlabel'", &o->xlabel, 0},
                {"ylabel", "option 'ylabel'", &o->ylabel, 0}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        int t = lua_getfield(L, idx, strs[i].key);
        if (t != LUA_TNIL) {
            if (t != LUA_TSTRING)
                luaL_error(L, "%s: option '%s' must be a string, got %s", fn, strs[i].key,
                           luaL_typename(L, -1));
            *strs[i].dst = strs[i].path ? nnl_lua_checkpath(L, -1, fn, strs[i].what)
                                        : check_text(L, -1, fn, strs[i].what);
        }
        lua_pop(L, 1); /* opts keeps the string alive */
    }
    static const char *const ints[] = {"width", "height"};
    for (int i = 0; i < 2; i++) {
        int t = lua_getfield(L, idx, ints[i]);
        if (t != LUA_TNIL) {
            char what[40];
            snprintf(what, sizeof what, "option '%s' (pixels)", ints[i]);
            *(i == 0 ? &o->width : &o->height) =
                (int)nnl_lua_checkint(L, lua_gettop(L), fn, what, 100, 20000);
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, idx, "logy");
    o->logy = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "render") != LUA_TNIL)
        o->render = lua_toboolean(L, -1);
    lua_pop(L, 1);
    check_frame_opts(L, idx, o, fn);
}

/* The optional integer argument idx in min..max (reported as given when
 * not), or def when it is nil. */
static int opt_int(lua_State *L, int idx, const char *fn, const char *what, int min, int max,
                   int def)
{
    if (lua_isnoneornil(L, idx))
        return def;
    return (int)nnl_lua_checkint(L, idx, fn, what, min, max);
}

/* After a wait on gnuplot stopped by Ctrl-C: nnlua's handler also set a
 * hook that raises "interrupted!" at the next Lua step; the plot's own
 * error already says it, so the request is handled (cleared). Inside fit
 * no hook is set (fit's handler only sets the flag): the flag stays for
 * fit, which stops after the batch. */
static void interrupt_handled(lua_State *L, nnl_status st)
{
    if (st == NNL_ERR_INTERRUPTED && lua_gethook(L) != NULL)
        nnl_interrupt_clear();
}

/* push_script(pbuf) -> its text (called protected by finish) */
static int push_script(lua_State *L)
{
    const nnl_pbuf *b = lua_touserdata(L, 1);
    lua_pushlstring(L, b->s ? b->s : "", b->len);
    return 1;
}

/* Renders b (if st is OK), frees it, raises on error. With
 * o->give_script, returns the script instead of rendering it. */
static int finish(lua_State *L, nnl_pbuf *b, nnl_status st, const nnl_plot_opts *o,
                  const char *fn, nnl_error *err)
{
    if (st == NNL_OK && o->give_script) {
        st = nnl_pbuf_check(b, fn, err);
        int ok = 0;
        if (st == NNL_OK) {
            /* protected: out of memory there must still free b */
            lua_pushcfunction(L, push_script);
            lua_pushlightuserdata(L, b);
            ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
        }
        nnl_pbuf_free(b);
        if (st != NNL_OK)
            return nnl_lua_raise(L, err);
        if (!ok)
            return lua_error(L);
        return 1;
    }
    if (st == NNL_OK) {
        if (!o->file && o->render)
            fflush(stdout); /* our text first, then gnuplot's picture */
        st = nnl_plot_render(b, o, fn, err);
    }
    nnl_pbuf_free(b);
    interrupt_handled(L, st);
    if (st != NNL_OK)
        return nnl_lua_raise(L, err);
    return 0;
}

/* Series from names (arg n) and lists (arg n+1) for history and session. */
static nnl_plot_series *check_named_lists(lua_State *L, int names, int lists, int *ns,
                                          const char *fn)
{
    luaL_checktype(L, names, LUA_TTABLE);
    luaL_checktype(L, lists, LUA_TTABLE);
    lua_Integer n = luaL_len(L, names);
    if (n < 0 || n > 1000)
        luaL_error(L, "%s: %d series", fn, (int)n);
    nnl_plot_series *s = temp(L, (size_t)n, sizeof *s);
    for (int i = 0; i < (int)n; i++) {
        /* Each series leaves its array on the stack: make room. */
        luaL_checkstack(L, 4, "too many series");
        if (lua_geti(L, names, i + 1) != LUA_TSTRING)
            luaL_error(L, "%s: series names must be strings", fn);
        s[i].name = check_text(L, -1, fn, "a history name");
        lua_pop(L, 1); /* the names table keeps it alive */
        lua_geti(L, lists, i + 1);
        char what[96];
        snprintf(what, sizeof what, "history '%.60s'", s[i].name);
        s[i].x = NULL;
        s[i].y = check_numbers(L, -1, &s[i].n, MAX_VALUES, fn, what);
        lua_replace(L, -2); /* keep the array (on the stack), drop the list */
    }
    *ns = (int)n;
    return s;
}

/* _history(fn, opts, names, lists) */
static int l_history(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    int ns;
    nnl_plot_series *s = check_named_lists(L, 3, 4, &ns, fn);
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_history(&b, &o, s, ns, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _graph(fn, opts, nodes, edges) with nodes = {{x =, y =, label =, kind =},
 * ...} and edges = {from1, to1, from2, to2, ...} (1-based) */
static int l_graph(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3), ne2 = luaL_len(L, 4);
    if (n < 1 || n > 2000)
        return luaL_error(L, "%s: %I nodes (expected 1..2000)", fn, n);
    if (ne2 < 0 || ne2 % 2 || ne2 > 8000)
        return luaL_error(L, "%s: edges must be pairs (at most 4000)", fn);
    nnl_plot_gnode *nodes = temp(L, (size_t)n, sizeof *nodes);
    size_t *edges = temp(L, (size_t)ne2, sizeof *edges);
    for (lua_Integer i = 0; i < n; i++) {
        luaL_checkstack(L, 4, "too many nodes");
        lua_geti(L, 3, i + 1);
        int item = lua_gettop(L);
        if (!lua_istable(L, item))
            return luaL_error(L, "%s: node %I must be a table", fn, i + 1);
        lua_getfield(L, item, "x");
        lua_getfield(L, item, "y");
        lua_getfield(L, item, "kind");
        nodes[i].x = lua_tonumber(L, -3);
        nodes[i].y = lua_tonumber(L, -2);
        nodes[i].kind = (int)lua_tointeger(L, -1);
        lua_pop(L, 3);
        lua_getfield(L, item, "label");
        nodes[i].label = check_text(L, -1, fn, "a node's label");
        /* the label stays on the stack (and the node table under it) */
    }
    for (lua_Integer e = 0; e < ne2; e++) {
        lua_geti(L, 4, e + 1);
        lua_Integer v = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (v < 1 || v > n)
            return luaL_error(L, "%s: edge end %I out of range", fn, v);
        edges[e] = (size_t)(v - 1);
    }
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_graph(&b, &o, nodes, (size_t)n, edges, (size_t)ne2 / 2, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* The lines {{x = , y = , name = }, ...} at idx as series (the arrays
 * are left on the stack, which owns them); *ns is how many. */
static nnl_plot_series *check_series(lua_State *L, int idx, const char *fn, int *ns)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    if (n < 1 || n > 1000)
        luaL_error(L, "%s: %d lines (expected 1..1000)", fn, (int)n);
    nnl_plot_series *s = temp(L, (size_t)n, sizeof *s);
    size_t total = 0; /* points so far, checked before each conversion */
    for (int i = 0; i < (int)n; i++) {
        /* Each line leaves its table, arrays and name on the stack. */
        luaL_checkstack(L, 8, "too many lines");
        lua_geti(L, idx, i + 1);
        int item = lua_gettop(L);
        char what[64];
        lua_getfield(L, item, "y");
        lua_getfield(L, item, "x");
        /* Counts first: lists that do not match (or are too many to
         * draw) are refused before anything is converted. */
        lua_Integer ny = count_numbers(L, -2), nx = count_numbers(L, -1);
        if (ny >= 0 && !lua_isnil(L, -1) && nx >= 0 && nx != ny)
            luaL_error(L, "%s: line %d has %I x values and %I y values", fn, i + 1, nx, ny);
        if (ny > 0 && (size_t)ny > MAX_POINTS - total)
            luaL_error(L, "%s: %I points are too many to draw (at most %I); sample "
                       "the data", fn, (lua_Integer)total + ny, (lua_Integer)MAX_POINTS);
        snprintf(what, sizeof what, "line %d's y", i + 1);
        s[i].y = check_numbers(L, -2, &s[i].n, MAX_POINTS - total, fn, what);
        total += s[i].n;
        s[i].x = NULL;
        if (!lua_isnil(L, -2)) { /* x (below the y array just pushed) */
            size_t nx2;
            snprintf(what, sizeof what, "line %d's x", i + 1);
            s[i].x = check_numbers(L, -2, &nx2, s[i].n, fn, what);
        }
        lua_getfield(L, item, "name");
        snprintf(what, sizeof what, "line %d's name", i + 1);
        s[i].name = check_text(L, -1, fn, what);
        /* Leave the arrays on the stack; drop nothing else that matters. */
    }
    *ns = (int)n;
    return s;
}

/* _lines(fn, opts, series) with series = {{x = , y = , name = }, ...} */
static int l_lines(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    int n;
    nnl_plot_series *s = check_series(L, 3, fn, &n);
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_lines(&b, &o, s, n, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _panels(fn, opts, series, titles): as _lines, each series with a
 * `panel` number (1..#titles) saying which panel of the grid it is in. */
static int l_panels(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    int n;
    nnl_plot_series *s = check_series(L, 3, fn, &n);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_Integer np = luaL_len(L, 4);
    if (np < 1 || np > 64)
        return luaL_error(L, "%s: %I panels (expected 1..64)", fn, np);
    const char **titles = temp(L, (size_t)np, sizeof *titles);
    luaL_checkstack(L, (int)np + 4, "too many panels");
    for (lua_Integer p = 0; p < np; p++) {
        lua_geti(L, 4, p + 1);
        titles[p] = check_text(L, -1, fn, "a panel's title");
    }
    int *panel = temp(L, (size_t)n, sizeof *panel);
    for (int i = 0; i < n; i++) {
        lua_geti(L, 3, i + 1);
        lua_getfield(L, -1, "panel");
        lua_Integer p = lua_tointeger(L, -1);
        lua_pop(L, 2);
        if (p < 1 || p > np)
            return luaL_error(L, "%s: line %d's panel must be 1..%I", fn, i + 1, np);
        panel[i] = (int)p - 1;
    }
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_panels(&b, &o, s, n, panel, titles, (int)np, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _scatter(fn, opts, x, y, classes|nil, k, names|nil) */
static int l_scatter(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    size_t n, ny;
    lua_Integer cx = count_numbers(L, 3), cy = count_numbers(L, 4);
    if (cx >= 0 && cy >= 0 && cx != cy)
        return luaL_error(L, "%s: x has %I values and y has %I", fn, cx, cy);
    double *x = check_numbers(L, 3, &n, MAX_POINTS, fn, "x");
    double *y = check_numbers(L, 4, &ny, MAX_POINTS, fn, "y");
    int *cls = NULL, k = 0;
    const char **names = NULL;
    if (!lua_isnoneornil(L, 5)) {
        k = (int)nnl_lua_checkint(L, 6, fn, "the number of classes", 1, 1000);
        cls = check_classes(L, 5, n, fn, "classes");
        names = check_names(L, 7, k, fn, "class names");
    }
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_scatter(&b, &o, x, y, n, cls, k, names, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _hist(fn, opts, values, bins) */
static int l_hist(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    size_t n;
    int bins = opt_int(L, 4, fn, "bins", 1, 100000, 0);
    double *v = check_numbers(L, 3, &n, MAX_VALUES, fn, "values");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_hist(&b, &o, v, n, bins, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _weights(fn, opts, tensor, tile_h, tile_w, max_tiles) */
static int l_weights(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_tensor *t = nnl_lua_totensor(L, 3);
    if (!t)
        return luaL_error(L, "%s: expected a Dense layer or an nn.Tensor of weights, got %s",
                          fn, luaL_typename(L, 3));
    if (t->ndim > 2)
        return luaL_error(L, "%s: expected a 1-D or 2-D tensor of weights, got %d dimensions",
                          fn, t->ndim);
    size_t rows = t->ndim == 2 ? t->shape[0] : 1, cols = t->ndim == 2 ? t->shape[1] : t->shape[0];
    int th = opt_int(L, 4, fn, "image height", 1, 1 << 20, 0);
    int tw = opt_int(L, 5, fn, "image width", 1, 1 << 20, 0);
    int maxt = opt_int(L, 6, fn, "max_tiles", 1, 100000, 0);
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_heatmap(&b, &o, t->data, rows, cols, th, tw, maxt, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _filters(fn, opts, kernel, max_filters, max_channels, mean, what): a
 * convolution's kernel {kh, kw, cin, cout} (or {k, cin, cout}) as tiles */
static int l_filters(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_tensor *t = nnl_lua_totensor(L, 3);
    if (!t || t->ndim < 3 || t->ndim > 4)
        return luaL_error(L, "%s: expected a convolution kernel {kh, kw, in, out} or "
                          "{k, in, out}", fn);
    int three = t->ndim == 3;
    size_t kh = three ? 1 : t->shape[0], kw = t->shape[three ? 0 : 1];
    size_t cin = t->shape[three ? 1 : 2], cout = t->shape[three ? 2 : 3];
    int maxf = opt_int(L, 4, fn, "max_tiles", 1, 100000, 0);
    int maxc = opt_int(L, 5, fn, "max_channels", 1, 100000, 0);
    int mean = lua_toboolean(L, 6);
    const char *what = check_text(L, 7, fn, "the layer's name");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_filters(&b, &o, t->data, kh, kw, cin, cout, maxf, maxc, mean,
                                     what, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _maps(fn, opts, maps, max_maps, what): one sample's output {h, w, c}
 * (or {steps, c}) as a tile per channel */
static int l_maps(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_tensor *t = nnl_lua_totensor(L, 3);
    if (!t || t->ndim < 2 || t->ndim > 3)
        return luaL_error(L, "%s: expected feature maps {h, w, channels} or {steps, channels}",
                          fn);
    int two = t->ndim == 2;
    size_t h = two ? 1 : t->shape[0], w = t->shape[two ? 0 : 1], c = t->shape[two ? 1 : 2];
    int maxm = opt_int(L, 4, fn, "max_tiles", 1, 100000, 0);
    const char *what = check_text(L, 5, fn, "the layer's name");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_feature_maps(&b, &o, t->data, h, w, c, two, maxm, what, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _confusion(fn, opts, counts (k*k, row-major), k, names|nil) */
static int l_confusion(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    size_t n;
    int k = (int)nnl_lua_checkint(L, 4, fn, "the number of classes", 1, 1000);
    double *c = check_numbers(L, 3, &n, (size_t)k * (size_t)k, fn, "counts");
    if (n != (size_t)k * (size_t)k)
        return luaL_error(L, "%s: %d counts for %d classes", fn, (int)n, k);
    const char **names = check_names(L, 5, k, fn, "class names");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_confusion(&b, &o, c, k, names, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* _regions(fn, opts, grid, gx, gy, x0, x1, y0, y1, px, py, pc|nil, k, names|nil) */
static int l_regions(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_plot_regions r;
    memset(&r, 0, sizeof r);
    r.gx = (int)nnl_lua_checkint(L, 4, fn, "the grid width", 2, 2000);
    r.gy = (int)nnl_lua_checkint(L, 5, fn, "the grid height", 2, 2000);
    r.k = (int)nnl_lua_checkint(L, 13, fn, "the number of classes", 1, 64);
    r.grid = check_classes(L, 3, (size_t)r.gx * (size_t)r.gy, fn, "grid");
    double *area[4] = {&r.x0, &r.x1, &r.y0, &r.y1};
    for (int i = 0; i < 4; i++) {
        *area[i] = luaL_checknumber(L, 6 + i);
        if (!isfinite(*area[i]))
            return luaL_error(L, "%s: the area's bounds must be finite numbers", fn);
    }
    size_t ny;
    lua_Integer cx = count_numbers(L, 10), cy = count_numbers(L, 11);
    if (cx >= 0 && cy >= 0 && cx != cy)
        return luaL_error(L, "%s: %I x values and %I y values", fn, cx, cy);
    r.px = check_numbers(L, 10, &r.np, MAX_POINTS, fn, "x");
    r.py = check_numbers(L, 11, &ny, MAX_POINTS, fn, "y");
    r.pc = lua_isnoneornil(L, 12) ? NULL : check_classes(L, 12, r.np, fn, "labels");
    r.names = check_names(L, 14, r.k, fn, "class names");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_boundary(&b, &o, &r, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* The weights of tensor field `key` of the table at idx: NULL when absent;
 * an error when its size is not n. Pushes nothing (the table keeps it). */
static const float *opt_weights(lua_State *L, int idx, const char *key, size_t n,
                                const char *fn, int layer)
{
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    nnl_tensor *t = nnl_lua_totensor(L, -1);
    if (!t)
        luaL_error(L, "%s: layer %d's %s must be an nn.Tensor, got %s", fn, layer, key,
                   luaL_typename(L, -1));
    if ((size_t)t->numel != n)
        luaL_error(L, "%s: layer %d's %s has %d values, expected %d", fn, layer, key,
                   (int)t->numel, (int)n);
    lua_pop(L, 1);
    return t->data;
}

/* _network(fn, opts, layers, max_shown) with layers = {{units =, name =,
 * label =, kernel = tensor|nil, bias = tensor|nil, maps = {h, w, c} or
 * {steps, c} or nil, learns = boolean}, ...} */
static int l_network(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3);
    if (n < 1 || n > 200)
        return luaL_error(L, "%s: %d layers to draw (expected 1..200)", fn, (int)n);
    int max_shown = opt_int(L, 4, fn, "max_neurons", 1, 100000, 0);
    nnl_plot_layer *ly = temp(L, (size_t)n, sizeof *ly);
    for (int i = 0; i < (int)n; i++) {
        luaL_checkstack(L, 6, "too many layers"); /* each leaves its table */
        lua_geti(L, 3, i + 1);
        int item = lua_gettop(L);
        luaL_checktype(L, item, LUA_TTABLE);
        lua_getfield(L, item, "units");
        int isint;
        lua_Integer u = lua_tointegerx(L, -1, &isint);
        if (!isint || u < 1 || u > 100000000)
            return luaL_error(L, "%s: layer %d has no valid unit count", fn, i + 1);
        lua_pop(L, 1);
        ly[i].units = (int)u;
        /* name and label stay on the stack (a number converted to a
         * string lives only there). */
        lua_getfield(L, item, "name");
        ly[i].name = check_text(L, -1, fn, "a layer's name");
        lua_getfield(L, item, "label");
        ly[i].label = check_text(L, -1, fn, "a layer's label");
        /* maps = {h, w, c} (images) or {steps, c} (sequences): a block of
         * feature maps (their product = units) */
        ly[i].maps = ly[i].mh = ly[i].mw = ly[i].mc = 0;
        if (lua_getfield(L, item, "maps") != LUA_TNIL) {
            luaL_checktype(L, -1, LUA_TTABLE);
            lua_Integer nd = luaL_len(L, -1);
            if (nd != 2 && nd != 3)
                return luaL_error(L, "%s: layer %d's maps must be {h, w, channels} or "
                                  "{steps, channels}", fn, i + 1);
            int *dims[3] = {&ly[i].mh, nd == 3 ? &ly[i].mw : &ly[i].mc, &ly[i].mc};
            ly[i].mw = 1;
            lua_Integer prod = 1;
            for (int d = 0; d < (int)nd; d++) {
                lua_geti(L, -1, d + 1);
                lua_Integer v = lua_tointegerx(L, -1, &isint);
                if (!isint || v < 1 || v > 1000000)
                    return luaL_error(L, "%s: layer %d's maps must be {h, w, channels} or "
                                      "{steps, channels}", fn, i + 1);
                *dims[d] = (int)v;
                prod *= v;
                lua_pop(L, 1);
            }
            if (prod != u)
                return luaL_error(L, "%s: layer %d's maps (%I values) are not its %d units", fn,
                                  i + 1, prod, (int)u);
            ly[i].maps = nd == 3 ? 1 : 2;
        }
        lua_pop(L, 1);
        lua_getfield(L, item, "learns");
        ly[i].learns = lua_toboolean(L, -1);
        lua_pop(L, 1);
        size_t prev = i > 0 ? (size_t)ly[i - 1].units : 0;
        ly[i].kernel = i > 0 ? opt_weights(L, item, "kernel", prev * (size_t)u, fn, i + 1) : NULL;
        ly[i].bias = i > 0 ? opt_weights(L, item, "bias", (size_t)u, fn, i + 1) : NULL;
        /* item stays on the stack: it keeps the strings and tensors alive. */
    }
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_network(&b, &o, ly, (int)n, max_shown, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* ---- nn.plot.neurons (lua/32_plot_neurons.lua) ------------------------ */

/* The integer field key of the table at idx in min..max. */
static int field_int(lua_State *L, int idx, const char *key, const char *fn, const char *what,
                     int min, int max)
{
    lua_getfield(L, idx, key);
    int v = (int)nnl_lua_checkint(L, -1, fn, what, min, max);
    lua_pop(L, 1);
    return v;
}

/* The tensor field key of the table at idx with n values (NULL when nil
 * and optional); the table keeps it alive. */
static const float *field_tensor(lua_State *L, int idx, const char *key, size_t n, int optional,
                                 const char *fn, const char *what)
{
    lua_getfield(L, idx, key);
    nnl_tensor *t = nnl_lua_totensor(L, -1);
    if (!t && optional && lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!t)
        luaL_error(L, "%s: %s must be an nn.Tensor, got %s", fn, what, luaL_typename(L, -1));
    if (t->numel != n)
        luaL_error(L, "%s: %s has %I values, expected %I", fn, what, (lua_Integer)t->numel,
                   (lua_Integer)n);
    lua_pop(L, 1);
    return t->data;
}

/* _neurons(fn, opts, net) with net = {res =, x0 =, x1 =, y0 =, y1 =, cols = {{units =,
 * shown =, label =, values = tensor (res*res x units), kernel = tensor|nil, names =
 * {...}|nil}, ...}, out_units =, out_label =, out_kernel = tensor|nil, grid = {classes},
 * gres =, k =, px =, py =, pc = labels|nil, names = class names|nil} */
static int l_neurons(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    luaL_checktype(L, 3, LUA_TTABLE);
    nnl_plot_nnet net;
    memset(&net, 0, sizeof net);
    net.res = field_int(L, 3, "res", fn, "resolution", 2, 500);
    double *area[4] = {&net.x0, &net.x1, &net.y0, &net.y1};
    static const char *const akeys[4] = {"x0", "x1", "y0", "y1"};
    for (int i = 0; i < 4; i++) {
        lua_getfield(L, 3, akeys[i]);
        *area[i] = luaL_checknumber(L, -1);
        lua_pop(L, 1);
        if (!isfinite(*area[i]))
            return luaL_error(L, "%s: the plane's bounds must be finite numbers", fn);
    }
    if (lua_getfield(L, 3, "cols") != LUA_TTABLE)
        return luaL_error(L, "%s: the columns must be a table", fn);
    int cols = lua_gettop(L);
    lua_Integer n = luaL_len(L, cols);
    if (n < 1 || n > 50)
        return luaL_error(L, "%s: %d columns to draw (expected 1..50)", fn, (int)n);
    nnl_plot_ncol *c = temp(L, (size_t)n, sizeof *c);
    size_t cells = (size_t)net.res * (size_t)net.res;
    for (int i = 0; i < (int)n; i++) {
        luaL_checkstack(L, 8, "too many columns"); /* each leaves its table and label */
        lua_geti(L, cols, i + 1);
        int item = lua_gettop(L);
        luaL_checktype(L, item, LUA_TTABLE);
        c[i].units = field_int(L, item, "units", fn, "a column's units", 1, 100000000);
        c[i].shown = field_int(L, item, "shown", fn, "a column's shown units", 1,
                               c[i].units < 64 ? c[i].units : 64);
        lua_getfield(L, item, "label"); /* stays on the stack */
        c[i].label = check_text(L, -1, fn, "a column's label");
        c[i].values = field_tensor(L, item, "values", cells * (size_t)c[i].units, 0, fn,
                                   "a column's values");
        size_t prev = i > 0 ? (size_t)c[i - 1].units : 0;
        c[i].kernel = i > 0 ? field_tensor(L, item, "kernel", prev * (size_t)c[i].units, 1, fn,
                                           "a column's kernel")
                            : NULL;
        lua_getfield(L, item, "names");
        c[i].names = check_names(L, -1, c[i].shown, fn, "map names"); /* pushes two */
    }
    net.cols = c;
    net.ncols = (int)n;
    net.out_units = field_int(L, 3, "out_units", fn, "the outputs", 1, 64);
    lua_getfield(L, 3, "out_label");
    net.out_label = check_text(L, -1, fn, "the output's label");
    net.out_kernel = field_tensor(L, 3, "out_kernel",
                                  (size_t)c[n - 1].units * (size_t)net.out_units, 1, fn,
                                  "the output's kernel");
    nnl_plot_regions *r = &net.out;
    r->gx = r->gy = field_int(L, 3, "gres", fn, "the output's resolution", 2, 2000);
    r->k = field_int(L, 3, "k", fn, "the number of classes", 1, 64);
    r->x0 = net.x0, r->x1 = net.x1, r->y0 = net.y0, r->y1 = net.y1;
    lua_getfield(L, 3, "grid");
    r->grid = check_classes(L, -1, (size_t)r->gx * (size_t)r->gy, fn, "the output grid");
    lua_getfield(L, 3, "px");
    r->px = check_numbers(L, -1, &r->np, MAX_POINTS, fn, "x");
    size_t ny;
    lua_getfield(L, 3, "py");
    r->py = check_numbers(L, -1, &ny, MAX_POINTS, fn, "y");
    if (ny != r->np)
        return luaL_error(L, "%s: %I x values and %I y values", fn, (lua_Integer)r->np,
                          (lua_Integer)ny);
    lua_getfield(L, 3, "pc");
    r->pc = lua_isnil(L, -1) ? NULL : check_classes(L, -1, r->np, fn, "labels");
    lua_getfield(L, 3, "names");
    r->names = check_names(L, -1, r->k, fn, "class names");
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_neurons(&b, &o, &net, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* ---- the persistent session (LivePlot) --------------------------------- */

static lsession *check_session(lua_State *L)
{
    lsession *h = luaL_checkudata(L, 1, SESSION_MT);
    if (!h->s)
        luaL_error(L, "nn.plot session is closed");
    return h;
}

/* _session(fn, file|nil) -> session: starts gnuplot (its stdout
 * discarded when it draws into a file). */
static int l_session(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    const char *file = lua_isnoneornil(L, 2) ? NULL : nnl_lua_checkpath(L, 2, fn, "file");
    int quiet = file != NULL;
    lsession *h = new_session(L, fn, file);
    nnl_error err;
    if (!quiet)
        fflush(stdout);
    h->s = nnl_gnuplot_open(quiet, &err);
    if (!h->s)
        return luaL_error(L, "%s: %s", fn, err.msg);
    return 1;
}

/* session:history(fn, opts, names, lists [, wait [, force]]) -> drawn:
 * redraws in the same process. Without wait it does not wait for gnuplot,
 * and skips the frame (returns false) while gnuplot is still drawing the
 * last, unless force. */
static int session_history(lua_State *L)
{
    lsession *h = check_session(L);
    const char *fn = luaL_checkstring(L, 2);
    nnl_plot_opts o;
    check_opts(L, 3, &o, fn);
    int ns;
    nnl_plot_series *s = check_named_lists(L, 4, 5, &ns, fn);
    int wait = lua_toboolean(L, 6), force = lua_toboolean(L, 7), posted = 1;
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_history(&b, &o, s, ns, &err);
    if (st == NNL_OK) {
        if (!o.file)
            fflush(stdout);
        nnl_error gerr;
        if (wait)
            st = nnl_gnuplot_send(h->s, b.s, b.len, &gerr);
        else
            st = nnl_gnuplot_post(h->s, b.s, b.len, force, &posted, &gerr);
        if (st != NNL_OK)
            nnl_fail(&err, st, "%s: %s", fn, gerr.msg);
    }
    nnl_pbuf_free(&b);
    interrupt_handled(L, st);
    if (st != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_pushboolean(L, posted);
    return 1;
}

/* _history_last(fn, opts, names, lists) -> session: draws the history
 * once in a new gnuplot on a thread (LivePlot's last frame when no
 * gnuplot was started during fit) and returns at once a finishing session
 * to wait for with close. */
static int l_history_last(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    int ns;
    nnl_plot_series *s = check_named_lists(L, 3, 4, &ns, fn);
    lsession *h = new_session(L, fn, o.file);
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_history(&b, &o, s, ns, &err);
    if (st == NNL_OK) {
        if (!o.file)
            fflush(stdout);
        nnl_error gerr;
        h->s = nnl_gnuplot_run_background(b.s, b.len, o.file != NULL, &gerr);
        if (!h->s)
            st = nnl_fail(&err, gerr.code, "%s: %s", fn, gerr.msg);
    }
    nnl_pbuf_free(&b);
    if (st != NNL_OK)
        return nnl_lua_raise(L, &err);
    return 1;
}

/* session:finish(): ends the session without waiting (see
 * nnl_gnuplot_finish); close (or collection) later waits for gnuplot. */
static int session_finish(lua_State *L)
{
    lsession *h = check_session(L);
    nnl_gnuplot_finish(h->s);
    return 0;
}

/* session:busy() -> true while gnuplot still draws the last posted frame */
static int session_busy(lua_State *L)
{
    lsession *h = check_session(L);
    lua_pushboolean(L, nnl_gnuplot_busy(h->s));
    return 1;
}

/* session:finished() -> true when close would not wait for gnuplot. */
static int session_finished(lua_State *L)
{
    lsession *h = luaL_checkudata(L, 1, SESSION_MT);
    lua_pushboolean(L, nnl_gnuplot_finished(h->s));
    return 1;
}

/* session:pid() -> the gnuplot process id (tests) */
static int session_pid(lua_State *L)
{
    lsession *h = check_session(L);
    lua_pushinteger(L, nnl_gnuplot_pid(h->s));
    return 1;
}

/* session:close(), __gc, __close: ends gnuplot once; later calls do
 * nothing. close() raises gnuplot's last error; __gc never raises. */
static int session_close(lua_State *L)
{
    lsession *h = luaL_checkudata(L, 1, SESSION_MT);
    nnl_error err;
    nnl_status st = end_session(h, &err);
    interrupt_handled(L, st);
    if (st != NNL_OK)
        return luaL_error(L, "nn.plot session: %s", err.msg);
    return 0;
}

/* Collection waits for a finishing gnuplot (so a file is complete and a
 * text frame printed before the program ends) and, since nobody is left
 * to raise it to, says on stderr what gnuplot reported, as LivePlot's
 * other warnings do. */
static int session_gc(lua_State *L)
{
    lsession *h = luaL_checkudata(L, 1, SESSION_MT);
    nnl_error err;
    nnl_status st = end_session(h, &err);
    interrupt_handled(L, st);
    if (st != NNL_OK)
        fprintf(stderr, "%s: %s\n", h->who, err.msg);
    return 0;
}

static int session_tostring(lua_State *L)
{
    lsession *h = luaL_checkudata(L, 1, SESSION_MT);
    if (h->s)
        lua_pushfstring(L, "nn.plot session (gnuplot pid %d)", (int)nnl_gnuplot_pid(h->s));
    else
        lua_pushliteral(L, "nn.plot session (closed)");
    return 1;
}

/* _check_opts(fn, opts): checks the common options as a plot would (paths
 * and texts without NUL bytes, sizes in range, a known file type), for
 * LivePlot to refuse them when it is made rather than at its first frame. */
static int l_check_opts(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_plot_term term;
    nnl_error err;
    if (o.file && nnl_plot_term_of(&o, &term, fn, &err) != NNL_OK)
        return nnl_lua_raise(L, &err);
    return 0;
}

/* _clock() -> seconds on a monotonic clock (LivePlot's frame pacing) */
static int l_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + ts.tv_nsec * 1e-9);
    return 1;
}

/* _window() -> the window terminal plots without a file use, or nil */
static int l_window(lua_State *L)
{
    const char *t = nnl_gnuplot_window_terminal();
    if (t)
        lua_pushstring(L, t);
    else
        lua_pushnil(L);
    return 1;
}

/* _gnuplot() -> path or nil, message */
static int l_gnuplot(lua_State *L)
{
    char path[4096];
    nnl_error err;
    if (nnl_gnuplot_find(path, sizeof path, &err) != NNL_OK) {
        lua_pushnil(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushstring(L, path);
    return 1;
}

/* ---- animations and LivePlot's pictures (lua/33_animate.lua) ---------- */

/* _animation(fn, opts, frames, w, h, delay): draws the frames saved in the
 * file `frames` (scripts made with opts._frame) into the animated GIF
 * opts.file, w x h pixels, delay hundredths of a second a frame; checks
 * the GIF. */
static int l_animation(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    const char *frames = nnl_lua_checkpath(L, 3, fn, "the frames' file");
    int w = (int)nnl_lua_checkint(L, 4, fn, "the width", 100, 20000);
    int h = (int)nnl_lua_checkint(L, 5, fn, "the height", 80, 20000);
    int delay = (int)nnl_lua_checkint(L, 6, fn, "delay", 1, 100000);
    o.frame = o.give_script = 0;
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_animation(&b, &o, frames, w, h, delay, &err);
    return finish(L, &b, st, &o, fn, &err);
}

/* session:script(fn, text [, wait [, force]]) -> drawn: a whole script
 * built beforehand (a plot called with opts._script) drawn in the
 * session, as session:history draws a history. */
static int session_script(lua_State *L)
{
    lsession *h = check_session(L);
    const char *fn = luaL_checkstring(L, 2);
    size_t len;
    const char *text = luaL_checklstring(L, 3, &len);
    int wait = lua_toboolean(L, 4), force = lua_toboolean(L, 5), posted = 1;
    if (!h->has_file)
        fflush(stdout);
    nnl_error gerr, err;
    nnl_status st;
    if (wait)
        st = nnl_gnuplot_send(h->s, text, len, &gerr);
    else
        st = nnl_gnuplot_post(h->s, text, len, force, &posted, &gerr);
    if (st != NNL_OK)
        nnl_fail(&err, st, "%s: %s", fn, gerr.msg);
    interrupt_handled(L, st);
    if (st != NNL_OK)
        return nnl_lua_raise(L, &err);
    lua_pushboolean(L, posted);
    return 1;
}

/* _script_last(fn, text, file|nil) -> session: draws a whole script once
 * in a new gnuplot on a thread (LivePlot's last frame when no gnuplot was
 * started during fit), as _history_last does. */
static int l_script_last(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    const char *file = lua_isnoneornil(L, 3) ? NULL : nnl_lua_checkpath(L, 3, fn, "file");
    lsession *h = new_session(L, fn, file);
    if (!file)
        fflush(stdout);
    nnl_error gerr;
    h->s = nnl_gnuplot_run_background(text, len, file != NULL, &gerr);
    if (!h->s)
        return luaL_error(L, "%s: %s", fn, gerr.msg);
    return 1;
}

static const luaL_Reg session_methods[] = {
    {"history", session_history},
    {"script", session_script},
    {"pid", session_pid},
    {"close", session_close},
    {"finish", session_finish},
    {"busy", session_busy},
    {"finished", session_finished},
    {NULL, NULL},
};

/* ---- nn.plot.loss_surface (lua/31_plot_surface.lua) ---- */

/* _surface(fn, opts, z, gx, gy, x0, x1, y0, y1, paths, log, labels) with
 * z the gy x gx values (row-major, row 0 at y0), paths = {{name =, w1 =
 * {...}, w2 = {...}}, ...}, log true/false/nil (automatic) and labels =
 * {title =, xlabel =, ylabel =, zlabel =, mark_name =, mark_x =, mark_y
 * =} or nil: the defaults of the picture (the common options override
 * them) and a point marked with a ring (the start, a model's weights). */
static int l_surface(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 1);
    nnl_plot_opts o;
    check_opts(L, 2, &o, fn);
    nnl_plot_surface_data s;
    memset(&s, 0, sizeof s);
    s.gx = (int)nnl_lua_checkint(L, 4, fn, "the grid width", 2, 1000);
    s.gy = (int)nnl_lua_checkint(L, 5, fn, "the grid height", 2, 1000);
    size_t nz;
    s.z = check_numbers(L, 3, &nz, MAX_POINTS, fn, "the grid");
    if (nz != (size_t)s.gx * (size_t)s.gy)
        return luaL_error(L, "%s: the grid has %d values, expected %d x %d", fn, (int)nz,
                          s.gx, s.gy);
    double *area[4] = {&s.x0, &s.x1, &s.y0, &s.y1};
    for (int i = 0; i < 4; i++) {
        *area[i] = luaL_checknumber(L, 6 + i);
        if (!isfinite(*area[i]))
            return luaL_error(L, "%s: the area's bounds must be finite numbers", fn);
    }
    luaL_checktype(L, 10, LUA_TTABLE);
    lua_Integer np = (lua_Integer)lua_rawlen(L, 10);
    if (np > 64)
        return luaL_error(L, "%s: %I paths (at most 64)", fn, np);
    nnl_plot_path *paths = temp(L, (size_t)np, sizeof *paths);
    for (lua_Integer p = 1; p <= np; p++) {
        luaL_checkstack(L, 6, "too many paths");
        if (lua_rawgeti(L, 10, p) != LUA_TTABLE)
            return luaL_error(L, "%s: path %I must be a table", fn, p);
        int t = lua_gettop(L);
        nnl_plot_path *q = &paths[p - 1];
        lua_getfield(L, t, "name");
        q->name = check_text(L, -1, fn, "a path's name");
        lua_pop(L, 1); /* the path table keeps it alive */
        size_t n2;
        lua_getfield(L, t, "w1");
        q->w1 = check_numbers(L, -1, &q->n, MAX_POINTS, fn, "a path's w1");
        lua_getfield(L, t, "w2");
        q->w2 = check_numbers(L, -1, &n2, MAX_POINTS, fn, "a path's w2");
        if (n2 != q->n)
            return luaL_error(L, "%s: path %I has %d w1 and %d w2 values", fn, p, (int)q->n,
                              (int)n2);
        /* keep the two arrays on the stack (path, w1 list, w1 array, w2
         * list, w2 array: the lists and the path go) */
        lua_replace(L, t + 3);
        lua_remove(L, t + 1);
        lua_remove(L, t);
    }
    s.paths = paths;
    s.np = (int)np;
    s.logscale = lua_isnoneornil(L, 11) ? -1 : lua_toboolean(L, 11);
    if (lua_istable(L, 12)) {
        const char **dst[4] = {&s.title, &s.xlabel, &s.ylabel, &s.zlabel};
        static const char *const keys[4] = {"title", "xlabel", "ylabel", "zlabel"};
        for (int i = 0; i < 4; i++) {
            lua_getfield(L, 12, keys[i]);
            *dst[i] = check_text(L, -1, fn, keys[i]);
            lua_pop(L, 1); /* the labels table keeps it alive */
        }
        lua_getfield(L, 12, "mark_name");
        s.mark_name = check_text(L, -1, fn, "mark_name");
        lua_pop(L, 1);
        if (s.mark_name) {
            lua_getfield(L, 12, "mark_x");
            lua_getfield(L, 12, "mark_y");
            s.mark_x = luaL_checknumber(L, -2);
            s.mark_y = luaL_checknumber(L, -1);
            lua_pop(L, 2);
        }
    }
    nnl_pbuf b;
    nnl_error err;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_surface(&b, &o, &s, &err);
    return finish(L, &b, st, &o, fn, &err);
}

static const luaL_Reg plot_funcs[] = {
    {"_history", l_history},     {"_lines", l_lines},     {"_panels", l_panels},     {"_scatter", l_scatter},
    {"_hist", l_hist},           {"_weights", l_weights}, {"_confusion", l_confusion},
    {"_regions", l_regions},     {"_network", l_network}, {"_graph", l_graph}, {"_session", l_session},
    {"_filters", l_filters},     {"_maps", l_maps},
    {"_history_last", l_history_last},
    {"_neurons", l_neurons},
    {"_gnuplot", l_gnuplot},     {"_clock", l_clock},
    {"_check_opts", l_check_opts},
    {"_window", l_window},
    {"_surface", l_surface},
    {"_animation", l_animation}, {"_script_last", l_script_last},
    {NULL, NULL},
};

void nnl_open_plot(lua_State *L)
{
    luaL_newmetatable(L, SESSION_MT);
    lua_pushcfunction(L, session_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, session_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, session_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, session_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, plot_funcs);
    lua_setfield(L, -2, "plot");
}
