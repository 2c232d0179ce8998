/* Running gnuplot (src/plot/gnuplot.c, style.c): real PNG/SVG/PDF/text
 * output checked for format, size and not being blank (the PNG is decoded
 * and its pixels counted); file names and titles with quotes, backslashes,
 * newlines, $(...) and backticks give exactly the requested file and run
 * nothing; a missing gnuplot says how to install it; gnuplot's own errors
 * are read back; no zombies or leaked descriptors after 1000 runs; the
 * persistent session redraws in one process. Tests that need gnuplot are
 * skipped when it is not installed. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "plot/gnuplot.h"
#include "plot/plot.h"

static char tmpdir[256];
static char olddir[4096];
static nnl_error err;
static int have_gnuplot;

/* Each test runs in a fresh temporary folder (so "pwned" files show). */
static int setup(void **state)
{
    (void)state;
    unsetenv("NNLUA_GNUPLOT");
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_plot_test_XXXXXX");
    if (!mkdtemp(tmpdir) || !getcwd(olddir, sizeof olddir) || chdir(tmpdir) != 0)
        return -1;
    nnl_error_clear(&err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(".");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlink(e->d_name);
        closedir(d);
    }
    if (chdir(olddir) != 0)
        return -1;
    rmdir(tmpdir);
    return 0;
}

#define NEED_GNUPLOT()                                                                     \
    do {                                                                                   \
        if (!have_gnuplot) {                                                               \
            print_message("gnuplot not installed: skipped\n");                            \
            skip();                                                                        \
        }                                                                                  \
    } while (0)

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
        free(s);
        s = NULL;
    }
    if (s)
        s[len] = '\0';
    fclose(f);
    if (n)
        *n = (size_t)len;
    return s;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decodes an 8-bit RGB/RGBA non-interlaced PNG (what pngcairo writes);
 * returns the share of pixels that are not the background (the top-left
 * pixel's colour) and the number of distinct colours seen (capped), or -1
 * for an unreadable file. */
static double png_ink(const char *path, int *width, int *height, int *colours)
{
    size_t n;
    unsigned char *f = (unsigned char *)read_all(path, &n);
    if (!f || n < 33 || memcmp(f, "\x89PNG\r\n\x1a\n", 8) != 0) {
        free(f);
        return -1;
    }
    uint32_t w = be32(f + 16), h = be32(f + 20);
    int depth = f[24], ctype = f[25], interlace = f[28];
    int ch = ctype == 6 ? 4 : ctype == 2 ? 3 : 0;
    if (depth != 8 || !ch || interlace || w == 0 || h == 0 || w > 10000 || h > 10000) {
        free(f);
        return -1;
    }
    /* Concatenate the IDAT chunks and inflate them. */
    unsigned char *z = malloc(n), *raw = malloc((size_t)h * (w * ch + 1));
    size_t zn = 0;
    for (size_t p = 8; p + 12 <= n;) {
        uint32_t len = be32(f + p);
        if (p + 12 + len > n)
            break;
        if (memcmp(f + p + 4, "IDAT", 4) == 0) {
            memcpy(z + zn, f + p + 8, len);
            zn += len;
        }
        p += 12 + len;
    }
    uLongf rawn = (uLongf)h * (w * ch + 1);
    int zr = uncompress(raw, &rawn, z, (uLong)zn);
    free(z);
    free(f);
    if (zr != Z_OK || rawn != (uLongf)h * (w * ch + 1)) {
        free(raw);
        return -1;
    }
    size_t stride = (size_t)w * ch;
    unsigned char *img = malloc((size_t)h * stride);
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *src = raw + y * (stride + 1) + 1;
        unsigned char *dst = img + y * stride, *up = y ? dst - stride : NULL;
        int filt = raw[y * (stride + 1)];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)ch ? dst[x - ch] : 0, b = up ? up[x] : 0;
            int c = up && x >= (size_t)ch ? up[x - ch] : 0, v = src[x];
            switch (filt) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += paeth(a, b, c); break;
            default: break;
            }
            dst[x] = (unsigned char)v;
        }
    }
    free(raw);
    size_t ink = 0;
    unsigned seen[64];
    int nseen = 0;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const unsigned char *px = img + i * ch;
        if (memcmp(px, img, (size_t)ch) != 0)
            ink++;
        unsigned rgb = (unsigned)px[0] << 16 | (unsigned)px[1] << 8 | px[2];
        int k = 0;
        while (k < nseen && seen[k] != rgb)
            k++;
        if (k == nseen && nseen < 64)
            seen[nseen++] = rgb;
    }
    free(img);
    *width = (int)w;
    *height = (int)h;
    *colours = nseen;
    return (double)ink / ((double)w * h);
}

