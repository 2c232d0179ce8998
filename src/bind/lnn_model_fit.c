/* model:fit(x, y, opts) -> History: runs nnl_model_fit (whole epochs in C)
 * with C callbacks that draw the progress (verbose 1: a Keras-style bar
 * redrawn in place on a terminal; 2: one line per epoch) and call the Lua
 * callbacks' hooks. Every call into Lua during training is protected: a
 * Lua error in a hook, in a metamethod of a callback table or from Lua
 * running out of memory is caught (with its traceback), stops fit cleanly,
 * and is raised again once fit has returned, so the model stays
 * consistent. A guard on the stack (a to-be-closed value) undoes what fit
 * set up (the "fit is running" mark, the SIGINT handler, the history) on
 * every way out, errors included. The tensors fit reads stay valid if a
 * callback closes them: their handles are in fit's frame, so close leaves
 * the memory to the collector (nnl_lua_in_use). Ctrl-C during fit (a SIGINT handler installed
 * for its duration) stops after the current batch; a second Ctrl-C before
 * that goes to the program's usual action. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind/lnn.h"
#include "dist/dist.h"
#include "bind/lnn_model.h"
#include "core/interrupt.h"
#include "model/fit.h"

typedef struct fit_ctx {
    lua_State *L;
    nnl_model *m;                 /* the model being trained: its handle is
                                     at stack index 1 and keeps the model
                                     while in_fit, so m stays valid */
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

/* One call of a hook on every callback, as run_hooks makes it. */
typedef struct hook_job {
    const char *name;             /* "on_epoch_end", ... */
    lua_Integer num;              /* the epoch or batch number; < 0: none */
    const nnl_logs *logs;         /* entries [0, nlogs) as the logs table;
                                     NULL: an empty table */
    size_t nlogs;
    size_t record;                /* > 0: record numbers the hooks added to
                                     the logs as epoch `record` of extra */
    const nnl_fit_info *info;     /* non-NULL (on_train_begin): set
                                     cb.params from it on every callback */
    int verbose;
} hook_job;

/* Sets cb.params = {epochs, initial_epoch, batch_size, steps, verbose} on
 * every callback, as Keras's set_params does: what a schedule needs to
 * know of the fit before its first batch (the steps per epoch, which
 * only fit computes). A fresh table per callback, so one callback
 * changing its own cannot mislead another. */
static void set_params(lua_State *L, int cbs, const hook_job *j)
{
    lua_Integer n = luaL_len(L, cbs);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, cbs, i);
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, (lua_Integer)j->info->epochs);
        lua_setfield(L, -2, "epochs");
        lua_pushinteger(L, (lua_Integer)j->info->initial_epoch);
        lua_setfield(L, -2, "initial_epoch");
        lua_pushinteger(L, (lua_Integer)j->info->batch_size);
        lua_setfield(L, -2, "batch_size");
        lua_pushinteger(L, (lua_Integer)j->info->batches);
        lua_setfield(L, -2, "steps");
        lua_pushinteger(L, j->verbose);
        lua_setfield(L, -2, "verbose");
        lua_setfield(L, -2, "params");
        lua_pop(L, 1);
    }
}

/* run_hooks(job, callbacks, extra, model): builds the arguments of job's hook
 * (the number, the logs table) and calls that hook of every callback; then
 * records the numbers hooks added to the logs. Run under lua_pcall by
 * call_hooks, so that nothing here (a hook's error, a metamethod of a
 * callback table, a memory error) can jump over fit's C frames. */
