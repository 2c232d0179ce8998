/* A JSON syntax check that allocates nothing, for telling the two reasons
 * cJSON's parser returns NULL apart: text that is not JSON (a corrupt or
 * forged model file: a format error naming the byte) and cJSON running out
 * of memory on good text (an out-of-memory error, not "the file is
 * corrupt"). RFC 8259 grammar; nesting is bounded as cJSON bounds it. */
#include "model/json_check.h"

#include <string.h>

#define JSON_DEPTH_MAX 1000 /* cJSON's CJSON_NESTING_LIMIT */

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_hex(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int literal(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static int string(cursor *c)
{
    if (c->p >= c->end || *c->p != '"')
        return 0;
    for (c->p++; c->p < c->end; c->p++) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return 1;
        }
        if (ch < 0x20)
            return 0;
        if (ch == '\\') {
            if (++c->p >= c->end)
                return 0;
            if (*c->p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++c->p >= c->end || !is_hex(*c->p))
                        return 0;
            } else if (!strchr("\"\\/bfnrt", *c->p) || *c->p == '\0') {
                return 0;
            }
        }
    }
    return 0;
}

static int number(cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end || !is_digit(*c->p))
        return 0;
    if (*c->p == '0')
        c->p++;
    else
        while (c->p < c->end && is_digit(*c->p))
            c->p++;
    if (c->p < c->end && *c->p == '.') {
        if (++c->p >= c->end || !is_digit(*c->p))
            return 0;
        while (c->p < c->end && is_digit(*c->p))
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || !is_digit(*c->p))
            return 0;
        while (c->p < c->end && is_digit(*c->p))
            c->p++;
    }
    return 1;
}

static int value(cursor *c, int depth);

/* An array or object after its opening bracket. */
static int members(cursor *c, int depth, char close, int keyed)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    for (;;) {
        skip_ws(c);
        if (keyed) {
            if (!string(c))
                return 0;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':')
                return 0;
            c->p++;
        }
        if (!value(c, depth + 1))
            return 0;
        skip_ws(c);
        if (c->p >= c->end)
            return 0;
        if (*c->p == close) {
            c->p++;
            return 1;
        }
        if (*c->p != ',')
            return 0;
        c->p++;
    }
}

static int value(cursor *c, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return 0;
    skip_ws(c);
    if (c->p >= c->end)
        return 0;
    switch (*c->p) {
    case '{':
        c->p++;
        return members(c, depth, '}', 1);
    case '[':
        c->p++;
        return members(c, depth, ']', 0);
    case '"':
        return string(c);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        return number(c);
    }
}

int nnl_json_syntax_ok(const char *text, size_t len)
{
    cursor c = {text, text + len};
    if (!value(&c, 0))
        return 0;
    skip_ws(&c);
    return c.p == c.end;
}
