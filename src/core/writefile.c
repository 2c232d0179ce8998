/* Replacing a file through a temporary and a rename: see writefile.h. */
#define _GNU_SOURCE /* O_TMPFILE, flock */
/* "who: " before a message when the caller names itself, else nothing:
 * the binding puts the Lua function's name there. */
#define WHO(w) (w) ? (w) : "", (w) ? ": " : ""

#include "core/writefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/readfile.h"

/* Symbolic links followed before giving up (as the kernel's ELOOP). */
#define MAX_LINK_HOPS 40
/* Bytes of the target's name kept in a temporary's name, so that
 * ".<name>.tmp-<pid>-<16 hex>" stays within NAME_MAX. */
#define TMP_BASE_MAX 200

int nnl_wfile_force_named = 0;

static char *dup_str(const char *s, size_t n)
{
    char *d = nnl_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* The folder holding path ("." when it has no slash), nnl_malloc'd. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return dup_str(".", 1);
    if (slash == path)
        return dup_str("/", 1);
    return dup_str(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* path with every symbolic link of its last component followed, into
 * *out (nnl_malloc'd). A link to nothing yet gives the path it names (the
 * save creates it, as a shell redirection would). 0, or an errno. */
static int resolve(const char *path, char **out)
{
    char *cur = dup_str(path, strlen(path));
    if (!cur)
        return ENOMEM;
    for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0) {
            if (errno == ENOENT) { /* a new file (or a missing folder: reported later) */
                *out = cur;
                return 0;
            }
            int e = errno;
            nnl_free(cur);
            return e;
        }
        if (!S_ISLNK(st.st_mode)) {
            *out = cur;
            return 0;
        }
        /* st_size is the link's length (0 for some /proc links) */
        size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : PATH_MAX;
        char *link;
        ssize_t n;
        for (;;) {
            link = nnl_malloc(cap);
            if (!link) {
                nnl_free(cur);
                return ENOMEM;
            }
            n = readlink(cur, link, cap);
            if (n < 0 || (size_t)n < cap || cap > ((size_t)1 << 20))
                break;
            nnl_free(link); /* the link grew meanwhile */
            cap *= 2;
        }
        if (n < 0 || (size_t)n >= cap) {
            int e = n < 0 ? errno : ENAMETOOLONG;
            nnl_free(link);
            nnl_free(cur);
            return e;
        }
        char *next;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash) {
            next = dup_str(link, (size_t)n);
        } else { /* relative to the folder holding the link */
            size_t d = (size_t)(slash - cur) + 1;
            next = nnl_malloc(d + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, d);
                memcpy(next + d, link, (size_t)n);
                next[d + (size_t)n] = '\0';
            }
        }
        nnl_free(link);
        nnl_free(cur);
        if (!next)
            return ENOMEM;
        cur = next;
    }
    nnl_free(cur);
    return ELOOP;
}

/* A random 64-bit number for temporary names (not secret: O_EXCL makes
 * a collision a retry, never a clash). */