static int run_hooks(lua_State *L)
{
    const hook_job *j = lua_touserdata(L, 1);
    const int cbs = 2, extra = 3, model = 4;
    lua_settop(L, 4);
    if (j->info)
        set_params(L, cbs, j);
    if (j->record) {
        /* model.epochs_done counts the epochs fit has done (saved in model
         * files), so fit{initial_epoch = m.epochs_done} resumes; set before
         * the hooks, which may save the model */
        lua_getiuservalue(L, model, 2);
        if (lua_istable(L, -1)) {
            lua_pushinteger(L, j->num);
            lua_setfield(L, -2, "epochs_done");
        }
        lua_pop(L, 1);
    }
    int nargs = 0;
    if (j->num >= 0) {
        lua_pushinteger(L, j->num);
        nargs++;
    }
    lua_createtable(L, 0, j->logs ? (int)j->nlogs : 0);
    int logs = lua_gettop(L);
    for (size_t i = 0; j->logs && i < j->nlogs; i++) {
        lua_pushnumber(L, j->logs->values[i]);
        lua_setfield(L, logs, j->logs->names[i]);
    }
    nargs++;
    lua_Integer n = luaL_len(L, cbs);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, cbs, i);
        if (lua_getfield(L, -1, j->name) == LUA_TNIL) {
            lua_pop(L, 2);
            continue;
        }
        lua_remove(L, -2);
        for (int a = 0; a < nargs; a++)
            lua_pushvalue(L, 5 + a);
        lua_call(L, nargs, 0);
    }
    if (!j->record)
        return 0;
    /* As in Keras, the hooks share one logs table, and numbers they add to
     * it (LearningRateScheduler's learning_rate, a custom metric) are
     * recorded in the history too. */
    lua_pushnil(L);
    while (lua_next(L, logs)) {
        int known = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (size_t i = 0; i < j->nlogs && !known; i++)
                known = strcmp(j->logs->names[i], lua_tostring(L, -2)) == 0;
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER && !known) {
            lua_pushvalue(L, -2);
            if (lua_rawget(L, extra) != LUA_TTABLE) {
                lua_pop(L, 1);
                lua_newtable(L);
                lua_pushvalue(L, -3);
                lua_pushvalue(L, -2);
                lua_rawset(L, extra);
            }
            lua_pushvalue(L, -2);
            lua_rawseti(L, -2, (lua_Integer)j->record);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* Runs job under lua_pcall. Returns NNL_CB_ERROR with the error object in
 * err_slot, NNL_CB_STOP when model.stop_training was set, else
 * NNL_CB_CONTINUE. Never raises: nothing here allocates outside the
 * protected call. */
static nnl_cb_result call_hooks(fit_ctx *c, const hook_job *job, nnl_error *err)
{
    lua_State *L = c->L;
    int base = lua_gettop(L);
    if (!lua_checkstack(L, 8)) {
        nnl_fail(err, NNL_ERR_NOMEM, "callback %s: out of Lua stack", job->name);
        return NNL_CB_ERROR;
    }
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, run_hooks);
    lua_pushlightuserdata(L, (void *)job);
    lua_pushvalue(L, c->cbs);
    lua_pushvalue(L, c->extra);
    lua_pushvalue(L, c->model);
    if (lua_pcall(L, 4, 0, base + 1) != LUA_OK) {
        lua_replace(L, c->err_slot);
        lua_settop(L, base);
        nnl_fail(err, NNL_ERR_ARG, "callback %s failed", job->name);
        return NNL_CB_ERROR;
    }
    lua_settop(L, base);
    return c->m->stop_training ? NNL_CB_STOP : NNL_CB_CONTINUE;
}

/* Whether some callback has hook `name`. The lookups may run metamethods;
 * called before training starts, where an error simply ends fit. */
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
    c->info.warning = NULL; /* the text lives in fit's frame only */
    if (info->warning && nnl_dist_rank() == 0) {
        fflush(stdout);
        fprintf(stderr, "fit: warning: %s\n", info->warning);
    }
    hook_job j = {"on_train_begin", -1, NULL, 0, 0, &c->info, c->verbose};
    return call_hooks(c, &j, err);
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
    hook_job j = {"on_epoch_begin", (lua_Integer)epoch, NULL, 0, 0, NULL, 0};
    return call_hooks(c, &j, err);
}

