/* $NNLUA_ISA as the program sees it: each case runs in a fresh child
 * process (the level is chosen once per process), which sets the variable,
 * calls nnl_dispatch_init and reports through its exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "simd/dispatch.h"
#include "simd/kernels.h"

/* Exit codes of the child. */
enum { CHILD_OK = 0, CHILD_INIT_FAILED = 10, CHILD_WRONG_LEVEL = 11, CHILD_BAD_MESSAGE = 12 };

/* In the child: set NNLUA_ISA (NULL: unset), init, check the outcome. */
static int child(const char *env, int want_ok, int want_level, const char *want_msg)
{
    if (env)
        setenv("NNLUA_ISA", env, 1);
    else
        unsetenv("NNLUA_ISA");
    nnl_error err;
    nnl_error_clear(&err);
    nnl_status st = nnl_dispatch_init(&err);
    if ((st == NNL_OK) != want_ok)
        return CHILD_INIT_FAILED;
    if (!want_ok && (st != NNL_ERR_UNSUPPORTED || !strstr(err.msg, want_msg)))
        return CHILD_BAD_MESSAGE;
    if ((int)nnl_isa_active() != want_level || nnl_kernels_active()->isa != nnl_isa_active())
        return CHILD_WRONG_LEVEL;
    /* a second init reports the same outcome */
    if ((nnl_dispatch_init(NULL) == NNL_OK) != want_ok)
        return CHILD_INIT_FAILED;
    return CHILD_OK;
}

static void run_child(const char *env, int want_ok, int want_level, const char *want_msg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child(env, want_ok, want_level, want_msg));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != CHILD_OK)
        fail_msg("NNLUA_ISA='%s': child exit %d", env ? env : "(unset)", WEXITSTATUS(status));
}

/* The best level, learned in a child so this process stays uninitialised. */
static int best_level(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit((int)nnl_isa_best());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WEXITSTATUS(status);
}

static void test_unset_or_empty_picks_the_best_level(void **state)
{
    (void)state;
    int best = best_level();
    run_child(NULL, 1, best, NULL);
    run_child("", 1, best, NULL);
}

static void test_each_supported_level_can_be_forced(void **state)
{
    (void)state;
    int best = best_level();
    for (int l = 0; l <= best; l++)
        run_child(nnl_isa_name((nnl_isa)l), 1, l, NULL);
}

static void test_unknown_name_fails_and_falls_back_to_best(void **state)
{
    (void)state;
    int best = best_level();
    run_child("avx9", 0, best, "unknown instruction set 'avx9'");
    run_child("AVX2", 0, best, "scalar, sse2, avx2, avx512");
}

static void test_level_above_the_cpu_fails(void **state)
{
    (void)state;
    int best = best_level();
    if (best == NNL_ISA_AVX512)
        skip(); /* nothing above this CPU */
    run_child(nnl_isa_name((nnl_isa)(best + 1)), 0, best, "not supported by this CPU");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset_or_empty_picks_the_best_level),
        cmocka_unit_test(test_each_supported_level_can_be_forced),
        cmocka_unit_test(test_unknown_name_fails_and_falls_back_to_best),
        cmocka_unit_test(test_level_above_the_cpu_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
