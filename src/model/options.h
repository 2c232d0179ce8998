/* Declared options of the named things of the model code (layer kinds,
 * optimizers): each thing lists its options once, with type, default,
 * range and help, and every other part reads that list: the Lua binding
 * parses constructor arguments from it (errors name the option and the
 * valid ones), model files save and load a thing's values by it, `nn.help`
 * shows it, and scripts read a value back by its name (`layer.units`).
 *
 * A thing's values are an array of nnl_value, one per declared option, in
 * the order of the list. nnl_values_default fills the defaults; a value
 * set by a script or a file is checked with nnl_value_check. */
#ifndef NNL_OPTIONS_H
#define NNL_OPTIONS_H
#include <stddef.h>
#include "core/status.h"

#define NNL_VALUE_INTS_MAX 3 /* SIZES and SHAPE: at most 3 entries */
#define NNL_OPTIONS_MAX 16   /* options of one thing */

typedef enum nnl_option_type {
    NNL_OPTION_INT,         /* an integer in [min, max] */
    NNL_OPTION_NUM,         /* a finite number in [min, max] */
    NNL_OPTION_BOOL,
    NNL_OPTION_CHOICE,      /* a name of a nnl_choice table, stored as its index */
    NNL_OPTION_SIZES,       /* an integer or a list of `count` integers in [min, max],
                               as Keras takes kernel_size = 3 or {3, 3} */
    NNL_OPTION_SHAPE,       /* a list of 1..NNL_VALUE_INTS_MAX integers in [min, max]
                               (one may be -1 when min is -1) */
    NNL_OPTION_REGULARIZER  /* {l1 = a, l2 = b}, "l1" or "l2" (Keras's 0.01) */
} nnl_option_type;

/* A table of names (activations, initializers, paddings): lookups by name
 * (aliases included) and by index. */
typedef struct nnl_choice {
    const char *what;                       /* "activation": for messages */
    int (*from_name)(const char *name);     /* -1 when unknown */
    const char *(*name)(int index);
    const char *(*names)(void);             /* "a, b, c": for messages and help */
} nnl_choice;

typedef struct nnl_option {
    const char *key;            /* Keras's name ("units", "kernel_size") */
    nnl_option_type type;
    int required;               /* no default: must be given */
    double def;                 /* INT, NUM, BOOL (0/1), SIZES (every entry) */
    const char *def_name;       /* CHOICE: the default name */
    int def_like;               /* SIZES: > 0 takes the value of option
                                   def_like - 1 by default (strides = pool_size) */
    double min, max;            /* INT, NUM, SIZES, SHAPE entries */
    int open_min, open_max;     /* NUM: min / max itself is excluded ((0, 1)) */
    int count;                  /* SIZES: number of entries (1, 2) */
    const nnl_choice *choice;   /* CHOICE */
    const char *alias;          /* other accepted names, '|'-separated, or NULL */
    int hidden;                 /* kept in values and files, not a Lua option */
    const char *help;           /* one line for nn.help */
} nnl_option;

/* One option's value. */
typedef struct nnl_value {
    int given;                  /* set by a script or a file */
    double num;                 /* INT, NUM, BOOL, CHOICE (the index) */
    long ints[NNL_VALUE_INTS_MAX]; /* SIZES, SHAPE */
    int nints;
    double l1, l2;              /* REGULARIZER */
} nnl_value;

/* The double a float was written as: its shortest decimal form that reads
 * back as the same float (0.9f -> 0.9, not 0.899999976), for values set
 * from C floats, so files and messages show what the caller wrote. */
double nnl_value_from_float(float f);
/* Fills v[0..n) with the defaults of opts[0..n) (given = 0). */
void nnl_values_default(const nnl_option *opts, size_t n, nnl_value *v);
/* Gives options whose default is another option's value (def_like) that
 * value when they were not given themselves. */
void nnl_values_resolve(const nnl_option *opts, size_t n, nnl_value *v);
/* Checks one value against its option (range, count, choice index);
 * NNL_ERR_ARG with a message naming the option ("kernel_size must be
 * integers in 1..4096"); the caller adds who is asking. */
nnl_status nnl_value_check(const nnl_option *o, const nnl_value *v, nnl_error *err);
/* Whether x is in the range of NUM option o. */
int nnl_option_num_ok(const nnl_option *o, double x);
/* The range of NUM option o in words ("in [0, 1)", "> 0", ">= 0"). */
char *nnl_option_range_text(const nnl_option *o, char *buf, size_t size);
/* Index of the option named key (or by its alias) in opts[0..n), or -1. */
int nnl_option_find(const nnl_option *opts, size_t n, const char *key);
/* The default of o as Lua text ("1", "\"valid\"", "true", "{1, 1}",
 * "nil" for a required option or no regularizer) into buf. */
char *nnl_option_default_text(const nnl_option *opts, const nnl_option *o, char *buf,
                              size_t size);
/* The value as Lua text into buf (as nnl_option_default_text). */
char *nnl_value_text(const nnl_option *o, const nnl_value *v, char *buf, size_t size);

#endif
