/* libFuzzer target for the CSV parser (tests/fuzz/build.sh builds it).
 * The first byte picks the options (separator, header mode, label column,
 * class mapping); the rest is the text. Beyond "no crash, no leak, no
 * undefined behaviour" it checks the result's invariants (at least one
 * row and one feature column: no data is an error). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char seps[4] = {',', ';', '\t', ' '};
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    uint8_t b = data[0];
    o.sep = seps[b & 3];
    o.header = (int)((b >> 2) % 3) - 1;           /* -1 detect, 0, 1 */
    o.label_col = (long)((b >> 4) & 3) - 1;        /* -1 last, 0 none, 1, 2 */
    o.classes = (b >> 6) & 1;
    if ((b >> 7) && o.header != 0)
        o.label_name = "label";
    nnl_csv_result r;
    nnl_error err;
    if (nnl_csv_parse_buffer((const char *)data + 1, size - 1, &o, &r, &err) == NNL_OK) {
        if (r.x->ndim != 2 || r.x->shape[1] != r.nfeatures)
            abort();
        if (r.x->shape[0] == 0 || r.nfeatures == 0)
            abort(); /* a file that yields no data is an error */
        if (r.y && r.y->shape[0] != r.x->shape[0])
            abort();
        for (size_t i = 0; r.nclasses && i < r.y->numel; i++)
            if (!(r.y->data[i] >= 1 && r.y->data[i] <= (float)r.nclasses))
                abort();
        for (size_t j = 0; j < r.nfeatures; j++)
            if (!r.columns[j])
                abort();
        nnl_csv_result_free(&r);
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure must say why */
    }
    if (nnl_alloc_live() != 0)
        abort(); /* leak */
    return 0;
}
