/* Ctrl-C (SIGINT to nnlua) while a plot waits for gnuplot: a slow fake
 * gnuplot ($NNLUA_GNUPLOT, a shell script that also starts a grandchild)
 * runs; nnlua must return to Lua with an "interrupted" error within a
 * second or two, kill gnuplot's whole process group, and leave no child
 * (the script itself counts its children from /proc). Also: without
 * pcall the program ends with the error; a LivePlot's wait(), the wait at
 * the end of the program and a plot drawn by a callback during fit are
 * interrupted the same way. Runs the built
 * nnlua ($NNLUA_BIN). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[256];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *name, const char *text, int exec)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    if (exec)
        assert_int_equal(chmod(path, 0755), 0);
}

/* The pid in dir/name, or -1 while there is none. */
static long pid_in(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = read_all(path);
    return s && *s ? strtol(s, NULL, 10) : -1;
}

/* 1 while process pid exists and is not a zombie. */
static int alive(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    char *s = read_all(path);
    if (!s)
        return 0;
    const char *p = strrchr(s, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Waits up to ms for pid to be gone. 1 when it is. */
static int gone_within(long pid, long ms)
{
    for (long t = 0; t < ms && alive(pid); t += 10)
        nap(10);
    return !alive(pid);
}

/* The fake gnuplot: records its pid and a grandchild's, reads its input,
 * then never ends (and ignores SIGTERM: only SIGKILL to its group ends
 * it). */
static const char fake_gnuplot[] =
    "#!/bin/sh\n"
    "trap '' TERM\n"
    "sleep 1000 &\n"
    "echo $! > \"$NNL_DIR/grandchild.pid\"\n"
    "echo $$ > \"$NNL_DIR/gnuplot.pid\"\n"
    "cat >/dev/null\n"
    "while :; do sleep 0.05; done\n";

/* The scripts' prelude: children() counts this process's children. */
static const char prelude[] =
    "local dir = os.getenv('NNL_DIR')\n"
    "local function children()\n"
    "  local pid = io.open('/proc/self/stat'):read('n')\n"
    "  local f = io.open('/proc/' .. pid .. '/task/' .. pid .. '/children')\n"
    "  if not f then return 0 end\n"
    "  local n = 0\n"
    "  for _ in f:read('a'):gmatch('%d+') do n = n + 1 end\n"
    "  f:close()\n"
    "  return n\n"
    "end\n";

typedef struct run_result {
    int status;   /* exit status, 128 + signal, or -1 if it did not end */
    double after; /* seconds from SIGINT to its end */
    int fake_gone; /* gnuplot and its grandchild were killed (by nnlua) */
    char out[1 << 16];
} run_result;

/* Runs nnlua on script body (after the prelude) with the fake gnuplot;
 * once gnuplot is running (its pid file exists) and delay_ms later, sends
 * SIGINT to nnlua; waits up to 10 s for it to end. */
static void run_interrupted(const char *body, long delay_ms, const char *timeout,
                            run_result *r)
{
    char script[8192];
    snprintf(script, sizeof script, "%s%s", prelude, body);
    write_file("case.lua", script, 0);
    char pidfile[512], outfile[512], scriptpath[512], gp[512];
    snprintf(pidfile, sizeof pidfile, "%s/gnuplot.pid", dir);
    snprintf(outfile, sizeof outfile, "%s/out.txt", dir);
    snprintf(scriptpath, sizeof scriptpath, "%s/case.lua", dir);
    snprintf(gp, sizeof gp, "%s/gnuplot", dir);
    unlink(pidfile);
    const char *bin = getenv("NNLUA_BIN");
    assert_non_null(bin);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NNLUA_GNUPLOT", gp, 1);
        setenv("NNLUA_GNUPLOT_TIMEOUT", timeout, 1);
        setenv("NNL_DIR", dir, 1);
        unsetenv("DISPLAY");
        unsetenv("WAYLAND_DISPLAY");
        signal(SIGINT, SIG_DFL);
        execl(bin, bin, scriptpath, (char *)NULL);
        _exit(127);
    }
    double t0 = now_s();
    while (pid_in("gnuplot.pid") < 0 && now_s() - t0 < 10)
        nap(5);
    assert_true(pid_in("gnuplot.pid") > 0);
    nap(delay_ms);
    kill(pid, SIGINT);
    double t1 = now_s();
    int status = 0;
    r->status = -1;
    while (now_s() - t1 < 10) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        nap(5);
    }
    r->after = now_s() - t1;
    if (r->status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    /* Whether nnlua killed gnuplot and its grandchild; what survived is
     * killed here, whatever the test then finds. */
    long fp = pid_in("gnuplot.pid"), fc = pid_in("grandchild.pid");
    r->fake_gone = fp > 1 && fc > 1 && gone_within(fp, 2000) && gone_within(fc, 2000);
    if (fp > 1 && alive(fp))
        kill((pid_t)fp, SIGKILL);
    if (fc > 1 && alive(fc))
        kill((pid_t)fc, SIGKILL);
    char *out = read_all(outfile);
    snprintf(r->out, sizeof r->out, "%s", out ? out : "");
}

/* gnuplot and its grandchild were killed by nnlua. */
#define assert_fake_gone() assert_true(r.fake_gone)

static void ctrl_c_during_a_plot_returns_to_lua(void **state)
{
    (void)state;
    /* Several times, at different moments of the wait. */
    static const long delays[] = {0, 50, 200, 500, 1000};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        run_result r;
        run_interrupted("local ok, err = pcall(nn.plot.lines, nil, {1, 2, 3},\n"
                        "                      {file = dir .. '/x.png'})\n"
                        "print('caught ' .. tostring(err))\n"
                        "print('children ' .. children())\n"
                        "print('still running')\n",
                        delays[i], "60", &r);
        print_message("SIGINT after %ld ms: exit %d, %.2f s later\n%s", delays[i], r.status,
                      r.after, r.out);
        assert_int_equal(r.status, 0);
        assert_true(r.after < 3);
        assert_non_null(strstr(r.out, "caught nn.plot.lines: interrupted: gnuplot was stopped"));
        assert_non_null(strstr(r.out, "children 0"));
        assert_non_null(strstr(r.out, "still running"));
        /* The handled interrupt does not fire again later. */
        assert_null(strstr(r.out, "interrupted!"));
        assert_fake_gone();
    }
}

