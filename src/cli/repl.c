/* The nnlua REPL: read a chunk (continuing while it is incomplete), run it,
 * print what it returns.
 *
 * As in lua.c, a line is first tried as `return <line>;` so expressions
 * print their value, then as a statement; a syntax error ending in <eof>
 * means "read another line". Line editing, history (~/.nnlua_history) and
 * tab completion of globals and fields come from GNU readline when the
 * build has it (NNL_HAVE_READLINE), with a plain fgets fallback. Ctrl-C at
 * the prompt abandons the line; during a statement it raises "interrupted!"
 * (main.c) and the session goes on. The readline state is kept in statics
 * because readline's callbacks take no user pointer. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/select.h>
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

/* Ctrl-C while waiting for a line: the handler only sets sigint_at_prompt;
 * the input loop sees it (its wait is interrupted by the signal) and
 * abandons the line. Nothing is unwound from inside the handler. */
static volatile sig_atomic_t waiting_for_line;
static volatile sig_atomic_t sigint_at_prompt;

int nnl_repl_on_sigint(void)
{
    if (!waiting_for_line)
        return 0;
    sigint_at_prompt = 1;
    return 1;
}

/* ---- completion: words from the live Lua state ---- */

#ifdef NNL_HAVE_READLINE
static lua_State *completion_L;

static const char *const keywords[] = {
    "and",   "break", "do",     "else", "elseif", "end",   "false", "for",
    "function", "goto", "if",  "in",    "local",  "nil",  "not",   "or",
    "repeat", "return", "then", "true", "until",  "while", NULL};

/* Metatable fields that hold an object's methods as a table: __index when
 * it is a table; `methods` and `__methods` where __index is a function
 * (nn.Tensor, nn.Model, nn.Layer keep their methods there for this). */
static const char *const method_tables[] = {"__index", "methods", "__methods", NULL};

/* Pushes t[name] for the table at index t, raw (no metamethods); returns
 * its type. */
static int raw_field(lua_State *L, int t, const char *name)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

/* Pushes obj[key] for the object at index obj without running any code:
 * raw fields of a table, then the method tables of its metatable. Pushes
 * nil when not found. */
