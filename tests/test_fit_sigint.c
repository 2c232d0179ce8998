/* Ctrl-C during fit, from outside: nnlua runs tests/hostile/fit_sigint.lua
 * (a fit of a million epochs) under a pseudo-terminal and the test
 * interrupts it, as a user would (API.md: "Training is interrupted cleanly
 * by Ctrl-C: fit returns the history so far and the model keeps its
 * weights"):
 * - the terminal's Ctrl-C, and kill -INT: fit returns the epochs done, says
 *   "Interrupted", the weights are those of its last step (trained, finite)
 *   and predict works;
 * - a callback stuck in a loop and two Ctrl-C: the second stops the
 *   callback, fit raises that error, the model stays usable;
 * - afterwards Ctrl-C interrupts Lua code again (fit's handler is gone).
 * Every wait is bounded. */
#include "proc.h" /* first: it sets _DEFAULT_SOURCE */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void script_path(char *buf, size_t size)
{
    const char *src = getenv("NNLUA_SOURCE_DIR");
    snprintf(buf, size, "%s/tests/hostile/fit_sigint.lua", src ? src : "..");
}

/* Prints what the child wrote when an expectation fails. */
static void expect(pty_proc *p, const char *want, double timeout)
{
    if (!pty_expect(p, want, timeout)) {
        p->buf[p->len] = '\0';
        kill(p->pid, SIGKILL);
        fail_msg("expected '%s' within %.0f s; the output was:\n%s", want, timeout, p->buf);
    }
}

static void interrupt(pty_proc *p, int use_kill)
{
    if (use_kill)
        kill(p->pid, SIGINT);
    else
        pty_send(p, "\x03"); /* the terminal sends SIGINT to the foreground group */
}

static void run_mode(const char *mode, int use_kill)
{
    char script[4096];
    script_path(script, sizeof script);
    char *argv[] = {NULL, script, (char *)mode, NULL};
    pty_proc *p = malloc(sizeof *p);
    assert_non_null(p);
    char *env[] = {"NNLUA_THREADS=1", NULL};
    assert_int_equal(pty_start(p, argv, env), 0);
    expect(p, "FIT STARTED", 60);
    interrupt(p, use_kill);
    if (strcmp(mode, "stuck") == 0) {
        /* The first Ctrl-C only asks fit to stop; the callback never
         * returns to let it: the second goes to the program. */
        usleep(200 * 1000);
        interrupt(p, use_kill);
        expect(p, "FIT FAILED true", 30);
        expect(p, "interrupted", 5);
        expect(p, "FINITE true", 10);
        expect(p, "USABLE 1", 30);
    } else {
        expect(p, "Interrupted: fit stopped", 30);
        expect(p, "EPOCHS ", 5);
        long epochs = strtol(p->buf + p->mark, NULL, 10);
        assert_true(epochs >= 3);
        expect(p, "INTERRUPTED true", 5);
        expect(p, "WEIGHTS KEPT true TRAINED true FINITE true", 10);
        expect(p, "PREDICT 256", 10);
    }
    expect(p, "READY FOR SECOND", 10);
    usleep(100 * 1000); /* into the loop */
    interrupt(p, use_kill);
    expect(p, "SECOND", 10);
    expect(p, "interrupted!", 5);
    int code = pty_wait(p, 20);
    if (code != 0) {
        p->buf[p->len] = '\0';
        fail_msg("nnlua exited with %d; output:\n%s", code, p->buf);
    }
    free(p);
}

static void test_ctrl_c_in_fit(void **state)
{
    (void)state;
    run_mode("tty", 0);
}

static void test_kill_int_in_fit(void **state)
{
    (void)state;
    run_mode("kill", 1);
}

static void test_ctrl_c_twice_in_stuck_callback(void **state)
{
    (void)state;
    run_mode("stuck", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl_c_in_fit),
        cmocka_unit_test(test_kill_int_in_fit),
        cmocka_unit_test(test_ctrl_c_twice_in_stuck_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
