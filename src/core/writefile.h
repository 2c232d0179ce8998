/* Replacing a file safely (model files and checkpoints): the new bytes go
 * to a temporary file in the same folder, which is flushed, synced and
 * renamed over the target only when every write succeeded. A failed or
 * interrupted save leaves the old file exactly as it was.
 *
 * - A symbolic link is written through: the target it points to (after
 *   every hop) is replaced, the link stays a link.
 * - The new file keeps the old one's permission bits, and its owner and
 *   group where the system allows it; a new file gets 0666 & ~umask.
 * - An existing target that is not a regular file (a directory, a FIFO,
 *   /dev/null...) or that is read-only is refused before anything is
 *   written.
 * - The temporary is nameless (O_TMPFILE) where the file system has it,
 *   and gets a name only just before the rename; elsewhere it is named
 *   .<name>.tmp-<pid>-<random> from the start. Its writer holds an
 *   exclusive flock on it for its whole life, so a named temporary whose
 *   process is gone (kill -9, power loss) and that nobody holds is stale:
 *   the next save to the same target removes it.
 * - Every write, the fsync and the close are checked. */
#ifndef NNL_WRITEFILE_H
#define NNL_WRITEFILE_H
#include <stddef.h>
#include "core/status.h"

/* A file being written. Owned by its writer from nnl_wfile_open until
 * nnl_wfile_commit or nnl_wfile_abort, which release everything. */
typedef struct nnl_wfile {
    const char *who;     /* starts every message ("save") */
    const char *path;    /* the path as given (not owned) */
    char *target;        /* nnl_malloc'd: path with symbolic links resolved */
    char *tmp;           /* nnl_malloc'd: the temporary's name */
    int fd;              /* -1 when closed */
    int named;           /* whether tmp exists in the folder yet */
    int err;             /* errno of the first failed write; 0 if none */
} nnl_wfile;

/* Starts replacing path: resolves links, checks an existing target,
 * removes stale temporaries of that target, creates the temporary.
 * Errors (NNL_ERR_IO, NNL_ERR_NOMEM) name the path; then w holds
 * nothing. */
nnl_status nnl_wfile_open(const char *who, const char *path, nnl_wfile *w,
                          nnl_error *err);

/* Appends n bytes. Returns 1, or 0 after a failure (then every later
 * write does nothing and nnl_wfile_commit reports the first error). */
int nnl_wfile_write(nnl_wfile *w, const void *p, size_t n);

/* Syncs, closes and renames the temporary over the target, then syncs the
 * folder. On any failure the temporary is removed and the target is left
 * as it was. Releases w either way. */
nnl_status nnl_wfile_commit(nnl_wfile *w, nnl_error *err);

/* Gives up: closes and removes the temporary; safe on a released w. */
void nnl_wfile_abort(nnl_wfile *w);

/* Removes the stale temporaries of target (see above) in its folder and
 * returns how many it removed. Called by nnl_wfile_open; public for tests. */
size_t nnl_wfile_clean_stale(const char *target);

/* Tests set this to 1 to use named temporaries even where O_TMPFILE
 * works (the path taken on file systems without it). */
extern int nnl_wfile_force_named;

#endif
