/* Running gnuplot (see gnuplot.h for the contract; the child process
 * itself, with its bounded waits, is gnuplot_child.c). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/interrupt.h"
#include "plot/gnuplot.h"
#include "plot/gnuplot_child.h"
#include "plot/script.h"

struct nnl_gnuplot_session {
    nnl_gp_child c;
    double timeout;        /* seconds each wait may last */
    unsigned long serial;  /* numbers the sync markers */
    unsigned long pending; /* marker of a posted script not yet seen, or 0 */
    nnl_pbuf cap;          /* stderr since the last completed script; owned */
    /* Input handed over but not yet taken by gnuplot (a posted frame
     * larger than the socket's buffer): out[out_off, out.len). Written as
     * gnuplot reads, so a post never waits. Owned. */
    nnl_pbuf out;
    size_t out_off;
    /* After nnl_gnuplot_finish: the thread reading gnuplot to its end
     * (joined by close), or done at once when no thread could start. */
    int finishing, threaded;
    int quiet;             /* for nnl_gnuplot_run_background */
    int erred;             /* a gnuplot error was returned: its exit status 1 says no more */
    pthread_t thread;
    atomic_int finished;   /* set by the thread as its last step */
    atomic_int stop;       /* set by close (Ctrl-C): the thread stops gnuplot */
    atomic_long pid;       /* the thread's gnuplot, for nnl_gnuplot_pid; -1: none */
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
 * gnuplot's standard input gets only a `load` of it. Where /proc is
 * mounted the file is unlinked at once and handed to gnuplot as its
 * descriptor 3 (`load '/dev/fd/3'`): nothing is left on disk even when
 * nnlua is killed. Otherwise it keeps its name (path, for the caller to
 * unlink). Fills *fd (the open file, or -1), path ("" when unlinked) and
 * cmd; returns 0 when no file could be written (the script then goes
 * through standard input as it is). */
static int script_to_file(const char *script, size_t len, char *path, size_t psize, int *fd,
                          nnl_pbuf *cmd)
{
    *fd = -1;
    const char *dir = getenv("TMPDIR");
    /* Only an absolute directory: the path must not start with '<' or
     * '|' (gnuplot's load would run it as a command). */
    if (!dir || dir[0] != '/' || strlen(dir) > 3000)
        dir = "/tmp";
    if (snprintf(path, psize, "%s/nnlua-plot-XXXXXX", dir) >= (int)psize)
        return 0;
    int f = mkstemp(path);
    if (f < 0)
        return 0;
    int ok = fcntl(f, F_SETFD, FD_CLOEXEC) == 0;
    if (ok && f == 3) { /* it becomes gnuplot's 3: keep our copy apart */
        int hi = fcntl(f, F_DUPFD_CLOEXEC, 4);
        close(f);
        f = hi;
        ok = f >= 0;
    }
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(f, script + off, len - off);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            ok = 0;
    }
    int by_fd = ok && access("/proc/self/fd", F_OK) == 0 && lseek(f, 0, SEEK_SET) == 0;
    if (by_fd) {
        unlink(path);
        path[0] = '\0';
        *fd = f;
        nnl_pbuf_add(cmd, "load '/dev/fd/3'\n");
    } else {
        if (f >= 0 && close(f) != 0)
            ok = 0;
        if (ok) {
            nnl_pbuf_add(cmd, "load ");
            nnl_pbuf_quote(cmd, path);
            nnl_pbuf_add(cmd, "\n");
        }
    }
    ok = ok && !cmd->failed;
    if (!ok) {
        if (path[0])
            unlink(path);
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
    }
    return ok;
}

/* Turns how a wait on gnuplot ended into a status: gnuplot's own error
 * messages first, then the deadline, Ctrl-C, a signal or an exit status
 * (with what gnuplot said, when it said something). */
static nnl_status outcome(nnl_gp_result r, int status, const nnl_pbuf *cap,
                          const nnl_gp_wait *w, const nnl_error *perr, nnl_error *err)
{
    const char *text = cap->s ? cap->s : "";
    char said[400];
    nnl_gnuplot_message(text, said, sizeof said);
    switch (r) {
    case NNL_GP_TIMEOUT:
        return nnl_fail(err, NNL_ERR_IO,
                        "gnuplot did not finish within %g s and was stopped (set "
                        "NNLUA_GNUPLOT_TIMEOUT to wait longer)%s%s",
                        w->limit, said[0] ? "; it said: " : "", said);
    case NNL_GP_STOPPED:
        /* The Ctrl-C flag stays set: fit, if a callback drew this plot,
         * must see it too; the binding clears it where Lua would raise
         * it a second time. */
        return nnl_fail(err, NNL_ERR_INTERRUPTED, "interrupted: gnuplot was stopped");
    case NNL_GP_FAILED:
        return nnl_fail(err, NNL_ERR_IO, "%s", perr->msg);
    default:
        break;
    }
    if (has_error(text))
        return fail_with(err, "", text);
    char how[120];
    nnl_gp_describe(status, how, sizeof how);
    if (!how[0] && r == NNL_GP_GONE)
        snprintf(how, sizeof how, "gnuplot exited unexpectedly");
    if (how[0])
        return nnl_fail(err, NNL_ERR_IO, "%s%s%s", how, said[0] ? "; it said: " : "", said);
    return NNL_OK;
}

