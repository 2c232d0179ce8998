/* The named data sets: iris and digits (compiled into the program) and
 * Fashion-MNIST (read from Debian's dataset-fashion-mnist install or
 * $NNLUA_DATA). */
#ifndef NNL_DATASETS_H
#define NNL_DATASETS_H

#include "core/status.h"
#include "tensor/tensor.h"
#include "data/csv.h"

/* Loads a shipped data set by name: "iris" (150 x 4, labels 1..3 named by
 * species) or "digits" (1797 x 64 pixel values 0..16, labels 1..10 for
 * the digits 0..9, named "0".."9"). out is as from nnl_csv_load. */
nnl_status nnl_data_shipped(const char *name, nnl_csv_result *out, nnl_error *err);

/* Fashion-MNIST. All four tensors are owned by the struct. */
typedef struct nnl_fashion {
    nnl_tensor *x_train;   /* 60000 x 784 (or x 28 x 28 x 1), values 0..1 */
    nnl_tensor *y_train;   /* 60000, class indices 1..10 */
    nnl_tensor *x_test;    /* 10000 x 784 (or x 28 x 28 x 1) */
    nnl_tensor *y_test;    /* 10000 */
} nnl_fashion;

#define NNL_FASHION_CLASSES 10
/* Class k (1-based) is nnl_fashion_classes[k-1] ("T-shirt/top", ...). */
extern const char *const nnl_fashion_classes[NNL_FASHION_CLASSES];

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define NNL_FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

/* Loads the four IDX files (each name.gz or plain name) from dir, or when
 * dir is NULL from the first of $NNLUA_DATA, $NNLUA_DATA/fashion-mnist and
 * NNL_FASHION_SYSTEM_DIR that holds them. Images are flattened to 784
 * columns when flatten is nonzero, else n x 28 x 28 x 1 (channels last). When the files are missing the error
 * (NNL_ERR_IO) says where it looked and how to install them. */
nnl_status nnl_fashion_load(const char *dir, int flatten, nnl_fashion *out,
                            nnl_error *err);
/* The same for the parts asked for (NNL_FASHION_TRAIN, NNL_FASHION_TEST
 * or both): the other tensors stay NULL and their files are not read
 * (they must still be there: the folder is found by its four files).
 * Loading only what a run uses keeps the rest out of memory
 * (the test images are 31 MB as float32). NNL_ERR_ARG for no or unknown
 * parts. */
#define NNL_FASHION_TRAIN 1
#define NNL_FASHION_TEST 2
nnl_status nnl_fashion_load_parts(const char *dir, int flatten, int parts, nnl_fashion *out,
                                  nnl_error *err);
/* Frees the tensors and zeroes the struct; safe on a zeroed struct. */
void nnl_fashion_free(nnl_fashion *f);

#endif
