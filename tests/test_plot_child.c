/* gnuplot as a child that misbehaves (src/plot/gnuplot.c, style.c): fake
 * gnuplot programs (shell scripts named by $NNLUA_GNUPLOT) that hang,
 * ignore SIGTERM, write to stderr without end, die by a signal, exit
 * without writing their file or write an empty, stale or cut one, or leave
 * a grandchild holding stderr; a full disk (RLIMIT_FSIZE in a child); a
 * large script's temporary file, gone even when we are killed. Every wait is bounded by
 * $NNLUA_GNUPLOT_TIMEOUT (the whole process group is killed), Ctrl-C
 * (the interrupt flag) stops a wait at once, errors say what happened,
 * and no child is left behind (waitpid(-1) finds none).
 *
 * A watchdog (alarm) fails the program instead of letting a hang block
 * the suite. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/interrupt.h"
#include "plot/gnuplot.h"
#include "plot/plot.h"

static char tmpdir[256];
static char olddir[4096];
static nnl_error err;

static int setup(void **state)
{
    (void)state;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    unsetenv("NNLUA_GNUPLOT_TIMEOUT");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_plot_child_XXXXXX");
    if (!mkdtemp(tmpdir) || !getcwd(olddir, sizeof olddir) || chdir(tmpdir) != 0)
        return -1;
    nnl_error_clear(&err);
    nnl_interrupt_clear();
    alarm(60); /* a hang fails the test program instead of blocking ctest */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    unsetenv("NNLUA_GNUPLOT");
    unsetenv("NNLUA_GNUPLOT_TIMEOUT");
    /* Files, and the files of the one folder a test makes (tmp). */
    for (int pass = 0; pass < 2; pass++) {
        DIR *d = opendir(pass ? "." : "tmp");
        if (!d)
            continue;
        struct dirent *e;
        char path[600];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(path, sizeof path, "%s/%s", pass ? "." : "tmp", e->d_name);
                unlink(path);
            }
        closedir(d);
        if (!pass)
            rmdir("tmp");
    }
    if (chdir(olddir) != 0)
        return -1;
    rmdir(tmpdir);
    return 0;
}

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

/* Reads everything on stdin (gnuplot's script) and sets $out to the file
 * of its `set output` line (file names in these tests need no quoting). */
#define READ_OUT "out=$(sed -n \"s/^set output '\\(.*\\)'\\$/\\1/p\" | head -n 1)\n"
/* A PNG's last chunk (IEND with its CRC), what a complete PNG ends with. */
#define PNG_TAIL "printf '\\211PNG\\r\\n\\032\\n\\0\\0\\0\\0IEND\\256B`\\202'"

/* Writes the fake gnuplot program (a shell script with body) and points
 * $NNLUA_GNUPLOT at it. */
static void fake(const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fake-gnuplot", tmpdir);
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
    setenv("NNLUA_GNUPLOT", path, 1);
}

