/* Raw TCP framing: a 4-byte big-endian length, then the payload. The first message is the path. */

#include "conn.h"

enum step raw_next(struct conn *c) {
    const uint8_t *p = c->buf + c->parse;
    size_t avail = c->len - c->parse;
    if (avail < 4) {
        c->need = 4;
        return STEP_NEED;
    }
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (n > MAX_MESSAGE) return STEP_FAIL;
    size_t total = 4 + (size_t)n;
    if (avail < total) {
        c->need = total;
        return STEP_NEED;
    }
    c->parse += total;
    if (!c->started) {
        c->started = 1;
        return conn_route(c, (const char *)p + 4, n) == 0 ? STEP_DONE : STEP_FAIL;
    }
    conn_on_data(c, p, total, n, 1);
    return STEP_DONE;
}
