/* The nnlua REPL: read a chunk (continuing while it is incomplete), run it,
 * print what it returns.
 *
 * As in lua.c, a line is first tried as `return <line>;` so expressions
 * print their value, then as a statement; a syntax error ending in <eof>
 * means "read another line". Line editing, history (~/.nnlua_history) and
 * tab completion of globals and fields come from GNU readline when the
 * build has it (NNL_HAVE_READLINE), with a plain fgets fallback. Ctrl-C at
 * the prompt abandons the line; during a statement it raises "interrupted!"
 * (main.c) and the session goes on. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "cli/cli.h"

#ifdef NNL_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#define PROMPT1 "> "
#define PROMPT2 ">> "
#define HISTORY_FILE ".nnlua_history"
#define HISTORY_MAX 1000
#define LINE_MAX_FALLBACK 4096

static sigjmp_buf prompt_jump;
static volatile sig_atomic_t at_prompt;

int nnl_repl_on_sigint(void)
{
    if (!at_prompt)
        return 0;
    at_prompt = 0;
    siglongjmp(prompt_jump, 1);
}

/* ---- line input ---- */

#ifdef NNL_HAVE_READLINE
static lua_State *completion_L;
static char history_path[4096];

/* Adds to the list (a Lua table at index list) every string key of the
 * table at index t that starts with prefix; with only_funcs, functions
 * only. Follows __index tables of metatables up to a few levels. */
static void collect_keys(lua_State *L, int t, const char *prefix, size_t plen, int only_funcs,
                         int list, int depth)
{
    if (depth > 4)
        return;
    t = lua_absindex(L, t);
    if (lua_type(L, t) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                const char *k = lua_tostring(L, -2);
                if (strncmp(k, prefix, plen) == 0 &&
                    (!only_funcs || lua_type(L, -1) == LUA_TFUNCTION)) {
                    lua_pushvalue(L, -2);
                    lua_pushboolean(L, lua_type(L, -2) == LUA_TFUNCTION);
                    lua_rawset(L, list);
                }
            }
            lua_pop(L, 1);
        }
    }
    if (lua_getmetatable(L, t)) {
        int mt = lua_gettop(L);
        if (lua_getfield(L, mt, "__index") == LUA_TTABLE)
            collect_keys(L, -1, prefix, plen, only_funcs, list, depth + 1);
        lua_pop(L, 1);
        /* nn.Tensor's __index is a function; its methods are here. */
        if (lua_getfield(L, mt, "methods") == LUA_TTABLE)
            collect_keys(L, -1, prefix, plen, only_funcs, list, depth + 1);
        lua_pop(L, 2);
    }
}

static char **matches;
static size_t nmatches, match_next;

static void free_matches(void)
{
    for (size_t i = match_next; i < nmatches; i++)
        free(matches[i]);
    free(matches);
    matches = NULL;
    nmatches = match_next = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fills `matches` with the completions of word ("nn.ze", "t:sh", "pri"). */
static void compute_matches(const char *word)
{
    lua_State *L = completion_L;
    free_matches();
    if (!L)
        return;
    int top = lua_gettop(L);
    const char *sep = strpbrk(word, ".:");
    const char *last = NULL;
    for (const char *p = word; *p; p++)
        if (*p == '.' || *p == ':')
            last = p;
    lua_pushglobaltable(L);
    /* Walk the path before the last separator. */
    if (last) {
        const char *start = word;
        while (start < last) {
            const char *end = start;
            while (end < last && *end != '.' && *end != ':')
                end++;
            if (end == start || !(lua_istable(L, -1) || lua_isuserdata(L, -1)))
                goto done;
            lua_pushlstring(L, start, (size_t)(end - start));
            /* A raw lookup through __index tables; never call functions. */
            if (lua_istable(L, -2))
                lua_rawget(L, -2);
            else {
                lua_pop(L, 1);
                lua_pushnil(L);
            }
            lua_remove(L, -2);
            if (lua_isnil(L, -1))
                goto done;
            start = end + 1;
        }
    }
    (void)sep;
    {
        const char *prefix = last ? last + 1 : word;
        size_t plen = strlen(prefix);
        int only_funcs = last && *last == ':';
        lua_newtable(L);
        int list = lua_gettop(L);
        collect_keys(L, -2, prefix, plen, only_funcs, list, 0);
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, list)) {
            n++;
            lua_pop(L, 1);
        }
        matches = calloc(n ? n : 1, sizeof *matches);
        if (!matches)
            goto done;
        size_t head = last ? (size_t)(last - word + 1) : 0;
        lua_pushnil(L);
        while (lua_next(L, list)) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            char *m = malloc(head + klen + 1);
            if (m) {
                memcpy(m, word, head);
                memcpy(m + head, k, klen + 1);
                matches[nmatches++] = m;
            }
            lua_pop(L, 1);
        }
        qsort(matches, nmatches, sizeof *matches, cmp_str);
    }
done:
    lua_settop(L, top);
}