/* No children left: waitpid finds none (ECHILD), so no zombies. */
static void assert_no_children(void)
{
    int status;
    errno = 0;
    assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* 1 while process pid exists and is not a zombie. */
static int alive(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The number in file path (a pid a fake wrote), or -1. */
static long read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Builds and renders a small line plot into file. */
static nnl_status lines_plot(const char *file)
{
    double y[5] = {1, 4, 9, 16, 25};
    nnl_plot_series s[1] = {{"up", NULL, y, 5}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = file;
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_lines(&b, &o, s, 1, &err);
    if (st == NNL_OK)
        st = nnl_plot_render(&b, &o, "nn.plot.lines", &err);
    nnl_pbuf_free(&b);
    return st;
}

static void hung_gnuplot_is_killed_at_the_deadline(void **state)
{
    (void)state;
    fake("exec sleep 1000");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "1", 1);
    double t0 = now_s();
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    double dt = now_s() - t0;
    print_message("hung gnuplot: %.2f s: %s\n", dt, err.msg);
    assert_true(dt >= 0.9 && dt < 4);
    assert_non_null(strstr(err.msg, "nn.plot.lines"));
    assert_non_null(strstr(err.msg, "x.png"));
    assert_non_null(strstr(err.msg, "did not finish within 1 s"));
    assert_non_null(strstr(err.msg, "NNLUA_GNUPLOT_TIMEOUT"));
    assert_no_children();
}

static void sigterm_ignored_means_sigkill_for_the_whole_group(void **state)
{
    (void)state;
    /* The grandchild inherits the ignored SIGTERM: only SIGKILL to the
     * process group stops both. */
    fake("trap '' TERM\nsleep 1000 &\necho $! > grandchild.pid\n"
         "while :; do sleep 0.05; done");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "0.5", 1);
    double t0 = now_s();
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    double dt = now_s() - t0;
    print_message("SIGTERM ignored: %.2f s: %s\n", dt, err.msg);
    assert_true(dt < 4);
    assert_non_null(strstr(err.msg, "did not finish within 0.5 s"));
    long gc = read_pid("grandchild.pid");
    assert_true(gc > 1);
    for (int i = 0; i < 100 && alive(gc); i++)
        nap(10);
    assert_false(alive(gc));
    assert_no_children();
}

static void endless_stderr_is_bounded_too(void **state)
{
    (void)state;
    /* It never stops talking, so no "idle" timeout would ever fire. */
    fake("cat >/dev/null\nwhile :; do echo garbage garbage garbage >&2; done");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "1", 1);
    double t0 = now_s();
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    double dt = now_s() - t0;
    print_message("endless stderr: %.2f s: %.120s\n", dt, err.msg);
    assert_true(dt < 4);
    assert_non_null(strstr(err.msg, "did not finish within 1 s"));
    assert_no_children();
}

static void grandchild_holding_stderr_does_not_delay_the_plot(void **state)
{
    (void)state;
    fake(READ_OUT "echo drawn > \"$out\"\nsleep 20 &\necho $! > grandchild.pid\nexit 0");
    double t0 = now_s();
    assert_int_equal(lines_plot("x.txt"), NNL_OK);
    double dt = now_s() - t0;
    print_message("grandchild holding stderr: %.2f s\n", dt);
    assert_true(dt < 2);
    assert_no_children();
    /* gnuplot exited normally: what it left running (a persistent window,
     * say) is not ours to kill. */
    long gc = read_pid("grandchild.pid");
    assert_true(gc > 1 && alive(gc));
    kill((pid_t)gc, SIGKILL);
}

static void death_by_signal_is_named(void **state)
{
    (void)state;
    fake("cat >/dev/null\nkill -9 $$");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "gnuplot was killed by signal 9 (SIGKILL)"));
    assert_null(strstr(err.msg, "-1"));
    fake("cat >/dev/null\nkill -SEGV $$");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "gnuplot was killed by signal 11 (SIGSEGV)"));
    /* What it said before dying is kept. */
    fake("cat >/dev/null\necho 'out of memory somewhere' >&2\nkill -ABRT $$");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "signal 6 (SIGABRT)"));
    assert_non_null(strstr(err.msg, "out of memory somewhere"));
    fake("cat >/dev/null\nexit 3");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "exit status 3"));
    assert_no_children();
}

