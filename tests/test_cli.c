/* Tests of the nnlua program's command line (src/cli/main.c): scripts and
 * their arguments, -e, -l, -v, -h, -i, -E, -W, -, --, LUA_INIT, stdin,
 * shebang scripts, and errors (message, traceback, exit status). Runs the
 * built binary. Also the Ctrl-C flag of core/interrupt.h. */
#include "proc.h" /* first: it sets feature macros */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include "core/interrupt.h"

static char dir[] = "/tmp/nnl_cli_XXXXXX";
static proc_result r;

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_script_gets_args_and_dots(void **state)
{
    (void)state;
    const char *s = write_file("args.lua", "print(#arg, arg[0] ~= nil, arg[1], arg[2], ...)\n"
                                           "print(arg[-1] ~= nil)\n");
    char *argv[] = {NULL, (char *)s, "one", "two", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "2\ttrue\tone\ttwo\tone\ttwo\ntrue\n");
}

static void test_dash_e_runs_in_order_with_nn(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "x = nn.ones(2,2):sum()", "-e", "print(x * 10)", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "40.0\n");
}

static void test_dash_l_loads_module_into_global(void **state)
{
    (void)state;
    write_file("mymod.lua", "return {answer = 42}\n");
    char path_env[600];
    snprintf(path_env, sizeof path_env, "LUA_PATH=%s/?.lua", dir);
    char *env[] = {path_env, NULL};
    char *argv[] = {NULL, "-l", "m=mymod", "-l", "mymod", "-e", "print(m.answer, mymod.answer)",
                    NULL};
    proc_run(argv, NULL, env, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "42\t42\n");
}

static void test_version_names_isa_and_threads(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-v", NULL};
    char *env[] = {"NNLUA_ISA=sse2", "NNLUA_THREADS=1", NULL};
    proc_run(argv, NULL, env, &r, 30);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "nnlua " NNL_VERSION));
    assert_non_null(strstr(r.out, "Lua 5.4"));
    assert_non_null(strstr(r.out, "sse2"));
    assert_non_null(strstr(r.out, "1 thread"));
}

static void test_bad_isa_is_an_error(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "print(1)", NULL};
    char *env[] = {"NNLUA_ISA=mmx", NULL};
    proc_run(argv, NULL, env, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "NNLUA_ISA"));
    assert_non_null(strstr(r.err, "mmx"));
}

static void test_help_and_bad_option(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-h", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: nnlua"));
    char *bad[] = {NULL, "-x", NULL};
    proc_run(bad, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "unrecognized option '-x'"));
    assert_non_null(strstr(r.err, "usage: nnlua"));
    char *noarg[] = {NULL, "-e", NULL};
    proc_run(noarg, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "'-e' needs argument"));
}

static void test_dash_reads_stdin_with_args(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-", "a", NULL};
    proc_run(argv, "print('stdin', ...)\n", NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "stdin\ta\n");
    char *none[] = {NULL, NULL}; /* no tty: stdin is the script */
    proc_run(none, "print(nn.tensor{1,2}:sum())\n", NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "3.0\n");
}

static void test_double_dash_ends_options(void **state)
{
    (void)state;
    const char *s = write_file("-weird.lua", "print('weird', ...)\n");
    (void)s;
    char path[600];
    snprintf(path, sizeof path, "%s/-weird.lua", dir);
    char *argv[] = {NULL, "--", path, "-e", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "weird\t-e\n");
}

static void test_shebang_script_runs(void **state)
{
    (void)state;
    const char *s = write_file("sb.lua", "#!/usr/bin/env nnlua\nprint(nn.zeros(3):numel())\n");
    char *argv[] = {NULL, (char *)s, NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "3\n");
}

static void test_runtime_error_prints_message_traceback_exit_1(void **state)
{
    (void)state;
    const char *s = write_file("err.lua", "local function f()\n  error('boom')\nend\nf()\n");
    char *argv[] = {NULL, (char *)s, NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "nnlua: "));
    assert_non_null(strstr(r.err, "err.lua:2: boom"));
    assert_non_null(strstr(r.err, "stack traceback:"));
    assert_non_null(strstr(r.err, "in local 'f'"));
    assert_string_equal(r.out, "");
}

/* Past the file size limit a save is an error that says so; the default
 * action of SIGXFSZ killed nnlua (status 153) without a word. */
static void test_file_size_limit_is_a_save_error(void **state)
{
    (void)state;
    char code[512];
    snprintf(code, sizeof code,
             "nn.Sequential({nn.Dense(512, {input_dim = 512})}):save('%s/big.st')", dir);
    char *argv[] = {NULL, "-e", code, NULL};
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 << 10;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "File too large"));
}

/* A write to a pipe whose reader is gone fails with "Broken pipe"; the
 * default action of SIGPIPE killed nnlua (status 141) without a word. */