static char *match_generator(const char *text, int state)
{
    if (state == 0)
        compute_matches(text);
    if (match_next < nmatches)
        return matches[match_next++]; /* readline frees it */
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never complete file names */
    rl_completion_append_character = '\0';
    return rl_completion_matches(text, match_generator);
}

static void input_init(lua_State *L)
{
    completion_L = L;
    rl_readline_name = "nnlua";
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
    rl_attempted_completion_function = complete;
    rl_catch_signals = 0; /* Ctrl-C is ours: see nnl_repl_on_sigint */
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE);
        read_history(history_path);
    }
    stifle_history(HISTORY_MAX);
}

static void input_done(void)
{
    if (history_path[0])
        write_history(history_path);
    free_matches();
    completion_L = NULL;
}

/* Reads a line without its newline; NULL at end of input. Free with free. */
static char *input_read(const char *prompt)
{
    return readline(prompt);
}

static void input_add_history(const char *chunk)
{
    if (*chunk)
        add_history(chunk);
}

static void input_abandon(void)
{
    rl_free_line_state();
    rl_cleanup_after_signal();
    RL_UNSETSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH | RL_STATE_VIMOTION | RL_STATE_NUMERICARG |
                  RL_STATE_MULTIKEY);
    rl_done = 1;
}
#else
static void input_init(lua_State *L) { (void)L; }
static void input_done(void) {}
static void input_add_history(const char *chunk) { (void)chunk; }
static void input_abandon(void) {}

static char *input_read(const char *prompt)
{
    fputs(prompt, stdout);
    fflush(stdout);
    char *buf = malloc(LINE_MAX_FALLBACK);
    if (!buf)
        return NULL;
    if (!fgets(buf, LINE_MAX_FALLBACK, stdin)) {
        free(buf);
        return NULL;
    }
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return buf;
}
#endif

/* Reads one line with Ctrl-C abandoning it: returns the line (malloc'd),
 * NULL at end of input, and sets *cancelled when Ctrl-C was pressed. */
static char *read_line(const char *prompt, int *cancelled)
{
    *cancelled = 0;
    if (sigsetjmp(prompt_jump, 1)) {
        at_prompt = 0;
        input_abandon();
        nnl_cli_set_sigint(0);
        fputs("^C\n", stdout);
        fflush(stdout);
        *cancelled = 1;
        return NULL;
    }
    nnl_cli_set_sigint(1);
    at_prompt = 1;
    char *line = input_read(prompt);
    at_prompt = 0;
    nnl_cli_set_sigint(0);
    return line;
}

/* ---- evaluation ---- */

static int incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        static const char eof[] = "<eof>";
        size_t le = sizeof eof - 1;
        if (lmsg >= le && strcmp(msg + lmsg - le, eof) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

/* Tries "return <line>;" and leaves the function on the stack if it
 * compiles. */
static int add_return(lua_State *L, const char *line)
{
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK)
        lua_remove(L, -2);
    else
        lua_pop(L, 2);
    return status;
}

/* Reads lines until they form a complete chunk; leaves the compiled
 * function on the stack and returns LUA_OK, or a syntax error status with
 * the message, or -1 at end of input, or -2 when Ctrl-C abandoned it. */
static int load_chunk(lua_State *L)
{
    int cancelled;
    char *line = read_line(PROMPT1, &cancelled);
    if (!line)
        return cancelled ? -2 : -1;
    const char *text = line[0] == '=' ? line + 1 : line; /* "=expr" as in Lua 5.1 */
    lua_pushstring(L, text);
    free(line);
    int status = add_return(L, lua_tostring(L, -1));
    if (status == LUA_OK) {
        input_add_history(lua_tostring(L, -2));
        lua_remove(L, -2);
        return LUA_OK;
    }
    for (;;) {
        size_t len;
        const char *chunk = lua_tolstring(L, -1, &len);
        status = luaL_loadbuffer(L, chunk, len, "=stdin");
        if (!incomplete(L, status))
            break;
        line = read_line(PROMPT2, &cancelled);
        if (!line) {
            lua_pop(L, 1);
            return cancelled ? -2 : -1;
        }
        lua_pushliteral(L, "\n");
        lua_pushstring(L, line);
        free(line);
        lua_concat(L, 3);
    }
    input_add_history(lua_tostring(L, -2));
    lua_remove(L, -2);
    return status;
}

/* Prints the values on the stack with the global print. */
static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
        nnl_cli_message(lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
}

void nnl_repl_run(lua_State *L)
{
    input_init(L);
    int status;
    lua_settop(L, 0);
    while ((status = load_chunk(L)) != -1) {
        if (status == -2) {
            lua_settop(L, 0);
            continue;
        }
        if (status == LUA_OK)
            status = nnl_cli_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L);
        else
            nnl_cli_report(L, status);
        lua_settop(L, 0);
    }
    input_done();
    fputs("\n", stdout);
    fflush(stdout);
}
