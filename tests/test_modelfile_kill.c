/* kill -9 during saves: a child saves a 4 MB model over the same path in a
 * loop and is killed with SIGKILL at a random moment, many times, with
 * nameless (O_TMPFILE) and with named temporaries, and then the real
 * nnlua is killed the same way during ModelCheckpoint. After every kill
 * the target is absent (before the first save ended) or a complete model
 * of one generation (every weight the same value, so a mix of two saves
 * would show), temporaries never pile up (at most the killed save's own
 * and one its cleanup had not reached yet), and after a final successful
 * save none is left. Bounded: each phase stops after its kill count or
 * 20 s. NNL_KILLS=<n> changes the count per phase (default 60). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/writefile.h"
#include "model/model.h"
#include "model/modelfile.h"

static char dir[256];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int kills_per_phase(void)
{
    const char *s = getenv("NNL_KILLS");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : 60;
}

/* Dense(1024) on 1024 inputs: 1M + 1K floats, about 4 MB. */
static nnl_model *big_model(void)
{
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    nnl_layer *l = nnl_dense_new(1024, &o, &err);
    assert_non_null(l);
    nnl_shape in = {1, {1024, 0, 0, 0}};
    assert_int_equal(nnl_layer_set_input_shape(l, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, l, &err), NNL_OK);
    return m;
}

/* Sets every weight of m to g (the save's generation). */
static void fill(nnl_model *m, float g)
{
    for (int p = 0; p < m->layers[0]->nparams; p++) {
        nnl_param *pr = &m->layers[0]->params[p];
        for (size_t i = 0; i < pr->n; i++)
            pr->w[i] = g;
    }
}

/* Entries of folder holding ".tmp-". */
static int count_tmp(const char *folder)
{
    DIR *d = opendir(folder);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

/* The file at path must be absent (when absent_ok) or a whole model of
 * one generation; returns that generation (0 when absent). */
static float check_target(const char *path, int absent_ok)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!absent_ok)
            fail_msg("'%s' vanished after it was saved once", path);
        return 0;
    }
    nnl_error err;
    nnl_model *m = nnl_modelfile_load(path, NULL, &err);
    if (!m)
        fail_msg("after a kill '%s' does not load: %s", path, err.msg);
    float g = m->layers[0]->params[0].w[0];
    for (int p = 0; p < m->layers[0]->nparams; p++) {
        const nnl_param *pr = &m->layers[0]->params[p];
        for (size_t i = 0; i < pr->n; i++)
            if (pr->w[i] != g)
                fail_msg("'%s' mixes generations %g and %g", path, (double)g,
                         (double)pr->w[i]);
    }
    nnl_model_free(m);
    return g;
}

/* The numbers of one phase, for the report. */
typedef struct phase_stats {
    int kills, absent, changed, with_tmp, max_tmp, left_tmp;
    double seconds;
} phase_stats;

static void report(const char *name, const phase_stats *s)
{
    print_message("%s: %d kills in %.1f s; target absent after %d, a new generation after "
                  "%d; a temporary left by %d kills, at most %d at once; %d left after "
                  "the final save\n", name, s->kills, s->seconds, s->absent, s->changed,
                  s->with_tmp, s->max_tmp, s->left_tmp);
}

/* Kills a saving child many times; named selects the named temporaries. */
static void kill_phase(int named, phase_stats *s)
{
    nnl_wfile_force_named = named;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, named ? "named" : "anon");
    nnl_model *m = big_model();
    /* one timed save sets the range of kill moments */
    double t0 = now_s();
    nnl_error err;
    fill(m, 1);
    assert_int_equal(nnl_modelfile_save(m, path, NULL, &err), NNL_OK);
    double one = now_s() - t0;
    unlink(path);
    unsigned seed = (unsigned)getpid() * 2654435761u;
    memset(s, 0, sizeof *s);
    int target = kills_per_phase();
    float last = 0;
    double start = now_s();
    for (int k = 0; k < target && now_s() - start < 20; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(30);
            for (float g = 2 + (float)k * 1000;; g++) { /* generations of this child */
                fill(m, g);
                if (nnl_modelfile_save(m, path, NULL, &err) != NNL_OK)
                    _exit(1);
            }
        }
        seed = seed * 1103515245u + 12345u;
        /* 0 to 3 saves' time: kills land in every phase of a save */
        useconds_t wait = (useconds_t)(one * 3e6 * ((seed >> 8) % 1000) / 1000.0);
        usleep(wait);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("the saving child ended by itself (status %d): a save failed", status);
        s->kills++;
        float g = check_target(path, last == 0);
        s->absent += g == 0;
        s->changed += g != 0 && g != last;
        if (g != 0)
            last = g;
        int n = count_tmp(dir);
        s->with_tmp += n > 0;
        if (n > s->max_tmp)
            s->max_tmp = n;
        if (n > 2)
            fail_msg("%d temporaries after kill %d: they pile up", n, k + 1);
    }
    s->seconds = now_s() - start;
    fill(m, 7);
    assert_int_equal(nnl_modelfile_save(m, path, NULL, &err), NNL_OK);
    assert_true(check_target(path, 0) == 7);
    s->left_tmp = count_tmp(dir);
    assert_int_equal(s->left_tmp, 0);
    assert_true(s->kills >= 20);
    unlink(path);
    nnl_model_free(m);
    nnl_wfile_force_named = 0;
}

