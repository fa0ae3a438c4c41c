/*
 * The message framing of the wsbridge env protocol (docs/protocol.md), for C games.
 *
 * A binary message is: uint32 little-endian header length H | H bytes of JSON header |
 * payload holding the arrays the header's "arrays" object describes. A text message is a
 * header alone. This file reads headers with a minimal JSON scanner (enough for the keys the
 * protocol uses) and builds messages with 8-byte-aligned arrays.
 *
 * Nothing here allocates except wire_buf, which grows as needed (free it with wire_buf_free).
 * Functions that can fail return 0 on success and -1 on failure, with a message in `err`.
 */
#ifndef WSB_GAME_WIRE_H
#define WSB_GAME_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAX_DIMS 8

/* A received message: its header text and its payload, both pointing into the received bytes. */
typedef struct {
    const char *header;
    size_t header_len;
    const uint8_t *payload;
    size_t payload_len;
} wire_msg;

/* One array of a received message. `data` points into the message (maybe unaligned: memcpy). */
typedef struct {
    char dtype[16];
    int ndim;
    uint64_t shape[WIRE_MAX_DIMS];
    const uint8_t *data;
    size_t nbytes;
} wire_array;

/* One array to send: `nbytes` bytes of little-endian `dtype` items in C order. */
typedef struct {
    const char *name;
    const char *dtype;
    int ndim;
    const uint64_t *shape;
    const void *data;
    size_t nbytes;
} wire_out_array;

/* A growable byte buffer for building messages. Zero-initialize it before first use. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} wire_buf;

/* Splits a received message (kind WSB_TEXT or WSB_BINARY) into header and payload. */
int wire_parse(const uint8_t *data, size_t len, uint32_t kind, wire_msg *out, char *err, size_t err_cap);

/* Copies the header's string value at `key` (a top-level key) into `out`. */
int wire_string(const wire_msg *m, const char *key, char *out, size_t cap, char *err, size_t err_cap);

/* The raw JSON text of the top-level value at `key`: *value and *value_len; -1 if absent. */
int wire_value(const wire_msg *m, const char *key, const char **value, size_t *value_len);

/* Finds array `name`, checks it lies inside the payload, and describes it in `out`. */
int wire_array_get(const wire_msg *m, const char *name, wire_array *out, char *err, size_t err_cap);

/*
 * Reads the JSON array of integers-or-nulls at `key` (like "seeds": [1, null]) into `values`,
 * with `present[i]` 0 for null. Returns the number of items, or -1 (not an array of at most
 * `cap` integers and nulls, or absent).
 */
int wire_int_list(const wire_msg *m, const char *key, uint64_t *values, int *present, int cap);

/*
 * Builds a binary message in `buf` (replacing its content): a header with "type": `type`, the
 * raw JSON members `fields` (e.g. "\"infos\":[{},{}]", or NULL), and the arrays. Returns -1
 * only if memory runs out.
 */
int wire_build(wire_buf *buf, const char *type, const char *fields, const wire_out_array *arrays, size_t n);

void wire_buf_free(wire_buf *buf);

#endif