static void ctrl_c_during_an_unprotected_plot_ends_the_program(void **state)
{
    (void)state;
    run_result r;
    run_interrupted("nn.plot.hist({1, 2, 3}, {file = dir .. '/h.svg'})\nprint('not reached')\n",
                    100, "60", &r);
    print_message("exit %d, %.2f s later\n%s", r.status, r.after, r.out);
    assert_int_equal(r.status, 1);
    assert_true(r.after < 3);
    assert_non_null(strstr(r.out, "nn.plot.hist: interrupted"));
    assert_null(strstr(r.out, "not reached"));
    assert_fake_gone();
}

static const char live_fit[] =
    "nn.seed(1)\n"
    "local m = nn.Sequential({nn.Dense(1, {input_dim = 1})})\n"
    "m:compile{loss = 'mse', optimizer = 'sgd'}\n"
    "local lp = nn.callbacks.LivePlot{file = dir .. '/live.png', interval = 0}\n"
    "m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}), {epochs = 3, verbose = 0,\n"
    "      callbacks = {lp}})\n"
    "print('fit done')\n";

static void ctrl_c_during_liveplot_wait(void **state)
{
    (void)state;
    char body[4096];
    snprintf(body, sizeof body, "%s%s", live_fit,
             "local ok, err = lp.wait()\n"
             "print('wait ' .. tostring(ok) .. ' ' .. tostring(err))\n"
             "print('children ' .. children())\n");
    run_result r;
    run_interrupted(body, 200, "60", &r);
    print_message("exit %d, %.2f s later\n%s", r.status, r.after, r.out);
    assert_int_equal(r.status, 0);
    assert_true(r.after < 3);
    assert_non_null(strstr(r.out, "wait false interrupted"));
    assert_non_null(strstr(r.out, "children 0"));
    assert_fake_gone();
}

static void ctrl_c_while_the_program_ends(void **state)
{
    (void)state;
    /* The last frame is still drawing when the script ends: the program
     * waits for it (bounded), and a Ctrl-C stops that wait. */
    run_result r;
    run_interrupted(live_fit, 300, "60", &r);
    print_message("exit %d, %.2f s later\n%s", r.status, r.after, r.out);
    assert_true(r.status != -1);
    assert_true(r.after < 3);
    assert_non_null(strstr(r.out, "fit done"));
    assert_fake_gone();
}

static void ctrl_c_during_fit_stops_a_callbacks_plot(void **state)
{
    (void)state;
    /* Inside fit the first Ctrl-C only asks fit to stop after the batch;
     * a plot drawn by a callback must not hold it up until the deadline. */
    run_result r;
    run_interrupted("nn.seed(1)\n"
                    "local m = nn.Sequential({nn.Dense(1, {input_dim = 1})})\n"
                    "m:compile{loss = 'mse', optimizer = 'sgd'}\n"
                    "local cb = {on_epoch_end = function()\n"
                    "  local ok, err = pcall(nn.plot.lines, nil, {1, 2}, {file = dir .. '/c.png'})\n"
                    "  print('plot ' .. tostring(err))\n"
                    "end}\n"
                    "local h = m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}),\n"
                    "                {epochs = 1000, verbose = 0, callbacks = {cb}})\n"
                    "print('fit interrupted ' .. tostring(h.interrupted) .. ' after ' ..\n"
                    "      #h.history.loss .. ' epochs')\n"
                    "print('children ' .. children())\n",
                    200, "60", &r);
    print_message("exit %d, %.2f s later\n%.400s", r.status, r.after, r.out);
    assert_int_equal(r.status, 0);
    assert_true(r.after < 3);
    assert_non_null(strstr(r.out, "plot nn.plot.lines: interrupted: gnuplot was stopped"));
    assert_non_null(strstr(r.out, "fit interrupted true after 1 epochs"));
    assert_non_null(strstr(r.out, "children 0"));
    assert_fake_gone();
}

int main(void)
{
    if (!getenv("NNLUA_BIN") || access("/bin/sh", X_OK) != 0) {
        printf("NNLUA_BIN not set or no /bin/sh: skipped\n");
        return 0;
    }
    snprintf(dir, sizeof dir, "/tmp/nnl_plot_sigint_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    write_file("gnuplot", fake_gnuplot, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ctrl_c_during_a_plot_returns_to_lua),
        cmocka_unit_test(ctrl_c_during_an_unprotected_plot_ends_the_program),
        cmocka_unit_test(ctrl_c_during_liveplot_wait),
        cmocka_unit_test(ctrl_c_while_the_program_ends),
        cmocka_unit_test(ctrl_c_during_fit_stops_a_callbacks_plot),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    static const char *const files[] = {"gnuplot", "case.lua", "out.txt", "gnuplot.pid",
                                        "grandchild.pid", "x.png", "h.svg", "live.png", "c.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return rc;
}
