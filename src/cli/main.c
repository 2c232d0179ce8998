/* The nnlua program: Lua 5.4 with nn preloaded, run the way lua5.4 runs
 *
 *   nnlua [options] [script [args]]
 *
 * Its shape follows lua.c: main only makes the state and runs pmain in
 * protected mode; options are collected first, then run in order; errors
 * print as "nnlua: message" with a traceback and exit with status 1;
 * Ctrl-C never touches the state from the signal handler but sets a hook
 * that raises "interrupted!" at the next Lua instruction (and the flag that
 * C loops such as fit poll; see core/interrupt.h for how the two meet). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind/lnn.h"
#include "dist/dist.h"
#include "cli/cli.h"
#include "core/interrupt.h"
#include "core/threads.h"
#include "simd/dispatch.h"

static lua_State *globalL;

static void print_usage(FILE *f, const char *badoption)
{
    if (badoption) {
        if (badoption[1] == 'e' || badoption[1] == 'l')
            fprintf(f, "%s: '%s' needs argument\n", NNL_PROGNAME, badoption);
        else
            fprintf(f, "%s: unrecognized option '%s'\n", NNL_PROGNAME, badoption);
    }
    fprintf(f,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information (and the instruction set in use)\n"
            "  -E        ignore environment variables LUA_INIT, LUA_PATH, LUA_CPATH\n"
            "  -W        turn warnings on\n"
            "  -h, --help show this help\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n"
            "With no script, %s starts the REPL. Environment: NNLUA_ISA, NNLUA_THREADS,\n"
            "NNLUA_GNUPLOT, NNLUA_DATA. See docs/cli.md.\n",
            NNL_PROGNAME, NNL_PROGNAME);
}

void nnl_cli_message(const char *msg)
{
    /* In an MPI job every rank's messages land in one terminal: say whose. */
    if (nnl_dist_size() > 1)
        fprintf(stderr, "%s: rank %d of %d: %s\n", NNL_PROGNAME, nnl_dist_rank(),
                nnl_dist_size(), msg);
    else
        fprintf(stderr, "%s: %s\n", NNL_PROGNAME, msg);
    fflush(stderr);
}

int nnl_cli_report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        nnl_cli_message(msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

/* Message handler: adds a traceback to the error message, unless it has
 * one: an error in a fit callback carries the traceback from the hook
 * (taken where it happened, through fit), which already goes down to the
 * main chunk; a second one would repeat its lower half. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (strstr(msg, "\nstack traceback:\n"))
        return 1;
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Hook set by the SIGINT handler: raises the interrupt at a safe point,
 * unless C code that polls the flag has already handled it (cleared it). */
static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    if (!nnl_interrupt_requested())
        return;
    nnl_interrupt_clear();
    luaL_error(L, "interrupted!");
}

static void set_sigint(void (*handler)(int));

/* Only async-signal-safe work here: flags and lua_sethook (which Lua
 * documents as safe to call from a signal handler). */
static void on_sigint(int sig)
{
    (void)sig;
    if (nnl_repl_on_sigint())
        return;
    nnl_interrupt_request();
    if (globalL)
        lua_sethook(globalL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void nnl_cli_set_sigint(int on)
{
    set_sigint(on ? on_sigint : SIG_DFL);
}

static void set_sigint(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa); /* no SA_RESTART: Ctrl-C ends a waiting read */
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int nnl_cli_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    globalL = L;
    nnl_interrupt_clear();
    set_sigint(on_sigint);
    int status = lua_pcall(L, narg, nres, base);
    set_sigint(SIG_DFL);
    lua_sethook(L, NULL, 0, 0); /* a late Ctrl-C must not fire later */
    lua_remove(L, base);
    return status;
}

void nnl_cli_print_version(void)
{
    printf("%s %s (%s), %s, %d thread%s\n", NNL_PROGNAME, NNL_VERSION, LUA_RELEASE,
           nnl_isa_name(nnl_isa_active()), nnl_threads_get(), nnl_threads_get() == 1 ? "" : "s");
    fflush(stdout);
}

/* Builds the global arg table: arg[0] is the script, negative indices the
 * interpreter and its options, positive the script's arguments. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc)
        script = 0; /* no script: arg[0] is the program name */
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = nnl_cli_docall(L, 0, 0);
    return nnl_cli_report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l [g=]mod: global g (or mod) = require(mod). */
static int dolibrary(lua_State *L, char *globname)
{
    char *modname = strchr(globname, '=');
    if (modname) {
        *modname = '\0';
        modname++;
    } else {
        modname = globname;
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    int status = nnl_cli_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, globname);
    return nnl_cli_report(L, status);
}

/* Pushes the script arguments (after the script name) for `...`. */
static int push_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    int i;
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

static int handle_script(lua_State *L, char **argv)
{
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
        fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_args(L);
        status = nnl_cli_docall(L, n, LUA_MULTRET);
    }
    return nnl_cli_report(L, status);
}

#define has_error 1 /* bad option */
#define has_i 2     /* -i */
#define has_v 4     /* -v */
#define has_e 8     /* -e */
#define has_E 16    /* -E */
#define has_h 32    /* -h */

/* Scans the options; returns the bitmask and sets *first to the index of
 * the script (argc when none) or of the bad option. */
