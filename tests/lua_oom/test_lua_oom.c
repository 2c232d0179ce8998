/* Out-of-memory walk of the Lua binding, as Lua's own ltests.c does: a
 * lua_State whose allocator fails its N-th growing allocation and every
 * one after it runs a small script (Sequential, add, compile, fit one
 * epoch, predict, save, load) for N = 0, 1, 2, ... until the script runs
 * to its end with no failure left to inject. Each run may only succeed or
 * fail with Lua's "not enough memory"; it must not crash (ASan build) or
 * leak (every byte given to Lua is back after lua_close; the C core's
 * live allocation count is back; LeakSanitizer), and fit's SIGINT handler
 * must not stay installed.
 *
 * The allocations of opening the state and the nn module (luaopen_nn runs
 * the embedded lua/ sources) are walked too, every STRIDE-th of them by
 * default (NNLUA_LUA_OOM_STRIDE=1 walks them all); the script's are all
 * walked. Built with the binding's objects (tests/tests.cmake), not by the
 * test_*.c glob, which links the C core only. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind/lnn.h"
#include "core/alloc.h"
#include "simd/gemm.h"

#define STRIDE 1

/* Bugs recorded in /work/notes/bugs-hostile.md whose fix is under way in
 * another helper's files: tolerated (and counted) while the flag is 1. */
#define KNOWN_H7_FIT_LONGJMP 0 /* a Lua error inside fit skips fit's cleanup */

#if KNOWN_H7_FIT_LONGJMP
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:nnl_model_fit\n"; }
#endif

typedef struct oom_alloc {
    long countdown;  /* growing allocations left before failing; -1: never */
    int fired;       /* an allocation was refused */
    long count;      /* growing allocations made */
    size_t bytes;    /* bytes held by Lua now */
} oom_alloc;

/* The lua_Alloc: fails growing requests once countdown reaches 0 (as
 * ltests.c's memory limit, shrinking and freeing never fail). */
static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    oom_alloc *a = ud;
    size_t old = ptr ? osize : 0; /* for a new block osize is its type */
    if (nsize == 0) {
        free(ptr);
        a->bytes -= old;
        return NULL;
    }
    if (nsize > old) {
        if (a->countdown == 0) {
            a->fired = 1;
            return NULL;
        }
        if (a->countdown > 0)
            a->countdown--;
        a->count++;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        a->bytes = a->bytes - old + nsize;
    return p;
}

static char dir[256];

static const char script[] =
    "local dir = ...\n"
    "local m = nn.Sequential()\n"
    "m:add(nn.Dense(4, {input_dim = 2, activation = 'relu'}))\n"
    "m:add(nn.Dense(1))\n"
    "m:compile{loss = 'mse', optimizer = 'adam', metrics = {'mae'}}\n"
    "local x, y = nn.rand(8, 2), nn.rand(8, 1)\n"
    "local h = m:fit(x, y, {epochs = 1, batch_size = 4, verbose = 0})\n"
    "assert(#h.history.loss == 1)\n"
    "local p = m:predict(x)\n"
    "m:save(dir .. '/m.safetensors')\n"
    "local m2 = nn.load(dir .. '/m.safetensors')\n"
    "local p2 = m2:predict(x)\n"
    "assert(p2:numel() == 8 and p2:get(3, 1) == p:get(3, 1))\n"
    "nn.save_tensors(dir .. '/t.safetensors', {a = x, b = y}, {k = 'v'})\n"
    "local t, meta = nn.load_tensors(dir .. '/t.safetensors')\n"
    "assert(t.a:get(2, 2) == x:get(2, 2) and t.b:numel() == 8 and meta.k == 'v')\n"
    "return 'done'\n";

/* Runs under lua_pcall: opens the libraries and nn (when open is set:
 * those are the allocations walked first), then the script. */
static int pmain(lua_State *L)
{
    luaL_openlibs(L);
    luaL_requiref(L, "nn", luaopen_nn, 1);
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, script, sizeof script - 1, "=oom_script") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, dir);
    lua_call(L, 1, 1);
    return 1;
}

typedef struct run_result {
    int status;        /* lua_pcall's */
    char msg[512];
    int fired;
    long count;        /* growing allocations of the whole run */
} run_result;