/* Runs script in a new gnuplot and waits for it to exit (bounded). */
static nnl_status run_script(const char *script, size_t len, int quiet_stdout,
                             int interruptible, atomic_int *stop, atomic_long *pid,
                             nnl_error *err)
{
    double timeout;
    char path[4096];
    nnl_status st = nnl_gp_timeout(&timeout, err);
    if (st == NNL_OK)
        st = nnl_gnuplot_find(path, sizeof path, err);
    if (st != NNL_OK)
        return st;
    nnl_pbuf cap, cmd;
    nnl_pbuf_init(&cap);
    nnl_pbuf_init(&cmd);
    char tmp[3100];
    int sfd = -1; /* the script's (unlinked) file, gnuplot's descriptor 3 */
    tmp[0] = '\0';
    int in_file = len >= NNL_GNUPLOT_FILE_MIN &&
                  script_to_file(script, len, tmp, sizeof tmp, &sfd, &cmd);
    nnl_gp_child c;
    st = nnl_gp_spawn(path, quiet_stdout, sfd, &c, err);
    if (sfd >= 0)
        close(sfd);
    if (st != NNL_OK) {
        if (tmp[0])
            unlink(tmp);
        nnl_pbuf_free(&cmd);
        return st;
    }
    if (pid)
        atomic_store(pid, (long)c.pid);
    nnl_gp_wait w;
    nnl_gp_wait_init(&w, timeout, interruptible, stop);
    nnl_error perr;
    nnl_gp_result r = in_file ? nnl_gp_pump(&c, cmd.s, cmd.len, NULL, &cap, &w, &perr)
                              : nnl_gp_pump(&c, script, len, NULL, &cap, &w, &perr);
    int status = nnl_gp_end(&c, r != NNL_GP_DONE && r != NNL_GP_GONE);
    if (pid)
        atomic_store(pid, -1L);
    if (in_file && tmp[0])
        unlink(tmp);
    nnl_pbuf_free(&cmd);
    st = outcome(r, status, &cap, &w, &perr, err);
    nnl_pbuf_free(&cap);
    return st;
}

