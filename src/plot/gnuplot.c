/* Running gnuplot as a child process (see gnuplot.h for the contract). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "plot/gnuplot.h"
#include "plot/script.h"

extern char **environ;

/* Longest stderr text we keep from one run: more is dropped (a runaway
 * gnuplot must not eat our memory); the first error is at the start. */
#define CAPTURE_MAX ((size_t)1 << 20)
/* How long we wait for gnuplot to make progress before giving up. */
#define IDLE_TIMEOUT_MS 120000

/* A running gnuplot: our ends of its stdin and stderr (-1 once closed). */
typedef struct child {
    pid_t pid;
    int in;
    int errfd;
} child;

struct nnl_gnuplot_session {
    child c;
    unsigned long serial;  /* numbers the sync markers */
    unsigned long pending; /* marker of a posted script not yet seen, or 0 */
    nnl_pbuf cap;          /* stderr since the last completed script; owned */
    /* After nnl_gnuplot_finish: the thread reading gnuplot to its end
     * (joined by close), or done at once when no thread could start. */
    int finishing, threaded;
    int quiet;             /* for nnl_gnuplot_run_background */
    pthread_t thread;
    atomic_int finished;   /* set by the thread as its last step */
    nnl_status fin_st;     /* what finishing found: gnuplot's error */
    nnl_error fin_err;
};

static int is_program(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

nnl_status nnl_gnuplot_find(char *path, size_t size, nnl_error *err)
{
    const char *name = getenv("NNLUA_GNUPLOT");
    int from_env = name && *name;
    if (!from_env)
        name = "gnuplot";
    if (strchr(name, '/')) {
        if (strlen(name) < size && is_program(name)) {
            strcpy(path, name);
            return NNL_OK;
        }
        return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                        "gnuplot not found: NNLUA_GNUPLOT=%.200s is not an executable "
                        "program; " NNL_GNUPLOT_HINT, name);
    }
    const char *dirs = getenv("PATH");
    if (!dirs || !*dirs)
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        const char *end = strchr(dirs, ':');
        size_t n = end ? (size_t)(end - dirs) : strlen(dirs);
        /* An empty entry means the current folder: not searched, so a
         * file dropped there is never run by accident. */
        if (n > 0 && n + 1 + strlen(name) < size) {
            memcpy(path, dirs, n);
            path[n] = '/';
            strcpy(path + n + 1, name);
            if (is_program(path))
                return NNL_OK;
        }
        dirs += n;
        if (*dirs == ':')
            dirs++;
    }
    return nnl_fail(err, NNL_ERR_UNSUPPORTED, "gnuplot not found%s%.200s%s in PATH; "
                    NNL_GNUPLOT_HINT, from_env ? " (NNLUA_GNUPLOT=" : "",
                    from_env ? name : "", from_env ? ")" : "");
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

/* Starts gnuplot with stdin from a socket and stderr to a pipe. */
static nnl_status spawn_gnuplot(int quiet_stdout, child *c, nnl_error *err)
{
    char path[4096];
    c->pid = -1;
    c->in = c->errfd = -1;
    nnl_status st = nnl_gnuplot_find(path, sizeof path, err);
    if (st != NNL_OK)
        return st;
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
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
        if (devnull >= 0)
            posix_spawn_file_actions_adddup2(&fa, devnull, 1);
        posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
        char *argv[] = {path, NULL};
        pid_t pid;
        rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc == 0)
            c->pid = pid;
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

/* Waits for the child to exit (retrying on signals); its exit status,
 * or -1 when it was killed by a signal or could not be waited for. */
