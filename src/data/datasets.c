/* The shipped data sets, parsed from the bytes compiled into the program:
 * see datasets.h. */
#include "data/datasets.h"

#include <string.h>

#include "data/embedded.h"

nnl_status nnl_data_shipped(const char *name, nnl_csv_result *out, nnl_error *err)
{
    memset(out, 0, sizeof *out);
    nnl_csv_opts o;
    nnl_csv_opts_init(&o);
    const char *file;
    if (strcmp(name, "iris") == 0) {
        file = "iris.csv";     /* label "species": setosa, versicolor, virginica */
    } else if (strcmp(name, "digits") == 0) {
        file = "digits.csv";   /* label "digit": 0..9, mapped to classes 1..10 */
        o.classes = 1;
    } else {
        return nnl_fail(err, NNL_ERR_ARG, "data: no shipped data set named '%s' "
                        "(there are iris and digits)", name);
    }
    o.header = 1;
    o.source = file;
    for (const nnl_embedded_file *f = nnl_embedded_files; f->name; f++)
        if (strcmp(f->name, file) == 0)
            return nnl_csv_parse_buffer((const char *)f->data, f->len, &o, out, err);
    return nnl_fail(err, NNL_ERR_UNSUPPORTED, "data: %s was not built into this "
                    "program", file);
}