static void a_file_plot_checks_its_file(void **state)
{
    (void)state;
    /* Exits 0 and writes nothing. */
    fake("cat >/dev/null\nexit 0");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "x.png"));
    /* ... while an older x.png is there: not a success either. */
    FILE *f = fopen("x.png", "w");
    assert_non_null(f);
    fputs("an old plot", f);
    fclose(f);
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    print_message("stale file: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "did not write 'x.png'"));
    /* An empty file (a full disk). */
    fake(READ_OUT ": > \"$out\"");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    print_message("empty file: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "'x.png' is empty"));
    /* A PNG cut short. */
    fake(READ_OUT "printf '\\211PNG\\r\\n\\032\\nIHDR' > \"$out\"");
    assert_int_equal(lines_plot("x.png"), NNL_ERR_IO);
    print_message("cut file: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "'x.png' is incomplete"));
    /* A complete one is fine. */
    fake(READ_OUT PNG_TAIL " > \"$out\"");
    assert_int_equal(lines_plot("x.png"), NNL_OK);
    assert_no_children();
}

/* Writes n bytes to path. */
static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A GIF is whole when it starts "GIF89a" (or GIF87a) and ends with the
 * trailer byte 0x3B. */
static void a_gif_is_checked_by_header_and_trailer(void **state)
{
    (void)state;
    static const char whole[] = "GIF89a\x10\0\x10\0\0\0\0,\0\0;";
    write_bytes("a.gif", whole, sizeof whole - 1);
    assert_int_equal(nnl_plot_check_file("a.gif", NULL, "Animate", &err), NNL_OK);
    write_bytes("a.gif", "GIF87a\0;", 8);
    assert_int_equal(nnl_plot_check_file("a.gif", NULL, "Animate", &err), NNL_OK);
    /* cut before the trailer */
    write_bytes("a.gif", whole, sizeof whole - 2);
    assert_int_equal(nnl_plot_check_file("a.gif", NULL, "Animate", &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "Animate: 'a.gif' is incomplete"));
    assert_non_null(strstr(err.msg, "GIF"));
    /* not a GIF at all, though it ends in 0x3B */
    write_bytes("a.gif", "\x89PNG\r\n;", 7);
    assert_int_equal(nnl_plot_check_file("a.gif", NULL, "Animate", &err), NNL_ERR_IO);
    /* shorter than a header */
    write_bytes("a.gif", "GIF;", 4);
    assert_int_equal(nnl_plot_check_file("a.gif", NULL, "Animate", &err), NNL_ERR_IO);
}

/* In a child with files limited to `limit` bytes (RLIMIT_FSIZE) and
 * SIGXFSZ ignored (so writes fail with EFBIG instead of killing it, as on
 * a full disk): renders b with o; returns the status and fills msg. */
static nnl_status render_limited(const nnl_pbuf *b, const nnl_plot_opts *o, long limit,
                                 char *msg, size_t size)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
        setrlimit(RLIMIT_FSIZE, &rl);
        nnl_error e;
        nnl_error_clear(&e);
        nnl_status st = nnl_plot_render(b, o, "nn.plot.lines", &e);
        ssize_t w = write(p[1], e.msg, strlen(e.msg));
        (void)w;
        _exit((int)st);
    }
    close(p[1]);
    ssize_t n = read(p[0], msg, size - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return (nnl_status)WEXITSTATUS(status);
}

static void full_disk_is_an_error(void **state)
{
    (void)state;
    double y[2000];
    for (int i = 0; i < 2000; i++)
        y[i] = i * 0.001;
    nnl_plot_series s[1] = {{"up", NULL, y, 2000}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "x.png";
    o.script = "x.gp";
    o.render = 0;
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_true(b.len > 20000);
    char msg[600];
    /* The script (opts.script) does not fit: the reason, and no cut file. */
    assert_int_equal(render_limited(&b, &o, 4096, msg, sizeof msg), NNL_ERR_IO);
    print_message("script on a full disk: %s\n", msg);
    assert_non_null(strstr(msg, "cannot write the script 'x.gp': File too large"));
    assert_true(access("x.gp", F_OK) != 0);
    /* A gnuplot that cannot write all of its file. */
    o.script = NULL;
    o.render = 1;
    fake(READ_OUT "head -c 100000 /dev/zero > \"$out\"\nexit 0");
    assert_int_equal(render_limited(&b, &o, 4096, msg, sizeof msg), NNL_ERR_IO);
    print_message("gnuplot on a full disk: %s\n", msg);
    assert_non_null(strstr(msg, "x.png"));
    /* head got the default SIGXFSZ back (it was ignored here): killed at
     * the limit, it leaves 4096 bytes without the end of a PNG. */
    assert_non_null(strstr(msg, "'x.png' is incomplete (4096 bytes"));
    unlink("x.png");
    /* The real gnuplot, when installed: never a success. */
    char path[4096];
    unsetenv("NNLUA_GNUPLOT");
    if (nnl_gnuplot_find(path, sizeof path, NULL) == NNL_OK) {
        assert_int_equal(render_limited(&b, &o, 4096, msg, sizeof msg), NNL_ERR_IO);
        print_message("real gnuplot on a full disk: %s\n", msg);
        assert_true(strstr(msg, "SIGXFSZ") || strstr(msg, "incomplete") || strstr(msg, "empty"));
        unlink("x.png");
    }
    nnl_pbuf_free(&b);
    assert_no_children();
}

/* Number of entries in folder dir other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void large_script_leaves_no_file_even_when_killed(void **state)
{
    (void)state;
    if (access("/proc/self/fd", F_OK) != 0)
        skip(); /* without /proc the file has a name until gnuplot exits */
    char priv[300];
    snprintf(priv, sizeof priv, "%s/tmp", tmpdir);
    assert_int_equal(mkdir(priv, 0700), 0);
    setenv("TMPDIR", priv, 1);
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    while (b.len < NNL_GNUPLOT_FILE_MIN + 100)
        nnl_pbuf_add(&b, "# a large script\n");
    /* While gnuplot runs, its script is already gone from $TMPDIR, and
     * gnuplot reads it whole from its descriptor 3. */
    fake("ls -A \"$TMPDIR\" > listing.txt\ncat /dev/fd/3 > got.gp\ncat >/dev/null");
    assert_int_equal(nnl_gnuplot_run(b.s, b.len, 1, &err), NNL_OK);
    struct stat st;
    assert_int_equal(stat("listing.txt", &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(stat("got.gp", &st), 0);
    assert_int_equal((size_t)st.st_size, b.len);
    /* A process killed (SIGKILL) while gnuplot runs leaves nothing. */
    fake("echo $$ > gnuplot.pid\nexec sleep 1000");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        nnl_error e;
        nnl_gnuplot_run(b.s, b.len, 1, &e);
        _exit(0);
    }
    long gp = -1;
    for (int i = 0; i < 500 && (gp = read_pid("gnuplot.pid")) < 0; i++)
        nap(10);
    assert_true(gp > 1);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    kill((pid_t)gp, SIGKILL);
    assert_int_equal(entries(priv), 0);
    nnl_pbuf_free(&b);
    unsetenv("TMPDIR");
    rmdir(priv);
    assert_no_children();
}

/* Ctrl-C as nnlua's handler sees it: the flag of core/interrupt.h. */
static void on_sigint(int sig)
{
    (void)sig;
    nnl_interrupt_request();
}

static void *send_sigint_later(void *arg)
{
    nap(*(long *)arg);
    kill(getpid(), SIGINT);
    return NULL;
}

/* Runs f with SIGINT (handled as nnlua does) sent after ms milliseconds;
 * returns the seconds f took. */
static double with_sigint_after(long ms, nnl_status (*f)(void), nnl_status *st)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    pthread_t t;
    double t0 = now_s();
    assert_int_equal(pthread_create(&t, NULL, send_sigint_later, &ms), 0);
    *st = f();
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    sigaction(SIGINT, &old, NULL);
    return dt;
}

static nnl_status plot_x_png(void)
{
    return lines_plot("x.png");
}

static void ctrl_c_stops_a_plot(void **state)
{
    (void)state;
    fake("sleep 1000 &\necho $! > grandchild.pid\nexec sleep 1000");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "30", 1);
    nnl_status st;
    double dt = with_sigint_after(300, plot_x_png, &st);
    print_message("Ctrl-C: %.2f s: %s\n", dt, err.msg);
    assert_int_equal(st, NNL_ERR_INTERRUPTED);
    assert_true(dt < 2.5);
    assert_non_null(strstr(err.msg, "interrupted"));
    /* The flag stays for the caller (fit must see it too). */
    assert_true(nnl_interrupt_requested());
    nnl_interrupt_clear();
    long gc = read_pid("grandchild.pid");
    assert_true(gc > 1);
    for (int i = 0; i < 100 && alive(gc); i++)
        nap(10);
    assert_false(alive(gc));
    assert_no_children();
}

