/* The hostile property test's driver: runs tests/hostile/property.lua (every
 * public function and method of the Lua API called with random hostile
 * arguments) in nnlua, in a fresh temporary folder, and fails on a crash,
 * a sanitizer report, a leak, a nonzero exit or a hang.
 *
 * What Lua cannot do for itself is done here:
 * - the folder: a fresh mkdtemp folder is the child's working directory and
 *   TMPDIR, so every file a call writes lands in it (removed afterwards);
 * - no windows, no real gnuplot: NNLUA_GNUPLOT is a fake that reads its
 *   script and exits 0, DISPLAY is unset, NNLUA_PLOT_TERM=dumb;
 * - memory: huge sizes must fail, not swap the machine: RLIMIT_AS (plain
 *   build) or ASan's allocation limits (sanitizer build);
 * - hangs: the script writes "C <index> <call>" on fd 3 before each call
 *   and "D" after it. A call running longer than SOFT_S gets a SIGINT (as
 *   Ctrl-C in a terminal, to the process group: every call must stop on
 *   Ctrl-C); one still running HARD_S later is a hang: the group is
 *   killed and the call named. The whole run is bounded by
 *   NNLUA_HOSTILE_SECONDS.
 *
 * Environment: NNLUA_HOSTILE_SEED (default: from the clock; printed),
 * NNLUA_HOSTILE_CALLS (100000), NNLUA_HOSTILE_ROUND (first round, to
 * replay a failure), NNLUA_HOSTILE_SECONDS (600), NNLUA_HOSTILE_KEEP=1
 * keeps the folder. docs/building.md says how to reproduce a failure. */
#include "proc.h" /* first: it sets _DEFAULT_SOURCE */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif
#ifndef HOSTILE_ASAN
#define HOSTILE_ASAN 0
#endif

/* Seconds a call may run before its SIGINT, and after it before it counts
 * as a hang (ASan runs 2-3 times slower). */
#define SOFT_S (HOSTILE_ASAN ? 4.0 : 2.0)
#define HARD_S 20.0
#define ROUND_CALLS 250 /* as property.lua */

static char dir[256];

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return *end ? dflt : v;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Removes the folder's tree (calls make files and folders in it only). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

/* Prints the child's stderr from the first sanitizer report (the stacks,
 * without the shadow byte map), or else its end. */
static void print_stderr_tail(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/.stderr", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char buf[1 << 20];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = '?';
    buf[n] = '\0';
    const char *marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                           "AddressSanitizer:DEADLYSIGNAL"};
    char *start = NULL;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        char *p = strstr(buf, marks[i]);
        if (p && (!start || p < start))
            start = p;
    }
    if (start) {
        char *shadow = strstr(start, "Shadow bytes around");
        if (shadow)
            *shadow = '\0';
        if (strlen(start) > 16000)
            start[16000] = '\0';
    } else {
        start = n > 6000 ? buf + n - 6000 : buf;
    }
    fprintf(stderr, "---- nnlua's stderr (%s) ----\n%s\n----\n", path, start);
}

