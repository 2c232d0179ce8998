/* Files that are not what a loader or a save expects: every reader of a
 * user's path (CSV, IDX, Fashion-MNIST, model files) refuses a FIFO, a
 * directory, a device or a socket without blocking (each load runs in a
 * child with a deadline, so a regression fails instead of hanging), and
 * survives the file being truncated under it (no SIGBUS); saves
 * write through symbolic links, keep the old file's mode, give a new file
 * 0666 & ~umask, refuse to replace a device, a FIFO, a folder or a
 * read-only file, remove stale temporaries of dead writers but never those
 * of live ones, and fail cleanly on a full file system (a file size limit,
 * and a small tmpfs where mounting is allowed). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/csv.h"
#include "data/datasets.h"
#include "data/idx.h"
#include "core/readfile.h"
#include "core/writefile.h"
#include "model/model.h"
#include "model/modelfile.h"

static char dir[256];

static void in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

/* ---- readers never block ------------------------------------------------ */

enum { LOAD_CSV, LOAD_IDX, LOAD_MODEL, LOAD_FASHION };

/* Runs one loader on path in a child with a 5 s alarm. Returns the
 * loader's status (NNL_OK, NNL_ERR_IO, ...), or -1 when the child hung or
 * crashed; msg gets the error message. */
static int load_in_child(int kind, const char *path, char *msg, size_t size)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        alarm(5);
        nnl_error err;
        nnl_status st = NNL_OK;
        err.msg[0] = '\0';
        if (kind == LOAD_CSV) {
            nnl_csv_result r;
            st = nnl_csv_load(path, NULL, &r, &err);
            if (!st)
                nnl_csv_result_free(&r);
        } else if (kind == LOAD_IDX) {
            nnl_tensor *t = NULL;
            st = nnl_idx_load(path, 1, 0, &t, &err);
            nnl_tensor_free(t);
        } else if (kind == LOAD_MODEL) {
            nnl_model *m = nnl_modelfile_load(path, NULL, &err);
            st = m ? NNL_OK : err.code;
            nnl_model_free(m);
        } else {
            nnl_fashion f;
            st = nnl_fashion_load(path, 1, &f, &err);
            if (!st)
                nnl_fashion_free(&f);
        }
        ssize_t w = write(p[1], err.msg, strlen(err.msg) + 1);
        (void)w;
        _exit((int)st);
    }
    close(p[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ssize_t n = read(p[0], msg, size - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_refused(int kind, const char *path, const char *what)
{
    char msg[NNL_ERROR_MAX];
    int st = load_in_child(kind, path, msg, sizeof msg);
    if (st != NNL_ERR_IO || !strstr(msg, what) || !strstr(msg, path))
        fail_msg("loader %d on '%s': status %d (-1: hung or crashed), message '%s'; "
                 "expected an I/O error naming the path and '%s'", kind, path, st, msg,
                 what);
}

static void test_readers_refuse_non_regular_files(void **state)
{
    (void)state;
    char fifo[512], sub[512], sock[512];
    in_dir(fifo, sizeof fifo, "fifo");
    in_dir(sub, sizeof sub, "sub");
    in_dir(sock, sizeof sock, "sock");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(sock) < sizeof a.sun_path);
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    for (int kind = LOAD_CSV; kind <= LOAD_MODEL; kind++) {
        expect_refused(kind, fifo, "is a FIFO");
        expect_refused(kind, sub, "is a directory");
        expect_refused(kind, "/dev/zero", "is a character device");
        expect_refused(kind, sock, "is a socket");
    }
    /* Fashion-MNIST: the four files exist, but as FIFOs */
    static const char *const names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char p[600];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", sub, names[i]);
        assert_int_equal(mkfifo(p, 0644), 0);
    }
    snprintf(p, sizeof p, "%s/%s", sub, names[0]);
    char msg[NNL_ERROR_MAX];
    int st = load_in_child(LOAD_FASHION, sub, msg, sizeof msg);
    if (st != NNL_ERR_IO || !strstr(msg, "is a FIFO") || !strstr(msg, p))
        fail_msg("fashion_mnist on FIFOs: status %d, '%s'", st, msg);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", sub, names[i]);
        unlink(p);
    }
    close(s);
    unlink(sock);
    unlink(fifo);
    rmdir(sub);
}

