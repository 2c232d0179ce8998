/* Whole-file access for the data loaders, and the non-blocking open of
 * every reader of a user's path: see readfile.h. */
#define _DEFAULT_SOURCE /* MAP_POPULATE on Linux */
/* "who: " before a message when the caller names itself, else nothing:
 * the binding puts the Lua function's name there. */
#define WHO(w) (w) ? (w) : "", (w) ? ": " : ""

#include "core/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

const char *nnl_file_kind(mode_t m)
{
    if (S_ISREG(m))
        return "a regular file";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISLNK(m))
        return "a symbolic link";
    return "not a regular file";
}

int nnl_open_regular(const char *who, const char *path, struct stat *st, nnl_error *err)
{
    /* O_NONBLOCK: open() of a FIFO without a writer, or of some devices,
     * would wait for ever; O_NOCTTY: a terminal never becomes ours. */
    int fd;
    do
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        struct stat s;
        /* a socket cannot be opened at all (ENXIO): say what it is */
        if (e == ENXIO && stat(path, &s) == 0 && !S_ISREG(s.st_mode)) {
            nnl_fail(err, NNL_ERR_IO, "%s%scannot read '%s': it is %s, not a regular "
                     "file", WHO(who), path, nnl_file_kind(s.st_mode));
            return -1;
        }
        nnl_fail(err, NNL_ERR_IO, "%s%scannot open '%s': %s", WHO(who), path, strerror(e));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        nnl_fail(err, NNL_ERR_IO, "%s%scannot read '%s': %s", WHO(who), path, strerror(e));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        nnl_fail(err, NNL_ERR_IO, "%s%scannot read '%s': it is %s, not a regular file",
                 WHO(who), path, nnl_file_kind(st->st_mode));
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        nnl_fail(err, NNL_ERR_IO, "%s%scannot read '%s': %s", WHO(who), path, strerror(e));
        return -1;
    }
    return fd;
}

/* Reads size bytes from fd into fresh memory. The memory is an anonymous
 * mapping made present in one pass (MAP_POPULATE): faulting it in page by
 * page, or as transparent huge pages, costs more than the copy. Not a
 * mapping of the file itself: if another process truncated the file
 * while it was parsed, touching a mapped page past the new end would kill
 * nnlua with SIGBUS; a copy cannot change under the parser. */
static nnl_status read_all(const char *who, const char *path, int fd, size_t size,
                           nnl_file *f, nnl_error *err)
{
#ifdef MAP_POPULATE
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
#else
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#endif
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (m == MAP_FAILED)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s%sout of memory reading '%s' (%zu bytes)",
                        WHO(who), path, size);
    char *data = m;
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got > ((size_t)1 << 30) ? (size_t)1 << 30
                                                                         : size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            munmap(m, size);
            return nnl_fail(err, NNL_ERR_IO, "%s%serror reading '%s': %s", WHO(who), path,
                            e ? strerror(e) : "the file shrank while it was read");
        }
        got += (size_t)r;
    }
    f->map = m;
    f->data = data;
    f->len = size;
    return NNL_OK;
}

nnl_status nnl_file_open(const char *who, const char *path, nnl_file *f,
                         nnl_error *err)
{
    memset(f, 0, sizeof *f);
    struct stat st;
    int fd = nnl_open_regular(who, path, &st, err);
    if (fd < 0)
        return NNL_ERR_IO;
    if ((unsigned long long)st.st_size > (unsigned long long)NNL_ALLOC_MAX) {
        close(fd);
        return nnl_fail(err, NNL_ERR_NOMEM, "%s%s'%s' is too large (%lld bytes)", WHO(who),
                        path, (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    nnl_status status = NNL_OK;
    if (size > 0)
        status = read_all(who, path, fd, size, f, err);
    else
        f->data = "";
    close(fd);
    return status;
}

void nnl_file_close(nnl_file *f)
{
    if (f->map)
        munmap(f->map, f->len);
    memset(f, 0, sizeof *f);
}
