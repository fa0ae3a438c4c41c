/* The message framing of the env protocol: see wire.h and docs/protocol.md. */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsbridge.h"

static int fail(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- a minimal JSON scanner: enough to find keys and read strings, integers and lists ---- */

static const char *ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* Returns the end of the JSON value starting at p, or NULL if it is malformed. */
static const char *skip_value(const char *p, const char *end, int depth) {
    p = ws(p, end);
    if (p >= end || depth > 64) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= end || *p != '"' || !(p = skip_string(p, end))) return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':') return NULL;
                p++;
            }
            if (!(p = skip_value(p, end, depth + 1))) return NULL;
            p = ws(p, end);
            if (p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p = ws(p + 1, end);
        }
    }
    const char *start = p; /* number, true, false, null */
    while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))) p++;
    return p > start ? p : NULL;
}

/* Finds `key` among the members of the object at [p, end); returns its value or NULL. */
static const char *object_get(const char *p, const char *end, const char *key) {
    size_t klen = strlen(key);
    p = ws(p, end);
    if (p >= end || *p != '{') return NULL;
    p = ws(p + 1, end);
    while (p < end && *p == '"') {
        const char *name = p + 1, *after = skip_string(p, end);
        if (!after) return NULL;
        int match = (size_t)(after - 1 - name) == klen && memcmp(name, key, klen) == 0;
        p = ws(after, end);
        if (p >= end || *p != ':') return NULL;
        const char *value = ws(p + 1, end);
        if (match) return value;
        if (!(p = skip_value(value, end, 0))) return NULL;
        p = ws(p, end);
        if (p < end && *p == ',') p = ws(p + 1, end);
    }
    return NULL;
}

static int read_uint(const char *p, const char *end, uint64_t *out) {
    uint64_t v = 0;
    const char *start = p;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == start || (p < end && strchr(".eE", *p))) return -1;
    *out = v;
    return 0;
}

/* ---- reading messages -------------------------------------------------------------------- */

int wire_parse(const uint8_t *data, size_t len, uint32_t kind, wire_msg *out, char *err, size_t err_cap) {
    if (kind == WSB_TEXT) {
        *out = (wire_msg){(const char *)data, len, NULL, 0};
        return 0;
    }
    if (len < 4) return fail(err, err_cap, "a binary message of %zu bytes has no header length", len);
    uint32_t h = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if ((size_t)h > len - 4) return fail(err, err_cap, "header length %u exceeds the %zu bytes after it", h, len - 4);
    *out = (wire_msg){(const char *)data + 4, h, data + 4 + h, len - 4 - h};
    return 0;
}

int wire_value(const wire_msg *m, const char *key, const char **value, size_t *value_len) {
    const char *end = m->header + m->header_len;
    const char *v = object_get(m->header, end, key);
    const char *after = v ? skip_value(v, end, 0) : NULL;
    if (!after) return -1;
    *value = v;
    *value_len = (size_t)(after - v);
    return 0;
}

int wire_string(const wire_msg *m, const char *key, char *out, size_t cap, char *err, size_t err_cap) {
    const char *v;
    size_t n;
    if (wire_value(m, key, &v, &n) != 0 || n < 2 || v[0] != '"')
        return fail(err, err_cap, "the header has no string \"%s\"", key);
    size_t j = 0;
    for (size_t i = 1; i + 1 < n; i++) { /* escapes are kept as the escaped character */
        if (v[i] == '\\') i++;
        if (j + 1 >= cap) return fail(err, err_cap, "\"%s\" is longer than %zu bytes", key, cap - 1);
        out[j++] = v[i];
    }
    out[j] = '\0';
    return 0;
}

int wire_int_list(const wire_msg *m, const char *key, uint64_t *values, int *present, int cap) {
    const char *v;
    size_t n;
    if (wire_value(m, key, &v, &n) != 0 || v[0] != '[') return -1;
    const char *p = ws(v + 1, v + n), *end = v + n - 1; /* end: the closing bracket */
    int count = 0;
    while (p < end) {
        if (count == cap) return -1;
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            present[count] = 0;
            values[count] = 0;
            p += 4;
        } else {
            const char *q = p;
            while (q < end && *q >= '0' && *q <= '9') q++;
            if (read_uint(p, q, &values[count]) != 0) return -1;
            present[count] = 1;
            p = q;
        }
        count++;
        p = ws(p, end);
        if (p < end && *p == ',') p = ws(p + 1, end);
        else if (p < end) return -1;
    }
    return count;
}

static size_t dtype_size(const char *dtype) {
    static const struct { const char *name; size_t size; } sizes[] = {
        {"bool", 1},   {"int8", 1},   {"uint8", 1},  {"int16", 2},   {"uint16", 2},  {"int32", 4},
        {"uint32", 4}, {"int64", 8},  {"uint64", 8}, {"float32", 4}, {"float64", 8},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(dtype, sizes[i].name) == 0) return sizes[i].size;
    return 0;
}