/* One run with the N-th allocation failing (N < 0: none). */
static void run(long n, run_result *r)
{
    oom_alloc a = {n, 0, 0, 0};
    memset(r, 0, sizeof *r);
    lua_State *L = lua_newstate(l_alloc, &a);
    if (!L) {
        assert_true(a.fired);
        r->status = LUA_ERRMEM;
        snprintf(r->msg, sizeof r->msg, "not enough memory (lua_newstate)");
        r->fired = 1;
        assert_int_equal(a.bytes, 0);
        return;
    }
    lua_pushcfunction(L, pmain);
    r->status = lua_pcall(L, 0, 1, 0);
    const char *s = lua_tostring(L, -1);
    snprintf(r->msg, sizeof r->msg, "%s", s ? s : lua_typename(L, lua_type(L, -1)));
    r->fired = a.fired;
    /* Memory is back: the finalizers and lua_close must clean up. */
    a.countdown = -1;
    lua_close(L);
    r->count = a.count;
    if (a.bytes != 0)
        fail_msg("N = %ld: %zu bytes of Lua memory not freed by lua_close", n, a.bytes);
}

static void test_lua_oom_walk(void **state)
{
    (void)state;
    long stride = STRIDE;
    const char *e = getenv("NNLUA_LUA_OOM_STRIDE");
    if (e && atol(e) > 0)
        stride = atol(e);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nnlua-lua-oom-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);

    struct sigaction before;
    sigaction(SIGINT, NULL, &before);

    /* A run with no failure: how many allocations opening takes (the
     * script's are counted from there) and the reference. */
    run_result r;
    run(-1, &r);
    if (r.status != LUA_OK || strcmp(r.msg, "done") != 0)
        fail_msg("the script fails without any failure injected: %s", r.msg);
    long total = r.count;
    {
        oom_alloc a = {-1, 0, 0, 0};
        lua_State *L = lua_newstate(l_alloc, &a);
        assert_non_null(L);
        luaL_openlibs(L);
        luaL_requiref(L, "nn", luaopen_nn, 1);
        long opening = a.count;
        lua_close(L);
        printf("lua oom: %ld allocations in all, %ld of them opening the state and nn\n",
               total, opening);
        fflush(stdout);
        nnl_gemm_release_workspace();
        long base = nnl_alloc_live();
        long runs = 0, memerr = 0, ok = 0, known = 0;
        double t0 = (double)clock() / CLOCKS_PER_SEC;
        /* Every stride-th allocation of opening, then every one after. */
        for (long n = 0;; n = n + stride < opening ? n + stride : n < opening ? opening : n + 1) {
            unlink(path);
            run(n, &r);
            runs++;
            nnl_gemm_release_workspace();
            struct sigaction now;
            sigaction(SIGINT, NULL, &now);
            int leaked = nnl_alloc_live() != base, handler = now.sa_handler != before.sa_handler;
            if (KNOWN_H7_FIT_LONGJMP && (leaked || handler)) {
                if (known++ == 0)
                    printf("lua oom: known bug H7 at N = %ld: %ld C allocations leaked, SIGINT "
                           "handler %s (%s)\n", n, nnl_alloc_live() - base,
                           handler ? "left installed" : "restored", r.msg);
                sigaction(SIGINT, &before, NULL);
                base = nnl_alloc_live();
                leaked = handler = 0;
            }
            if (leaked)
                fail_msg("N = %ld: %ld C allocations leaked (%s)", n, nnl_alloc_live() - base,
                         r.msg);
            if (handler)
                fail_msg("N = %ld: a SIGINT handler is left installed (%s)", n, r.msg);
            if (r.status == LUA_OK) {
                if (strcmp(r.msg, "done") != 0)
                    fail_msg("N = %ld: the script returned '%s'", n, r.msg);
                ok++;
                if (!r.fired)
                    break; /* nothing left to fail */
                continue;
            }
            if (!strstr(r.msg, "not enough memory"))
                fail_msg("N = %ld (of %ld): expected 'not enough memory', got status %d: %s",
                         n, total, r.status, r.msg);
            memerr++;
        }
        printf("lua oom: %ld runs (%ld not enough memory, %ld completed, %ld with the known "
               "bug H7), %.1f s CPU\n", runs, memerr, ok, known,
               (double)clock() / CLOCKS_PER_SEC - t0);
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_oom_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
