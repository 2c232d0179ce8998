/* Fashion-MNIST from its four IDX files: see datasets.h. */
#include "data/datasets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/idx.h"

const char *const nnl_fashion_classes[NNL_FASHION_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static const char *const files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* Writes the path of file i in dir (the .gz form first) into buf when it
 * exists. Returns 1 if found. */
static int find_file(const char *dir, int i, char *buf, size_t size)
{
    static const char *const ext[2] = {".gz", ""};
    for (int e = 0; e < 2; e++) {
        int n = snprintf(buf, size, "%s/%s%s", dir, files[i], ext[e]);
        if (n > 0 && (size_t)n < size && access(buf, R_OK) == 0)
            return 1;
    }
    return 0;
}

static int has_all(const char *dir)
{
    char buf[4096];
    for (int i = 0; i < 4; i++)
        if (!find_file(dir, i, buf, sizeof buf))
            return 0;
    return 1;
}

void nnl_fashion_free(nnl_fashion *f)
{
    nnl_tensor_free(f->x_train);
    nnl_tensor_free(f->y_train);
    nnl_tensor_free(f->x_test);
    nnl_tensor_free(f->y_test);
    memset(f, 0, sizeof *f);
}

/* Checks that labels are 1..10 after the +1 shift and match the images. */
static nnl_status check_pair(const char *path, const nnl_tensor *x, const nnl_tensor *y,
                             nnl_error *err)
{
    if (x->ndim != 3 || x->shape[1] != 28 || x->shape[2] != 28)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: images are not N x 28 x 28",
                        path);
    if (y->ndim != 1 || y->shape[0] != x->shape[0])
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: %zu labels for %zu images",
                        path, y->ndim == 1 ? y->shape[0] : 0, x->shape[0]);
    for (size_t i = 0; i < y->numel; i++)
        if (!(y->data[i] >= 1 && y->data[i] <= NNL_FASHION_CLASSES))
            return nnl_fail(err, NNL_ERR_FORMAT,
                            "%s: label %zu is %g, not 0..9", path, i + 1,
                            (double)(y->data[i] - 1));
    return NNL_OK;
}

nnl_status nnl_fashion_load(const char *dir, int flatten, nnl_fashion *out, nnl_error *err)
{
    return nnl_fashion_load_parts(dir, flatten, NNL_FASHION_TRAIN | NNL_FASHION_TEST, out, err);
}

nnl_status nnl_fashion_load_parts(const char *dir, int flatten, int parts, nnl_fashion *out,
                                  nnl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(parts & (NNL_FASHION_TRAIN | NNL_FASHION_TEST)) ||
        (parts & ~(NNL_FASHION_TRAIN | NNL_FASHION_TEST)))
        return nnl_fail(err, NNL_ERR_ARG, "parts must be the training set, the test set "
                        "or both (got %d)", parts);
    char env_sub[4096];
    const char *env = getenv("NNLUA_DATA");
    const char *found = NULL;
    if (dir) {
        if (has_all(dir))
            found = dir;
        else
            return nnl_fail(err, NNL_ERR_IO,
                            "the four Fashion-MNIST IDX files "
                            "(train-images-idx3-ubyte.gz, ...) are not all in '%s'; "
                            "`apt-get install dataset-fashion-mnist` installs them in "
                            NNL_FASHION_SYSTEM_DIR, dir);
    } else {
        if (env && *env && has_all(env))
            found = env;
        if (!found && env && *env) {
            int n = snprintf(env_sub, sizeof env_sub, "%s/fashion-mnist", env);
            if (n > 0 && (size_t)n < sizeof env_sub && has_all(env_sub))
                found = env_sub;
        }
        if (!found && has_all(NNL_FASHION_SYSTEM_DIR))
            found = NNL_FASHION_SYSTEM_DIR;
    }
    if (!found)
        return nnl_fail(err, NNL_ERR_IO,
                        "data not found (looked in %s%s%s"
                        NNL_FASHION_SYSTEM_DIR "); install it with "
                        "`apt-get install dataset-fashion-mnist` or set NNLUA_DATA "
                        "to a folder holding train-images-idx3-ubyte.gz and the "
                        "other three files",
                        env && *env ? "$NNLUA_DATA=" : "", env && *env ? env : "",
                        env && *env ? ", " : "");

    nnl_tensor **slots[4] = {&out->x_train, &out->y_train, &out->x_test, &out->y_test};
    char paths[4][4096];
    nnl_status st = NNL_OK;
    /* Files 0 and 1 are the training set, 2 and 3 the test set. */
    int want[4] = {parts & NNL_FASHION_TRAIN, parts & NNL_FASHION_TRAIN,
                   parts & NNL_FASHION_TEST, parts & NNL_FASHION_TEST};
    for (int i = 0; i < 4 && !st; i++) {
        if (!want[i])
            continue;
        if (!find_file(found, i, paths[i], sizeof paths[i]))
            st = nnl_fail(err, NNL_ERR_IO, "%s/%s disappeared", found,
                          files[i]);
        else if (i % 2 == 0)
            st = nnl_idx_load(paths[i], 1.0f / 255.0f, 0.0f, slots[i], err);
        else
            st = nnl_idx_load(paths[i], 1.0f, 1.0f, slots[i], err); /* 0..9 -> 1..10 */
    }
    if (!st && want[0])
        st = check_pair(paths[1], out->x_train, out->y_train, err);
    if (!st && want[2])
        st = check_pair(paths[3], out->x_test, out->y_test, err);
    /* The IDX files hold n x 28 x 28: either 784 columns or images with
     * one channel, channels last (what Conv2D takes). */
    for (int i = 0; i < 4 && !st; i += 2) {
        if (!want[i])
            continue;
        long flat_shape[2] = {-1, 784}, img_shape[4] = {-1, 28, 28, 1};
        nnl_tensor *flat = flatten ? nnl_tensor_reshape(*slots[i], 2, flat_shape, err)
                                   : nnl_tensor_reshape(*slots[i], 4, img_shape, err);
        if (!flat) {
            st = err ? err->code : NNL_ERR_NOMEM;
            break;
        }
        nnl_tensor_free(*slots[i]);
        *slots[i] = flat;
    }
    if (st)
        nnl_fashion_free(out);
    return st;
}