static nnl_cb_result cb_batch_begin(void *ud, size_t epoch, size_t batch, nnl_error *err)
{
    fit_ctx *c = ud;
    if (!c->want_batch)
        return NNL_CB_CONTINUE;
    hook_job j = {"on_batch_begin", (lua_Integer)batch, NULL, 0, 0, NULL, 0};
    return call_hooks(c, &j, err);
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
    hook_job j = {"on_batch_end", (lua_Integer)batch, logs, ntrain, 0, NULL, 0};
    return call_hooks(c, &j, err);
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
    hook_job j = {"on_epoch_end", (lua_Integer)epoch, logs, logs->n, ++c->nrec, NULL, 0};
    return call_hooks(c, &j, err);
}

static nnl_cb_result cb_train_end(void *ud, const nnl_logs *logs, nnl_error *err)
{
    fit_ctx *c = ud;
    hook_job j = {"on_train_end", -1, logs, logs->n, 0, NULL, 0};
    return call_hooks(c, &j, err);
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

/* What fit sets up and must undo on every way out: a userdata on fit's
 * stack marked to be closed (lua_toclose), so Lua runs its __close when fit
 * returns or raises. */
#define FIT_GUARD_MT "nn.FitGuard"

typedef struct fit_guard {
    nnl_lmodel *model;            /* in_fit is set on it; NULL once undone */
    int sigint;                   /* the SIGINT handler is installed */
    struct sigaction old_sigint;  /* the action to put back */
    nnl_history hist;             /* owned; nnl_history_free is idempotent */
} fit_guard;

/* Clears the model's in_fit and puts the SIGINT action back (once). */
static void guard_finish(fit_guard *g)
{
    if (g->model)
        g->model->in_fit = 0;
    g->model = NULL;
    if (g->sigint)
        sigaction(SIGINT, &g->old_sigint, NULL);
    g->sigint = 0;
}

/* __close: everything. The model handle is still on fit's stack then. */
static int guard_close(lua_State *L)
{
    fit_guard *g = luaL_checkudata(L, 1, FIT_GUARD_MT);
    guard_finish(g);
    nnl_history_free(&g->hist);
    return 0;
}

/* __gc: only what it owns (the model may be gone by now); __close has
 * always run before. */
static int guard_gc(lua_State *L)
{
    fit_guard *g = luaL_checkudata(L, 1, FIT_GUARD_MT);
    nnl_history_free(&g->hist);
    return 0;
}

/* Pushes a new guard, marked to be closed. */
static fit_guard *push_guard(lua_State *L)
{
    fit_guard *g = lua_newuserdatauv(L, sizeof *g, 0);
    memset(g, 0, sizeof *g);
    nnl_history_init(&g->hist);
    if (luaL_newmetatable(L, FIT_GUARD_MT)) {
        lua_pushcfunction(L, guard_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
        nnl_lua_protect_metatable(L, -1);
    }
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    return g;
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
    if (!nnl_lua_totensor(L, 2) || !nnl_lua_totensor(L, 3)) {
        /* Lua tables of numbers become tensors through nn.tensor. */
        lua_getglobal(L, "nn");
        for (int i = 2; i <= 3; i++) {
            if (nnl_lua_totensor(L, i))
                continue;
            if (!lua_istable(L, i))
                return luaL_error(L, "fit: %s must be an nn.Tensor, got %s",
                                  i == 2 ? "x" : "y", luaL_typename(L, i));
            if (!lua_istable(L, -1) || lua_getfield(L, -1, "tensor") != LUA_TFUNCTION)
                return luaL_error(L, "fit: %s must be an nn.Tensor (nn.tensor is "
                                  "missing to convert a table)", i == 2 ? "x" : "y");
            lua_pushvalue(L, i);
            lua_call(L, 1, 1);
            lua_replace(L, i);
        }
        lua_pop(L, 1);
    }
    nnl_lua_checktensor(L, 2);
    nnl_lua_checktensor(L, 3);
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
        return luaL_error(L, "fit: option 'verbose' must be 0, 1 or 2, got %I", verbose);

    /* The stack from here: 5 callbacks list, 6 error slot, 7 keys callbacks
     * add to epoch logs, 8 and 9 the validation tensors (or nils), 10 the
     * guard. Everything fit reads stays in this frame for the whole call:
     * a callback could empty the options table, and the collector would
     * then free tensors fit still reads. */
    lua_settop(L, 4);
    if (lua_istable(L, 4))
        lua_getfield(L, 4, "callbacks");
    else
        lua_pushnil(L);
    if (!lua_isnil(L, 5)) {
        if (!lua_istable(L, 5))
            return luaL_error(L, "fit: option 'callbacks' must be a list of callback "
                              "tables, got %s", luaL_typename(L, 5));
        lua_Integer n = luaL_len(L, 5);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 5, i) != LUA_TTABLE)
                return luaL_error(L, "fit: callbacks[%I] must be a table with hooks "
                                  "(on_epoch_end, ...), got %s", i, luaL_typename(L, -1));
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
    if (lua_istable(L, 4) && lua_getfield(L, 4, "validation_data") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            return luaL_error(L, "fit: option 'validation_data' must be {x, y}, got %s",
                              luaL_typename(L, -1));
        lua_geti(L, 8, 1);
        lua_geti(L, 8, 2);
        lua_remove(L, 8); /* the {x, y} table; x and y stay at 8, 9 */
        if (!nnl_lua_totensor(L, 8) || !nnl_lua_totensor(L, 9))
            return luaL_error(L, "fit: option 'validation_data' must be {x, y} of "
                              "nn.Tensor");
    } else {
        lua_settop(L, 7);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    fit_ctx c;
    memset(&c, 0, sizeof c);
    c.L = L;
    c.m = h->m;
    c.model = 1;
    c.cbs = 5;
    c.err_slot = 6;
    c.extra = 7;
    c.verbose = nnl_dist_rank() == 0 ? (int)verbose : 0; /* rank 0 shows the progress */
    c.tty = tty;
    c.want_batch = has_hook(L, 5, "on_batch_end") || has_hook(L, 5, "on_batch_begin");
    fit_guard *g = push_guard(L);
    nnl_fit_callbacks cb = {&c, cb_train_begin, cb_epoch_begin, cb_batch_begin,
                            cb_batch_end, cb_epoch_end, cb_train_end};

    /* Taken after the last Lua code of the setup (metamethods of the
     * options and callbacks may have run), so they are what is open now. */
    nnl_tensor *x = nnl_lua_checktensor(L, 2), *y = nnl_lua_checktensor(L, 3);
    if (!lua_isnil(L, 8)) {
        o.val_x = nnl_lua_totensor(L, 8);
        o.val_y = nnl_lua_totensor(L, 9);
        if (!o.val_x || !o.val_y)
            return luaL_error(L, "fit: a tensor of validation_data is closed");
    }

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, NULL, &old);
    if (old.sa_handler != on_sigint) /* not a fit inside another's callback */
        fit_old_sigint = old;
    g->old_sigint = old;
    g->sigint = 1;
    sigaction(SIGINT, &sa, NULL);
    g->model = h;
    h->in_fit = 1;
    nnl_error err;
    nnl_lhost hc;
    nnl_lua_host_begin(L, 1, &hc);
    nnl_status st = nnl_model_fit(c.m, x, y, &o, &cb, &g->hist, &err);
    nnl_lua_host_end(c.m, &hc);
    guard_finish(g);
    if (st != NNL_OK) {
        if (!lua_isnil(L, 6)) {
            lua_pushvalue(L, 6);
            return lua_error(L);
        }
        return nnl_lua_raise_in(L, "fit", &err);
    }
    if (g->hist.interrupted && verbose > 0 && nnl_dist_rank() == 0) {
        printf("Interrupted: fit stopped after batch %zu of epoch %zu\n", c.batch, c.epoch);
        fflush(stdout);
    }
    push_history(L, &g->hist, &o, &c, 1);
    return 1;
}
