/* model:fit(x, y, opts) -> History: runs nnl_model_fit (whole epochs in C)
 * with C callbacks that draw the progress (verbose 1: a Keras-style bar
 * redrawn in place on a terminal; 2: one line per epoch) and call the Lua
 * callbacks' hooks. A Lua error in a hook is caught (with its traceback),
 * stops fit cleanly, and is raised again once fit has returned, so the
 * model stays consistent. Ctrl-C during fit (a SIGINT handler installed
 * for its duration) stops after the current batch; a second Ctrl-C before
 * that goes to the program's usual action. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind/lnn.h"
#include "bind/lnn_model.h"
#include "core/interrupt.h"
#include "model/fit.h"

typedef struct fit_ctx {
    lua_State *L;
    int model;                    /* stack index of the model */
    int cbs;                      /* stack index of the callbacks list */
    int err_slot;                 /* stack index that receives a Lua error */
    int extra;                    /* stack index of {key = {[record] = value}}:
                                     numbers callbacks added to epoch logs */
    size_t nrec;                  /* epochs recorded so far */
    int verbose;
    int tty;
    int want_batch;               /* some callback has batch hooks */
    nnl_fit_info info;
    double t_epoch, t_last_draw;
    size_t epoch;
    size_t batch;                 /* batches run in the current epoch */
} fit_ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void push_logs(lua_State *L, const nnl_logs *logs)
{
    lua_createtable(L, 0, (int)logs->n);
    for (size_t i = 0; i < logs->n; i++) {
        lua_pushnumber(L, logs->values[i]);
        lua_setfield(L, -2, logs->names[i]);
    }
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls hook `name` of every callback with nargs arguments taken from the
 * top of the stack (which are popped). Returns NNL_CB_ERROR with the error
 * object stored in err_slot, NNL_CB_STOP when model.stop_training was set,
 * else NNL_CB_CONTINUE. */
static nnl_cb_result call_hooks(fit_ctx *c, const char *name, int nargs, nnl_error *err)
{
    lua_State *L = c->L;
    int base = lua_gettop(L) - nargs;
    lua_Integer n = luaL_len(L, c->cbs);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, c->cbs, i);
        if (lua_getfield(L, -1, name) == LUA_TNIL) {
            lua_pop(L, 2);
            continue;
        }
        lua_remove(L, -2);
        lua_pushcfunction(L, traceback);
        lua_insert(L, -2);
        int h = lua_gettop(L) - 1;
        for (int a = 1; a <= nargs; a++)
            lua_pushvalue(L, base + a);
        if (lua_pcall(L, nargs, 0, h) != LUA_OK) {
            lua_replace(L, c->err_slot);
            lua_settop(L, base);
            nnl_fail(err, NNL_ERR_ARG, "callback %s failed", name);
            return NNL_CB_ERROR;
        }
        lua_pop(L, 1);
    }
    lua_settop(L, base);
    nnl_lmodel *h = lua_touserdata(L, c->model);
    return h->m->stop_training ? NNL_CB_STOP : NNL_CB_CONTINUE;
}

static int has_hook(lua_State *L, int cbs, const char *name)
{
    lua_Integer n = luaL_len(L, cbs);
    int found = 0;
    for (lua_Integer i = 1; i <= n && !found; i++) {
        lua_geti(L, cbs, i);
        found = lua_getfield(L, -1, name) != LUA_TNIL;
        lua_pop(L, 2);
    }
    return found;
}

/* " - loss: 0.1234 - accuracy: 0.9000" into buf, skipping val_ keys
 * unless all is set. */
static void format_logs(char *buf, size_t size, const nnl_logs *logs, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, " - %s: %.4f", logs->names[i],
                                 logs->values[i]);
}