static void bad_timeout_value_is_an_error(void **state)
{
    (void)state;
    fake("cat >/dev/null");
    static const char *const bad[] = {"abc", "0", "-1", "1e9", "nan", "2x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("NNLUA_GNUPLOT_TIMEOUT", bad[i], 1);
        if (!*bad[i]) {
            /* empty: the default */
            assert_int_equal(nnl_gnuplot_run("x\n", 2, 1, &err), NNL_OK);
            continue;
        }
        assert_int_equal(nnl_gnuplot_run("x\n", 2, 1, &err), NNL_ERR_ARG);
        assert_non_null(strstr(err.msg, "NNLUA_GNUPLOT_TIMEOUT"));
        assert_non_null(strstr(err.msg, bad[i]));
    }
    assert_no_children();
}

/* ---- sessions (LivePlot) ------------------------------------------------ */

static void session_with_a_hung_gnuplot_is_bounded(void **state)
{
    (void)state;
    /* Reads its input but never answers. */
    fake("trap '' TERM\nexec cat >/dev/null");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "0.5", 1);
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    double t0 = now_s();
    assert_int_equal(nnl_gnuplot_send(s, "print 1\n", 8, &err), NNL_ERR_IO);
    assert_true(now_s() - t0 < 3);
    assert_non_null(strstr(err.msg, "did not finish within 0.5 s"));
    assert_int_equal(nnl_gnuplot_send(s, "print 1\n", 8, &err), NNL_ERR_IO);
    nnl_gnuplot_close(s, &err);
    assert_no_children();

    /* A finishing session whose gnuplot never exits: close is bounded. */
    fake("trap '' TERM\ncat >/dev/null\nwhile :; do sleep 0.05; done");
    s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    int posted;
    assert_int_equal(nnl_gnuplot_post(s, "print 1\n", 8, 1, &posted, &err), NNL_OK);
    nnl_gnuplot_finish(s);
    t0 = now_s();
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_ERR_IO);
    print_message("finishing session: %.2f s: %s\n", now_s() - t0, err.msg);
    assert_true(now_s() - t0 < 3);
    assert_non_null(strstr(err.msg, "did not finish"));
    assert_no_children();

    /* A live session closed while gnuplot hangs: bounded as well. */
    s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    t0 = now_s();
    nnl_gnuplot_close(s, &err);
    assert_true(now_s() - t0 < 3);
    assert_no_children();

    /* The last frame in a new gnuplot on a thread (run_background). */
    fake("trap '' TERM\nexec sleep 1000");
    s = nnl_gnuplot_run_background("print 1\n", 8, 1, &err);
    assert_non_null(s);
    t0 = now_s();
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_ERR_IO);
    assert_true(now_s() - t0 < 3);
    assert_non_null(strstr(err.msg, "did not finish"));
    assert_no_children();
}