nnl_status nnl_gnuplot_run(const char *script, size_t len, int quiet_stdout, nnl_error *err)
{
    return run_script(script, len, quiet_stdout, 1, NULL, NULL, err);
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
    double timeout;
    nnl_gp_child c;
    if (nnl_gp_timeout(&timeout, NULL) != NNL_OK || nnl_gp_spawn(path, 1, -1, &c, NULL) != NNL_OK)
        return NULL;
    static const char ask[] = "print 'terminals: '.GPVAL_TERMINALS.' '\n";
    nnl_pbuf cap;
    nnl_pbuf_init(&cap);
    nnl_gp_wait wt;
    nnl_gp_wait_init(&wt, timeout < 10 ? timeout : 10, 1, NULL);
    nnl_gp_result r = nnl_gp_pump(&c, ask, sizeof ask - 1, NULL, &cap, &wt, NULL);
    /* Interrupted: no window, and the flag stays for the plot's own wait
     * (or Lua) to handle. */
    nnl_gp_end(&c, r != NNL_GP_DONE && r != NNL_GP_GONE);
    if (r == NNL_GP_STOPPED || r == NNL_GP_TIMEOUT) {
        probed = 0; /* no answer: ask again next time */
        nnl_pbuf_free(&cap);
        return NULL;
    }
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

/* A new session struct (no process yet). NULL when out of memory. */
static nnl_gnuplot_session *session_new(int quiet_stdout, nnl_error *err)
{
    double timeout;
    if (nnl_gp_timeout(&timeout, err) != NNL_OK)
        return NULL;
    nnl_gnuplot_session *s = nnl_malloc(sizeof *s);
    if (!s) {
        nnl_fail(err, NNL_ERR_NOMEM, "gnuplot: out of memory for a session");
        return NULL;
    }
    s->c.pid = -1;
    s->c.in = s->c.errfd = -1;
    s->c.exited = 0;
    s->c.status = -1;
    s->timeout = timeout;
    s->serial = s->pending = 0;
    s->finishing = s->threaded = 0;
    s->quiet = quiet_stdout;
    s->erred = 0;
    atomic_init(&s->finished, 0);
    atomic_init(&s->stop, 0);
    atomic_init(&s->pid, -1L);
    s->fin_st = NNL_OK;
    nnl_pbuf_init(&s->cap);
    nnl_pbuf_init(&s->out);
    s->out_off = 0;
    return s;
}

/* 1 while posted input waits for gnuplot to take it. */
static int queued(const nnl_gnuplot_session *s)
{
    return s->out_off < s->out.len;
}

/* Hands gnuplot what it takes now of the queued input. -1 when it reads
 * no more. */
static int flush_queue(nnl_gnuplot_session *s)
{
    int r = queued(s) ? nnl_gp_write_some(&s->c, s->out.s, s->out.len, &s->out_off) : 0;
    if (!queued(s)) {
        nnl_pbuf_clear(&s->out);
        s->out_off = 0;
    }
    return r;
}

/* Appends text to the queue. */
static nnl_status enqueue(nnl_gnuplot_session *s, const char *text, size_t len,
                          nnl_error *err)
{
    nnl_pbuf_addn(&s->out, text, len);
    return nnl_pbuf_check(&s->out, "gnuplot", err);
}

/* Writes the whole queue (and then, with marker NULL, ends gnuplot's
 * input and waits for its exit; a marker: until gnuplot printed it),
 * within w. The queue is empty afterwards. */
static nnl_gp_result pump_queue(nnl_gnuplot_session *s, const char *marker,
                                const nnl_gp_wait *w, nnl_error *perr)
{
    nnl_gp_result r = nnl_gp_pump(&s->c, s->out.s ? s->out.s + s->out_off : "",
                                  s->out.len - s->out_off, marker, &s->cap, w, perr);
    nnl_pbuf_clear(&s->out);
    s->out_off = 0;
    return r;
}

nnl_gnuplot_session *nnl_gnuplot_open(int quiet_stdout, nnl_error *err)
{
    nnl_gnuplot_session *s = session_new(quiet_stdout, err);
    if (!s)
        return NULL;
    char path[4096];
    if (nnl_gnuplot_find(path, sizeof path, err) != NNL_OK ||
        nnl_gp_spawn(path, quiet_stdout, -1, &s->c, err) != NNL_OK) {
        nnl_free(s);
        return NULL;
    }
    return s;
}

long nnl_gnuplot_pid(const nnl_gnuplot_session *s)
{
    if (!s)
        return -1;
    /* Once finishing, the thread owns c: it publishes its pid. */
    return s->finishing ? atomic_load(&s->pid) : (long)s->c.pid;
}

/* Ends the session's gnuplot (see nnl_gp_end); its wait status, with an
 * exit status dropped when gnuplot's errors were already returned (it
 * exits with 1 after any error). */
static int session_end(nnl_gnuplot_session *s, int stop)
{
    int status = nnl_gp_end(&s->c, stop);
    if (s->erred && status != -1 && WIFEXITED(status))
        status = 0;
    return status;
}

/* Ends a session's process after a failed wait (so close has nothing
 * left: stopped at once unless it already went) and turns r into err. */
static nnl_status session_fail(nnl_gnuplot_session *s, nnl_gp_result r, const nnl_gp_wait *w,
                               const nnl_error *perr, nnl_error *err)
{
    int status = session_end(s, r != NNL_GP_GONE);
    s->pending = 0;
    nnl_pbuf_clear(&s->out);
    s->out_off = 0;
    nnl_status st = outcome(r, status, &s->cap, w, perr, err);
    if (st == NNL_OK) /* gone without a word or a bad status */
        st = nnl_fail(err, NNL_ERR_IO, "gnuplot exited unexpectedly");
    return st;
}

/* Queues script plus a marker line that gnuplot prints once it has run
 * everything before it, and hands over what gnuplot takes now; wait:
 * writes it all and reads until that marker (bounded). */
static nnl_status session_write(nnl_gnuplot_session *s, const char *script, size_t len,
                                int wait, nnl_error *err)
{
    char marker[64], tail[96];
    s->serial++;
    snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->serial);
    snprintf(tail, sizeof tail, "\nprint 'nnlua-sync-%lu'\n", s->serial);
    nnl_status st = enqueue(s, script, len, err);
    if (st == NNL_OK)
        st = enqueue(s, tail, strlen(tail), err);
    if (st != NNL_OK) {
        nnl_pbuf_free(&s->out);
        s->out_off = 0;
        return st;
    }
    nnl_gp_wait w;
    nnl_gp_wait_init(&w, s->timeout, 1, NULL);
    nnl_error perr;
    if (!wait) {
        if (flush_queue(s) < 0) /* it reads no more: what did it say? */
            return session_fail(s, NNL_GP_GONE, &w, NULL, err);
        s->pending = s->serial;
        return NNL_OK;
    }
    nnl_gp_result r = pump_queue(s, marker, &w, &perr);
    if (r != NNL_GP_DONE)
        return session_fail(s, r, &w, &perr, err);
    s->pending = 0;
    if (has_error(s->cap.s)) {
        st = fail_with(err, "", s->cap.s);
        s->erred = 1;
    }
    nnl_pbuf_clear(&s->cap);
    return st;
}

