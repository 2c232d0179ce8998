/* Running gnuplot: finding the program, one-shot runs of a script, and a
 * persistent session that redraws in one process (LivePlot).
 *
 * gnuplot is started with posix_spawn (never a shell) and fed through a
 * socket on its standard input; its standard error is read back at the
 * same time (no deadlock when it complains a lot), so its own error
 * messages become our error messages. Every child is waited for and every
 * descriptor closed, also on failure: no zombies, no leaked descriptors.
 * All descriptors are close-on-exec so a child never inherits another's.
 *
 * Every wait is bounded (gnuplot_child.h): $NNLUA_GNUPLOT_TIMEOUT seconds
 * (default 120), then gnuplot's process group is killed and the call
 * fails with "gnuplot did not finish within N s ...". Ctrl-C (the flag of
 * core/interrupt.h, set by nnlua's SIGINT handlers) stops a wait at once
 * the same way: NNL_ERR_INTERRUPTED, "interrupted: gnuplot was stopped",
 * with the flag left set for the caller (fit must still see it; the Lua
 * binding clears it when Lua would otherwise raise it again). Deaths by a
 * signal are named ("gnuplot was killed by signal 9 (SIGKILL)"). */
#ifndef NNL_PLOT_GNUPLOT_H
#define NNL_PLOT_GNUPLOT_H

#include <stddef.h>
#include "core/status.h"

/* How to get gnuplot, ending every "not found" message. */
#define NNL_GNUPLOT_HINT \
    "install it (Debian/Ubuntu: apt-get install gnuplot-nox, or gnuplot-qt for windows) " \
    "or set NNLUA_GNUPLOT to the gnuplot program"

/* Finds the program: $NNLUA_GNUPLOT when set and not empty (a path, or a
 * name looked up in PATH), else "gnuplot" in PATH. Fills path (size bytes).
 * NNL_ERR_UNSUPPORTED with NNL_GNUPLOT_HINT when there is none. */
nnl_status nnl_gnuplot_find(char *path, size_t size, nnl_error *err);

/* Scripts of at least this many bytes reach gnuplot through a temporary
 * file (in $TMPDIR when it is absolute, else /tmp; with /proc unlinked at
 * once and given as gnuplot's descriptor 3, else removed when gnuplot
 * exits) instead of its standard input, which it reads a byte at a time. */
#define NNL_GNUPLOT_FILE_MIN ((size_t)64 << 10)

/* Runs script (len bytes) in a new gnuplot and waits for it to exit
 * (bounded; Ctrl-C stops it: see above). quiet_stdout: gnuplot's standard
 * output goes to /dev/null (the plot goes to a file); otherwise it is ours
 * (text plots, windows). An error written by gnuplot, a failed exit or a
 * death by a signal is NNL_ERR_IO with gnuplot's message or what ended
 * it; an invalid $NNLUA_GNUPLOT_TIMEOUT is NNL_ERR_ARG. */
nnl_status nnl_gnuplot_run(const char *script, size_t len, int quiet_stdout, nnl_error *err);

/* The interactive window terminal to use when a plot has no file: "qt",
 * "wxt" or "x11" when a display exists ($DISPLAY or $WAYLAND_DISPLAY) and
 * gnuplot has that terminal (asked once per process), else NULL: text in
 * the terminal. $NNLUA_PLOT_TERM = "dumb" forces text. */
const char *nnl_gnuplot_window_terminal(void);

/* A gnuplot process kept open for repeated drawing. Owned by the caller:
 * close with nnl_gnuplot_close. */
typedef struct nnl_gnuplot_session nnl_gnuplot_session;

/* Starts a session (quiet_stdout as for nnl_gnuplot_run). NULL on error. */
nnl_gnuplot_session *nnl_gnuplot_open(int quiet_stdout, nnl_error *err);
/* Sends script and waits until gnuplot has executed it; gnuplot's error
 * messages from it are returned as NNL_ERR_IO. After an error the session
 * stays usable while the process lives. */
nnl_status nnl_gnuplot_send(nnl_gnuplot_session *s, const char *script, size_t len,
                            nnl_error *err);
/* Sends script without waiting for gnuplot to read or draw it (what it
 * has not read yet is queued and handed over as it reads), unless gnuplot
 * is still busy with the previously posted one: then nothing is sent and
 * *posted is 0 (a live plot skips frames instead of slowing training);
 * force sends it anyway (queued after the busy one). Errors of an earlier
 * posted script, or gnuplot's end, are returned here. Never blocks. */
nnl_status nnl_gnuplot_post(nnl_gnuplot_session *s, const char *script, size_t len,
                            int force, int *posted, nnl_error *err);
/* 1 while gnuplot is still reading or drawing the last posted script (a
 * post without force would skip its frame): lets a caller skip building
 * the frame at all. Never blocks. */
int nnl_gnuplot_busy(nnl_gnuplot_session *s);
/* Starts ending the session without waiting: a thread hands gnuplot the
 * rest of its input and EOF, and reads it until it has drawn what it was
 * sent and exited (within the deadline, else it is killed). Returns
 * at once, so training never waits for the last frame. After it only
 * nnl_gnuplot_finished and nnl_gnuplot_close may be called: close joins
 * the thread and returns the errors gnuplot reported for the frames it
 * was still drawing (a file is complete, a text frame printed, once close
 * returns). Calling it twice does nothing. */
void nnl_gnuplot_finish(nnl_gnuplot_session *s);
/* Runs script in a new gnuplot, as nnl_gnuplot_run does, on a thread:
 * returns at once a session already finishing, which close waits for
 * (returning gnuplot's errors). Only finding gnuplot happens here, so a
 * missing gnuplot is still an error at once. NULL on error. */
nnl_gnuplot_session *nnl_gnuplot_run_background(const char *script, size_t len,
                                                int quiet_stdout, nnl_error *err);
/* 1 when a finishing session's gnuplot has exited (close will not wait),
 * or the session is not finishing. Never blocks. */
int nnl_gnuplot_finished(nnl_gnuplot_session *s);
/* Ends the process (the rest of its input, "exit", then waits for it,
 * bounded; a finishing session: joins its thread, and Ctrl-C stops the
 * wait with NNL_ERR_INTERRUPTED), frees s. NULL does nothing. Returns an
 * error if gnuplot reported one, died by a signal or had to be killed. */
nnl_status nnl_gnuplot_close(nnl_gnuplot_session *s, nnl_error *err);
/* The process id of the session's gnuplot (for tests). */
long nnl_gnuplot_pid(const nnl_gnuplot_session *s);

/* Turns gnuplot's standard error text into a one-line message: the first
 * error ("line N: ...") with the command it came from, or the text itself.
 * Fills out (size bytes). Exposed for tests. */
void nnl_gnuplot_message(const char *text, char *out, size_t size);

#endif
