/* Loading numeric CSV files into tensors (nn.data.csv).
 *
 * One pass over the text after a quick count of lines: cells are split on a
 * one-character separator, numbers are read by data/numparse.h straight
 * into a preallocated tensor. Handles a header row (given or detected), a
 * label column chosen by name or position (or none), string labels mapped
 * to class indices 1..k in order of first appearance, numeric labels mapped
 * to classes on request (sorted), quoted fields with "" escapes (which may
 * span lines), CRLF line ends, blank lines and a UTF-8 byte order mark.
 * Every error names the source, the line and the column. */
#ifndef NNL_CSV_H
#define NNL_CSV_H

#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

#define NNL_CSV_DETECT (-1)

typedef struct nnl_csv_opts {
    char sep;               /* ',' by default; ' ' splits on runs of blanks */
    int header;             /* 1 yes, 0 no, NNL_CSV_DETECT (default) */
    const char *label_name; /* label column by header name; NULL: use label_col */
    long label_col;         /* 1-based label column; 0 none; -1 last (default) */
    int classes;            /* nonzero: numeric labels become classes 1..k */
    const char *source;     /* name for error messages; NULL gives "<buffer>" */
} nnl_csv_opts;

/* Everything the loader found. All pointers are owned by the result and
 * freed by nnl_csv_result_free. */
typedef struct nnl_csv_result {
    nnl_tensor *x;          /* rows x nfeatures */
    nnl_tensor *y;          /* 1-D, rows long; NULL when there is no label */
    size_t nfeatures;
    char **columns;         /* nfeatures names: header text, or "col<j>" */
    char *label_column;     /* the label column's name, or NULL */
    size_t nclasses;        /* 0 unless labels were mapped to classes */
    char **classes;         /* class k (1-based) is classes[k-1] */
    int has_header;         /* whether the first row was taken as a header */
} nnl_csv_result;

/* Defaults: ',', detect header, label is the last column, no class map. */
void nnl_csv_opts_init(nnl_csv_opts *o);

/* Parses len bytes of CSV text (need not be terminated). On success fills
 * *out (which the caller frees with nnl_csv_result_free); on failure *out
 * holds nothing to free and err says what and where. */
nnl_status nnl_csv_parse_buffer(const char *buf, size_t len,
                                const nnl_csv_opts *o, nnl_csv_result *out,
                                nnl_error *err);

/* Reads the file at path and parses it as nnl_csv_parse_buffer does; the
 * path is the source in messages unless o->source is set. */
nnl_status nnl_csv_load(const char *path, const nnl_csv_opts *o,
                        nnl_csv_result *out, nnl_error *err);

/* Frees what a result owns and zeroes it; safe on a zeroed result. */
void nnl_csv_result_free(nnl_csv_result *r);

#endif
