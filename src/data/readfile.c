/* Whole-file access for the data loaders: see readfile.h. */
#define _DEFAULT_SOURCE /* MAP_POPULATE on Linux */
#include "data/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

/* Reads size bytes from fd into a new nnl_malloc'd buffer (the fallback
 * when mapping is refused). */
static nnl_status read_all(const char *who, const char *path, int fd, size_t size,
                           nnl_file *f, nnl_error *err)
{
    char *data = nnl_malloc(size ? size : 1);
    if (!data)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory reading '%s' (%zu bytes)",
                        who, path, size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            nnl_free(data);
            return nnl_fail(err, NNL_ERR_IO, "%s: error reading '%s': %s", who, path,
                            e ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    f->copy = data;
    f->data = data;
    f->len = size;
    return NNL_OK;
}

nnl_status nnl_file_open(const char *who, const char *path, nnl_file *f,
                         nnl_error *err)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return nnl_fail(err, NNL_ERR_IO, "%s: cannot open '%s': %s", who, path,
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return nnl_fail(err, NNL_ERR_IO, "%s: cannot read '%s': %s", who, path,
                        strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nnl_fail(err, NNL_ERR_IO, "%s: '%s' is not a regular file", who, path);
    }
    size_t size = (size_t)st.st_size;
    nnl_status status = NNL_OK;
    if (size > 0) {
#ifdef MAP_POPULATE
        const int flags = MAP_PRIVATE | MAP_POPULATE; /* one fault pass, not 4K each */
#else
        const int flags = MAP_PRIVATE;
#endif
        void *m = mmap(NULL, size, PROT_READ, flags, fd, 0);
        if (m != MAP_FAILED) {
            f->map = m;
            f->data = m;
            f->len = size;
        } else {
            status = read_all(who, path, fd, size, f, err);
        }
    } else {
        f->data = "";
    }
    close(fd);
    return status;
}

void nnl_file_close(nnl_file *f)
{
    if (f->map)
        munmap(f->map, f->len);
    nnl_free(f->copy);
    memset(f, 0, sizeof *f);
}
