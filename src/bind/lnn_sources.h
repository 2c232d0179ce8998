/* The Lua sources under lua/, compiled into the binary by tools/embed.c. */
#ifndef NNL_LNN_SOURCES_H
#define NNL_LNN_SOURCES_H
#include <stddef.h>

typedef struct nnl_lua_source {
    const char *name;   /* file name without ".lua"; NULL ends the table */
    const char *code;
    size_t len;
} nnl_lua_source;

/* Sorted by name; run in this order by luaopen_nn. */
extern const nnl_lua_source nnl_lua_sources[];
#endif
