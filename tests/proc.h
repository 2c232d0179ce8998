/* Test helper: run the built nnlua ($NNLUA_BIN) as a child process, with
 * pipes or a pseudo-terminal, with timeouts so that a hang fails a test
 * instead of blocking it. Header-only: included by one test program each. */
#ifndef NNL_TEST_PROC_H
#define NNL_TEST_PROC_H

#define _DEFAULT_SOURCE /* putenv, forkpty */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct proc_result {
    int status; /* exit code, or 128 + signal, or -1 on timeout */
    char out[65536];
    char err[65536];
} proc_result;

static inline const char *nnlua_bin(void)
{
    const char *b = getenv("NNLUA_BIN");
    return b && *b ? b : "./nnlua";
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv (argv[0] replaced by nnlua when NULL) with input on stdin
 * (NULL: empty), extra environment assignments env (NULL-terminated, may be
 * NULL), and collects stdout/stderr. */
static inline void proc_run(char *const argv[], const char *input, char *const env[], proc_result *r,
                     double timeout)
{
    int in[2], out[2], err[2];
    memset(r, 0, sizeof *r);
    if (pipe(in) || pipe(out) || pipe(err)) {
        r->status = -2;
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        char **args = (char **)argv; /* the child's own copy of the array */
        if (!args[0])
            args[0] = (char *)nnlua_bin();
        execv(args[0], args);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input) {
        signal(SIGPIPE, SIG_IGN);
        ssize_t w = write(in[1], input, strlen(input));
        (void)w;
    }
    close(in[1]);
    size_t no = 0, ne = 0;
    int open_fds = 2;
    double end = now_s() + timeout;
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    while (open_fds > 0 && now_s() < end) {
        if (poll(fds, 2, 100) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char *buf = i ? r->err : r->out;
            size_t *n = i ? &ne : &no;
            size_t room = sizeof r->out - 1 - *n;
            char scratch[4096];
            ssize_t k = read(fds[i].fd, room ? buf + *n : scratch, room ? room : sizeof scratch);
            if (k <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (room) {
                *n += (size_t)k;
            }
        }
    }
    r->out[no] = '\0';
    r->err[ne] = '\0';
    int st;
    if (open_fds > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        r->status = -1;
    } else {
        waitpid(pid, &st, 0);
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
}

/* A program under a pseudo-terminal. */
typedef struct pty_proc {
    pid_t pid;
    int fd;
    char buf[262144];
    size_t len;   /* bytes read so far */
    size_t mark;  /* where the next expect starts searching */
} pty_proc;

static inline int pty_start(pty_proc *p, char *const argv[], char *const env[])
{
    memset(p, 0, sizeof *p);
    struct winsize ws = {40, 120, 0, 0};
    p->pid = forkpty(&p->fd, NULL, NULL, &ws);
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        char **args = (char **)argv; /* the child's own copy of the array */
        if (!args[0])
            args[0] = (char *)nnlua_bin();
        execv(args[0], args);
        _exit(127);
    }
    return 0;
}

static inline void pty_send(pty_proc *p, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(p->fd, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Reads until `want` appears after the mark (then moves the mark past it)
 * or the timeout passes. Returns 1 when found. */
static inline int pty_expect(pty_proc *p, const char *want, double timeout)
{
    double end = now_s() + timeout;
    for (;;) {
        p->buf[p->len] = '\0';
        char *hit = strstr(p->buf + p->mark, want);
        if (hit) {
            p->mark = (size_t)(hit - p->buf) + strlen(want);
            return 1;
        }
        if (now_s() >= end || p->len + 1 >= sizeof p->buf)
            return 0;
        struct pollfd fd = {p->fd, POLLIN, 0};
        if (poll(&fd, 1, 50) > 0) {
            ssize_t k = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                p->buf[p->len] = '\0';
                hit = strstr(p->buf + p->mark, want);
                if (hit)
                    p->mark = (size_t)(hit - p->buf) + strlen(want);
                return hit != NULL;
            }
            p->len += (size_t)k;
        }
    }
}

/* Waits for the child to exit; returns its exit code, or -1 on timeout
 * (then it is killed). */
static inline int pty_wait(pty_proc *p, double timeout)
{
    double end = now_s() + timeout;
    int st;
    while (now_s() < end) {
        pty_expect(p, "\x01never\x01", 0.05); /* drain output */
        pid_t w = waitpid(p->pid, &st, WNOHANG);
        if (w == p->pid) {
            close(p->fd);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    close(p->fd);
    return -1;
}

#endif