static int collect_args(char **argv, int *first)
{
    int args = 0;
    int i;
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        if (argv[i][0] != '-')
            return args;
        switch (argv[i][1]) {
        case '-':
            if (strcmp(argv[i], "--help") == 0) { /* what users of other programs type */
                args |= has_h;
                break;
            }
            if (argv[i][2] != '\0')
                return has_error;
            *first = i + 1;
            return args;
        case '\0':
            return args; /* "-" is the script: stdin */
        case 'E':
            if (argv[i][2] != '\0')
                return has_error;
            args |= has_E;
            break;
        case 'W':
            if (argv[i][2] != '\0')
                return has_error;
            break;
        case 'i':
            args |= has_i; /* -i implies -v */
            /* fall through */
        case 'v':
            if (argv[i][2] != '\0')
                return has_error;
            args |= has_v;
            break;
        case 'h':
            if (argv[i][2] != '\0')
                return has_error;
            args |= has_h;
            break;
        case 'e':
            args |= has_e;
            /* fall through */
        case 'l':
            if (argv[i][2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-')
                    return has_error;
            }
            break;
        default:
            return has_error;
        }
    }
    *first = i;
    return args;
}

/* Runs -e, -l and -W in order. Returns 0 on the first failure. */
static int run_args(lua_State *L, char **argv, int n)
{
    for (int i = 1; i < n; i++) {
        int option = argv[i][1];
        switch (option) {
        case 'e':
        case 'l': {
            char *extra = argv[i] + 2;
            if (*extra == '\0')
                extra = argv[++i];
            int status = option == 'e' ? dostring(L, extra, "=(command line)")
                                       : dolibrary(L, extra);
            if (status != LUA_OK)
                return 0;
            break;
        }
        case 'W':
            lua_warning(L, "@on", 0);
            break;
        }
    }
    return 1;
}

static int handle_luainit(lua_State *L)
{
    const char *name = "=LUA_INIT_5_4";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, luaL_loadfile(L, init + 1));
    return dostring(L, init, name);
}

/* Loads nn (preloaded for require, and as the global nn). */
static int open_nn(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_nn);
    lua_setfield(L, -2, "nn");
    lua_pop(L, 2);
    luaL_requiref(L, "nn", luaopen_nn, 1);
    lua_pop(L, 1);
    return 0;
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script = 0;
    int args = collect_args(argv, &script);
    luaL_checkversion(L);
    if (args == has_error) {
        print_usage(stderr, argv[script]);
        return 0;
    }
    if (args & has_h) {
        print_usage(stdout, NULL);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (args & has_E) {
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    lua_pushcfunction(L, open_nn);
    if (nnl_cli_report(L, nnl_cli_docall(L, 0, 0)) != LUA_OK)
        return 0;
    create_arg_table(L, argv, argc, script);
    lua_gc(L, LUA_GCRESTART);
    /* Incremental, not lua.c's generational: see pace_collector in
     * src/bind/lnn.c. */
    lua_gc(L, LUA_GCINC, 0, 0, 0);
    if (args & has_v)
        nnl_cli_print_version();
    if (!(args & has_E) && handle_luainit(L) != LUA_OK)
        return 0;
    if (!run_args(L, argv, script))
        return 0;
    if (script < argc && handle_script(L, argv + script) != LUA_OK)
        return 0;
    if (args & has_i) {
        nnl_repl_run(L);
    } else if (script == argc && !(args & (has_e | has_v))) {
        if (isatty(0)) {
            nnl_cli_print_version();
            nnl_repl_run(L);
        } else {
            dochunk(L, luaL_loadfile(L, NULL)); /* script from piped stdin */
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Before the state closes: waits for LivePlots still drawing their last
 * frame (nn.plot._settle) as a protected call with the Ctrl-C handler
 * installed, so a Ctrl-C there stops the wait and kills gnuplot instead of
 * killing us and leaving gnuplot behind. Every such wait has a deadline
 * anyway (NNLUA_GNUPLOT_TIMEOUT). */
static void settle_plots(lua_State *L)
{
    lua_settop(L, 0);
    /* No libraries (nnlua -h, an early error): nothing to wait for. */
    if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) == LUA_TTABLE &&
        lua_getfield(L, -1, "nn") == LUA_TTABLE && lua_getfield(L, -1, "plot") == LUA_TTABLE &&
        lua_getfield(L, -1, "_settle") == LUA_TFUNCTION) {
        if (nnl_cli_docall(L, 0, 0) != LUA_OK)
            nnl_cli_report(L, LUA_ERRRUN);
    }
    lua_settop(L, 0);
}

int main(int argc, char **argv)
{
    /* A write to a pipe whose reader has gone, or past the file size limit
     * (ulimit -f), fails with EPIPE / EFBIG, which every nn write checks
     * and reports ("cannot write 'x': File too large"); the default actions
     * killed nnlua without a word and lost the save's error. Children
     * (gnuplot) get the default actions back (plot/gnuplot_child.c). */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    /* Tensors of a step (a custom loop's activations and gradients, 100 KB
     * to a few MB) are freed and made again every step. glibc hands blocks
     * that large back to the kernel (mmap, heap trim) and takes them again
     * with a page fault per 4 KB: at the MLP's batch size that was most of
     * a Lua loop's time. Keeping them in the heap is the allocator advice
     * PyTorch's CPU tuning guide gives (bench/train_torch.py runs so); the
     * peak memory is the same. NNLUA_MALLOC_DEFAULT=1 keeps glibc's own. */
    if (!getenv("NNLUA_MALLOC_DEFAULT")) {
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        nnl_cli_message("cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int result = lua_toboolean(L, -1);
    nnl_cli_report(L, status);
    settle_plots(L);
    lua_close(L);
    int ok = result && status == LUA_OK;
    /* A rank that failed ends the whole job at once (the others may be
     * waiting for it in a collective); one that finished tells the others
     * and waits for them (dist.h). */
    if (!ok)
        nnl_dist_abort(EXIT_FAILURE);
    nnl_dist_finish();
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
