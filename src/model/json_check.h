/* JSON syntax check without allocation (json_check.c). */
#ifndef NNL_JSON_CHECK_H
#define NNL_JSON_CHECK_H
#include <stddef.h>

/* Whether text[0..len) is one JSON value (RFC 8259, surrounding white
 * space allowed, nesting up to cJSON's limit). For telling a syntax error
 * from cJSON's parser running out of memory on good text. */
int nnl_json_syntax_ok(const char *text, size_t len);

#endif