static void format_time(char *buf, size_t size, double s)
{
    if (s >= 3600)
        snprintf(buf, size, "%d:%02d:%02d", (int)(s / 3600), (int)fmod(s / 60, 60),
                 (int)fmod(s, 60));
    else if (s >= 60)
        snprintf(buf, size, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
    else if (s >= 1)
        snprintf(buf, size, "%ds", (int)s);
    else if (s >= 1e-3)
        snprintf(buf, size, "%dms", (int)(s * 1000));
    else
        snprintf(buf, size, "%dus", (int)(s * 1e6)); /* Keras: per-step times */
}

static void draw_bar(fit_ctx *c, size_t batch, const nnl_logs *logs, size_t nlogs,
                     int final)
{
    size_t total = c->info.batches;
    char bar[32], stats[512], t[32];
    size_t width = 30, done = total ? batch * width / total : width;
    for (size_t i = 0; i < width; i++)
        bar[i] = i < done ? '=' : '.';
    if (done < width && done > 0)
        bar[done - 1] = '>';
    bar[width] = '\0';
    format_logs(stats, sizeof stats, logs, nlogs);
    double el = now() - c->t_epoch;
    int w = snprintf(NULL, 0, "%zu", total);
    if (final) {
        format_time(t, sizeof t, el);
        char per[32];
        format_time(per, sizeof per, el / (double)(batch ? batch : 1));
        printf("%s%*zu/%zu [%s] - %s %s/step%s%s\n", c->tty ? "\r" : "", w, batch, total,
               bar, t, per, stats, c->tty ? "\033[K" : "");
    } else {
        format_time(t, sizeof t, batch ? el / (double)batch * (double)(total - batch) : 0);
        printf("\r%*zu/%zu [%s] - ETA: %s%s\033[K", w, batch, total, bar, t, stats);
    }
    fflush(stdout);
}

static nnl_cb_result cb_train_begin(void *ud, const nnl_fit_info *info, nnl_error *err)
{
    fit_ctx *c = ud;
    c->info = *info;
    lua_newtable(c->L);
    return call_hooks(c, "on_train_begin", 1, err);
}

static nnl_cb_result cb_epoch_begin(void *ud, size_t epoch, nnl_error *err)
{
    fit_ctx *c = ud;
    c->epoch = epoch;
    c->batch = 0;
    c->t_epoch = now();
    c->t_last_draw = 0;
    if (c->verbose == 1) {
        printf("Epoch %zu/%zu\n", epoch, c->info.epochs);
        fflush(stdout);
    }
    lua_pushinteger(c->L, (lua_Integer)epoch);
    lua_newtable(c->L);
    return call_hooks(c, "on_epoch_begin", 2, err);
}

static nnl_cb_result cb_batch_begin(void *ud, size_t epoch, size_t batch, nnl_error *err)
{
    fit_ctx *c = ud;
    if (!c->want_batch)
        return NNL_CB_CONTINUE;
    lua_pushinteger(c->L, (lua_Integer)batch);
    lua_newtable(c->L);
    return call_hooks(c, "on_batch_begin", 2, err);
}

static nnl_cb_result cb_batch_end(void *ud, size_t epoch, size_t batch,
                                  const nnl_logs *logs, nnl_error *err)
{
    fit_ctx *c = ud;
    c->batch = batch;
    size_t ntrain = logs->n;
    for (size_t i = 0; i < logs->n; i++)
        if (strncmp(logs->names[i], "val_", 4) == 0) {
            ntrain = i;
            break;
        }
    if (c->verbose == 1 && c->tty && batch < c->info.batches) {
        double t = now();
        if (t - c->t_last_draw > 0.05 || batch == 1) {
            draw_bar(c, batch, logs, ntrain, 0);
            c->t_last_draw = t;
        }
    }
    if (!c->want_batch)
        return NNL_CB_CONTINUE;
    lua_pushinteger(c->L, (lua_Integer)batch);
    nnl_logs l = *logs;
    l.n = ntrain;
    push_logs(c->L, &l);
    return call_hooks(c, "on_batch_end", 2, err);
}

static int has_key(const nnl_logs *logs, const char *k)
{
    for (size_t i = 0; i < logs->n; i++)
        if (strcmp(logs->names[i], k) == 0)
            return 1;
    return 0;
}

static nnl_cb_result cb_epoch_end(void *ud, size_t epoch, const nnl_logs *logs,
                                  nnl_error *err)
{
    fit_ctx *c = ud;
    if (c->verbose == 1) {
        draw_bar(c, c->batch, logs, logs->n, 1); /* fewer batches when stopped */
    } else if (c->verbose == 2) {
        char stats[512], t[32];
        format_logs(stats, sizeof stats, logs, logs->n);
        format_time(t, sizeof t, now() - c->t_epoch);
        printf("Epoch %zu/%zu - %s%s\n", epoch, c->info.epochs, t, stats);
        fflush(stdout);
    }
    /* As in Keras, the hooks share one logs table, and numbers they add to
     * it (LearningRateScheduler's learning_rate, a custom metric) are
     * recorded in the history too. */
    lua_State *L = c->L;
    push_logs(L, logs);
    int keep = lua_gettop(L);
    lua_pushinteger(L, (lua_Integer)epoch);
    lua_pushvalue(L, keep);
    nnl_cb_result r = call_hooks(c, "on_epoch_end", 2, err);
    size_t rec = ++c->nrec;
    if (r != NNL_CB_ERROR) {
        lua_pushnil(L);
        while (lua_next(L, keep)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER &&
                !has_key(logs, lua_tostring(L, -2))) {
                lua_pushvalue(L, -2);
                if (lua_rawget(L, c->extra) != LUA_TTABLE) {
                    lua_pop(L, 1);
                    lua_newtable(L);
                    lua_pushvalue(L, -3);
                    lua_pushvalue(L, -2);
                    lua_rawset(L, c->extra);
                }
                lua_pushvalue(L, -2);
                lua_rawseti(L, -2, (lua_Integer)rec);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, keep - 1);
    return r;
}

static nnl_cb_result cb_train_end(void *ud, const nnl_logs *logs, nnl_error *err)
{
    fit_ctx *c = ud;
    push_logs(c->L, logs);
    return call_hooks(c, "on_train_end", 1, err);
}

/* The SIGINT action fit replaced, put back by a second Ctrl-C. */
static struct sigaction fit_old_sigint;

/* The first Ctrl-C only sets the flag: fit stops after the current batch.
 * A second one before fit has seen the first (a stuck Lua callback) goes
 * to the program's own action (the REPL's or lua.c's "interrupted!", or
 * the default), so it is never lost. Async-signal-safe calls only. */
static void on_sigint(int sig)
{
    if (nnl_interrupt_requested()) {
        sigaction(SIGINT, &fit_old_sigint, NULL);
        raise(sig); /* delivered to that action when this handler returns */
        return;
    }
    nnl_interrupt_request();
}

static const char *const fit_opts[] = {
    "epochs", "batch_size", "shuffle", "validation_split", "validation_data", "verbose",
    "callbacks", "initial_epoch", NULL,
};

/* Builds the History table from h (and the keys callbacks added to the
 * epoch logs): {history = {key = {...}}, epoch = {...},
 * params = {epochs, batch_size, steps, verbose}} with the History
 * metatable from lua/ (nn.History). */
static void push_history(lua_State *L, const nnl_history *h, const nnl_fit_opts *o,
                         const fit_ctx *c, int model)
{
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, (int)h->nkeys);
    for (size_t k = 0; k < h->nkeys; k++) {
        lua_createtable(L, (int)h->nepochs, 0);
        for (size_t e = 0; e < h->nepochs; e++) {
            lua_pushnumber(L, h->values[e * h->nkeys + k]);
            lua_rawseti(L, -2, (lua_Integer)e + 1);
        }
        lua_setfield(L, -2, h->keys[k]);
    }
    lua_pushnil(L);
    while (lua_next(L, c->extra)) { /* keys callbacks added to the logs */
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_setfield(L, -2, "history");
    lua_createtable(L, (int)h->nepochs, 0);
    for (size_t e = 0; e < h->nepochs; e++) {
        lua_pushinteger(L, (lua_Integer)h->epochs[e]);
        lua_rawseti(L, -2, (lua_Integer)e + 1);
    }
    lua_setfield(L, -2, "epoch");
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)o->epochs);
    lua_setfield(L, -2, "epochs");
    lua_pushinteger(L, (lua_Integer)o->batch_size);
    lua_setfield(L, -2, "batch_size");
    lua_pushinteger(L, (lua_Integer)c->info.batches); /* Keras: steps per epoch */
    lua_setfield(L, -2, "steps");
    lua_pushinteger(L, c->verbose);
    lua_setfield(L, -2, "verbose");
    lua_setfield(L, -2, "params");
    lua_pushboolean(L, h->interrupted);
    lua_setfield(L, -2, "interrupted");
    lua_pushboolean(L, h->stopped);
    lua_setfield(L, -2, "stopped");
    lua_pushvalue(L, model);
    lua_setfield(L, -2, "model");
    lua_getglobal(L, "nn");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "History") == LUA_TTABLE) {
        lua_setmetatable(L, -3);
        lua_pop(L, 1);
    } else {
        lua_pop(L, lua_istable(L, -1) ? 2 : 1);
    }
}

