/* Tests of the nnlua REPL (src/cli/repl.c) through a pseudo-terminal, as a
 * person uses it: expression values, =expr, multi-line chunks, errors that
 * keep the session, tensors printed, tab completion, Ctrl-C during a
 * statement, at the prompt and in a script, history kept (and appended
 * to) in $HOME/.nnlua_history, and Ctrl-D ending the session. */
#include "proc.h" /* first: it sets feature macros */
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static char home[] = "/tmp/nnl_repl_XXXXXX";
static char home_env[64];
static pty_proc p;

#define T 20.0 /* seconds: generous for sanitizer builds on a busy machine */

static void start(void)
{
    char *argv[] = {NULL, NULL};
    char *env[] = {home_env, "TERM=dumb", NULL};
    assert_int_equal(pty_start(&p, argv, env), 0);
}

/* Types a line at the prompt: like a person, waits until the previous
 * output and the next prompt are on screen first (typing ahead into a
 * terminal that is not in readline's raw mode would be echoed, and lost on
 * Ctrl-C, by the line discipline). */
static void type(const char *line)
{
    assert_true(pty_expect(&p, "> ", T));
    pty_send(&p, line);
}

static void finish(void)
{
    assert_true(pty_expect(&p, "> ", T));
    pty_send(&p, "\x04"); /* Ctrl-D */
    assert_int_equal(pty_wait(&p, T), 0);
}

static void test_expression_values_are_printed(void **state)
{
    (void)state;
    start();
    type("1+1\r");
    assert_true(pty_expect(&p, "\r\n2\r\n", T));
    type("=2*3\r");
    assert_true(pty_expect(&p, "\r\n6\r\n", T));
    type("'a', 'b'\r");
    assert_true(pty_expect(&p, "a\tb", T));
    finish();
}

static void test_multiline_chunk_continues(void **state)
{
    (void)state;
    start();
    type("for i = 1, 3 do\r");
    assert_true(pty_expect(&p, ">> ", T));
    pty_send(&p, "io.write(i * 11, ' ')\r");
    assert_true(pty_expect(&p, ">> ", T));
    pty_send(&p, "end\r");
    assert_true(pty_expect(&p, "11 22 33", T));
    finish();
}

static void test_error_keeps_session(void **state)
{
    (void)state;
    start();
    type("error('oops')\r");
    assert_true(pty_expect(&p, "nnlua: stdin:1: oops", T));
    assert_true(pty_expect(&p, "stack traceback", T));
    type("x = 40\r");
    type("x + 2\r");
    assert_true(pty_expect(&p, "42", T));
    finish();
}

static void test_tensor_is_printed(void **state)
{
    (void)state;
    start();
    type("nn.tensor{{1, 2}, {3, 4}}\r");
    assert_true(pty_expect(&p, "tensor([[1, 2],", T));
    assert_true(pty_expect(&p, "[3, 4]])", T));
    type("nn.zeros(100, 20)\r");
    assert_true(pty_expect(&p, "...", T));
    assert_true(pty_expect(&p, "shape=[100x20])", T));
    finish();
}

/* A LivePlot drawing text hands its last frame to gnuplot as fit ends;
 * the REPL waits for it, so the chart comes before the next prompt, not
 * over it. */
static void test_live_plot_frame_comes_before_prompt(void **state)
{
    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        skip();
    start();
    type("m = nn.Sequential({nn.Dense(1, {input_dim = 1})}); "
         "m:compile{loss = 'mse', optimizer = 'sgd'}\r");
    type("m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}), {epochs = 3, verbose = 0, "
         "callbacks = {nn.callbacks.LivePlot{title = 'in the ' .. 'repl'}}}); "
         "print('fit ' .. 'returned')\r");
    assert_true(pty_expect(&p, "fit returned", T));
    assert_true(pty_expect(&p, "in the repl", T));
    assert_true(pty_expect(&p, "> ", T));
    pty_send(&p, "\x04");
    assert_int_equal(pty_wait(&p, T), 0);
}

static void test_tab_completes_fields_and_methods(void **state)
{
    (void)state;
    start();
    type("nn.ze\t(2)\r");
    assert_true(pty_expect(&p, "tensor([0, 0])", T));
    type("t = nn.ones(3)\r");
    type("t:nu\t()\r");
    assert_true(pty_expect(&p, "\r\n3\r\n", T));
    type("string.upp\t('ok')\r");
    assert_true(pty_expect(&p, "OK", T));
    finish();
}

static void test_ctrl_c_interrupts_statement(void **state)
{
    (void)state;
    start();
    type("while true do end\r");
    usleep(300000);
    pty_send(&p, "\x03");
    assert_true(pty_expect(&p, "interrupted!", T));
    type("print('still' .. ' here')\r");
    assert_true(pty_expect(&p, "still here", T));
    /* Printing a value runs its __tostring: that can be stopped too. */
    type("slow = setmetatable({}, {__tostring = function() while true do end end})\r");
    type("slow\r");
    usleep(300000);
    pty_send(&p, "\x03");
    assert_true(pty_expect(&p, "interrupted!", T));
    type("print('and' .. ' here')\r");
    assert_true(pty_expect(&p, "and here", T));
    finish();
}

