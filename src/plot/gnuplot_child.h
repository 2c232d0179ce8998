/* One gnuplot child process: starting it, feeding its standard input
 * while reading its standard error, and ending it, with every wait
 * bounded. Used by gnuplot.c only (one-shot runs and sessions).
 *
 * - The child runs in its own process group, with the default action for
 *   the signals we may have ignored or blocked (SIGPIPE, SIGINT, ...), so
 *   the whole group (gnuplot and anything it started) can be stopped.
 * - Every wait has a deadline ($NNLUA_GNUPLOT_TIMEOUT seconds, default
 *   120); when it passes, the group gets SIGTERM, then SIGKILL after a
 *   grace second, and the child is reaped (no zombie).
 * - A wait can be cut short by Ctrl-C (core/interrupt.h's flag; inside a
 *   polling region such as fit too, leaving the flag for fit) or by
 *   another thread's stop flag.
 * - The end of gnuplot is seen by its exit, not by the end of its
 *   standard error: a grandchild that keeps stderr open (a persistent
 *   window, say) delays nothing and is left alone. */
#ifndef NNL_PLOT_GNUPLOT_CHILD_H
#define NNL_PLOT_GNUPLOT_CHILD_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>
#include "core/status.h"
#include "plot/script.h"

/* The default deadline of one wait, in seconds. */
#define NNL_GNUPLOT_TIMEOUT_DEFAULT 120.0
/* Longest stderr text kept from one wait: more is dropped (a runaway
 * gnuplot must not eat our memory); the first error is at the start. */
#define NNL_GP_CAPTURE_MAX ((size_t)1 << 20)

/* A running gnuplot: its pid (also its process group; -1 once reaped),
 * our ends of its stdin and stderr (-1 once closed), and its wait status
 * once it has exited (seen without reaping it, so its pid, and so its
 * process group id, cannot be reused before we reap it). */
typedef struct nnl_gp_child {
    pid_t pid;
    int in, errfd;
    int exited; /* 1: it has exited; status is valid once reaped */
    int status; /* wait status (after nnl_gp_end) */
} nnl_gp_child;

/* How long a wait may last and who may cut it short. */
typedef struct nnl_gp_wait {
    double deadline;     /* monotonic seconds */
    double limit;        /* the timeout it came from, for messages */
    int interruptible;   /* Ctrl-C stops it */
    atomic_int *stop;    /* set by another thread to stop it; may be NULL */
} nnl_gp_wait;

/* What a pump ended with. */
typedef enum nnl_gp_result {
    NNL_GP_DONE,    /* everything written (and the marker or the exit seen) */
    NNL_GP_GONE,    /* gnuplot exited (or closed its pipes) before that */
    NNL_GP_TIMEOUT, /* the deadline passed */
    NNL_GP_STOPPED, /* Ctrl-C or the stop flag */
    NNL_GP_FAILED   /* poll failed (err says why) */
} nnl_gp_result;

/* The deadline of one wait in seconds: $NNLUA_GNUPLOT_TIMEOUT when set
 * and not empty (a number of seconds, 0 < t <= 1e6), else the default.
 * A value that is not such a number is NNL_ERR_ARG naming it. */
nnl_status nnl_gp_timeout(double *seconds, nnl_error *err);

/* Fills w: a deadline `seconds` from now. */
void nnl_gp_wait_init(nnl_gp_wait *w, double seconds, int interruptible, atomic_int *stop);

/* Starts program path with stdin from a socket and stderr to a pipe (our
 * ends non-blocking, close-on-exec); stdout to /dev/null when quiet, else
 * ours; fd3 (unless -1; not 3 itself) as its descriptor 3. Fills c. */
nnl_status nnl_gp_spawn(const char *path, int quiet_stdout, int fd3, nnl_gp_child *c,
                        nnl_error *err);

/* Writes len bytes of data to the child's stdin while collecting its
 * stderr into cap (at most NNL_GP_CAPTURE_MAX bytes). Then:
 * - marker NULL: closes stdin and waits for the child to exit;
 * - marker "": returns once everything is written;
 * - marker text: reads until cap holds the marker.
 * Never raises SIGPIPE. err is filled for NNL_GP_FAILED only. */
nnl_gp_result nnl_gp_pump(nnl_gp_child *c, const char *data, size_t len, const char *marker,
                          nnl_pbuf *cap, const nnl_gp_wait *w, nnl_error *err);

/* Writes to the child's stdin what it takes now of data[*off, len)
 * without waiting, advancing *off. 0, or -1 when it no longer reads (its
 * stdin is then closed). Never raises SIGPIPE. */
int nnl_gp_write_some(nnl_gp_child *c, const char *data, size_t len, size_t *off);

/* Reads what the child said so far into cap without waiting; notices its
 * exit (its stderr is then read to what it wrote and closed). */
void nnl_gp_collect(nnl_gp_child *c, nnl_pbuf *cap);

/* Ends the child: closes its stdin; when it is still running and stop is
 * set (or it does not exit within a short grace), SIGTERM to its process
 * group, SIGKILL a second later, then reaps it. Bounded (a few seconds at
 * most). Closes both descriptors. Returns its wait status, or -1 when it
 * could not be reaped. Does nothing (-1) when there is no child. */
int nnl_gp_end(nnl_gp_child *c, int stop);

/* Describes a wait status: "gnuplot failed (exit status 3)", "gnuplot
 * was killed by signal 9 (SIGKILL)". Empty for a clean exit (0). */
void nnl_gp_describe(int status, char *out, size_t size);

#endif