static void session_gnuplot_dying_midway(void **state)
{
    (void)state;
    /* Dies after its first read, with a grandchild keeping stderr open,
     * so its end shows only by its exit. SIGPIPE keeps its default
     * action here: a write to the dead gnuplot must not raise it. */
    signal(SIGPIPE, SIG_DFL);
    fake("head -c 1 >/dev/null\nsleep 20 &\necho $! > grandchild.pid\nkill -9 $$");
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    long pid = nnl_gnuplot_pid(s);
    int posted = 0;
    nnl_status st = nnl_gnuplot_post(s, "print 1\n", 8, 1, &posted, &err);
    for (int i = 0; i < 200 && alive(pid); i++)
        nap(10);
    /* Not "busy" for ever: the next frame is not skipped but fails. */
    double t0 = now_s();
    while (nnl_gnuplot_busy(s) && now_s() - t0 < 3)
        nap(10);
    assert_false(nnl_gnuplot_busy(s));
    char big[300000];
    memset(big, '#', sizeof big); /* a comment larger than the socket buffer */
    big[sizeof big - 1] = '\n';
    if (st == NNL_OK)
        st = nnl_gnuplot_post(s, big, sizeof big, 0, &posted, &err);
    assert_true(now_s() - t0 < 3);
    assert_int_equal(st, NNL_ERR_IO);
    print_message("died midway: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "killed by signal 9 (SIGKILL)"));
    assert_int_equal(nnl_gnuplot_post(s, "print 1\n", 8, 1, &posted, &err), NNL_ERR_IO);
    nnl_gnuplot_close(s, &err);
    assert_no_children();
    long gc = read_pid("grandchild.pid");
    if (gc > 1)
        kill((pid_t)gc, SIGKILL);
}

static void session_post_never_waits_for_gnuplot_to_read(void **state)
{
    (void)state;
    /* A frame larger than the socket's buffer, to a gnuplot that does
     * not read for a while: the post returns at once (training goes on),
     * the session is busy until gnuplot has taken it, and the frame
     * arrives whole. */
    fake("sleep 0.5\ncat > got.gp");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "5", 1);
    size_t big = 3 << 20;
    char *frame = malloc(big);
    assert_non_null(frame);
    memset(frame, '#', big); /* a comment line of 3 MB */
    frame[big - 1] = '\n';
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    int posted = 0;
    double t0 = now_s();
    assert_int_equal(nnl_gnuplot_post(s, frame, big, 0, &posted, &err), NNL_OK);
    assert_true(posted);
    double dt = now_s() - t0;
    print_message("post of 3 MB: %.3f s\n", dt);
    assert_true(dt < 0.3);
    assert_true(nnl_gnuplot_busy(s));
    /* The next frame is skipped, not queued behind it. */
    assert_int_equal(nnl_gnuplot_post(s, "print 2\n", 8, 0, &posted, &err), NNL_OK);
    assert_false(posted);
    /* The last one is forced: queued after it. */
    assert_int_equal(nnl_gnuplot_post(s, "print 3\n", 8, 1, &posted, &err), NNL_OK);
    assert_true(posted);
    assert_true(now_s() - t0 < 0.3);
    nnl_gnuplot_finish(s);
    assert_true(now_s() - t0 < 0.3);
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_OK);
    struct stat st;
    assert_int_equal(stat("got.gp", &st), 0);
    /* Both frames and their markers, nothing lost. */
    assert_true((size_t)st.st_size > big + 8);
    free(frame);

    /* A gnuplot that never reads: posts still return at once, and the
     * end is bounded by the deadline. */
    fake("trap '' TERM\nexec sleep 1000");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "0.5", 1);
    frame = malloc(big);
    assert_non_null(frame);
    memset(frame, '#', big);
    frame[big - 1] = '\n';
    s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    t0 = now_s();
    assert_int_equal(nnl_gnuplot_post(s, frame, big, 0, &posted, &err), NNL_OK);
    assert_int_equal(nnl_gnuplot_post(s, frame, big, 1, &posted, &err), NNL_OK);
    assert_true(now_s() - t0 < 0.3);
    nnl_gnuplot_finish(s);
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "did not finish within 0.5 s"));
    assert_true(now_s() - t0 < 3);
    free(frame);
    assert_no_children();
}