/* Builds a two-line plot into file (render on). */
static nnl_status lines_plot(const char *file, const char *title, const char *name)
{
    double y1[5] = {1, 4, 9, 16, 25}, y2[5] = {25, 16, 9, 4, 1};
    nnl_plot_series s[2] = {{name, NULL, y1, 5}, {"down", NULL, y2, 5}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = file;
    o.title = title;
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    nnl_status st = nnl_plot_lines(&b, &o, s, 2, &err);
    if (st == NNL_OK)
        st = nnl_plot_render(&b, &o, "test", &err);
    nnl_pbuf_free(&b);
    return st;
}

static void png_is_rendered_and_not_blank(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    assert_int_equal(lines_plot("lines.png", "squares", "up"), NNL_OK);
    int w, h, colours;
    double ink = png_ink("lines.png", &w, &h, &colours);
    assert_true(ink >= 0);
    assert_int_equal(w, 800);
    assert_int_equal(h, 480);
    assert_true(file_size("lines.png") > 8000);
    /* Axes, text and two coloured lines: a few percent of the pixels,
     * in many colours (antialiasing), and both house colours present. */
    assert_true(ink > 0.01);
    assert_true(ink < 0.5);
    assert_true(colours > 10);
}

static void svg_pdf_and_text_files(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    assert_int_equal(lines_plot("l.svg", "t", "up"), NNL_OK);
    char *svg = read_all("l.svg", NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "#0072B2") ? strstr(svg, "#0072B2") : strstr(svg, "rgb(  0, 114, 178)"));
    free(svg);
    assert_int_equal(lines_plot("l.pdf", "t", "up"), NNL_OK);
    char *pdf = read_all("l.pdf", NULL);
    assert_non_null(pdf);
    assert_memory_equal(pdf, "%PDF", 4);
    free(pdf);
    assert_int_equal(lines_plot("l.txt", "a title", "rising"), NNL_OK);
    char *txt = read_all("l.txt", NULL);
    assert_non_null(txt);
    assert_non_null(strstr(txt, "a title"));
    assert_non_null(strstr(txt, "rising"));
    /* The curves are drawn with characters, not only the frame. */
    int marks = 0;
    for (const char *p = txt; *p; p++)
        marks += *p == '*' || *p == '#' || *p == '$' || *p == '%' || *p == '@' || *p == '&';
    assert_true(marks > 20);
    free(txt);
}

static void nasty_file_name_gets_exactly_that_name(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    static const char *names[] = {
        "q'uote\\back\nnl$(touch pwned1)`touch pwned2`.txt",
        "|touch pwned3.txt",
        "~pwned4.txt",
        "@x; !touch pwned5 \"dq\".png",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(lines_plot(names[i], "$(touch pwned6) `touch pwned7` ' \\ \n",
                                    "`touch pwned8`"), NNL_OK);
        assert_true(file_size(names[i]) > 100);
    }
    /* Nothing ran: no pwned file here (gnuplot's working folder), and the
     * folder holds exactly the requested files. */
    DIR *d = opendir(".");
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        assert_null(strstr(e->d_name, "pwned") == e->d_name ? e->d_name : NULL);
        files++;
    }
    closedir(d);
    assert_int_equal(files, 4);
    assert_true(access("pwned1", F_OK) != 0 && access("pwned3.txt", F_OK) != 0);
}

static void missing_gnuplot_says_how_to_install(void **state)
{
    (void)state;
    setenv("NNLUA_GNUPLOT", "/nonexistent", 1);
    char path[256];
    assert_int_equal(nnl_gnuplot_find(path, sizeof path, &err), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "apt-get install gnuplot-nox"));
    assert_non_null(strstr(err.msg, "/nonexistent"));
    assert_int_equal(lines_plot("x.png", NULL, "a"), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "test: "));
    assert_non_null(strstr(err.msg, "NNLUA_GNUPLOT"));
    assert_true(access("x.png", F_OK) != 0);
    /* A bare name is looked up in PATH. */
    setenv("NNLUA_GNUPLOT", "no-such-gnuplot-program", 1);
    assert_int_equal(nnl_gnuplot_find(path, sizeof path, &err), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "no-such-gnuplot-program"));
    assert_non_null(strstr(err.msg, "apt-get install gnuplot-nox"));
    /* Sessions too. */
    setenv("NNLUA_GNUPLOT", "/nonexistent", 1);
    assert_null(nnl_gnuplot_open(1, &err));
    assert_non_null(strstr(err.msg, "apt-get install gnuplot-nox"));
    /* A directory or a non-executable file is not a program. */
    setenv("NNLUA_GNUPLOT", "/tmp", 1);
    assert_int_equal(nnl_gnuplot_find(path, sizeof path, &err), NNL_ERR_UNSUPPORTED);
    unsetenv("NNLUA_GNUPLOT");
}

