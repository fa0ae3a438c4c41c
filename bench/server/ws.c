/* WebSocket server side (RFC 6455): the upgrade, and frames echoed in place.
 *
 * Frames are echoed one by one with their opcode and FIN bit, so a fragmented message comes back
 * as the same fragments. No extension is ever accepted (so no compression). */

#include "conn.h"
#include "sha1.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_REQUEST 8192
static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static size_t base64(const uint8_t *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

/* Finds header `name` in the request; returns its trimmed value and length, or NULL. */
static const char *header(const char *req, size_t len, const char *name, size_t *vlen) {
    size_t nlen = strlen(name);
    const char *end = req + len;
    for (const char *line = strstr(req, "\r\n"); line && line + 2 < end; line = strstr(line + 2, "\r\n")) {
        const char *s = line + 2;
        if ((size_t)(end - s) > nlen && strncasecmp(s, name, nlen) == 0 && s[nlen] == ':') {
            const char *v = s + nlen + 1;
            while (*v == ' ' || *v == '\t') v++;
            const char *e = strstr(v, "\r\n");
            if (!e) return NULL;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            *vlen = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static void respond(struct conn *c, const char *text) {
    size_t n = strlen(text);
    memcpy(c->ctl, text, n);
    c->out = c->ctl;
    c->out_len = n;
}

static enum step handshake(struct conn *c) {
    char *req = (char *)c->buf + c->parse;
    size_t avail = c->len - c->parse;
    /* The buffer always has a spare byte past `len` (see echod.c), so the request can be a
     * C string while it is parsed. */
    char saved = req[avail];
    req[avail] = 0;
    char *end = strstr(req, "\r\n\r\n");
    req[avail] = saved;
    if (!end) {
        if (avail >= MAX_REQUEST) return STEP_FAIL;
        c->need = avail + 1;
        return STEP_NEED;
    }
    size_t req_len = (size_t)(end - req) + 4;
    end[2] = 0; /* the request ends at its last header line's CRLF */
    c->parse += req_len;
    size_t klen = 0;
    const char *key = header(req, req_len - 2, "Sec-WebSocket-Key", &klen);
    if (strncmp(req, "GET ", 4) != 0 || !key || klen > 64) {
        respond(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        c->close_after = 1;
        return STEP_DONE;
    }
    const char *path = req + 4, *path_end = strchr(path, ' ');
    if (!path_end || conn_route(c, path, (size_t)(path_end - path)) != 0) {
        respond(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        c->close_after = 1;
        return STEP_DONE;
    }
    char joined[128];
    memcpy(joined, key, klen);
    memcpy(joined + klen, GUID, sizeof GUID - 1);
    uint8_t digest[20];
    sha1((const uint8_t *)joined, klen + sizeof GUID - 1, digest);
    char accept[32];
    base64(digest, sizeof digest, accept);
    int n = snprintf((char *)c->ctl, sizeof c->ctl,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    c->out = c->ctl;
    c->out_len = (size_t)n;
    c->started = 1;
    return STEP_DONE;
}

static void unmask(uint8_t *p, size_t n, const uint8_t key[4]) {
    uint32_t k32;
    memcpy(&k32, key, 4);
    uint64_t k64 = (uint64_t)k32 << 32 | k32;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= k64;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++) p[i] ^= key[i & 3];
}

/* A control frame's reply (pong, close) in `ctl`: payload unmasked, at most 125 bytes. */
static void control_reply(struct conn *c, uint8_t opcode, const uint8_t *payload, size_t n) {
    c->ctl[0] = 0x80 | opcode;
    c->ctl[1] = (uint8_t)n;
    memcpy(c->ctl + 2, payload, n);
    c->out = c->ctl;
    c->out_len = 2 + n;
}

enum step ws_next(struct conn *c) {
    if (!c->started) return handshake(c);
    uint8_t *p = c->buf + c->parse;
    size_t avail = c->len - c->parse;
    if (avail < 2) {
        c->need = 14;
        return STEP_NEED;
    }
    uint8_t b0 = p[0], b1 = p[1];
    if (!(b1 & 0x80) || (b0 & 0x70)) return STEP_FAIL; /* unmasked, or reserved bits set */
    size_t len7 = b1 & 0x7f, hdr = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    if (avail < hdr) {
        c->need = hdr;
        return STEP_NEED;
    }
    uint64_t n = len7;
    if (len7 == 126) n = (uint64_t)p[2] << 8 | p[3];
    if (len7 == 127) {
        n = 0;
        for (int i = 0; i < 8; i++) n = n << 8 | p[2 + i];
    }
    if (n > MAX_MESSAGE) return STEP_FAIL;
    size_t total = hdr + (size_t)n;
    if (avail < total) {
        c->need = total;
        return STEP_NEED;
    }
    c->parse += total;
    uint8_t opcode = b0 & 0x0f, *payload = p + hdr;
    const uint8_t *key = payload - 4;
    switch (opcode) {
    case 0x8: /* close: answer with the same status, then close TCP */
        if (n > 125) return STEP_FAIL;
        unmask(payload, n, key);
        control_reply(c, 0x8, payload, n);
        c->close_after = 1;
        return STEP_DONE;
    case 0x9: /* ping */
        if (n > 125) return STEP_FAIL;
        unmask(payload, n, key);
        control_reply(c, 0xA, payload, n);
        return STEP_DONE;
    case 0xA: /* pong */
        return STEP_DONE;
    case 0x0:
    case 0x1:
    case 0x2:
        break;
    default:
        return STEP_FAIL;
    }
    if (c->mode == MODE_ECHO || c->mode == MODE_DELAY || n == 0) {
        /* Reply in place: the server header (4 bytes shorter) ends where the payload starts. */
        unmask(payload, n, key);
        uint8_t *h = p + 4;
        h[0] = b0;
        if (len7 == 126) {
            h[1] = 126;
            h[2] = (uint8_t)(n >> 8);
            h[3] = (uint8_t)n;
        } else if (len7 == 127) {
            h[1] = 127;
            for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)(n >> (56 - 8 * i));
        } else {
            h[1] = (uint8_t)n;
        }
    }
    conn_on_data(c, p + 4, total - 4, n, (b0 & 0x80) && opcode != 0);
    return STEP_DONE;
}