static void test_ctrl_c_at_prompt_abandons_line(void **state)
{
    (void)state;
    start();
    type("print('never')");
    usleep(200000);
    pty_send(&p, "\x03");
    assert_true(pty_expect(&p, "^C", T));
    type("print('after')\r");
    assert_true(pty_expect(&p, "after", T));
    p.buf[p.len] = '\0';
    assert_null(strstr(p.buf, "\r\nnever"));
    finish();
}

static void read_history_file(char *text, size_t size)
{
    char path[128];
    snprintf(path, sizeof path, "%s/.nnlua_history", home);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, size - 1, f);
    fclose(f);
    text[n] = '\0';
}

static void test_history_is_kept(void **state)
{
    (void)state;
    char text[16384];
    start();
    type("hist_marker = 7\r");
    finish();
    read_history_file(text, sizeof text);
    assert_non_null(strstr(text, "hist_marker = 7"));
    /* A new session sees it: Up arrow (ESC [ A) recalls it. */
    start();
    type("\x1b[A\r");
    type("hist_marker * 6\r");
    assert_true(pty_expect(&p, "42", T));
    /* Leaving with os.exit also saves, and appends to what was there. */
    type("os.exit(0)\r");
    assert_int_equal(pty_wait(&p, T), 0);
    read_history_file(text, sizeof text);
    char *first = strstr(text, "hist_marker = 7");
    assert_non_null(first);
    char *second = strstr(first, "hist_marker * 6");
    assert_non_null(second);
    assert_non_null(strstr(second, "os.exit(0)"));
    /* A multi-line chunk is one entry, also after a restart: one Up brings
     * the whole loop back (it was line by line). */
    start();
    type("for i = 1, 2 do\r");
    type("io.write('loop', i, ' ')\r");
    type("end\r");
    assert_true(pty_expect(&p, "loop2", T));
    finish();
    read_history_file(text, sizeof text);
    assert_non_null(strstr(text, "for i = 1, 2 do\x01" "io.write('loop', i, ' ')\x01" "end\n"));
    start();
    type("print('marker')\r");
    assert_true(pty_expect(&p, "marker", T));
    type("\x1b[A\x1b[A\r"); /* Up twice: past print('marker') to the loop */
    assert_true(pty_expect(&p, "loop1 loop2", T));
    finish();
}

static void test_tab_completes_keywords_and_metatable_fields(void **state)
{
    (void)state;
    start();
    type("obj = setmetatable({}, {__index = {hello_world = 41}})\r");
    type("obj.hello_w\t + 1\r");
    assert_true(pty_expect(&p, "\r\n42\r\n", T));
    type("m = nn.Sequential()\r"); /* userdata whose __index is a function */
    type("m:count_p\t()\r");
    assert_true(pty_expect(&p, "\r\n0\r\n", T));
    type("ret\t 'kw'\r");
    assert_true(pty_expect(&p, "\r\nkw\r\n", T));
    /* A word that names no object completes to nothing and harms nothing. */
    type("x = {}\r");
    type("x[1].ab\t\x15print('alive')\r");
    assert_true(pty_expect(&p, "\r\nalive\r\n", T));
    finish();
}

static void test_ctrl_c_stops_a_script(void **state)
{
    (void)state;
    char script[128];
    snprintf(script, sizeof script, "%s/loop.lua", home);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("io.write('ready\\n') io.flush()\nwhile true do end\n", f);
    fclose(f);
    char *argv[] = {NULL, script, NULL};
    char *env[] = {home_env, "TERM=dumb", NULL};
    assert_int_equal(pty_start(&p, argv, env), 0);
    assert_true(pty_expect(&p, "ready", T));
    usleep(100000);
    pty_send(&p, "\x03");
    assert_true(pty_expect(&p, "nnlua: interrupted!", T));
    assert_true(pty_expect(&p, "stack traceback", T));
    assert_int_equal(pty_wait(&p, T), 1);
}

/* A FIFO where the history file goes blocked the REPL's start in open();
 * now it is left alone (not read, not replaced). */
static void test_history_fifo_does_not_block(void **state)
{
    (void)state;
    char dir[] = "/tmp/nnl_repl_fifo_XXXXXX", env[96], path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/.nnlua_history", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(env, sizeof env, "HOME=%s", dir);
    char *argv[] = {NULL, NULL};
    char *envp[] = {env, "TERM=dumb", NULL};
    assert_int_equal(pty_start(&p, argv, envp), 0);
    type("1+1\r");
    assert_true(pty_expect(&p, "\r\n2\r\n", T));
    finish();
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    unlink(path);
    rmdir(dir);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(home))
        return -1;
    snprintf(home_env, sizeof home_env, "HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expression_values_are_printed),
        cmocka_unit_test(test_multiline_chunk_continues),
        cmocka_unit_test(test_error_keeps_session),
        cmocka_unit_test(test_tensor_is_printed),
        cmocka_unit_test(test_live_plot_frame_comes_before_prompt),
        cmocka_unit_test(test_tab_completes_fields_and_methods),
        cmocka_unit_test(test_ctrl_c_interrupts_statement),
        cmocka_unit_test(test_ctrl_c_at_prompt_abandons_line),
        cmocka_unit_test(test_history_is_kept),
        cmocka_unit_test(test_history_fifo_does_not_block),
        cmocka_unit_test(test_tab_completes_keywords_and_metatable_fields),
        cmocka_unit_test(test_ctrl_c_stops_a_script),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