/* 1 when the session can take scripts. */
static int session_open(const nnl_gnuplot_session *s)
{
    return s && !s->finishing && s->c.pid > 0 && s->c.in >= 0;
}

nnl_status nnl_gnuplot_send(nnl_gnuplot_session *s, const char *script, size_t len,
                            nnl_error *err)
{
    if (!session_open(s))
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: the session is closed");
    return session_write(s, script, len, 1, err);
}

int nnl_gnuplot_busy(nnl_gnuplot_session *s)
{
    if (!session_open(s) || !s->pending)
        return 0;
    nnl_gp_collect(&s->c, &s->cap);
    if (s->c.errfd < 0 || flush_queue(s) < 0)
        return 0; /* gone: the next post says so */
    if (queued(s))
        return 1; /* it has not even read the last frame yet */
    char marker[64];
    snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->pending);
    return !s->cap.s || !strstr(s->cap.s, marker);
}

nnl_status nnl_gnuplot_post(nnl_gnuplot_session *s, const char *script, size_t len,
                            int force, int *posted, nnl_error *err)
{
    *posted = 0;
    if (!session_open(s))
        return nnl_fail(err, NNL_ERR_IO, "gnuplot: the session is closed");
    nnl_gp_collect(&s->c, &s->cap);
    if (s->c.errfd < 0 || flush_queue(s) < 0) {
        nnl_gp_wait w;
        nnl_gp_wait_init(&w, s->timeout, 1, NULL);
        return session_fail(s, NNL_GP_GONE, &w, NULL, err);
    }
    if (queued(s) && !force)
        return NNL_OK; /* the last frame is not even read yet: skip this one */
    if (s->pending) {
        char marker[64];
        snprintf(marker, sizeof marker, "nnlua-sync-%lu\n", s->pending);
        if (!force && (!s->cap.s || !strstr(s->cap.s, marker)))
            return NNL_OK; /* still drawing the last one: skip this one */
        s->pending = 0;
        int bad = has_error(s->cap.s);
        nnl_status st = bad ? fail_with(err, "", s->cap.s) : NNL_OK;
        nnl_pbuf_clear(&s->cap);
        if (bad) {
            s->erred = 1;
            return st;
        }
    }
    nnl_status st = session_write(s, script, len, 0, err);
    *posted = st == NNL_OK;
    return st;
}

/* Reads gnuplot's output until it exits (its input is at EOF; bounded by
 * the deadline and the stop flag) and reaps it; records gnuplot's error
 * messages of the frames still pending. The session's captured text
 * since the last completed frame is kept: errors of a posted frame are in
 * it. Runs on the finishing thread. */
static void finish_now(nnl_gnuplot_session *s)
{
    s->fin_st = NNL_OK;
    if (s->c.pid > 0) {
        nnl_gp_wait w;
        nnl_gp_wait_init(&w, s->timeout, 0, &s->stop);
        nnl_error perr;
        /* What gnuplot has not read yet, then EOF. */
        nnl_gp_result r = pump_queue(s, NULL, &w, &perr);
        int status = session_end(s, r != NNL_GP_DONE && r != NNL_GP_GONE);
        s->fin_st = outcome(r, status, &s->cap, &w, &perr, &s->fin_err);
    }
    atomic_store(&s->pid, -1L);
    atomic_store(&s->finished, 1);
}

static void *finish_thread(void *arg)
{
    finish_now(arg);
    return NULL;
}

/* The thread of nnl_gnuplot_run_background: the session's script run as
 * nnl_gnuplot_run does, its result kept for close. */
