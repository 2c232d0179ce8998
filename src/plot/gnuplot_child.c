/* One gnuplot child process, with bounded waits (see gnuplot_child.h). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "plot/gnuplot.h"
#include "plot/gnuplot_child.h"

extern char **environ;

/* How often a wait looks at the child's exit, the deadline and Ctrl-C
 * while nothing else happens (a Ctrl-C that lands just before poll is
 * seen this late at most). */
#define TICK_MS 20
/* How long a child gets between SIGTERM and SIGKILL, and how long we wait
 * after SIGKILL before giving up on reaping it (a process stuck in the
 * kernel cannot be killed; we do not wait for ever for it either). */
#define GRACE_MS 1000
#define KILL_WAIT_MS 5000
/* Most bytes read from stderr once the child has exited (what it wrote
 * before exiting is in the pipe; a grandchild may write without end). */
#define DRAIN_MAX ((size_t)256 << 10)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal only shortens it */
}

nnl_status nnl_gp_timeout(double *seconds, nnl_error *err)
{
    *seconds = NNL_GNUPLOT_TIMEOUT_DEFAULT;
    const char *v = getenv("NNLUA_GNUPLOT_TIMEOUT");
    if (!v || !*v)
        return NNL_OK;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(t) || !(t > 0) || t > 1e6)
        return nnl_fail(err, NNL_ERR_ARG,
                        "NNLUA_GNUPLOT_TIMEOUT=%.40s is not a number of seconds in (0, 1e6] "
                        "(how long nnlua waits for gnuplot; default %g)",
                        v, NNL_GNUPLOT_TIMEOUT_DEFAULT);
    *seconds = t;
    return NNL_OK;
}

void nnl_gp_wait_init(nnl_gp_wait *w, double seconds, int interruptible, atomic_int *stop)
{
    w->deadline = now_s() + seconds;
    w->limit = seconds;
    w->interruptible = interruptible;
    w->stop = stop;
}

/* Makes fd close-on-exec and at least 3 (so the child's dup2 onto 0..2
 * never overwrites another of its sources). Returns the fd or -1. */