static uint64_t name_random(void)
{
    static uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&ts ^
                 (++counter * 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; /* splitmix64's finalizer */
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ".<base>.tmp-" for target, the start of all its temporaries' names. */
static int tmp_prefix(const char *target, char *buf, size_t size)
{
    const char *base = base_of(target);
    size_t n = strlen(base);
    int len = snprintf(buf, size, ".%.*s.tmp-", (int)(n > TMP_BASE_MAX ? TMP_BASE_MAX : n),
                       base);
    return len > 0 && (size_t)len < size;
}

/* A fresh temporary name next to target, nnl_malloc'd. */
static char *tmp_name(const char *target)
{
    char prefix[TMP_BASE_MAX + 16];
    if (!tmp_prefix(target, prefix, sizeof prefix))
        return NULL;
    const char *slash = strrchr(target, '/');
    size_t d = slash ? (size_t)(slash - target) + 1 : 0;
    size_t cap = d + strlen(prefix) + 48;
    char *s = nnl_malloc(cap);
    if (s)
        snprintf(s, cap, "%.*s%s%ld-%016llx", (int)d, target, prefix, (long)getpid(),
                 (unsigned long long)name_random());
    return s;
}

size_t nnl_wfile_clean_stale(const char *target)
{
    char prefix[TMP_BASE_MAX + 16];
    if (!tmp_prefix(target, prefix, sizeof prefix))
        return 0;
    size_t plen = strlen(prefix), removed = 0;
    char *dir = folder_of(target);
    DIR *d = dir ? opendir(dir) : NULL;
    nnl_free(dir);
    if (!d)
        return 0;
    int dfd = dirfd(d);
    const pid_t self = getpid();
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        if (strncmp(name, prefix, plen) != 0)
            continue;
        char *end;
        long pid = strtol(name + plen, &end, 10);
        if (pid <= 0 || *end != '-' || pid > INT_MAX)
            continue;
        /* A live process (ours included: another thread may be saving)
         * may be writing it; with pid reuse this keeps a stale one until
         * that process ends, never removes a live one. */
        if ((pid_t)pid == self || kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue;
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat held, now;
        /* the writer's flock: held means someone (a process of another pid
         * namespace, say) still writes it */
        if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
            flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            now.st_dev == held.st_dev && now.st_ino == held.st_ino &&
            unlinkat(dfd, name, 0) == 0)
            removed++;
        close(fd);
    }
    closedir(d);
    return removed;
}

/* Fills err for w's path: "who: cannot write 'path' (-> target): why". */
static nnl_status fail_io(const nnl_wfile *w, nnl_error *err, const char *what, int e)
{
    const char *t = w->target && strcmp(w->target, w->path) != 0 ? w->target : NULL;
    return nnl_fail(err, NNL_ERR_IO, "%s%s%s '%.300s'%s%.300s%s: %s", WHO(w->who), what, w->path,
                    t ? " (a link to '" : "", t ? t : "", t ? "')" : "",
                    strerror(e ? e : EIO));
}

static void release(nnl_wfile *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->named && w->tmp)
        unlink(w->tmp);
    nnl_free(w->target);
    nnl_free(w->tmp);
    w->fd = -1;
    w->named = 0;
    w->target = w->tmp = NULL;
}

void nnl_wfile_abort(nnl_wfile *w)
{
    release(w);
}

/* Creates the named temporary (O_EXCL, retried on a name clash). */
static int create_named(nnl_wfile *w, int *e)
{
    for (int tries = 0; tries < 100; tries++) {
        nnl_free(w->tmp);
        if (!(w->tmp = tmp_name(w->target))) {
            *e = ENOMEM;
            return -1;
        }
        int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                      0666);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST && errno != EINTR) {
            *e = errno;
            return -1;
        }
    }
    *e = EEXIST;
    return -1;
}

nnl_status nnl_wfile_open(const char *who, const char *path, nnl_wfile *w,
                          nnl_error *err)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->who = who;
    w->path = path ? path : "";
    if (!path || !*path)
        return nnl_fail(err, NNL_ERR_ARG, "%s%sthe path is empty", WHO(who));
    int e = resolve(path, &w->target);
    if (e) {
        nnl_status st = e == ENOMEM ? nnl_fail(err, NNL_ERR_NOMEM, "%s%sout of memory", WHO(who))
                                    : fail_io(w, err, "cannot write", e);
        release(w);
        return st;
    }
    struct stat old;
    int exists = stat(w->target, &old) == 0;
    if (exists && !S_ISREG(old.st_mode)) {
        /* a rename would replace a device or FIFO by a file: refuse */
        nnl_fail(err, NNL_ERR_IO, "%s%scannot write '%.300s': it is %s, not a regular file",
                 WHO(who), path, nnl_file_kind(old.st_mode));
        release(w);
        return NNL_ERR_IO;
    }
    if (exists && access(w->target, W_OK) != 0 && errno == EACCES) {
        nnl_fail(err, NNL_ERR_IO, "%s%scannot write '%.300s': it is read-only (mode %04o)",
                 WHO(who), path, (unsigned)(old.st_mode & 07777));
        release(w);
        return NNL_ERR_IO;
    }
    nnl_wfile_clean_stale(w->target);

    int fd = -1;
