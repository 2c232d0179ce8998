/* Shared parts of the nnlua program: running a chunk under the message
 * handler with Ctrl-C handling (main.c) and the REPL (repl.c). */
#ifndef NNL_CLI_H
#define NNL_CLI_H
#include <lua.h>

#define NNL_PROGNAME "nnlua"

/* Calls the function below narg arguments at the top of the stack with a
 * traceback handler and Ctrl-C turned into an "interrupted!" error.
 * Returns the lua_pcall status; the results or the error stay on the
 * stack. nres as for lua_pcall. */
int nnl_cli_docall(lua_State *L, int narg, int nres);

/* Prints "nnlua: msg" on stderr. */
void nnl_cli_message(const char *msg);

/* Prints the error at the top of the stack if status is not OK, pops it,
 * and returns status. */
int nnl_cli_report(lua_State *L, int status);

/* The version line ("nnlua 0.1.0 (Lua 5.4.4), avx512, 2 threads"). */
void nnl_cli_print_version(void);

/* Installs nnlua's SIGINT handler (on) or the default action (off). */
void nnl_cli_set_sigint(int on);

/* Runs the interactive loop until end of input. */
void nnl_repl_run(lua_State *L);

/* Called from the SIGINT handler: when the REPL is waiting for a line, it
 * marks the line to be abandoned and returns 1; otherwise returns 0.
 * Async-signal-safe. */
int nnl_repl_on_sigint(void);

#endif