int wire_array_get(const wire_msg *m, const char *name, wire_array *out, char *err, size_t err_cap) {
    const char *end = m->header + m->header_len;
    const char *arrays = object_get(m->header, end, "arrays");
    const char *desc = arrays ? object_get(arrays, end, name) : NULL;
    if (!desc) return fail(err, err_cap, "the message has no array \"%s\"", name);
    const char *dtype = object_get(desc, end, "dtype"), *shape = object_get(desc, end, "shape");
    const char *offset = object_get(desc, end, "offset");
    if (!dtype || !shape || !offset || *dtype != '"' || *shape != '[')
        return fail(err, err_cap, "array \"%s\" needs a dtype, a shape and an offset", name);
    const char *dtype_end = skip_string(dtype, end);
    size_t dlen = dtype_end ? (size_t)(dtype_end - dtype - 2) : sizeof out->dtype;
    if (dlen >= sizeof out->dtype) return fail(err, err_cap, "array \"%s\": bad dtype", name);
    memcpy(out->dtype, dtype + 1, dlen);
    out->dtype[dlen] = '\0';
    size_t item = dtype_size(out->dtype);
    if (item == 0) return fail(err, err_cap, "array \"%s\": unknown dtype %s", name, out->dtype);
    uint64_t count = 1, off;
    const char *p = ws(shape + 1, end);
    for (out->ndim = 0; p < end && *p != ']'; out->ndim++) {
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (out->ndim == WIRE_MAX_DIMS || read_uint(p, q, &out->shape[out->ndim]) != 0)
            return fail(err, err_cap, "array \"%s\": bad shape", name);
        count *= out->shape[out->ndim];
        p = ws(q, end);
        if (p < end && *p == ',') p = ws(p + 1, end);
    }
    const char *offset_end = offset;
    while (offset_end < end && *offset_end >= '0' && *offset_end <= '9') offset_end++;
    if (read_uint(offset, offset_end, &off) != 0) return fail(err, err_cap, "array \"%s\": bad offset", name);
    if (count > SIZE_MAX / item || off > m->payload_len || count * item > m->payload_len - off)
        return fail(err, err_cap, "array \"%s\" (%s, %llu items at offset %llu) exceeds the %zu-byte payload",
                    name, out->dtype, (unsigned long long)count, (unsigned long long)off, m->payload_len);
    out->data = m->payload + off;
    out->nbytes = (size_t)(count * item);
    return 0;
}

/* ---- building messages ------------------------------------------------------------------- */

static int reserve(wire_buf *b, size_t need) {
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static int append(wire_buf *b, const void *data, size_t n) {
    if (reserve(b, b->len + n) != 0) return -1;
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    return 0;
}

static int appendf(wire_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, b->len + (size_t)n + 1) != 0) return -1;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static size_t pad8(size_t n) { return (8 - n % 8) % 8; }

int wire_build(wire_buf *b, const char *type, const char *fields, const wire_out_array *arrays, size_t n) {
    static const uint8_t zeros[8] = {0};
    b->len = 0;
    if (append(b, zeros, 4) != 0 || appendf(b, "{\"type\":\"%s\"", type) != 0) return -1;
    if (fields && *fields && appendf(b, ",%s", fields) != 0) return -1;
    if (appendf(b, ",\"arrays\":{") != 0) return -1;
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        if (appendf(b, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", arrays[i].name, arrays[i].dtype) != 0)
            return -1;
        for (int d = 0; d < arrays[i].ndim; d++)
            if (appendf(b, "%s%llu", d ? "," : "", (unsigned long long)arrays[i].shape[d]) != 0) return -1;
        if (appendf(b, "],\"offset\":%zu}", offset) != 0) return -1;
        offset += arrays[i].nbytes + pad8(arrays[i].nbytes);
    }
    if (appendf(b, "}}") != 0) return -1;
    while (b->len % 8) /* spaces after the JSON so that the payload starts 8-byte aligned */
        if (append(b, " ", 1) != 0) return -1;
    uint32_t h = (uint32_t)(b->len - 4);
    uint8_t le[4] = {(uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), (uint8_t)(h >> 24)};
    memcpy(b->data, le, 4);
    for (size_t i = 0; i < n; i++)
        if (append(b, arrays[i].data, arrays[i].nbytes) != 0 || append(b, zeros, pad8(arrays[i].nbytes)) != 0)
            return -1;
    return 0;
}

void wire_buf_free(wire_buf *b) {
    free(b->data);
    *b = (wire_buf){0};
}
