/* libFuzzer target of the loader of files of named tensors
 * (nn.load_tensors, model/tensorfile.h over model/safetensors.h): any bytes
 * must load or fail with an error, never crash, leak, read out of bounds or
 * allocate more than the file backs. A file that loads has every value of
 * every tensor read (so uninitialised or short data shows under the
 * sanitizers), and is saved and loaded again when small, which must give
 * the same names, shapes and bits. Built by tests/fuzz/build_modelfile.sh
 * (the same libraries), run by tests/fuzz/run.sh; seeds in
 * tests/fuzz/corpus_safetensors. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "model/tensorfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nnl_error err;
    nnl_tensorfile tf;
    if (nnl_tensorfile_load_mem(data, size, "fuzz", &tf, &err) != NNL_OK)
        return 0;
    size_t total = 0;
    volatile float sink = 0.0f;
    for (size_t i = 0; i < tf.n; i++) {
        const nnl_tensor *t = tf.items[i].t;
        for (size_t k = 0; k < t->numel; k++)
            sink += t->data[k];
        total += t->numel;
    }
    (void)sink;
    /* the round trip syncs a file to disk: every 64th loaded input (the
     * first of a run too, so a single input replays it) */
    static unsigned long loaded;
    if (tf.n > 0 && tf.n <= 64 && total <= 4096 && loaded++ % 64 == 0) {
        static char path[64];
        if (!path[0])
            snprintf(path, sizeof path, "/tmp/fuzz_safetensors.%ld", (long)getpid());
        const char *names[64], *mk[64], *mv[64];
        const nnl_tensor *ts[64];
        for (size_t i = 0; i < tf.n; i++) {
            names[i] = tf.items[i].name;
            ts[i] = tf.items[i].t;
        }
        size_t nm = tf.nmeta <= 64 ? tf.nmeta : 0;
        for (size_t i = 0; i < nm; i++) {
            mk[i] = tf.meta_keys[i];
            mv[i] = tf.meta_values[i];
        }
        nnl_tensorfile back;
        /* duplicate metadata keys are refused by the save: nothing to compare */
        if (nnl_tensorfile_save(path, names, ts, tf.n, mk, mv, nm, &err) == NNL_OK) {
            if (nnl_tensorfile_load(path, &back, &err) != NNL_OK)
                abort(); /* what was saved must load */
            if (back.n != tf.n)
                abort();
            for (size_t i = 0; i < tf.n; i++) {
                const nnl_tensor *a = tf.items[i].t, *b = back.items[i].t;
                if (strcmp(tf.items[i].name, back.items[i].name) != 0 || a->ndim != b->ndim ||
                    memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) != 0 ||
                    memcmp(a->data, b->data, a->numel * sizeof(float)) != 0)
                    abort();
            }
            nnl_tensorfile_free(&back);
        }
        unlink(path);
    }
    nnl_tensorfile_free(&tf);
    return 0;
}