int nnl_lua_model_fit(lua_State *L)
{
    const char *fn = "fit";
    nnl_lmodel *h = nnl_lua_checkmodel(L, 1);
    if (h->in_fit)
        return luaL_error(L, "fit: already running (called from a callback)");
    lua_settop(L, 4);
    if (lua_isnoneornil(L, 2))
        return luaL_error(L, "fit: x is required: model:fit(x, y, {epochs = ...})");
    if (lua_isnoneornil(L, 3))
        return luaL_error(L, "fit: y is required: model:fit(x, y, {epochs = ...})");
    nnl_tensor *x = nnl_lua_totensor(L, 2), *y = nnl_lua_totensor(L, 3);
    if (!x || !y) {
        /* Lua tables of numbers become tensors through nn.tensor. */
        lua_getglobal(L, "nn");
        for (int i = 2; i <= 3; i++) {
            if (nnl_lua_totensor(L, i))
                continue;
            if (!lua_istable(L, i))
                return luaL_error(L, "fit: %s must be an nn.Tensor, got %s",
                                  i == 2 ? "x" : "y", luaL_typename(L, i));
            lua_getfield(L, -1, "tensor");
            lua_pushvalue(L, i);
            lua_call(L, 1, 1);
            lua_replace(L, i);
        }
        lua_pop(L, 1);
        x = nnl_lua_checktensor(L, 2);
        y = nnl_lua_checktensor(L, 3);
    }
    nnl_lua_check_options(L, 4, fn, fit_opts);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = (size_t)nnl_lua_opt_int(L, 4, "epochs", fn, 1, 0);
    o.batch_size = (size_t)nnl_lua_opt_int(L, 4, "batch_size", fn, 32, 1);
    o.initial_epoch = (size_t)nnl_lua_opt_int(L, 4, "initial_epoch", fn, 0, 0);
    o.shuffle = nnl_lua_opt_bool(L, 4, "shuffle", fn, 1);
    o.validation_split = nnl_lua_opt_num(L, 4, "validation_split", fn, 0.0);
    if (!(o.validation_split >= 0.0 && o.validation_split < 1.0)) {
        lua_getfield(L, 4, "validation_split");
        return luaL_error(L, "fit: option 'validation_split' must be in [0, 1), got %s",
                          luaL_tolstring(L, -1, NULL));
    }
    int tty = isatty(fileno(stdout));
    lua_Integer verbose = nnl_lua_opt_int(L, 4, "verbose", fn, tty ? 1 : 2, 0);
    if (verbose > 2)
        return luaL_error(L, "fit: option 'verbose' must be 0, 1 or 2, got %d", (int)verbose);
    /* validation_data = {x, y} */
    lua_settop(L, 4);
    if (lua_istable(L, 4) && lua_getfield(L, 4, "validation_data") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            return luaL_error(L, "fit: option 'validation_data' must be {x, y}, got %s",
                              luaL_typename(L, -1));
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        o.val_x = nnl_lua_totensor(L, -2);
        o.val_y = nnl_lua_totensor(L, -1);
        if (!o.val_x || !o.val_y)
            return luaL_error(L, "fit: option 'validation_data' must be {x, y} of "
                              "nn.Tensor");
        lua_remove(L, -3); /* the {x, y} table; x and y stay */
    }
    /* Slots 5, 6 for now: the validation tensors (or nils), kept on the
     * stack for the whole of fit (moved to 8, 9 below): a callback could
     * empty the options table, and a collection would then free tensors
     * fit still reads. */
    if (!o.val_x) {
        lua_settop(L, 4);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    lua_settop(L, 6);
    /* Stack: 5 callbacks list, 6 error slot, 7 keys callbacks add to epoch
     * logs (after the rotation below; pushed at 7, 8, 9 first). */
    if (lua_istable(L, 4))
        lua_getfield(L, 4, "callbacks");
    else
        lua_pushnil(L);
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return luaL_error(L, "fit: option 'callbacks' must be a list of callback "
                              "tables, got %s", luaL_typename(L, -1));
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, -1, i) != LUA_TTABLE)
                return luaL_error(L, "fit: callbacks[%d] must be a table with hooks "
                                  "(on_epoch_end, ...), got %s", (int)i,
                                  luaL_typename(L, -1));
            lua_pushvalue(L, 1);
            lua_setfield(L, -2, "model"); /* Keras: callback.model */
            lua_pop(L, 1);
        }
    } else {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_pushnil(L);
    lua_newtable(L);
    lua_rotate(L, 5, -2); /* the validation tensors to 8, 9 */
    fit_ctx c;
    memset(&c, 0, sizeof c);
    c.L = L;
    c.model = 1;
    c.cbs = 5;
    c.err_slot = 6;
    c.extra = 7;
    c.verbose = (int)verbose;
    c.tty = tty;
    c.want_batch = has_hook(L, 5, "on_batch_end") || has_hook(L, 5, "on_batch_begin");
    nnl_fit_callbacks cb = {&c, cb_train_begin, cb_epoch_begin, cb_batch_begin,
                            cb_batch_end, cb_epoch_end, cb_train_end};

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, NULL, &old);
    if (old.sa_handler != on_sigint) /* not a fit inside another's callback */
        fit_old_sigint = old;
    sigaction(SIGINT, &sa, NULL);
    nnl_history hist;
    nnl_error err;
    h->in_fit = 1;
    nnl_status st = nnl_model_fit(h->m, x, y, &o, &cb, &hist, &err);
    h->in_fit = 0;
    sigaction(SIGINT, &old, NULL);
    if (st != NNL_OK) {
        nnl_history_free(&hist);
        if (!lua_isnil(L, 6)) {
            lua_pushvalue(L, 6);
            return lua_error(L);
        }
        nnl_error e;
        if (strncmp(err.msg, "fit", 3) == 0)
            e = err;
        else
            nnl_fail(&e, err.code, "fit: %s", err.msg);
        return nnl_lua_raise(L, &e);
    }
    if (hist.interrupted && verbose > 0) {
        printf("Interrupted: fit stopped after batch %zu of epoch %zu\n", c.batch, c.epoch);
        fflush(stdout);
    }
    push_history(L, &hist, &o, &c, 1);
    nnl_history_free(&hist);
    return 1;
}