static int safe_fd(int fd)
{
    if (fd < 0)
        return -1;
    if (fd <= 2) {
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return hi;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Sets up how the child starts: its own process group (so it and what it
 * starts can be stopped together, and a Ctrl-C at the terminal goes to us,
 * who stop it), default actions for the signals a parent may ignore
 * (SIGPIPE, SIGXFSZ, ...: ignored dispositions survive exec), and only
 * SIGTTOU blocked (in a background group, a text plot may still write to
 * a terminal set to `stty tostop`). 0 or an errno. */
static int spawn_attrs(posix_spawnattr_t *a)
{
    int rc = posix_spawnattr_init(a);
    if (rc)
        return rc;
    static const int defaults[] = {SIGPIPE, SIGINT,  SIGQUIT, SIGTERM, SIGHUP,  SIGXFSZ,
                                   SIGXCPU, SIGALRM, SIGCHLD, SIGUSR1, SIGUSR2, SIGTSTP,
                                   SIGTTIN, SIGWINCH};
    sigset_t def, mask;
    sigemptyset(&def);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        sigaddset(&def, defaults[i]);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTTOU);
    rc = posix_spawnattr_setflags(a, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                         POSIX_SPAWN_SETSIGMASK);
    if (!rc)
        rc = posix_spawnattr_setpgroup(a, 0);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(a, &def);
    if (!rc)
        rc = posix_spawnattr_setsigmask(a, &mask);
    if (rc)
        posix_spawnattr_destroy(a);
    return rc;
}

nnl_status nnl_gp_spawn(const char *path, int quiet_stdout, int fd3, nnl_gp_child *c,
                        nnl_error *err)
{
    c->pid = -1;
    c->in = c->errfd = -1;
    c->exited = 0;
    c->status = -1;
    int sv[2], ep[2], devnull = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: cannot create a socket: %s",
                        strerror(errno));
    sv[0] = safe_fd(sv[0]);
    sv[1] = safe_fd(sv[1]);
    if (pipe(ep) < 0) {
        int e = errno;
        close_fd(&sv[0]);
        close_fd(&sv[1]);
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: cannot create a pipe: %s", strerror(e));
    }
    ep[0] = safe_fd(ep[0]);
    ep[1] = safe_fd(ep[1]);
    if (quiet_stdout)
        devnull = safe_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (sv[0] < 0 || sv[1] < 0 || ep[0] < 0 || ep[1] < 0 || (quiet_stdout && devnull < 0)) {
        int e = errno;
        close_fd(&sv[0]);
        close_fd(&sv[1]);
        close_fd(&ep[0]);
        close_fd(&ep[1]);
        close_fd(&devnull);
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: cannot set up its descriptors: %s",
                        strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        rc = spawn_attrs(&attr);
        if (rc == 0) {
            posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
            if (devnull >= 0)
                posix_spawn_file_actions_adddup2(&fa, devnull, 1);
            posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
            if (fd3 >= 0) /* last: the ones above may have been 3 */
                posix_spawn_file_actions_adddup2(&fa, fd3, 3);
            char *argv[] = {(char *)path, NULL};
            pid_t pid;
            rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
            if (rc == 0)
                c->pid = pid;
            posix_spawnattr_destroy(&attr);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    close_fd(&sv[1]);
    close_fd(&ep[1]);
    close_fd(&devnull);
    if (rc != 0) {
        close_fd(&sv[0]);
        close_fd(&ep[0]);
        return nnl_fail(err, rc == ENOENT ? NNL_ERR_UNSUPPORTED : NNL_ERR_IO,
                        "gnuplot: cannot start %.300s: %s%s", path, strerror(rc),
                        rc == ENOENT ? "; " NNL_GNUPLOT_HINT : "");
    }
    c->in = sv[0];
    c->errfd = ep[0];
    set_nonblock(c->in);
    set_nonblock(c->errfd);
    return NNL_OK;
}

/* Reads what is in the stderr pipe now (at most max bytes) into cap;
 * closes it at its end or on an error. */
static void read_err(nnl_gp_child *c, nnl_pbuf *cap, size_t max)
{
    size_t got = 0;
    while (c->errfd >= 0 && got < max) {
        char tmp[4096];
        ssize_t n = read(c->errfd, tmp, sizeof tmp);
        if (n > 0) {
            got += (size_t)n;
            if (cap && cap->len + (size_t)n <= NNL_GP_CAPTURE_MAX)
                nnl_pbuf_addn(cap, tmp, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            close_fd(&c->errfd);
        break;
    }
}

/* Notices the child's exit without reaping it (WNOWAIT: the zombie keeps
 * its pid and process group id ours until nnl_gp_end). 1 once exited. */
static int check_exit(nnl_gp_child *c)
{
    if (c->exited || c->pid <= 0)
        return 1;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    do
        r = waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        /* ECHILD: reaped by someone else (SIGCHLD ignored, say): gone,
         * its status unknown. */
        c->exited = 1;
        c->pid = -1;
        return 1;
    }
    if (si.si_pid == c->pid)
        c->exited = 1;
    return c->exited;
}

/* Once the child has exited: keeps what it wrote to stderr and stops
 * listening there (a grandchild may hold the pipe open). */
static void on_exit_drain(nnl_gp_child *c, nnl_pbuf *cap)
{
    if (c->exited && c->errfd >= 0) {
        read_err(c, cap, DRAIN_MAX);
        close_fd(&c->errfd);
    }
}

void nnl_gp_collect(nnl_gp_child *c, nnl_pbuf *cap)
{
    read_err(c, cap, DRAIN_MAX); /* bounded: a writer without end cannot hold us */
    if (check_exit(c))
        on_exit_drain(c, cap);
}

/* 1 when the wait must stop now: Ctrl-C or the stop flag. Inside a
 * polling region (fit) too: the user asked to stop, and a plot drawn by a
 * callback must not hold fit up until the deadline; the flag is left set
 * there for fit to see (see outcome in gnuplot.c). */
static int stop_requested(const nnl_gp_wait *w)
{
    if (w->stop && atomic_load(w->stop))
        return 1;
    return w->interruptible && nnl_interrupt_requested();
}

nnl_gp_result nnl_gp_pump(nnl_gp_child *c, const char *data, size_t len, const char *marker,
                          nnl_pbuf *cap, const nnl_gp_wait *w, nnl_error *err)
{
    size_t off = 0;
    int broken = 0; /* gnuplot stopped reading its input */
    int naps = 0;   /* polls in a row with nothing to watch but the exit */
    for (;;) {
        if (!c->exited && check_exit(c))
            on_exit_drain(c, cap);
        int writing = off < len && !broken && c->in >= 0;
        if (!writing) {
            if (!marker || broken || off < len) {
                /* The input is done (or refused): wait for the exit. */
                close_fd(&c->in);
                if (c->exited && c->errfd < 0)
                    return marker || broken || off < len ? NNL_GP_GONE : NNL_GP_DONE;
            } else if (!*marker) {
                return NNL_GP_DONE;
            } else {
                if (cap->s && strstr(cap->s, marker))
                    return NNL_GP_DONE;
                if (c->errfd < 0)
                    return NNL_GP_GONE; /* the marker can no longer come */
            }
        }
        if (stop_requested(w))
            return NNL_GP_STOPPED;
        double left = w->deadline - now_s();
        if (left <= 0)
            return NNL_GP_TIMEOUT;
        int tick = TICK_MS;
        if (!writing && c->errfd < 0) {
            /* Its stderr ended: it is exiting, usually within a
             * millisecond; look soon, then less often. */
            tick = naps < 5 ? 1 << naps : TICK_MS;
            naps++;
        }
        int timeout = left * 1000 < tick ? (int)(left * 1000) + 1 : tick;
        struct pollfd p[2];
        int np = 0, iin = -1, ierr = -1;
        if (writing) {
            p[np].fd = c->in;
            p[np].events = POLLOUT;
            iin = np++;
        }
        if (c->errfd >= 0) {
            p[np].fd = c->errfd;
            p[np].events = POLLIN;
            ierr = np++;
        }
        int r = poll(np ? p : NULL, (nfds_t)np, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue; /* Ctrl-C: seen at the top */
            nnl_fail(err, NNL_ERR_IO, "gnuplot: poll failed: %s", strerror(errno));
            return NNL_GP_FAILED;
        }
        if (iin >= 0 && (p[iin].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = send(c->in, data + off, len - off, MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                broken = 1;
        }
        if (ierr >= 0 && (p[ierr].revents & (POLLIN | POLLERR | POLLHUP)))
            read_err(c, cap, 64 << 10);
    }
}

int nnl_gp_write_some(nnl_gp_child *c, const char *data, size_t len, size_t *off)
{
    while (c->in >= 0 && *off < len) {
        ssize_t n = send(c->in, data + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            *off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* full: the rest later */
        close_fd(&c->in); /* EPIPE and the like: it reads no more */
        return -1;
    }
    return c->in >= 0 || *off == len ? 0 : -1;
}

/* Waits up to ms milliseconds for the child to exit. 1 once it has. */
static int wait_exit(nnl_gp_child *c, long ms)
{
    for (long t = 0; !check_exit(c) && t < ms; t += 10)
        nap_ms(10);
    return c->exited;
}

int nnl_gp_end(nnl_gp_child *c, int stop)
{
    close_fd(&c->in); /* EOF: gnuplot ends by itself */
    if (c->pid <= 1) {
        close_fd(&c->errfd);
        return c->status;
    }
    if (!check_exit(c) && !stop)
        wait_exit(c, GRACE_MS);
    if (!c->exited && c->pid > 1) {
        /* Still running: the whole group, gently then not. The leader is
         * not reaped yet, so the group id is still its own. */
        kill(-c->pid, SIGTERM);
        wait_exit(c, GRACE_MS);
        if (c->pid > 1) {
            kill(-c->pid, SIGKILL);
            wait_exit(c, KILL_WAIT_MS);
        }
    }
    close_fd(&c->errfd);
    if (c->exited && c->pid > 1) {
        int status;
        pid_t r;
        do
            r = waitpid(c->pid, &status, 0); /* it has exited: no wait */
        while (r < 0 && errno == EINTR);
        c->status = r == c->pid ? status : -1;
    }
    /* Not exited even after SIGKILL (stuck in the kernel): given up. */
    c->pid = -1;
    return c->status;
}

/* The name of signal sig ("SIGKILL"), or NULL. */
static const char *signal_name(int sig)
{
#define S(x) {x, #x}
    static const struct {
        int sig;
        const char *name;
    } names[] = {S(SIGHUP),  S(SIGINT),  S(SIGQUIT), S(SIGILL),  S(SIGTRAP), S(SIGABRT),
                 S(SIGBUS),  S(SIGFPE),  S(SIGKILL), S(SIGUSR1), S(SIGSEGV), S(SIGUSR2),
                 S(SIGPIPE), S(SIGALRM), S(SIGTERM), S(SIGCHLD), S(SIGCONT), S(SIGSTOP),
                 S(SIGTSTP), S(SIGTTIN), S(SIGTTOU), S(SIGURG),  S(SIGXCPU), S(SIGXFSZ),
                 S(SIGVTALRM), S(SIGPROF), S(SIGWINCH), S(SIGSYS)};
#undef S
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return NULL;
}

void nnl_gp_describe(int status, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    if (status == -1)
        return; /* unknown (reaped elsewhere) */
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) != 0)
            snprintf(out, size, "gnuplot failed (exit status %d)", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = signal_name(sig);
        if (name)
            snprintf(out, size, "gnuplot was killed by signal %d (%s)", sig, name);
        else
            snprintf(out, size, "gnuplot was killed by signal %d", sig);
    }
}