static void test_kill_during_save_anonymous_temporaries(void **state)
{
    (void)state;
    phase_stats s;
    kill_phase(0, &s);
    report("O_TMPFILE", &s);
}

static void test_kill_during_save_named_temporaries(void **state)
{
    (void)state;
    phase_stats s;
    kill_phase(1, &s);
    report("named", &s);
}

/* The real program: nnlua fitting with ModelCheckpoint on every epoch. */
static void test_kill_nnlua_during_model_checkpoint(void **state)
{
    (void)state;
    const char *bin = getenv("NNLUA_BIN");
    if (!bin || !*bin) {
        print_message("[  SKIPPED ] NNLUA_BIN is not set\n");
        return;
    }
    char path[512], script[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    snprintf(script, sizeof script, "%s/fit.lua", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f,
            "local m = nn.Sequential({nn.Dense(1024, {input_dim = 1024})})\n"
            "m:compile{loss = 'mse', optimizer = 'adam'}\n"
            "local x, y = nn.rand(8, 1024), nn.rand(8, 1024)\n"
            "m:fit(x, y, {epochs = 100000, batch_size = 8, verbose = 0, callbacks = "
            "{nn.callbacks.ModelCheckpoint{'%s'}}})\n", path);
    fclose(f);
    int target = kills_per_phase() / 2, kills = 0, absent = 0, max_tmp = 0;
    unsigned seed = 12345;
    double start = now_s();
    for (int k = 0; k < target && now_s() - start < 20; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(30);
            execl(bin, bin, script, (char *)NULL);
            _exit(127);
        }
        seed = seed * 1103515245u + 12345u;
        usleep((useconds_t)(50000 + (seed >> 8) % 250000)); /* 50..300 ms */
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("nnlua ended by itself (status %d)", status);
        kills++;
        struct stat st;
        if (stat(path, &st) != 0) {
            absent++;
        } else {
            nnl_error err;
            nnl_model *m = nnl_modelfile_load(path, NULL, &err);
            if (!m)
                fail_msg("after kill %d the checkpoint does not load: %s", k + 1, err.msg);
            nnl_model_free(m);
        }
        int n = count_tmp(dir);
        max_tmp = n > max_tmp ? n : max_tmp;
        if (n > 2)
            fail_msg("%d temporaries after kill %d: they pile up", n, k + 1);
    }
    /* the next run's first checkpoint cleans up */
    f = fopen(script, "w");
    fprintf(f,
            "local m = nn.Sequential({nn.Dense(1024, {input_dim = 1024})})\n"
            "m:compile{loss = 'mse', optimizer = 'adam'}\n"
            "m:fit(nn.rand(8, 1024), nn.rand(8, 1024), {epochs = 1, verbose = 0, "
            "callbacks = {nn.callbacks.ModelCheckpoint{'%s'}}})\n", path);
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "timeout 30 '%s' '%s'", bin, script);
    assert_int_equal(system(cmd), 0);
    int left = count_tmp(dir);
    print_message("nnlua ModelCheckpoint: %d kills in %.1f s; no checkpoint yet after %d; at "
                  "most %d temporaries at once; %d left after the next run\n", kills,
                  now_s() - start, absent, max_tmp, left);
    assert_int_equal(left, 0);
    assert_true(kills >= 10);
    unlink(path);
    unlink(script);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nnl_kill_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_save_anonymous_temporaries),
        cmocka_unit_test(test_kill_during_save_named_temporaries),
        cmocka_unit_test(test_kill_nnlua_during_model_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