static void test_broken_pipe_is_a_write_error(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e",
                    "local f = io.popen('true', 'w'); os.execute('sleep 0.3'); "
                    "local ok, e = f:write(string.rep('x', 1 << 20)); "
                    "if ok then ok, e = f:flush() end; print('write:', ok, e)",
                    NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Broken pipe"));
}

static void test_nn_error_is_lua_error_not_crash(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "nn.matmul(nn.zeros(2,3), nn.zeros(2,3))", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "nnlua: "));
    assert_non_null(strstr(r.err, "matmul"));
    assert_non_null(strstr(r.err, "[2x3]"));
}

static void test_syntax_error_and_missing_file(void **state)
{
    (void)state;
    const char *s = write_file("syn.lua", "print(\n");
    char *argv[] = {NULL, (char *)s, NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "syn.lua"));
    assert_non_null(strstr(r.err, "<eof>"));
    char *missing[] = {NULL, "/nonexistent/x.lua", NULL};
    proc_run(missing, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot open /nonexistent/x.lua"));
}

static void test_require_nn_returns_global(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "assert(require('nn') == nn); print(type(nn.zeros))", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "function\n");
}

static void test_lua_init_runs_unless_dash_E(void **state)
{
    (void)state;
    char *env[] = {"LUA_INIT=init_value = 3", NULL};
    char *argv[] = {NULL, "-e", "print(init_value)", NULL};
    proc_run(argv, NULL, env, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "3\n");
    char *argv_e[] = {NULL, "-E", "-e", "print(init_value)", NULL};
    proc_run(argv_e, NULL, env, &r, 30);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "nil\n");
    char *bad[] = {"LUA_INIT=error('from init')", NULL};
    proc_run(argv, NULL, bad, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "from init"));
    assert_string_equal(r.out, "");
}

static void test_dash_W_turns_warnings_on(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "warn('careful')", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.err, "careful"));
    char *argv_w[] = {NULL, "-W", "-e", "warn('careful')", NULL};
    proc_run(argv_w, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "Lua warning: careful"));
}

static void test_dash_i_reads_statements_after_options(void **state)
{
    (void)state;
    char home_env[600];
    snprintf(home_env, sizeof home_env, "HOME=%s", dir);
    char *env[] = {home_env, NULL};
    char *argv[] = {NULL, "-e", "x = 20", "-i", NULL};
    proc_run(argv, "=x * 2\nerror('kept going')\nprint('end', x)\n", env, &r, 30);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "nnlua " NNL_VERSION)); /* -i shows the banner */
    assert_non_null(strstr(r.out, "40\n"));
    assert_non_null(strstr(r.out, "end\t20\n"));
    assert_non_null(strstr(r.err, "kept going"));
}

static void test_error_objects_that_are_not_strings(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "error({})", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "nnlua: (error object is a table value)"));
    char *argv_ts[] = {
        NULL, "-e", "error(setmetatable({}, {__tostring = function() return 'custom' end}))",
        NULL};
    proc_run(argv_ts, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "nnlua: custom"));
}

static void test_os_exit_status_is_kept(void **state)
{
    (void)state;
    char *argv[] = {NULL, "-e", "io.write('bye') os.exit(3)", NULL};
    proc_run(argv, NULL, NULL, &r, 30);
    assert_int_equal(r.status, 3);
    assert_string_equal(r.out, "bye");
}

/* The Ctrl-C flag that C loops (fit, waits on gnuplot) poll. */
static void test_interrupt_flag(void **state)
{
    (void)state;
    nnl_interrupt_clear();
    assert_false(nnl_interrupt_requested());
    nnl_interrupt_request();
    assert_true(nnl_interrupt_requested());
    nnl_interrupt_clear();
    assert_false(nnl_interrupt_requested());
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_gets_args_and_dots),
        cmocka_unit_test(test_dash_e_runs_in_order_with_nn),
        cmocka_unit_test(test_dash_l_loads_module_into_global),
        cmocka_unit_test(test_version_names_isa_and_threads),
        cmocka_unit_test(test_bad_isa_is_an_error),
        cmocka_unit_test(test_help_and_bad_option),
        cmocka_unit_test(test_dash_reads_stdin_with_args),
        cmocka_unit_test(test_double_dash_ends_options),
        cmocka_unit_test(test_shebang_script_runs),
        cmocka_unit_test(test_runtime_error_prints_message_traceback_exit_1),
        cmocka_unit_test(test_nn_error_is_lua_error_not_crash),
        cmocka_unit_test(test_file_size_limit_is_a_save_error),
        cmocka_unit_test(test_broken_pipe_is_a_write_error),
        cmocka_unit_test(test_syntax_error_and_missing_file),
        cmocka_unit_test(test_require_nn_returns_global),
        cmocka_unit_test(test_lua_init_runs_unless_dash_E),
        cmocka_unit_test(test_dash_W_turns_warnings_on),
        cmocka_unit_test(test_dash_i_reads_statements_after_options),
        cmocka_unit_test(test_error_objects_that_are_not_strings),
        cmocka_unit_test(test_os_exit_status_is_kept),
        cmocka_unit_test(test_interrupt_flag),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
