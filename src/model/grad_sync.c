/* Gradient buckets over ranks: see grad_sync.h. */
#include "model/grad_sync.h"

#include <string.h>
#include "core/alloc.h"

/* An array of at least BIG floats is its own bucket, summed in place (the
 * Fashion-MNIST MLP's 784 x 128 kernel, a CNN's dense kernels); staged
 * ones go when STAGE floats are waiting, or at the end. */
#define BIG ((size_t)8192)
#define STAGE ((size_t)65536)

static int staged(const nnl_param *p)
{
    return !p->trainable || p->n < BIG;
}

nnl_status nnl_sync_reserve(nnl_model *m, nnl_error *err)
{
    size_t need = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            if (staged(&m->layers[i]->params[p]))
                need += m->layers[i]->params[p].n;
    if (need <= m->sync_cap && m->sync_buf)
        return NNL_OK;
    float *b = nnl_malloc((need ? need : 1) * sizeof *b);
    if (!b)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory for the gradient buckets");
    nnl_free(m->sync_buf);
    m->sync_buf = b;
    m->sync_cap = need;
    return NNL_OK;
}

void nnl_sync_begin(nnl_model *m)
{
    m->sync_fill = m->sync_started = 0;
}

static nnl_status flush(nnl_model *m, nnl_error *err)
{
    if (m->sync_fill == m->sync_started)
        return NNL_OK;
    nnl_status st = m->comm->start(m->comm, m->sync_buf + m->sync_started,
                                   m->sync_fill - m->sync_started, err);
    m->sync_started = m->sync_fill;
    return st;
}

/* Starts (or stages) layer i's trainable gradients. */
static nnl_status launch(nnl_model *m, size_t i, nnl_error *err)
{
    nnl_layer *l = m->layers[i];
    for (int p = 0; p < l->nparams; p++) {
        nnl_param *pr = &l->params[p];
        if (!pr->trainable)
            continue;
        nnl_status st;
        if (!staged(pr)) {
            st = m->comm->start(m->comm, pr->g, pr->n, err);
        } else {
            memcpy(m->sync_buf + m->sync_fill, pr->g, pr->n * sizeof(float));
            m->sync_fill += pr->n;
            st = m->sync_fill - m->sync_started >= STAGE ? flush(m, err) : NNL_OK;
        }
        if (st != NNL_OK)
            return st;
    }
    return NNL_OK;
}

nnl_status nnl_sync_layer(nnl_model *m, size_t i, nnl_error *err)
{
    if (!m->comm->overlap)
        return NNL_OK;
    nnl_status st = launch(m, i, err);
    m->comm->progress(m->comm);
    return st;
}

nnl_status nnl_sync_end(nnl_model *m, nnl_error *err)
{
    nnl_status st = NNL_OK;
    if (!m->comm->overlap)
        for (size_t i = m->nlayers; i-- > 0 && st == NNL_OK;)
            st = launch(m, i, err);
    /* The moving statistics: their mean over the ranks. */
    float inv = 1.0f / (float)m->comm->size;
    for (size_t i = 0; i < m->nlayers && st == NNL_OK; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            const nnl_param *pr = &m->layers[i]->params[p];
            if (pr->trainable)
                continue;
            float *dst = m->sync_buf + m->sync_fill;
            for (size_t j = 0; j < pr->n; j++)
                dst[j] = pr->w[j] * inv;
            m->sync_fill += pr->n;
        }
    if (st == NNL_OK)
        st = flush(m, err);
    if (st == NNL_OK)
        st = m->comm->finish(m->comm, err);
    if (st != NNL_OK)
        return st;
    /* Back from the staging buffer, in the order it was filled. */
    size_t at = 0;
    for (size_t i = m->nlayers; i-- > 0;)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            nnl_param *pr = &m->layers[i]->params[p];
            if (pr->trainable && staged(pr)) {
                memcpy(pr->g, m->sync_buf + at, pr->n * sizeof(float));
                at += pr->n;
            }
        }
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            nnl_param *pr = &m->layers[i]->params[p];
            if (!pr->trainable) {
                memcpy(pr->w, m->sync_buf + at, pr->n * sizeof(float));
                at += pr->n;
                nnl_tensor_bump_version(pr->wt);
            }
        }
    return NNL_OK;
}

void nnl_sync_abandon(nnl_model *m)
{
    nnl_error ignored;
    m->comm->finish(m->comm, &ignored);
}