static void *run_thread(void *arg)
{
    nnl_gnuplot_session *s = arg;
    s->fin_st = run_script(s->cap.s, s->cap.len, s->quiet, 0, &s->stop, &s->pid, &s->fin_err);
    atomic_store(&s->finished, 1);
    return NULL;
}

/* Starts fn(s) on a thread that takes no asynchronous signals (a Ctrl-C
 * must reach the main thread, whose waits it interrupts; gnuplot gets a
 * clean mask of its own at spawn). 1 on success. */
static int start_thread(nnl_gnuplot_session *s, void *(*fn)(void *))
{
    sigset_t all, old;
    sigfillset(&all);
    /* Signals the thread itself could cause stay deliverable. */
    static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
    for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
        sigdelset(&all, sync_sigs[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int ok = pthread_create(&s->thread, NULL, fn, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

nnl_gnuplot_session *nnl_gnuplot_run_background(const char *script, size_t len,
                                                int quiet_stdout, nnl_error *err)
{
    char path[4096];
    double timeout;
    if (nnl_gp_timeout(&timeout, err) != NNL_OK ||
        nnl_gnuplot_find(path, sizeof path, err) != NNL_OK)
        return NULL;
    nnl_gnuplot_session *s = session_new(quiet_stdout, err);
    if (!s)
        return NULL;
    s->finishing = 1;
    /* The capture buffer holds the script until the thread has run it. */
    nnl_pbuf_addn(&s->cap, script, len);
    if (nnl_pbuf_check(&s->cap, "gnuplot", err) != NNL_OK) {
        nnl_pbuf_free(&s->cap);
        nnl_free(s);
        return NULL;
    }
    s->threaded = start_thread(s, run_thread);
    if (!s->threaded)
        run_thread(s); /* no thread: run it here instead */
    return s;
}

void nnl_gnuplot_finish(nnl_gnuplot_session *s)
{
    if (!s || s->finishing)
        return;
    /* The thread hands gnuplot the rest of its input, then EOF: gnuplot
     * draws what it was sent and exits. */
    atomic_store(&s->pid, (long)s->c.pid);
    s->finishing = 1;
    s->threaded = start_thread(s, finish_thread);
    if (!s->threaded)
        finish_now(s); /* no thread: wait here instead */
}

int nnl_gnuplot_finished(nnl_gnuplot_session *s)
{
    return !s || !s->finishing || atomic_load(&s->finished);
}

/* Waits for the finishing thread; Ctrl-C asks it to stop gnuplot at once.
 * The thread's own waits are bounded, so this is too. Returns 1 when
 * interrupted. */
static int join_finishing(nnl_gnuplot_session *s)
{
    int interrupted = 0;
    if (!s->threaded)
        return 0;
    while (!atomic_load(&s->finished)) {
        if (!interrupted && nnl_interrupt_requested()) {
            interrupted = 1;
            atomic_store(&s->stop, 1);
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_join(s->thread, NULL);
    return interrupted; /* the flag stays set, as in outcome */
}

nnl_status nnl_gnuplot_close(nnl_gnuplot_session *s, nnl_error *err)
{
    if (!s)
        return NNL_OK;
    nnl_status st = NNL_OK;
    if (s->finishing) {
        int interrupted = join_finishing(s);
        st = s->fin_st;
        if (interrupted && st != NNL_OK)
            st = nnl_fail(err, NNL_ERR_INTERRUPTED, "interrupted: gnuplot was stopped");
        else if (st != NNL_OK && err)
            *err = s->fin_err;
    } else if (s->c.pid > 0) {
        /* cap keeps what gnuplot said about a posted frame not yet
         * checked: its error is reported here. */
        nnl_gp_wait w;
        nnl_gp_wait_init(&w, s->timeout, 1, NULL);
        nnl_error perr;
        /* The rest of its input and "exit" (or just EOF when its input
         * is already closed), then read its stderr until it exits so it
         * never blocks writing there. */
        nnl_gp_result r;
        if (s->c.in >= 0 && enqueue(s, "exit\n", 5, &perr) == NNL_OK)
            r = pump_queue(s, NULL, &w, &perr);
        else
            r = nnl_gp_pump(&s->c, "", 0, NULL, &s->cap, &w, &perr);
        int status = session_end(s, r != NNL_GP_DONE && r != NNL_GP_GONE);
        st = outcome(r, status, &s->cap, &w, &perr, err);
    }
    nnl_gp_end(&s->c, 1); /* nothing left to end unless a wait failed */
    nnl_pbuf_free(&s->cap);
    nnl_pbuf_free(&s->out);
    nnl_free(s);
    return st;
}
