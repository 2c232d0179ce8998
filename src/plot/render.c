/* Saving a plot's script (opts.script) and rendering it through gnuplot,
 * then checking that the plot's file is really there: gnuplot exits 0
 * when it could not write its file, and a full disk gives an empty or cut
 * file. Every write is checked, including flush and close. */
#define _XOPEN_SOURCE 700 /* st_mtim */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot/gnuplot.h"
#include "plot/plot.h"

/* Writes the script text to path; a failed write removes what it left (a
 * cut script would run wrongly). */
static nnl_status save_script(const nnl_pbuf *b, const char *path, const char *fn,
                              nnl_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return nnl_fail(err, NNL_ERR_IO, "%s: cannot write the script '%.200s': %s", fn, path,
                        strerror(errno));
    int e = 0;
    if (b->len && fwrite(b->s, 1, b->len, f) != b->len)
        e = errno ? errno : EIO;
    if (fflush(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e) {
        unlink(path);
        return nnl_fail(err, NNL_ERR_IO, "%s: cannot write the script '%.200s': %s", fn, path,
                        strerror(e));
    }
    return NNL_OK;
}

/* 1 when the n bytes at the end of path contain end (PNG: its IEND chunk;
 * SVG: the closing tag; PDF: %%EOF). */
static int ends_with_marker(const char *path, const char *end, size_t endlen, long tail)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[128];
    size_t n = 0;
    if (fseek(f, -tail, SEEK_END) != 0)
        fseek(f, 0, SEEK_SET);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + endlen <= n; i++)
        if (memcmp(buf + i, end, endlen) == 0)
            return 1;
    return 0;
}

/* 1 when path starts as a GIF ("GIF89a", or "GIF87a" for a still image)
 * and ends with the GIF trailer byte 0x3B. */
static int is_whole_gif(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char head[6];
    int ok = fread(head, 1, sizeof head, f) == sizeof head &&
             (memcmp(head, "GIF89a", 6) == 0 || memcmp(head, "GIF87a", 6) == 0);
    if (ok)
        ok = fseek(f, -1, SEEK_END) == 0 && fgetc(f) == 0x3B;
    fclose(f);
    return ok;
}

void nnl_plot_stamp(const char *file, nnl_plot_filestamp *st)
{
    struct stat sb;
    memset(st, 0, sizeof *st);
    if (!file || stat(file, &sb) != 0)
        return;
    st->exists = 1;
    st->dev = (unsigned long long)sb.st_dev;
    st->ino = (unsigned long long)sb.st_ino;
    st->size = (long long)sb.st_size;
    st->mtime[0] = (long long)sb.st_mtim.tv_sec;
    st->mtime[1] = sb.st_mtim.tv_nsec;
    st->ctime[0] = (long long)sb.st_ctim.tv_sec;
    st->ctime[1] = sb.st_ctim.tv_nsec;
}

/* "fn: " before a message, or nothing when fn is NULL. */
#define PREFIX(fn) (fn) ? (fn) : "", (fn) ? ": " : ""

nnl_status nnl_plot_check_file(const char *file, const nnl_plot_filestamp *before,
                               const char *fn, nnl_error *err)
{
    struct stat sb;
    if (stat(file, &sb) != 0)
        return nnl_fail(err, NNL_ERR_IO, "%s%sgnuplot did not create '%.200s'", PREFIX(fn), file);
    if (!S_ISREG(sb.st_mode))
        return NNL_OK; /* a device or a pipe: nothing to look at */
    nnl_plot_filestamp now;
    nnl_plot_stamp(file, &now);
    if (before && before->exists && before->dev == now.dev && before->ino == now.ino &&
        before->size == now.size && before->mtime[0] == now.mtime[0] &&
        before->mtime[1] == now.mtime[1] && before->ctime[0] == now.ctime[0] &&
        before->ctime[1] == now.ctime[1])
        return nnl_fail(err, NNL_ERR_IO,
                        "%s%sgnuplot did not write '%.200s' (the file there is from before)",
                        PREFIX(fn), file);
    if (sb.st_size == 0)
        return nnl_fail(err, NNL_ERR_IO,
                        "%s%s'%.200s' is empty: gnuplot could not write it (is the disk full?)",
                        PREFIX(fn), file);
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = file;
    nnl_plot_term term;
    if (nnl_plot_term_of(&o, &term, "", NULL) != NNL_OK)
        return NNL_OK;
    static const char png_end[] = "IEND\xae\x42\x60\x82";
    const char *kind = NULL;
    int ok = 1;
    if (term == NNL_TERM_PNG) {
        kind = "PNG";
        ok = ends_with_marker(file, png_end, sizeof png_end - 1, 8);
    } else if (term == NNL_TERM_SVG) {
        kind = "SVG";
        ok = ends_with_marker(file, "</svg>", 6, 64);
    } else if (term == NNL_TERM_PDF) {
        kind = "PDF";
        ok = ends_with_marker(file, "%%EOF", 5, 64);
    } else if (term == NNL_TERM_GIF) {
        kind = "GIF";
        ok = is_whole_gif(file);
    }
    if (!ok)
        return nnl_fail(err, NNL_ERR_IO,
                        "%s%s'%.200s' is incomplete (%lld bytes, without the end of a %s "
                        "file): gnuplot could not write all of it (is the disk full?)",
                        PREFIX(fn), file, (long long)sb.st_size, kind);
    return NNL_OK;
}

nnl_status nnl_plot_render(const nnl_pbuf *b, const nnl_plot_opts *o, const char *fn,
                           nnl_error *err)
{
    nnl_status st = nnl_pbuf_check(b, fn, err);
    if (st != NNL_OK)
        return st;
    if (o->script) {
        st = save_script(b, o->script, fn, err);
        if (st != NNL_OK)
            return st;
    }
    if (!o->render)
        return NNL_OK;
    nnl_plot_filestamp before;
    nnl_plot_stamp(o->file, &before);
    nnl_error gerr;
    st = nnl_gnuplot_run(b->s, b->len, o->file != NULL, &gerr);
    if (st != NNL_OK) {
        if (o->file)
            return nnl_fail(err, st, "%s: %.300s (drawing '%.150s')", fn, gerr.msg, o->file);
        return nnl_fail(err, st, "%s: %s", fn, gerr.msg);
    }
    return o->file ? nnl_plot_check_file(o->file, &before, fn, err) : NNL_OK;
}