static pid_t start_child(int progress_fd, long seed, long calls, long round)
{
    /* Absolute paths: the child runs in the temporary folder. */
    char script[4096], bin[4096];
    const char *src = getenv("NNLUA_SOURCE_DIR");
    snprintf(script, sizeof script, "%s/tests/hostile/property.lua", src ? src : "..");
    char *rs = realpath(script, NULL), *rb = realpath(nnlua_bin(), NULL);
    if (!rs || !rb) {
        fprintf(stderr, "hostile: %s or %s not found\n", script, nnlua_bin());
        free(rs);
        free(rb);
        return -1;
    }
    snprintf(script, sizeof script, "%s", rs);
    snprintf(bin, sizeof bin, "%s", rb);
    free(rs);
    free(rb);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    if (chdir(dir) != 0)
        _exit(126);
    int devnull = open("/dev/null", O_RDWR);
    char errpath[300];
    snprintf(errpath, sizeof errpath, "%s/.stderr", dir);
    int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (devnull < 0 || errfd < 0)
        _exit(126);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(errfd, 2);
    dup2(progress_fd, 3);
    char buf[600];
    snprintf(buf, sizeof buf, "%s/gnuplot", dir);
    setenv("NNLUA_GNUPLOT", buf, 1);
    setenv("NNLUA_PLOT_TERM", "dumb", 1);
    setenv("NNLUA_DATA", dir, 1);
    setenv("TMPDIR", dir, 1);
    setenv("HOME", dir, 1);
    setenv("NNLUA_THREADS", "2", 1);
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    snprintf(buf, sizeof buf, "%ld", seed);
    setenv("NNLUA_HOSTILE_SEED", buf, 1);
    snprintf(buf, sizeof buf, "%ld", calls);
    setenv("NNLUA_HOSTILE_CALLS", buf, 1);
    snprintf(buf, sizeof buf, "%ld", round);
    setenv("NNLUA_HOSTILE_ROUND", buf, 1);
#if HOSTILE_ASAN
    /* Huge sizes from scripts fail as they would on a real machine out of
     * memory, instead of ASan aborting (or the machine swapping). */
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(buf, sizeof buf, "%s%sallocator_may_return_null=1:max_allocation_size_mb=256:"
             "soft_rss_limit_mb=3000", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", buf, 1);
#else
    struct rlimit rl = {(rlim_t)2 << 30, (rlim_t)2 << 30};
    setrlimit(RLIMIT_AS, &rl);
#endif
    execl(bin, bin, script, (char *)NULL);
    _exit(127);
}

static void test_hostile_calls(void **state)
{
    (void)state;
    long seed = env_long("NNLUA_HOSTILE_SEED", (long)(time(NULL) ^ (getpid() << 8)) & 0x7fffffff);
    long calls = env_long("NNLUA_HOSTILE_CALLS", 100000);
    long round = env_long("NNLUA_HOSTILE_ROUND", 0);
    double total = (double)env_long("NNLUA_HOSTILE_SECONDS", 600);
    printf("hostile: seed %ld, %ld calls from round %ld (replay: NNLUA_HOSTILE_SEED=%ld)\n",
           seed, calls, round, seed);
    fflush(stdout);

    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nnlua-hostile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char path[400];
    snprintf(path, sizeof path, "%s/gnuplot", dir);
    /* The fake gnuplot: how it behaves is chosen per round by the script
     * (the file .gnuplot-mode): reads its input and exits 0, exits at once
     * (the pipe breaks under the writer), fails with a message, dies by a
     * signal half way, or writes noise. Builtins only, to start fast. */
    write_text(path,
               "#!/bin/sh\n"
               "# fake gnuplot of test_hostile (see test_hostile.c)\n"
               "mode=cat\n"
               "read -r mode < \"${0%/*}/.gnuplot-mode\" 2>/dev/null\n"
               "case $mode in\n"
               "exit) exit 0 ;;\n"
               "fail) echo 'line 1: the fake gnuplot of test_hostile fails' >&2; exit 1 ;;\n"
               "die) read -r line; kill -9 $$ ;;\n"
               "noise) cat >/dev/null; echo noise; echo 'warning: noise' >&2 ;;\n"
               "*) exec cat >/dev/null ;;\n"
               "esac\n", 0755);
    snprintf(path, sizeof path, "%s/.nnlua-hostile-dir", dir);
    write_text(path, "the temporary folder of test_hostile\n", 0644);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    double t0 = now_s();
    pid_t pid = start_child(fds[1], seed, calls, round);
    assert_true(pid > 0);
    setpgid(pid, pid); /* also here: no race with the first kill */
    close(fds[1]);

    /* The watchdog. */
    static char line[8192], last[8192];
    size_t len = 0;
    int in_call = 0, sent_int = 0, hung = 0, over_total = 0, nfuncs = 0;
    long last_index = -1;
    double call_start = 0;
    char end_line[1024] = "";
    struct pollfd pfd = {fds[0], POLLIN, 0};
    for (;;) {
        int r = poll(&pfd, 1, 100);
        double now = now_s();
        if (r > 0) {
            char buf[65536];
            ssize_t k = read(fds[0], buf, sizeof buf);
            if (k <= 0)
                break;
            for (ssize_t i = 0; i < k; i++) {
                if (buf[i] != '\n') {
                    if (len < sizeof line - 1)
                        line[len++] = buf[i];
                    continue;
                }
                line[len] = '\0';
                len = 0;
                if (line[0] == 'C') {
                    in_call = 1;
                    sent_int = 0;
                    call_start = now;
                    last_index = strtol(line + 2, NULL, 10);
                    memcpy(last, line, sizeof last);
                } else if (line[0] == 'D') {
                    in_call = 0;
                } else if (line[0] == 'N') {
                    nfuncs = atoi(line + 2);
                } else if (strncmp(line, "END", 3) == 0) {
                    snprintf(end_line, sizeof end_line, "%.1000s", line);
                } else if (line[0] == 'F') {
                    fprintf(stderr, "hostile: %s\n", line);
                }
            }
        }
        if (in_call && !sent_int && now - call_start > SOFT_S) {
            kill(-pid, SIGINT);
            sent_int = 1;
        }
        if (in_call && now - call_start > SOFT_S + HARD_S) {
            hung = 1;
            break;
        }
        if (now - t0 > total) {
            over_total = 1;
            break;
        }
    }
    if (hung || over_total)
        kill(-pid, SIGKILL);
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    kill(-pid, SIGKILL); /* fake gnuplots left behind */
    double secs = now_s() - t0;

    long fail_round = last_index >= 1 ? (last_index - 1) / ROUND_CALLS : round;
    int failed = hung || over_total || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !end_line[0];
    if (failed) {
        print_stderr_tail();
        if (hung)
            fprintf(stderr, "hostile: HANG: a call ran %.0f s (SIGINT sent after %.0f s)\n",
                    SOFT_S + HARD_S, SOFT_S);
        if (over_total)
            fprintf(stderr, "hostile: the run took over NNLUA_HOSTILE_SECONDS=%.0f s\n", total);
        if (WIFSIGNALED(st))
            fprintf(stderr, "hostile: nnlua died of signal %d (%s)\n", WTERMSIG(st),
                    strsignal(WTERMSIG(st)));
        else if (WIFEXITED(st))
            fprintf(stderr, "hostile: nnlua exited with status %d\n", WEXITSTATUS(st));
        fprintf(stderr, "hostile: last call (%s): %s\n", in_call ? "running" : "returned",
                last[0] ? last : "none");
        fprintf(stderr, "hostile: replay with NNLUA_HOSTILE_SEED=%ld NNLUA_HOSTILE_ROUND=%ld "
                "NNLUA_HOSTILE_CALLS=%ld (NNLUA_HOSTILE_VERBOSE=1 lists the calls; "
                "NNLUA_HOSTILE_KEEP=1 keeps %s)\n", seed, fail_round,
                last_index - fail_round * ROUND_CALLS, env_long("NNLUA_HOSTILE_KEEP", 0) ? dir : "the folder");
    } else {
        printf("hostile: %s, %d functions, %.1f s wall\n", end_line, nfuncs, secs);
    }
    if (!env_long("NNLUA_HOSTILE_KEEP", 0))
        remove_tree(dir);
    else
        fprintf(stderr, "hostile: kept %s\n", dir);
    assert_false(failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