static void gnuplot_errors_are_read_back(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    static const char bad[] = "set terminal dumb\nset output '/dev/null'\nplot foo(x)\n";
    assert_int_equal(nnl_gnuplot_run(bad, sizeof bad - 1, 1, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "undefined function: foo"));
    static const char cmd[] = "no_such_command 1\n";
    assert_int_equal(nnl_gnuplot_run(cmd, sizeof cmd - 1, 1, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "invalid command"));
    /* An output folder that does not exist. */
    assert_int_equal(lines_plot("no/such/dir/x.png", NULL, "a"), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot open file"));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    /* Warnings alone are not errors. */
    static const char warn[] = "set terminal dumb\nset output '/dev/null'\n"
                               "$d << EOD\nEOD\nplot $d, x\n";
    nnl_status st = nnl_gnuplot_run(warn, sizeof warn - 1, 1, &err);
    assert_int_equal(st, NNL_OK);
}

static void message_parsing(void **state)
{
    (void)state;
    char out[200];
    nnl_gnuplot_message("\ngnuplot> plot foo(x)\n              ^\n         line 0: undefined "
                        "function: foo\n\n", out, sizeof out);
    assert_string_equal(out, "undefined function: foo in: plot foo(x)");
    nnl_gnuplot_message("         line 3:          cannot open file; output not changed\n"
                        "system error: No such file or directory\n", out, sizeof out);
    assert_string_equal(out, "cannot open file; output not changed (No such file or directory)");
    nnl_gnuplot_message("Warning: empty y range\n  something odd\n", out, sizeof out);
    assert_string_equal(out, "Warning: empty y range something odd");
    nnl_gnuplot_message("line 0: x\n", out, 4);
    assert_string_equal(out, "x");
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* No children left: waitpid finds none (ECHILD), so no zombies. */
static void assert_no_children(void)
{
    int status;
    errno = 0;
    assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void thousand_runs_leak_nothing(void **state)
{
    (void)state;
    /* The process plumbing 1000 times, with cat standing in for gnuplot
     * (it reads the whole script and exits, like gnuplot, in a fraction of
     * the time); then real gnuplot plots. */
    if (access("/bin/cat", X_OK) != 0)
        skip();
    int fds = count_fds();
    assert_true(fds > 0);
    setenv("NNLUA_GNUPLOT", "/bin/cat", 1);
    static const char script[] = "set terminal dumb\nplot x\n";
    for (int i = 0; i < 1000; i++)
        /* Every other run keeps our stdout (as text plots do); cat gets
         * nothing to echo there. */
        assert_int_equal(nnl_gnuplot_run(script, i % 2 ? sizeof script - 1 : 0, i % 2, &err),
                         NNL_OK);
    assert_int_equal(count_fds(), fds);
    assert_no_children();
    unsetenv("NNLUA_GNUPLOT");
    if (!have_gnuplot)
        return;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(lines_plot(i % 2 ? "a.txt" : "a.png", "t", "a"), NNL_OK);
        static const char bad[] = "plot foo(x)\n";
        assert_int_equal(nnl_gnuplot_run(bad, sizeof bad - 1, 1, &err), NNL_ERR_IO);
    }
    assert_int_equal(count_fds(), fds);
    assert_no_children();
}

/* Number of entries in a folder other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* A script of n bytes or more: a data block, a plot into out, and gnuplot
 * writing to where.txt the file it was loaded from (ARG0: empty when it
 * reads its standard input). tail is appended last. Free with
 * nnl_pbuf_free. */
static nnl_pbuf big_script(size_t n, const char *out, const char *tail)
{
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    nnl_pbuf_add(&b, "set print 'where.txt'\nprint ARG0\nunset print\n"
                     "set terminal dumb size 60,15\nset output ");
    nnl_pbuf_quote(&b, out);
    nnl_pbuf_add(&b, "\n$d << EOD\n");
    for (int i = 0; b.len < n; i++)
        nnl_pbuf_addf(&b, "%d %d\n", i, i % 97);
    nnl_pbuf_add(&b, "EOD\nplot $d with lines\nunset output\n");
    nnl_pbuf_add(&b, tail);
    assert_false(b.failed);
    return b;
}

static void large_scripts_go_through_a_temporary_file(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    char priv[300], where[400];
    snprintf(priv, sizeof priv, "%s/tmp", tmpdir);
    assert_int_equal(mkdir(priv, 0700), 0);
    setenv("TMPDIR", priv, 1);
    int fds = count_fds();
    /* Large: loaded from a file in $TMPDIR, which is gone afterwards; with
     * /proc, unlinked at once and loaded as gnuplot's descriptor 3. */
    int by_fd = access("/proc/self/fd", F_OK) == 0;
    nnl_pbuf s = big_script(NNL_GNUPLOT_FILE_MIN + 1000, "big.txt", "");
    assert_int_equal(nnl_gnuplot_run(s.s, s.len, 1, &err), NNL_OK);
    nnl_pbuf_free(&s);
    assert_true(file_size("big.txt") > 500);
    char *w = read_all("where.txt", NULL);
    assert_non_null(w);
    snprintf(where, sizeof where, "%s/nnlua-plot-", priv);
    assert_non_null(strstr(w, by_fd ? "/dev/fd/3" : where));
    free(w);
    assert_int_equal(entries(priv), 0);
    /* gnuplot's errors come back the same way, and the file still goes. */
    s = big_script(NNL_GNUPLOT_FILE_MIN + 1000, "big2.txt", "plot foo(x)\n");
    assert_int_equal(nnl_gnuplot_run(s.s, s.len, 1, &err), NNL_ERR_IO);
    nnl_pbuf_free(&s);
    assert_non_null(strstr(err.msg, "undefined function: foo"));
    assert_int_equal(entries(priv), 0);
    /* Small: through standard input, no file at all. */
    s = big_script(1000, "small.txt", "");
    assert_true(s.len < NNL_GNUPLOT_FILE_MIN);
    assert_int_equal(nnl_gnuplot_run(s.s, s.len, 1, &err), NNL_OK);
    nnl_pbuf_free(&s);
    w = read_all("where.txt", NULL);
    assert_non_null(w);
    assert_null(strstr(w, "nnlua-plot-"));
    assert_null(strstr(w, "/dev/fd/3"));
    free(w);
    /* A folder that cannot be written: standard input after all. */
    setenv("TMPDIR", "/nonexistent/nnlua", 1);
    s = big_script(NNL_GNUPLOT_FILE_MIN + 1000, "big3.txt", "");
    assert_int_equal(nnl_gnuplot_run(s.s, s.len, 1, &err), NNL_OK);
    assert_true(file_size("big3.txt") > 500);
    /* A relative $TMPDIR (a name starting with '<' would be a command to
     * gnuplot's load) is not used: /tmp is. */
    setenv("TMPDIR", "<rel", 1);
    assert_int_equal(nnl_gnuplot_run(s.s, s.len, 1, &err), NNL_OK);
    nnl_pbuf_free(&s);
    w = read_all("where.txt", NULL);
    assert_non_null(w);
    assert_non_null(strstr(w, by_fd ? "/dev/fd/3" : "/tmp/nnlua-plot-"));
    free(w);
    assert_int_equal(access("<rel", F_OK), -1);
    unsetenv("TMPDIR");
    assert_int_equal(count_fds(), fds);
    assert_no_children();
    rmdir(priv);
}

static void script_is_kept_and_render_can_be_off(void **state)
{
    (void)state;
    double y[3] = {1, 2, 3};
    nnl_plot_series s[1] = {{"y", NULL, y, 3}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "kept.png";
    o.script = "kept.gp";
    o.render = 0;
    nnl_pbuf b;
    nnl_pbuf_init(&b);
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_int_equal(nnl_plot_render(&b, &o, "test", &err), NNL_OK);
    size_t n;
    char *text = read_all("kept.gp", &n);
    assert_non_null(text);
    assert_int_equal(n, b.len);
    assert_memory_equal(text, b.s, n);
    free(text);
    assert_true(access("kept.png", F_OK) != 0); /* not rendered */
    o.script = "no/such/dir/k.gp";
    assert_int_equal(nnl_plot_render(&b, &o, "test", &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "no/such/dir/k.gp"));
    nnl_pbuf_free(&b);
    if (!have_gnuplot)
        return;
    /* The kept script redraws the same picture when run by itself. */
    o.script = "kept.gp";
    o.render = 1;
    nnl_pbuf_init(&b);
    assert_int_equal(nnl_plot_lines(&b, &o, s, 1, &err), NNL_OK);
    assert_int_equal(nnl_plot_render(&b, &o, "test", &err), NNL_OK);
    nnl_pbuf_free(&b);
    long first = file_size("kept.png");
    unlink("kept.png");
    char *again = read_all("kept.gp", &n);
    assert_int_equal(nnl_gnuplot_run(again, n, 1, &err), NNL_OK);
    free(again);
    assert_int_equal(file_size("kept.png"), first);
}

static void session_redraws_in_one_process(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    int fds = count_fds();
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    long pid = nnl_gnuplot_pid(s);
    assert_true(pid > 0);
    double y[4] = {4, 3, 2, 1};
    nnl_plot_series ser[1] = {{"loss", NULL, y, 1}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "live.txt";
    for (int epoch = 1; epoch <= 4; epoch++) {
        ser[0].n = (size_t)epoch;
        nnl_pbuf b;
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_history(&b, &o, ser, 1, &err), NNL_OK);
        assert_int_equal(nnl_gnuplot_send(s, b.s, b.len, &err), NNL_OK);
        nnl_pbuf_free(&b);
        /* send waits until gnuplot has drawn: the file is complete now. */
        assert_true(file_size("live.txt") > 100);
        assert_int_equal(nnl_gnuplot_pid(s), pid);
    }
    /* An error is read back and the session goes on. */
    static const char bad[] = "plot foo(x)\n";
    assert_int_equal(nnl_gnuplot_send(s, bad, sizeof bad - 1, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "undefined function: foo"));
    static const char ok[] = "print 1+1\n";
    assert_int_equal(nnl_gnuplot_send(s, ok, sizeof ok - 1, &err), NNL_OK);
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_OK);
    assert_int_equal(kill((pid_t)pid, 0), -1); /* reaped: gone */
    assert_int_equal(count_fds(), fds);
    assert_no_children();
    assert_int_equal(nnl_gnuplot_close(NULL, &err), NNL_OK);
}

static void session_survives_gnuplot_dying(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    int fds = count_fds();
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    static const char quit[] = "exit\n";
    assert_int_equal(nnl_gnuplot_send(s, quit, sizeof quit - 1, &err), NNL_ERR_IO);
    static const char ok[] = "print 1\n";
    assert_int_equal(nnl_gnuplot_send(s, ok, sizeof ok - 1, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "closed"));
    nnl_gnuplot_close(s, &err);
    assert_int_equal(count_fds(), fds);
    assert_no_children();
}

/* Sleeps ms milliseconds (usleep is not POSIX 2008). */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void session_posts_without_waiting_and_finishes_in_background(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    int fds = count_fds();
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    long pid = nnl_gnuplot_pid(s);
    double y[30];
    for (int i = 0; i < 30; i++)
        y[i] = 1.0 / (i + 1);
    nnl_plot_series ser[1] = {{"loss", NULL, y, 1}};
    nnl_plot_opts o;
    nnl_plot_opts_init(&o);
    o.file = "frames.txt";
    int posted_total = 0;
    for (int epoch = 1; epoch <= 30; epoch++) {
        ser[0].n = (size_t)epoch;
        char title[32];
        snprintf(title, sizeof title, "frame %d", epoch);
        o.title = title;
        nnl_pbuf b;
        nnl_pbuf_init(&b);
        assert_int_equal(nnl_plot_history(&b, &o, ser, 1, &err), NNL_OK);
        int posted;
        assert_int_equal(nnl_gnuplot_post(s, b.s, b.len, epoch == 30, &posted, &err), NNL_OK);
        nnl_pbuf_free(&b);
        posted_total += posted;
        if (epoch == 30)
            assert_true(posted); /* forced: always sent */
    }
    /* Frames were skipped while gnuplot was busy, but not all. */
    assert_true(posted_total >= 2);
    assert_true(posted_total <= 30);
    nnl_gnuplot_finish(s); /* returns at once; a thread reads gnuplot to its end */
    nnl_gnuplot_finish(s); /* twice: nothing more */
    for (int i = 0; i < 3000 && !nnl_gnuplot_finished(s); i++)
        nap(10);
    assert_true(nnl_gnuplot_finished(s));
    /* The thread has reaped gnuplot before saying it finished. */
    assert_int_equal(kill((pid_t)pid, 0), -1);
    int posted;
    assert_int_equal(nnl_gnuplot_post(s, "print 1\n", 8, 1, &posted, &err), NNL_ERR_IO);
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_OK);
    assert_int_equal(count_fds(), fds);
    assert_no_children();
    /* The forced last frame was drawn. */
    char *text = read_all("frames.txt", NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "frame 30"));
    free(text);
    /* A posted script's error comes back at the next post. */
    s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    static const char bad[] = "plot foo(x)\n", ok[] = "print 1\n";
    assert_int_equal(nnl_gnuplot_post(s, bad, sizeof bad - 1, 0, &posted, &err), NNL_OK);
    assert_true(posted);
    nnl_status st = NNL_OK;
    for (int i = 0; i < 3000 && st == NNL_OK; i++) {
        nap(10);
        st = nnl_gnuplot_post(s, ok, sizeof ok - 1, 0, &posted, &err);
    }
    assert_int_equal(st, NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "undefined function: foo"));
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_OK);
    assert_no_children();
    /* The error of a frame still being drawn when the session finishes in
     * the background comes back from close, which waits for it. */
    s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    assert_int_equal(nnl_gnuplot_post(s, bad, sizeof bad - 1, 1, &posted, &err), NNL_OK);
    nnl_gnuplot_finish(s);
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "undefined function: foo"));
    assert_int_equal(count_fds(), fds);
    assert_no_children();
}