static void peek_field(lua_State *L, int obj, const char *key, size_t klen, int depth)
{
    obj = lua_absindex(L, obj);
    if (lua_type(L, obj) == LUA_TTABLE) {
        lua_pushlstring(L, key, klen);
        if (lua_rawget(L, obj) != LUA_TNIL)
            return;
        lua_pop(L, 1);
    }
    if (depth < 4 && lua_getmetatable(L, obj)) {
        int mt = lua_gettop(L);
        for (int i = 0; method_tables[i]; i++) {
            if (raw_field(L, mt, method_tables[i]) == LUA_TTABLE) {
                peek_field(L, -1, key, klen, depth + 1);
                if (!lua_isnil(L, -1)) {
                    lua_replace(L, mt); /* the value, in place of the metatable */
                    lua_settop(L, mt);
                    return;
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
}

/* Adds to the set at index list every string key of the object at index
 * obj that starts with prefix, following method tables as peek_field does;
 * with only_funcs (after ':') functions only. */
static void collect_keys(lua_State *L, int obj, const char *prefix, size_t plen, int only_funcs,
                         int list, int depth)
{
    obj = lua_absindex(L, obj);
    if (lua_type(L, obj) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, obj)) {
            if (lua_type(L, -2) == LUA_TSTRING &&
                (!only_funcs || lua_type(L, -1) == LUA_TFUNCTION)) {
                const char *k = lua_tostring(L, -2);
                if (strncmp(k, prefix, plen) == 0) {
                    lua_pushvalue(L, -2);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, list);
                }
            }
            lua_pop(L, 1);
        }
    }
    if (depth < 4 && lua_getmetatable(L, obj)) {
        int mt = lua_gettop(L);
        for (int i = 0; method_tables[i]; i++) {
            if (raw_field(L, mt, method_tables[i]) == LUA_TTABLE)
                collect_keys(L, -1, prefix, plen, only_funcs, list, depth + 1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
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

/* Fills `matches` with the completions of word ("nn.ze", "t:sh", "pri"):
 * the object named by the path before the last '.' or ':' is looked up
 * from the globals, and its keys starting with the rest are offered. */
static void compute_matches(const char *word)
{
    lua_State *L = completion_L;
    free_matches();
    if (!L || !lua_checkstack(L, 16))
        return;
    int top = lua_gettop(L);
    const char *last = NULL;
    for (const char *p = word; *p; p++)
        if (*p == '.' || *p == ':')
            last = p;
    lua_pushglobaltable(L);
    for (const char *start = word; last && start <= last;) {
        const char *end = start;
        while (*end != '.' && *end != ':')
            end++;
        /* "a..b", "a:b.c" and a leading '.' name nothing. */
        if (end == start || (*end == ':' && end != last))
            goto done;
        peek_field(L, -1, start, (size_t)(end - start), 0);
        lua_remove(L, -2);
        if (!lua_istable(L, -1) && !lua_isuserdata(L, -1))
            goto done;
        start = end + 1;
    }
    {
        const char *prefix = last ? last + 1 : word;
        size_t plen = strlen(prefix);
        lua_newtable(L);
        int list = lua_gettop(L);
        collect_keys(L, -2, prefix, plen, last && *last == ':', list, 0);
        if (!last)
            for (int i = 0; keywords[i]; i++)
                if (strncmp(keywords[i], prefix, plen) == 0) {
                    lua_pushboolean(L, 1);
                    lua_setfield(L, list, keywords[i]);
                }
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

/* ---- line input: readline ---- */

static char history_path[4096];
static int history_loaded; /* the file existed: append to it at the end */
static int history_added;  /* entries added in this session */
static int history_pending; /* the history still has to be saved */

/* Whether path is a regular file or absent: a FIFO or a device there
 * would block the REPL's start (read) or end (write). */
static int history_usable(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode);
}

/* readline's history file holds one entry per line, so a multi-line chunk
 * came back line by line after a restart. Newlines inside entries are
 * kept in the file as this byte (not typed at a prompt) and turned back
 * after reading; same length, so the entries are changed in place. */
#define HISTORY_NEWLINE '\x01'

static void history_translate(char from, char to)
{
    HIST_ENTRY **list = history_list();
    for (int i = 0; list && list[i]; i++)
        for (char *c = list[i]->line; c && *c; c++)
            if (*c == from)
                *c = to;
}

static void input_done(void)
{
    if (history_pending && history_path[0])
        history_translate('\n', HISTORY_NEWLINE);
    if (history_pending && history_path[0]) {
        int n = history_added < history_length ? history_added : history_length;
        int e = 0;
        if (history_loaded) {
            /* Append, so that sessions running side by side keep all
             * their lines, then keep the file to HISTORY_MAX lines. */
            if (n > 0 && (e = append_history(n, history_path)) == 0)
                e = history_truncate_file(history_path, HISTORY_MAX);
        } else if (n > 0 && history_usable(history_path)) {
            e = write_history(history_path);
        }
        if (e)
            fprintf(stderr, "nnlua: could not save the history to %s: %s\n", history_path,
                    strerror(e));
    }
    history_pending = 0;
    free_matches();
    completion_L = NULL;
}

static void input_init(lua_State *L)
{
    static int registered;
    completion_L = L;
    rl_readline_name = "nnlua";
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
    rl_attempted_completion_function = complete;
    rl_catch_signals = 0; /* Ctrl-C is ours: see nnl_repl_on_sigint */
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE);
        if (history_usable(history_path)) {
            history_loaded = read_history(history_path) == 0;
            history_translate(HISTORY_NEWLINE, '\n');
        }
        else
            history_path[0] = '\0'; /* not ours to read or write */
    }
    stifle_history(HISTORY_MAX);
    history_added = 0;
    history_pending = 1;
    if (!registered && atexit(input_done) == 0) /* os.exit() from the REPL */
        registered = 1;
}

static void input_add_history(const char *chunk)
{
    if (*chunk) {
        add_history(chunk);
        history_added++;
    }
}

static char *rl_result;
static int rl_got_line;

static void on_line(char *line)
{
    rl_result = line;
    rl_got_line = 1;
    rl_callback_handler_remove();
}

/* Reads a line without its newline through readline's callback interface,
 * waiting in pselect with SIGINT unblocked only there, so a Ctrl-C either
 * arrives before the wait (and is seen by the check) or ends the wait.
 * Returns the line (free with free), or NULL at end of input or when
 * Ctrl-C abandoned it (*cancelled). */
static char *input_read(const char *prompt, int *cancelled)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    rl_result = NULL;
    rl_got_line = 0;
    rl_callback_handler_install(prompt, on_line);
    while (!rl_got_line) {
        if (sigint_at_prompt) {
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_callback_handler_remove();
            *cancelled = 1;
            break;
        }
        int fd = fileno(rl_instream ? rl_instream : stdin);
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int r = pselect(fd + 1, &fds, NULL, NULL, NULL, &old);
        if (r > 0)
            rl_callback_read_char();
        else if (r < 0 && errno != EINTR) {
            rl_callback_handler_remove();
            break; /* the terminal is gone: end of input */
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rl_result;
}
#else
/* ---- line input: plain stdio ---- */

static void input_init(lua_State *L) { (void)L; }
static void input_done(void) {}
static void input_add_history(const char *chunk) { (void)chunk; }

/* Reads a line without its newline; the SIGINT handler is installed
 * without SA_RESTART, so Ctrl-C ends the read with EINTR. */
static char *input_read(const char *prompt, int *cancelled)
{
    fputs(prompt, stdout);
    fflush(stdout);
    char *buf = malloc(LINE_MAX_FALLBACK);
    if (!buf)
        return NULL;
    if (!fgets(buf, LINE_MAX_FALLBACK, stdin)) {
        free(buf);
        if (sigint_at_prompt) {
            clearerr(stdin);
            *cancelled = 1;
        }
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
    sigint_at_prompt = 0;
    waiting_for_line = 1;
    nnl_cli_set_sigint(1);
    char *line = input_read(prompt, cancelled);
    nnl_cli_set_sigint(0);
    waiting_for_line = 0;
    sigint_at_prompt = 0;
    if (*cancelled) {
        free(line);
        fputs("^C\n", stdout);
        fflush(stdout);
        return NULL;
    }
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

/* show_print(...): the global print of the values, each plain table
 * (one without __tostring) first turned into text by nn.show, nested and
 * with sorted keys (as trepl prints them) rather than "table: 0x...". */
static int show_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checkstack(L, 4, "too many results to print");
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    int show = 0;
    if (lua_getfield(L, -1, "nn") == LUA_TTABLE && lua_getfield(L, -1, "show") == LUA_TFUNCTION)
        show = lua_gettop(L);
    for (int i = 1; show && i <= n; i++)
        if (lua_type(L, i) == LUA_TTABLE && !luaL_getmetafield(L, i, "__tostring")) {
            lua_pushvalue(L, show);
            lua_pushvalue(L, i);
            lua_call(L, 1, 1);
            lua_replace(L, i);
        } else if (lua_type(L, i) == LUA_TTABLE) {
            lua_pop(L, 1); /* the __tostring found */
        }
    lua_settop(L, n);
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    lua_call(L, n, 0);
    return 0;
}

/* Prints the values on the stack (show_print). */
static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushcfunction(L, show_print);
    lua_insert(L, 1);
    /* Under docall: a slow __tostring can be stopped with Ctrl-C too. */
    if (nnl_cli_docall(L, n, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        nnl_cli_message(lua_pushfstring(L, "error calling 'print' (%s)", msg ? msg : "?"));
    }
}

/* Waits for LivePlots still drawing their last frame in the background
 * (nn.plot._settle), so that frame is printed before the next prompt and
 * not after it. */
static void settle_plots(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "nn") == LUA_TTABLE && lua_getfield(L, -1, "plot") == LUA_TTABLE &&
        lua_getfield(L, -1, "_settle") == LUA_TFUNCTION) {
        if (nnl_cli_docall(L, 0, 0) != LUA_OK)
            nnl_cli_report(L, LUA_ERRRUN);
    }
    lua_settop(L, 0);
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
        settle_plots(L);
    }
    input_done();
    /* End the last prompt's line, as lua5.4 does; readline ends it itself
     * at end of input from a terminal. */
#ifdef NNL_HAVE_READLINE
    if (!isatty(fileno(stdin)))
        fputs("\n", stdout);
#else
    fputs("\n", stdout);
#endif
    fflush(stdout);
}