/* A file truncated by another process after it was opened: the loader's
 * bytes stay readable (a mapping of the file would raise SIGBUS). */
static void test_file_truncated_while_loaded(void **state)
{
    (void)state;
    char path[512];
    in_dir(path, sizeof path, "shrinks.csv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++)
        fprintf(f, "%d,%d,%d\n", i, i + 1, i % 3);
    fclose(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        nnl_file file;
        nnl_error err;
        if (nnl_file_open("csv", path, &file, &err) != NNL_OK)
            _exit(2);
        if (truncate(path, 10) != 0)
            _exit(3);
        unsigned long sum = 0;
        for (size_t i = 0; i < file.len; i++)
            sum += (unsigned char)file.data[i];
        nnl_file_close(&file);
        _exit(sum > 0 ? 0 : 4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("reading a loaded file after a truncation: %s %d",
                 WIFSIGNALED(status) ? "killed by signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    unlink(path);
}

/* ---- saves ---------------------------------------------------------------- */

static nnl_model *small_model(size_t units)
{
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    nnl_layer *l = nnl_dense_new(units, &o, &err);
    assert_non_null(l);
    nnl_shape in = {1, {16, 0, 0, 0}};
    assert_int_equal(nnl_layer_set_input_shape(l, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, l, &err), NNL_OK);
    return m;
}

static void save_ok(nnl_model *m, const char *path)
{
    nnl_error err;
    if (nnl_modelfile_save(m, path, NULL, &err) != NNL_OK)
        fail_msg("save '%s': %s", path, err.msg);
}

/* The number of units of the model in path (its file must load). */
static size_t units_in(const char *path)
{
    nnl_error err;
    nnl_model *m = nnl_modelfile_load(path, NULL, &err);
    if (!m)
        fail_msg("load '%s': %s", path, err.msg);
    size_t u = m->layers[0]->params[0].shape.d[1];
    nnl_model_free(m);
    return u;
}

/* Entries of the test folder whose name holds ".tmp-". */
static int count_tmp(const char *folder)
{
    DIR *d = opendir(folder);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void test_save_through_symlink_keeps_link_and_mode(void **state)
{
    (void)state;
    for (int named = 0; named < 2; named++) {
        nnl_wfile_force_named = named;
        char real[512], other[300], link[512], rel[512], dangling[512], newt[512];
        in_dir(other, sizeof other, "other");
        assert_int_equal(mkdir(other, 0755), 0);
        snprintf(real, sizeof real, "%s/real.safetensors", other);
        in_dir(link, sizeof link, "link.safetensors");
        in_dir(rel, sizeof rel, "rel.safetensors");
        in_dir(dangling, sizeof dangling, "dangling.safetensors");
        snprintf(newt, sizeof newt, "%s/new.safetensors", other);
        nnl_model *a = small_model(3), *b = small_model(5), *c = small_model(7);
        save_ok(a, real);
        assert_int_equal(chmod(real, 0640), 0);
        assert_int_equal(symlink(real, link), 0);      /* absolute */
        assert_int_equal(symlink("other/real.safetensors", rel), 0); /* relative */
        assert_int_equal(symlink("other/new.safetensors", dangling), 0);

        save_ok(b, link);
        struct stat st;
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));           /* still a link */
        assert_int_equal(stat(real, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640); /* mode kept */
        assert_int_equal(units_in(real), 5);        /* the target was replaced */
        save_ok(c, rel);
        assert_int_equal(lstat(rel, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(units_in(real), 7);
        assert_int_equal(stat(real, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* the owner is kept where that is allowed (as root) */
        if (geteuid() == 0) {
            assert_int_equal(chown(real, 65534, 65534), 0);
            save_ok(b, link);
            assert_int_equal(stat(real, &st), 0);
            assert_int_equal(st.st_uid, 65534);
            assert_int_equal(st.st_gid, 65534);
            assert_int_equal(st.st_mode & 07777, 0640);
        }
        /* a link to nothing yet creates what it names */
        save_ok(a, dangling);
        assert_int_equal(lstat(dangling, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(units_in(newt), 3);
        /* the temporaries went into the target's folder and are gone */
        assert_int_equal(count_tmp(dir), 0);
        assert_int_equal(count_tmp(other), 0);
        /* a loop of links is an error, not a hang */
        char l1[512], l2[512];
        in_dir(l1, sizeof l1, "loop1");
        in_dir(l2, sizeof l2, "loop2");
        assert_int_equal(symlink(l2, l1), 0);
        assert_int_equal(symlink(l1, l2), 0);
        nnl_error err;
        assert_int_equal(nnl_modelfile_save(a, l1, NULL, &err), NNL_ERR_IO);
        assert_non_null(strstr(err.msg, "symbolic links"));
        unlink(l1);
        unlink(l2);
        unlink(link);
        unlink(rel);
        unlink(dangling);
        unlink(real);
        unlink(newt);
        rmdir(other);
        nnl_model_free(a);
        nnl_model_free(b);
        nnl_model_free(c);
    }
    nnl_wfile_force_named = 0;
}

static void test_new_file_mode_follows_umask(void **state)
{
    (void)state;
    nnl_model *m = small_model(2);
    const mode_t masks[3] = {022, 077, 0};
    for (int named = 0; named < 2; named++) {
        nnl_wfile_force_named = named;
        for (int i = 0; i < 3; i++) {
            char p[512];
            in_dir(p, sizeof p, "mode.safetensors");
            mode_t old = umask(masks[i]);
            save_ok(m, p);
            umask(old);
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            assert_int_equal(st.st_mode & 07777, 0666 & ~masks[i]);
            /* saving again keeps that mode whatever the umask is now */
            assert_int_equal(chmod(p, 0604), 0);
            save_ok(m, p);
            assert_int_equal(stat(p, &st), 0);
            assert_int_equal(st.st_mode & 07777, 0604);
            unlink(p);
        }
    }
    nnl_wfile_force_named = 0;
    nnl_model_free(m);
}

static void test_save_refuses_non_regular_and_read_only(void **state)
{
    (void)state;
    nnl_model *m = small_model(2);
    nnl_error err;
    char fifo[512], sub[512], link[512];
    in_dir(fifo, sizeof fifo, "out.fifo");
    in_dir(sub, sizeof sub, "out.dir");
    in_dir(link, sizeof link, "null.safetensors");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(symlink("/dev/null", link), 0);
    assert_int_equal(nnl_modelfile_save(m, fifo, NULL, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "is a FIFO"));
    assert_int_equal(nnl_modelfile_save(m, sub, NULL, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "is a directory"));
    /* as root a rename would have replaced /dev/null by a model file */
    assert_int_equal(nnl_modelfile_save(m, link, NULL, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, "is a character device"));
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    struct stat fs;
    assert_int_equal(lstat(fifo, &fs), 0);
    assert_true(S_ISFIFO(fs.st_mode));
    assert_int_equal(count_tmp(dir), 0);

    /* a read-only file is not replaced (checked as an ordinary user: root
     * may write anything) */
    char ro[512];
    in_dir(ro, sizeof ro, "ro.safetensors");
    save_ok(m, ro);
    assert_int_equal(chmod(ro, 0444), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        nnl_model *big = small_model(9);
        nnl_status s = nnl_modelfile_save(big, ro, NULL, &err);
        _exit(s == NNL_ERR_IO && strstr(err.msg, "read-only (mode 0444)") ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(units_in(ro), 2);
    unlink(ro);
    unlink(fifo);
    unlink(link);
    rmdir(sub);
    nnl_model_free(m);
}

/* A pid that is not running: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int st;
    waitpid(pid, &st, 0);
    return pid;
}

static void make_tmp(const char *name)
{
    char p[512];
    in_dir(p, sizeof p, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "partial", 7), 7);
    close(fd);
}

static int exists_in_dir(const char *name)
{
    char p[512];
    in_dir(p, sizeof p, name);
    return access(p, F_OK) == 0;
}

static void test_stale_temporaries_removed_live_kept(void **state)
{
    (void)state;
    char target[512], stale[128], live[128], held[128], other[128], own[128];
    in_dir(target, sizeof target, "m.safetensors");
    pid_t dead = dead_pid();
    snprintf(stale, sizeof stale, ".m.safetensors.tmp-%ld-00000000deadbeef", (long)dead);
    snprintf(live, sizeof live, ".m.safetensors.tmp-%ld-0000000000000001", (long)getppid());
    snprintf(held, sizeof held, ".m.safetensors.tmp-%ld-0000000000000002", (long)dead);
    snprintf(other, sizeof other, ".n.safetensors.tmp-%ld-0000000000000003", (long)dead);
    snprintf(own, sizeof own, ".m.safetensors.tmp-%ld-0000000000000004", (long)getpid());
    make_tmp(stale);
    make_tmp(live);
    make_tmp(held);
    make_tmp(other);
    make_tmp(own);
    /* a dead pid whose file is still locked (a writer of another pid
     * namespace, or a reused pid): kept */
    char hp[512];
    in_dir(hp, sizeof hp, held);
    int hfd = open(hp, O_RDONLY);
    assert_true(hfd >= 0);
    pid_t locker = fork();
    if (locker == 0) { /* holds the lock on its own open file */
        alarm(20); /* never outlives a failed test */
        int fd = open(hp, O_RDONLY);
        flock(fd, LOCK_EX);
        pause();
        _exit(0);
    }
    for (int i = 0; i < 200; i++) { /* wait until the child holds it */
        if (flock(hfd, LOCK_EX | LOCK_NB) != 0)
            break;
        flock(hfd, LOCK_UN);
        usleep(5000);
    }
    nnl_model *m = small_model(4);
    save_ok(m, target);
    assert_false(exists_in_dir(stale));
    assert_true(exists_in_dir(live));
    assert_true(exists_in_dir(held));
    assert_true(exists_in_dir(other)); /* another target's */
    assert_true(exists_in_dir(own));   /* this process may be writing it */
    kill(locker, SIGKILL);
    int st;
    waitpid(locker, &st, 0);
    close(hfd);
    nnl_wfile_force_named = 1; /* the named path cleans the same way */
    save_ok(m, target);
    nnl_wfile_force_named = 0;
    assert_false(exists_in_dir(held)); /* nobody holds it any more */
    assert_true(exists_in_dir(live));
    const char *rm[4] = {live, other, own, "m.safetensors"};
    for (int i = 0; i < 4; i++) {
        char p[512];
        in_dir(p, sizeof p, rm[i]);
        unlink(p);
    }
    assert_int_equal(count_tmp(dir), 0);
    nnl_model_free(m);
}

/* A model large enough to pass any small limit (256 x 4096 floats, 4 MB). */
static nnl_model *big_model(void)
{
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    nnl_layer *l = nnl_dense_new(4096, &o, &err);
    assert_non_null(l);
    nnl_shape in = {1, {256, 0, 0, 0}};
    assert_int_equal(nnl_layer_set_input_shape(l, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, l, &err), NNL_OK);
    return m;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n ? *n : 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* Saves big over a small model at path, expecting failure (msg in the
 * message); the old file must stay byte for byte, with no temporary. */
static void expect_failed_save(const char *folder, const char *path, const char *msg)
{
    size_t n0, n1;
    unsigned char *before = slurp(path, &n0);
    nnl_model *big = big_model();
    nnl_error err;
    nnl_status st = nnl_modelfile_save(big, path, NULL, &err);
    if (st != NNL_ERR_IO || !strstr(err.msg, msg) || !strstr(err.msg, path))
        fail_msg("save over a full disk: status %d, '%s'", st, err.msg);
    unsigned char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(count_tmp(folder), 0);
    free(before);
    free(after);
    nnl_model_free(big);
}

static void test_full_disk_keeps_old_file(void **state)
{
    (void)state;
    char path[512];
    in_dir(path, sizeof path, "full.safetensors");
    nnl_model *m = small_model(3);
    for (int named = 0; named < 2; named++) {
        nnl_wfile_force_named = named;
        save_ok(m, path);
        /* a file size limit in a child (SIGXFSZ ignored: write says EFBIG) */
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20);
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit lim = {256 * 1024, 256 * 1024};
            if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
                _exit(2);
            nnl_model *big = big_model();
            nnl_error err;
            nnl_status st = nnl_modelfile_save(big, path, NULL, &err);
            _exit(st == NNL_ERR_IO && strstr(err.msg, "File too large") ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(units_in(path), 3);
        assert_int_equal(count_tmp(dir), 0);
    }
    nnl_wfile_force_named = 0;
    unlink(path);

    /* a real full file system: a 1 MB tmpfs, where this machine lets us */
    char mnt[512], p[600];
    in_dir(mnt, sizeof mnt, "tmpfs");
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("nnl", mnt, "tmpfs", 0, "size=1m") != 0) {
        rmdir(mnt);
        nnl_model_free(m);
        print_message("[  SKIPPED ] the tmpfs part: mount refused (%s)\n", strerror(errno));
        return;
    }
    snprintf(p, sizeof p, "%s/m.safetensors", mnt);
    for (int named = 0; named < 2; named++) {
        nnl_wfile_force_named = named;
        save_ok(m, p);
        expect_failed_save(mnt, p, "No space left on device");
        assert_int_equal(units_in(p), 3);
    }
    nnl_wfile_force_named = 0;
    unlink(p);
    assert_int_equal(umount(mnt), 0);
    rmdir(mnt);
    nnl_model_free(m);
}

/* Open descriptors of this process. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Failing loads and saves of every kind leave no descriptor open. */
static void test_no_descriptor_leaks_on_errors(void **state)
{
    (void)state;
    char bad[512], fifo[512], nowhere[512], ok[512];
    in_dir(bad, sizeof bad, "bad.safetensors");
    in_dir(fifo, sizeof fifo, "leak.fifo");
    in_dir(nowhere, sizeof nowhere, "no/such/m.safetensors");
    in_dir(ok, sizeof ok, "ok.safetensors");
    FILE *f = fopen(bad, "wb");
    assert_non_null(f);
    static const char junk[] = "\x08\0\0\0\0\0\0\0{\"a\": 1}"; /* not a model */
    fwrite(junk, 1, sizeof junk - 1, f);
    fclose(f);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    nnl_model *m = small_model(3), *big = big_model();
    save_ok(m, ok);
    int before = count_fds();
    for (int round = 0; round < 3; round++) {
        nnl_error err;
        nnl_csv_result r;
        nnl_tensor *t = NULL;
        assert_int_not_equal(nnl_csv_load(dir, NULL, &r, &err), NNL_OK);
        assert_int_not_equal(nnl_csv_load(fifo, NULL, &r, &err), NNL_OK);
        assert_int_not_equal(nnl_csv_load(bad, NULL, &r, &err), NNL_OK);
        assert_int_not_equal(nnl_idx_load("/dev/zero", 1, 0, &t, &err), NNL_OK);
        assert_int_not_equal(nnl_idx_load(bad, 1, 0, &t, &err), NNL_OK);
        assert_null(nnl_modelfile_load(bad, NULL, &err));
        assert_null(nnl_modelfile_load(fifo, NULL, &err));
        assert_null(nnl_modelfile_load(nowhere, NULL, &err));
        assert_int_not_equal(nnl_modelfile_save(m, fifo, NULL, &err), NNL_OK);
        assert_int_not_equal(nnl_modelfile_save(m, nowhere, NULL, &err), NNL_OK);
        assert_int_not_equal(nnl_modelfile_save(m, dir, NULL, &err), NNL_OK);
        nnl_wfile_force_named = round == 1;
        struct rlimit old, lim;
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 64 * 1024;
        void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        nnl_status st = nnl_modelfile_save(big, ok, NULL, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        signal(SIGXFSZ, prev);
        nnl_wfile_force_named = 0;
        assert_int_equal(st, NNL_ERR_IO);
        nnl_model *back = nnl_modelfile_load(ok, NULL, &err);
        assert_non_null(back);
        nnl_model_free(back);
    }
    assert_int_equal(count_fds(), before);
    assert_int_equal(count_tmp(dir), 0);
    unlink(bad);
    unlink(fifo);
    unlink(ok);
    nnl_model_free(m);
    nnl_model_free(big);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/nnl_fileio_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_refuse_non_regular_files),
        cmocka_unit_test(test_file_truncated_while_loaded),
        cmocka_unit_test(test_save_through_symlink_keeps_link_and_mode),
        cmocka_unit_test(test_new_file_mode_follows_umask),
        cmocka_unit_test(test_save_refuses_non_regular_and_read_only),
        cmocka_unit_test(test_stale_temporaries_removed_live_kept),
        cmocka_unit_test(test_full_disk_keeps_old_file),
        cmocka_unit_test(test_no_descriptor_leaks_on_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