static nnl_gnuplot_session *closing;
static nnl_status close_closing(void)
{
    return nnl_gnuplot_close(closing, &err);
}

static void ctrl_c_stops_waiting_for_a_finishing_session(void **state)
{
    (void)state;
    fake("trap '' TERM\ncat >/dev/null\nwhile :; do sleep 0.05; done");
    setenv("NNLUA_GNUPLOT_TIMEOUT", "30", 1);
    closing = nnl_gnuplot_open(1, &err);
    assert_non_null(closing);
    nnl_gnuplot_finish(closing);
    nnl_status st;
    double dt = with_sigint_after(300, close_closing, &st);
    print_message("Ctrl-C in close: %.2f s: %s\n", dt, err.msg);
    assert_int_equal(st, NNL_ERR_INTERRUPTED);
    assert_true(dt < 3);
    assert_true(nnl_interrupt_requested());
    nnl_interrupt_clear();
    assert_no_children();

    /* A session waiting for gnuplot to answer. */
    closing = nnl_gnuplot_open(1, &err);
    assert_non_null(closing);
    dt = with_sigint_after(300, close_closing, &st);
    assert_true(dt < 3);
    assert_no_children();
}

int main(void)
{
    /* Tests run the fakes through /bin/sh. */
    if (access("/bin/sh", X_OK) != 0) {
        printf("no /bin/sh: skipped\n");
        return 0;
    }
    /* TEST_FILTER=name runs one test (to see each fail on its own). */
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hung_gnuplot_is_killed_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(sigterm_ignored_means_sigkill_for_the_whole_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(endless_stderr_is_bounded_too, setup, teardown),
        cmocka_unit_test_setup_teardown(grandchild_holding_stderr_does_not_delay_the_plot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(death_by_signal_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(a_file_plot_checks_its_file, setup, teardown),
        cmocka_unit_test_setup_teardown(full_disk_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(a_gif_is_checked_by_header_and_trailer, setup, teardown),
        cmocka_unit_test_setup_teardown(large_script_leaves_no_file_even_when_killed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ctrl_c_stops_a_plot, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_timeout_value_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(session_with_a_hung_gnuplot_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(session_gnuplot_dying_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(session_post_never_waits_for_gnuplot_to_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ctrl_c_stops_waiting_for_a_finishing_session, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
