/* Label text to class index: see labelmap.h. */
#include "data/labelmap.h"

#include <string.h>

#include "core/alloc.h"

/* Caps the number of classes so indices stay exact in a float tensor. */
#define LABELMAP_MAX ((size_t)1 << 24)

void nnl_labelmap_init(nnl_labelmap *m) { memset(m, 0, sizeof *m); }

void nnl_labelmap_free(nnl_labelmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        nnl_free(m->names[i]);
    nnl_free(m->names);
    nnl_free(m->lens);
    nnl_free(m->slots);
    memset(m, 0, sizeof *m);
}

static uint32_t hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Rebuilds the slot table with nslots slots. */
static int rehash(nnl_labelmap *m, size_t nslots)
{
    uint32_t *slots = nnl_calloc(nslots, sizeof *slots);
    if (!slots)
        return 0;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = hash(m->names[k], m->lens[k]) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    nnl_free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return 1;
}

nnl_status nnl_labelmap_get(nnl_labelmap *m, const char *s, size_t len,
                            size_t *cls, nnl_error *err)
{
    uint32_t h = hash(s, len);
    if (m->nslots) {
        size_t i = h & (m->nslots - 1);
        while (m->slots[i]) {
            size_t k = m->slots[i] - 1;
            if (m->lens[k] == len && memcmp(m->names[k], s, len) == 0) {
                *cls = k;
                return NNL_OK;
            }
            i = (i + 1) & (m->nslots - 1);
        }
    }
    if (m->n >= LABELMAP_MAX)
        return nnl_fail(err, NNL_ERR_RANGE, "labels: more than %zu distinct labels",
                        LABELMAP_MAX);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        char **names = nnl_malloc(cap * sizeof *names);
        size_t *lens = nnl_malloc(cap * sizeof *lens);
        if (!names || !lens) {
            nnl_free(names);
            nnl_free(lens);
            return nnl_fail(err, NNL_ERR_NOMEM, "labels: out of memory");
        }
        if (m->n) {
            memcpy(names, m->names, m->n * sizeof *names);
            memcpy(lens, m->lens, m->n * sizeof *lens);
        }
        nnl_free(m->names);
        nnl_free(m->lens);
        m->names = names;
        m->lens = lens;
        m->cap = cap;
    }
    char *copy = nnl_malloc(len + 1);
    if (!copy)
        return nnl_fail(err, NNL_ERR_NOMEM, "labels: out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    m->names[m->n] = copy;
    m->lens[m->n] = len;
    m->n++;
    if (m->nslots < 2 * m->n) {
        if (!rehash(m, m->nslots ? m->nslots * 2 : 64)) {
            m->n--;
            nnl_free(copy);
            return nnl_fail(err, NNL_ERR_NOMEM, "labels: out of memory");
        }
    } else {
        size_t i = h & (m->nslots - 1);
        while (m->slots[i])
            i = (i + 1) & (m->nslots - 1);
        m->slots[i] = (uint32_t)m->n;
    }
    *cls = m->n - 1;
    return NNL_OK;
}

char **nnl_labelmap_take_names(nnl_labelmap *m, size_t *n)
{
    char **names = m->names;
    *n = m->n;
    m->names = NULL;
    m->n = 0;
    nnl_labelmap_free(m);
    return names;
}