static int reap(child *c)
{
    if (c->pid <= 0)
        return -1;
    int status;
    pid_t r;
    do
        r = waitpid(c->pid, &status, 0);
    while (r < 0 && errno == EINTR);
    c->pid = -1;
    if (r < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Writes len bytes of data to the child's stdin while collecting its
 * stderr into cap. Then, with marker, reads until cap holds the marker
 * (an empty marker: returns once everything is written); without, closes
 * stdin and reads stderr to its end. Returns NNL_OK, or
 * NNL_ERR_IO when gnuplot went away early or stalled (*gone set when its
 * stderr reached its end). */
static nnl_status pump(child *c, const char *data, size_t len, const char *marker,
                       nnl_pbuf *cap, int *gone, nnl_error *err)
{
    size_t off = 0;
    int broken = 0; /* gnuplot stopped reading */
    int write_only = marker && !*marker;
    *gone = 0;
    for (;;) {
        if ((off == len || broken) && !marker)
            close_fd(&c->in);
        if (off == len && write_only)
            return NNL_OK;
        if (off == len || broken) {
            if (marker && *marker && cap->s && strstr(cap->s, marker))
                return NNL_OK;
            if (c->errfd < 0) {
                *gone = 1;
                if (marker || broken)
                    return nnl_fail(err, NNL_ERR_IO, "gnuplot exited unexpectedly");
                return NNL_OK;
            }
        }
        struct pollfd p[2];
        int np = 0, iin = -1, ierr = -1;
        if (off < len && !broken && c->in >= 0) {
            p[np].fd = c->in;
            p[np].events = POLLOUT;
            iin = np++;
        }
        if (c->errfd >= 0) {
            p[np].fd = c->errfd;
            p[np].events = POLLIN;
            ierr = np++;
        }
        if (np == 0)
            return nnl_fail(err, NNL_ERR_IO, "gnuplot: lost its pipes");
        int r = poll(p, (nfds_t)np, IDLE_TIMEOUT_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return nnl_fail(err, NNL_ERR_IO, "gnuplot: poll failed: %s", strerror(errno));
        }
        if (r == 0)
            return nnl_fail(err, NNL_ERR_IO, "gnuplot did not answer for %d s",
                            IDLE_TIMEOUT_MS / 1000);
        if (iin >= 0 && (p[iin].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(c->in, data + off, len - off, MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                broken = 1;
        }
        if (ierr >= 0 && (p[ierr].revents & (POLLIN | POLLERR | POLLHUP))) {
            char tmp[4096];
            ssize_t n = read(c->errfd, tmp, sizeof tmp);
            if (n > 0) {
                if (cap->len + (size_t)n <= CAPTURE_MAX)
                    nnl_pbuf_addn(cap, tmp, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close_fd(&c->errfd);
            }
        }
    }
}

/* Appends to out (size bytes, holding *n) the text [s, e) with runs of
 * blanks collapsed and ends trimmed. */
static void append_clean(char *out, size_t size, size_t *n, const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    int blank = 0;
    for (; s < e && *n + 1 < size; s++) {
        if (*s == ' ' || *s == '\t') {
            blank = 1;
            continue;
        }
        if (blank && *n + 2 < size)
            out[(*n)++] = ' ';
        blank = 0;
        out[(*n)++] = *s;
    }
    out[*n] = '\0';
}

/* Appends the literal text to out as append_clean does. */
static void append_lit(char *out, size_t size, size_t *n, const char *lit)
{
    for (; *lit && *n + 1 < size; lit++)
        out[(*n)++] = *lit;
    out[*n] = '\0';
}

/* If [line, eol) is an error line ("... line N: message", not a warning),
 * returns the start of its message, else NULL. */
static const char *error_text(const char *line, const char *eol)
{
    for (const char *m = line; m + 6 < eol; m++) {
        if (strncmp(m, "line ", 5) != 0 || m[5] < '0' || m[5] > '9')
            continue;
        const char *c = m + 5;
        while (c < eol && *c >= '0' && *c <= '9')
            c++;
        if (c >= eol || *c != ':')
            continue;
        c++;
        while (c < eol && *c == ' ')
            c++;
        if ((size_t)(eol - c) >= 8 && strncmp(c, "warning:", 8) == 0)
            return NULL;
        return c;
    }
    return NULL;
}

void nnl_gnuplot_message(const char *text, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    size_t n = 0;
    if (!text)
        return;
    const char *cmd = NULL, *cmd_end = NULL;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (strncmp(line, "gnuplot> ", 9) == 0) {
            cmd = line + 9;
            cmd_end = eol;
        }
        const char *msg = error_text(line, eol);
        if (msg) {
            append_clean(out, size, &n, msg, eol);
            /* A following "system error: ..." says why. */
            if (*eol == '\n' && strncmp(eol + 1, "system error:", 13) == 0) {
                const char *s2 = eol + 14, *e2 = strchr(s2, '\n');
                append_lit(out, size, &n, " (");
                append_clean(out, size, &n, s2, e2 ? e2 : s2 + strlen(s2));
                append_lit(out, size, &n, ")");
            }
            if (cmd) {
                append_lit(out, size, &n, " in: ");
                append_clean(out, size, &n, cmd, cmd_end);
            }
            return;
        }
        line = *eol ? eol + 1 : eol;
    }
    /* No error line: the whole text, cleaned, as one line. */
    for (const char *p = text; *p && n + 1 < size; p++) {
        char ch = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (ch == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* 1 when stderr text holds a gnuplot error (not just warnings). */
static int has_error(const char *text)
{
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (error_text(line, eol))
            return 1;
        line = *eol ? eol + 1 : eol;
    }
    return 0;
}

/* Fills err from gnuplot's stderr text. */
static nnl_status fail_with(nnl_error *err, const char *what, const char *text)
{
    char msg[400];
    nnl_gnuplot_message(text, msg, sizeof msg);
    return nnl_fail(err, NNL_ERR_IO, "gnuplot error%s: %s", what,
                    msg[0] ? msg : "(no message)");
}

/* gnuplot reads its standard input one byte per read(2) (2.35 million
 * system calls for a 2.3 MB decision-boundary script: 0.66 s, against
 * 0.16 s for the same script loaded from a file, which stdio reads in
 * blocks). So a large script goes into a private temporary file, and
 * gnuplot's standard input gets only `load '<file>'`. Fills path (the
 * file, for the caller to unlink) and cmd; returns 0 when no file could
 * be written (the script then goes through standard input as it is). */
static int script_to_file(const char *script, size_t len, char *path, size_t psize,
                          nnl_pbuf *cmd)
{
    const char *dir = getenv("TMPDIR");
    /* Only an absolute directory: the path must not start with '<' or
     * '|' (gnuplot's load would run it as a command). */
    if (!dir || dir[0] != '/' || strlen(dir) > 3000)
        dir = "/tmp";
    if (snprintf(path, psize, "%s/nnlua-plot-XXXXXX", dir) >= (int)psize)
        return 0;
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    int ok = fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, script + off, len - off);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            ok = 0;
    }
    if (close(fd) != 0)
        ok = 0;
    if (ok) {
        nnl_pbuf_add(cmd, "load ");
        nnl_pbuf_quote(cmd, path);
        nnl_pbuf_add(cmd, "\n");
        ok = !cmd->failed;
    }
    if (!ok)
        unlink(path);
    return ok;
}

nnl_status nnl_gnuplot_run(const char *script, size_t len, int quiet_stdout, nnl_error *err)
{
    child c;
    nnl_status st = spawn_gnuplot(quiet_stdout, &c, err);
    if (st != NNL_OK)
        return st;
    nnl_pbuf cap, cmd;
    nnl_pbuf_init(&cap);
    nnl_pbuf_init(&cmd);
    char tmp[3100];
    int in_file = len >= NNL_GNUPLOT_FILE_MIN && script_to_file(script, len, tmp, sizeof tmp, &cmd);
    int gone;
    nnl_error perr;
    st = in_file ? pump(&c, cmd.s, cmd.len, NULL, &cap, &gone, &perr)
                 : pump(&c, script, len, NULL, &cap, &gone, &perr);
    close_fd(&c.in);
    close_fd(&c.errfd);
    int code = reap(&c);
    if (in_file)
        unlink(tmp);
    nnl_pbuf_free(&cmd);
    if (cap.s && has_error(cap.s))
        st = fail_with(err, "", cap.s);
    else if (st != NNL_OK)
        nnl_fail(err, st, "%s", perr.msg);
    else if (code != 0)
        st = cap.s && cap.s[0] ? fail_with(err, "", cap.s)
                               : nnl_fail(err, NNL_ERR_IO, "gnuplot failed (exit status %d)",
                                          code);
    nnl_pbuf_free(&cap);
    return st;
}

const char *nnl_gnuplot_window_terminal(void)
{
    static int probed;
    static const char *term;
    const char *force = getenv("NNLUA_PLOT_TERM");
    if (force && strcmp(force, "dumb") == 0)
        return NULL;
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if (!((d && *d) || (w && *w)))
        return NULL;
    if (probed)
        return term;
    probed = 1;
    /* Debian's builds say it in their name (gnuplot -> gnuplot-nox, -qt,
     * -x11 through alternatives): no need to start gnuplot to ask. */
    char path[4096];
    if (nnl_gnuplot_find(path, sizeof path, NULL) != NNL_OK)
        return NULL;
    char *real = realpath(path, NULL);
    if (real) {
        const char *base = strrchr(real, '/');
        base = base ? base + 1 : real;
        int known = 1;
        if (strcmp(base, "gnuplot-nox") == 0)
            term = NULL;
        else if (strcmp(base, "gnuplot-qt") == 0)
            term = "qt";
        else if (strcmp(base, "gnuplot-x11") == 0)
            term = "x11";
        else
            known = 0;
        free(real);
        if (known)
            return term;
    }
    child c;
    if (spawn_gnuplot(1, &c, NULL) != NNL_OK)
        return NULL;
    static const char ask[] = "print 'terminals: '.GPVAL_TERMINALS.' '\n";
    nnl_pbuf cap;
    nnl_pbuf_init(&cap);
    int gone;
    pump(&c, ask, sizeof ask - 1, NULL, &cap, &gone, NULL);
    close_fd(&c.in);
    close_fd(&c.errfd);
    reap(&c);
    static const char *const prefer[] = {" qt ", " wxt ", " x11 "};
    static const char *const names[] = {"qt", "wxt", "x11"};
    for (int i = 0; i < 3 && cap.s; i++)
        if (strstr(cap.s, prefer[i])) {
            term = names[i];
            break;
        }
    nnl_pbuf_free(&cap);
    return term;
}

nnl_gnuplot_session *nnl_gnuplot_open(int quiet_stdout, nnl_error *err)
{
    nnl_gnuplot_session *s = nnl_malloc(sizeof *s);
    if (!s) {
        nnl_fail(err, NNL_ERR_NOMEM, "gnuplot: out of memory for a session");
        return NULL;
    }
    s->serial = 0;
    s->pending = 0;
    s->finishing = s->threaded = 0;
    s->quiet = quiet_stdout;
    atomic_init(&s->finished, 0);
    s->fin_st = NNL_OK;
    nnl_pbuf_init(&s->cap);
    if (spawn_gnuplot(quiet_stdout, &s->c, err) != NNL_OK) {
        nnl_free(s);
        return NULL;
    }
    return s;
}

long nnl_gnuplot_pid(const nnl_gnuplot_session *s)
{
    /* Once finishing, the thread owns c: do not read it. */
    return s && !s->finishing ? (long)s->c.pid : -1;
}

/* Ends a session's process after a failure (so close has nothing left)
 * and turns what it said into err. */
static nnl_status session_fail(nnl_gnuplot_session *s, int gone, nnl_status st,
                               const nnl_error *perr, nnl_error *err)
{
    close_fd(&s->c.in);
    if (!gone && s->c.pid > 0)
        kill(s->c.pid, SIGTERM);
    close_fd(&s->c.errfd);
    reap(&s->c);
    s->pending = 0;
    if (s->cap.s && s->cap.s[0])
        return fail_with(err, "", s->cap.s);
    return nnl_fail(err, st, "%s", perr->msg);
}

/* Writes script plus a marker line that gnuplot prints once it has run
 * everything before it; wait: also reads until that marker. */
static nnl_status session_write(nnl_gnuplot_session *s, const char *script, size_t len,
                                int wait, nnl_error *err)
{
    char marker[64], tail[96];
    s->serial++;
    snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->serial);
    snprintf(tail, sizeof tail, "\nprint 'nnlua-sync-%lu'\n", s->serial);
    nnl_pbuf msg;
    nnl_pbuf_init(&msg);
    nnl_pbuf_addn(&msg, script, len);
    nnl_pbuf_add(&msg, tail);
    nnl_status st = nnl_pbuf_check(&msg, "gnuplot", err);
    if (st != NNL_OK) {
        nnl_pbuf_free(&msg);
        return st;
    }
    int gone;
    nnl_error perr;
    st = pump(&s->c, msg.s, msg.len, wait ? marker : "", &s->cap, &gone, &perr);
    nnl_pbuf_free(&msg);
    if (st != NNL_OK)
        return session_fail(s, gone, st, &perr, err);
    s->pending = wait ? 0 : s->serial;
    if (wait) {
        int bad = has_error(s->cap.s);
        if (bad)
            st = fail_with(err, "", s->cap.s);
        nnl_pbuf_clear(&s->cap);
    }
    return st;
}

nnl_status nnl_gnuplot_send(nnl_gnuplot_session *s, const char *script, size_t len,
                            nnl_error *err)
{
    if (!s || s->finishing || s->c.pid <= 0 || s->c.in < 0)
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: the session is closed");
    return session_write(s, script, len, 1, err);
}

/* Reads what gnuplot said so far into the capture, without waiting. */
static void collect(nnl_gnuplot_session *s)
{
    while (s->c.errfd >= 0) {
        char tmp[4096];
        ssize_t n = read(s->c.errfd, tmp, sizeof tmp);
        if (n > 0) {
            if (s->cap.len + (size_t)n <= CAPTURE_MAX)
                nnl_pbuf_addn(&s->cap, tmp, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            close_fd(&s->c.errfd);
        break;
    }
}

int nnl_gnuplot_busy(nnl_gnuplot_session *s)
{
    if (!s || s->finishing || s->c.pid <= 0 || s->c.in < 0 || !s->pending)
        return 0;
    collect(s);
    if (s->c.errfd < 0)
        return 0; /* gone: the next post says so */
    char marker[64];
    snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->pending);
    return !s->cap.s || !strstr(s->cap.s, marker);
}

nnl_status nnl_gnuplot_post(nnl_gnuplot_session *s, const char *script, size_t len,
                            int force, int *posted, nnl_error *err)
{
    *posted = 0;
    if (!s || s->finishing || s->c.pid <= 0 || s->c.in < 0)
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: the session is closed");
    collect(s);
    if (s->c.errfd < 0) {
        nnl_error perr;
        nnl_fail(&perr, NNL_ERR_IO, "gnuplot exited unexpectedly");
        return session_fail(s, 1, NNL_ERR_IO, &perr, err);
    }
    if (s->pending) {
        char marker[64];
        snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->pending);
        if (!force && (!s->cap.s || !strstr(s->cap.s, marker)))
            return NNL_OK; /* still drawing the last one: skip this one */
        s->pending = 0;
        int bad = has_error(s->cap.s);
        nnl_status st = bad ? fail_with(err, "", s->cap.s) : NNL_OK;
        nnl_pbuf_clear(&s->cap);
        if (bad)
            return st;
    }
    nnl_status st = session_write(s, script, len, 0, err);
    *posted = st == NNL_OK;
    return st;
}

/* Reads gnuplot's output until it exits (its input is already at EOF)
 * and reaps it; records gnuplot's error messages of the frames still
 * pending. The session's captured text since the last completed frame is
 * kept: errors of a posted frame are in it. */
static void finish_now(nnl_gnuplot_session *s)
{
    s->fin_st = NNL_OK;
    if (s->c.pid > 0) {
        int gone;
        nnl_error perr;
        close_fd(&s->c.in);
        if (s->c.errfd >= 0)
            pump(&s->c, "", 0, NULL, &s->cap, &gone, &perr);
        close_fd(&s->c.errfd);
        int code = reap(&s->c);
        if (s->cap.s && has_error(s->cap.s))
            s->fin_st = fail_with(&s->fin_err, "", s->cap.s);
        else if (code != 0)
            s->fin_st = nnl_fail(&s->fin_err, NNL_ERR_IO, "gnuplot failed (exit status %d)",
                                 code);
    }
    atomic_store(&s->finished, 1);
}

static void *finish_thread(void *arg)
{
    finish_now(arg);
    return NULL;
}

/* The thread of nnl_gnuplot_run_background: nnl_gnuplot_run of the
 * session's script, its result kept for close. */
static void *run_thread(void *arg)
{
    nnl_gnuplot_session *s = arg;
    s->fin_st = nnl_gnuplot_run(s->cap.s, s->cap.len, s->quiet, &s->fin_err);
    atomic_store(&s->finished, 1);
    return NULL;
}

nnl_gnuplot_session *nnl_gnuplot_run_background(const char *script, size_t len,
                                                int quiet_stdout, nnl_error *err)
{
    char path[4096];
    if (nnl_gnuplot_find(path, sizeof path, err) != NNL_OK)
        return NULL;
    nnl_gnuplot_session *s = nnl_malloc(sizeof *s);
    if (!s) {
        nnl_fail(err, NNL_ERR_NOMEM, "gnuplot: out of memory for a session");
        return NULL;
    }
    s->serial = s->pending = 0;
    s->c.pid = -1;
    s->c.in = s->c.errfd = -1;
    s->quiet = quiet_stdout;
    s->finishing = 1;
    atomic_init(&s->finished, 0);
    s->fin_st = NNL_OK;
    /* The capture buffer holds the script until the thread has run it. */
    nnl_pbuf_init(&s->cap);
    nnl_pbuf_addn(&s->cap, script, len);
    if (nnl_pbuf_check(&s->cap, "gnuplot", err) != NNL_OK) {
        nnl_pbuf_free(&s->cap);
        nnl_free(s);
        return NULL;
    }
    s->threaded = pthread_create(&s->thread, NULL, run_thread, s) == 0;
    if (!s->threaded)
        run_thread(s); /* no thread: run it here instead */
    return s;
}

void nnl_gnuplot_finish(nnl_gnuplot_session *s)
{
    if (!s || s->finishing)
        return;
    s->finishing = 1;
    /* EOF now: gnuplot draws what it was sent, then exits. */
    close_fd(&s->c.in);
    s->threaded = pthread_create(&s->thread, NULL, finish_thread, s) == 0;
    if (!s->threaded)
        finish_now(s); /* no thread: wait here instead */
}

int nnl_gnuplot_finished(nnl_gnuplot_session *s)
{
    return !s || !s->finishing || atomic_load(&s->finished);
}

nnl_status nnl_gnuplot_close(nnl_gnuplot_session *s, nnl_error *err)
{
    if (!s)
        return NNL_OK;
    nnl_status st = NNL_OK;
    if (s->finishing) {
        if (s->threaded)
            pthread_join(s->thread, NULL);
        st = s->fin_st;
        if (st != NNL_OK && err)
            *err = s->fin_err;
    } else if (s->c.pid > 0) {
        nnl_pbuf_clear(&s->cap);
        int gone;
        nnl_error perr;
        /* "exit" (or just EOF when input is already closed), then read
         * its stderr to the end so it never blocks writing there. */
        if (s->c.in >= 0)
            st = pump(&s->c, "exit\n", 5, NULL, &s->cap, &gone, &perr);
        else if (s->c.errfd >= 0)
            st = pump(&s->c, "", 0, NULL, &s->cap, &gone, &perr);
        close_fd(&s->c.in);
        close_fd(&s->c.errfd);
        reap(&s->c);
        if (s->cap.s && has_error(s->cap.s))
            st = fail_with(err, "", s->cap.s);
        else
            st = NNL_OK;
    }
    close_fd(&s->c.in);
    close_fd(&s->c.errfd);
    nnl_pbuf_free(&s->cap);
    nnl_free(s);
    return st;
}
