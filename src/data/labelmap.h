/* A map from label text to class index, in order of first appearance.
 * Used by the CSV loader to turn string labels into classes 1..k. */
#ifndef NNL_LABELMAP_H
#define NNL_LABELMAP_H
#include <stddef.h>
#include <stdint.h>
#include "core/status.h"

/* Owns names[0..n) (each nnl_malloc'd, terminated) and the slot table. */
typedef struct nnl_labelmap {
    char **names;     /* class k (0-based) is names[k] */
    size_t *lens;
    size_t n, cap;
    uint32_t *slots;  /* open addressing: class index + 1, 0 = empty */
    size_t nslots;    /* power of two, at least 2n */
} nnl_labelmap;

void nnl_labelmap_init(nnl_labelmap *m);
void nnl_labelmap_free(nnl_labelmap *m);

/* The 0-based class of text s[0..len), added at the end when new.
 * Returns NNL_OK or NNL_ERR_NOMEM (err filled); *cls is set on success. */
nnl_status nnl_labelmap_get(nnl_labelmap *m, const char *s, size_t len,
                            size_t *cls, nnl_error *err);

/* Moves the names array out (caller owns it and each name); m is left
 * empty. */
char **nnl_labelmap_take_names(nnl_labelmap *m, size_t *n);

#endif