/* busy says whether a post would be skipped, without waiting: true while
 * gnuplot runs a slow script, false once it is done. */
static void session_busy_tracks_the_posted_frame(void **state)
{
    (void)state;
    NEED_GNUPLOT();
    nnl_gnuplot_session *s = nnl_gnuplot_open(1, &err);
    assert_non_null(s);
    assert_false(nnl_gnuplot_busy(s)); /* nothing posted yet */
    static const char slow[] = "pause 0.4\n", quick[] = "print 1\n";
    int posted;
    assert_int_equal(nnl_gnuplot_post(s, slow, sizeof slow - 1, 0, &posted, &err), NNL_OK);
    assert_true(posted);
    assert_true(nnl_gnuplot_busy(s));
    assert_int_equal(nnl_gnuplot_post(s, quick, sizeof quick - 1, 0, &posted, &err), NNL_OK);
    assert_false(posted); /* skipped, as busy said */
    for (int i = 0; i < 3000 && nnl_gnuplot_busy(s); i++)
        nap(10);
    assert_false(nnl_gnuplot_busy(s));
    assert_int_equal(nnl_gnuplot_post(s, quick, sizeof quick - 1, 0, &posted, &err), NNL_OK);
    assert_true(posted);
    nnl_gnuplot_finish(s);
    assert_false(nnl_gnuplot_busy(s)); /* finishing: nothing more to post */
    assert_int_equal(nnl_gnuplot_close(s, &err), NNL_OK);
    assert_no_children();
}

int main(void)
{
    char path[4096];
    unsetenv("NNLUA_GNUPLOT");
    have_gnuplot = nnl_gnuplot_find(path, sizeof path, NULL) == NNL_OK;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(png_is_rendered_and_not_blank, setup, teardown),
        cmocka_unit_test_setup_teardown(svg_pdf_and_text_files, setup, teardown),
        cmocka_unit_test_setup_teardown(nasty_file_name_gets_exactly_that_name, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_gnuplot_says_how_to_install, setup, teardown),
        cmocka_unit_test_setup_teardown(gnuplot_errors_are_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(message_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(thousand_runs_leak_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(large_scripts_go_through_a_temporary_file, setup, teardown),
        cmocka_unit_test_setup_teardown(script_is_kept_and_render_can_be_off, setup, teardown),
        cmocka_unit_test_setup_teardown(session_redraws_in_one_process, setup, teardown),
        cmocka_unit_test_setup_teardown(session_survives_gnuplot_dying, setup, teardown),
        cmocka_unit_test_setup_teardown(session_busy_tracks_the_posted_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(session_posts_without_waiting_and_finishes_in_background, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