#ifdef O_TMPFILE
    if (!nnl_wfile_force_named && access("/proc/self/fd", X_OK) == 0) {
        char *dir = folder_of(w->target);
        if (dir) {
            fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
            nnl_free(dir);
        }
    }
#endif
    if (fd < 0) { /* no O_TMPFILE here: a named temporary */
        fd = create_named(w, &e);
        if (fd < 0) {
            nnl_status st = NNL_ERR_IO;
            if (e == ENOMEM) {
                st = nnl_fail(err, NNL_ERR_NOMEM, "%s%sout of memory", WHO(who));
            } else {
                char *dir = folder_of(w->target);
                nnl_fail(err, NNL_ERR_IO, "%s%scannot create a file in '%.300s' (to write "
                         "'%.300s'): %s", WHO(who), dir ? dir : ".", path, strerror(e));
                nnl_free(dir);
            }
            release(w);
            return st;
        }
        w->named = 1;
    }
    w->fd = fd;
    /* Held until the process ends or the file is closed: what tells a
     * later save that this temporary is not stale. Best effort (some
     * network file systems have no flock; the pid check still holds). */
    (void)flock(fd, LOCK_EX | LOCK_NB);
    if (exists) {
        /* the owner first: chown clears set-id bits that chmod then sets */
        if (old.st_uid != geteuid() || old.st_gid != getegid())
            (void)fchown(fd, old.st_uid, old.st_gid); /* refused unless root: keep ours */
        if (fchmod(fd, old.st_mode & 07777) != 0) {
            nnl_status st = fail_io(w, err, "cannot keep the mode of", errno);
            release(w);
            return st;
        }
    }
    return NNL_OK;
}

int nnl_wfile_write(nnl_wfile *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (!w->err && n > 0) {
        ssize_t r = write(w->fd, b, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (r < 0) {
            if (errno != EINTR)
                w->err = errno;
            continue;
        }
        if (r == 0) { /* cannot happen for a regular file: treat as full */
            w->err = ENOSPC;
            break;
        }
        b += r;
        n -= (size_t)r;
    }
    return !w->err;
}

/* Gives the nameless temporary its name (just before the rename). */
static int link_tmpfile(nnl_wfile *w)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
    for (int tries = 0; tries < 100; tries++) {
        nnl_free(w->tmp);
        if (!(w->tmp = tmp_name(w->target)))
            return ENOMEM;
        if (linkat(AT_FDCWD, proc, AT_FDCWD, w->tmp, AT_SYMLINK_FOLLOW) == 0) {
            w->named = 1;
            return 0;
        }
        if (errno != EEXIST && errno != EINTR)
            return errno;
    }
    return EEXIST;
}

/* Syncs the folder holding path so the rename itself is on disk (best
 * effort: some file systems refuse to sync a folder). */
static void sync_folder(const char *path)
{
    char *dir = folder_of(path);
    int fd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
    nnl_free(dir);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

nnl_status nnl_wfile_commit(nnl_wfile *w, nnl_error *err)
{
    int e = w->err;
    if (!e && fsync(w->fd) != 0)
        e = errno;
    if (!e && !w->named)
        e = link_tmpfile(w);
    if (!e) {
        /* the last close of a file reports what the fsync could not (some
         * network file systems) */
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0 && errno != EINTR)
            e = errno;
    }
    if (!e && rename(w->tmp, w->target) != 0)
        e = errno;
    if (e) {
        nnl_status st = e == ENOMEM ? nnl_fail(err, NNL_ERR_NOMEM, "%s%sout of memory",
                                               WHO(w->who))
                                    : fail_io(w, err, "cannot write", e);
        release(w);
        return st;
    }
    w->named = 0; /* the name is the target's now */
    sync_folder(w->target);
    release(w);
    return NNL_OK;
}
