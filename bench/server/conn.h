/* One client connection of the benchmark echo server, and the two framings it speaks.
 *
 * Both framings share one loop (echod.c) and one rule: a message is echoed from the input buffer
 * where it was read, never copied. A WebSocket frame is unmasked in place and its header is
 * rewritten in place 4 bytes later (a server header is the client header minus the mask key), so
 * the reply is one contiguous range of the input buffer, like a raw TCP message echoed as is.
 *
 * Every connection starts by naming its mode with a path, the URL path for WebSocket or the first
 * length-prefixed message for raw TCP:
 *   /echo...            every message is sent back unchanged
 *   /sink               messages are discarded; an empty message is echoed (the "done" marker)
 *   /source/SIZE/COUNT  every message from the client starts a burst: COUNT binary messages of
 *                       SIZE bytes, sent as fast as the socket takes them
 *   /delay/US           like /echo, but every echo goes out US microseconds after its message
 *                       came in (a slow trainer); the connection reads nothing meanwhile
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <stddef.h>
#include <stdint.h>

/* Largest message accepted from a client (the benchmark's largest is 1 MiB). */
#define MAX_MESSAGE (64u << 20)

enum proto { PROTO_RAW, PROTO_WS };
enum mode { MODE_NONE, MODE_ECHO, MODE_SINK, MODE_SOURCE, MODE_DELAY };
enum step { STEP_NEED = 0, STEP_DONE = 1, STEP_FAIL = -1 };

struct conn {
    int fd;
    enum proto proto;
    enum mode mode;
    int started;          /* WebSocket handshake done, or raw path message received */
    int blocked;          /* output is waiting for EPOLLOUT; input is not read meanwhile */
    int close_after;      /* close once the pending output is written */
    uint8_t *buf;         /* input: [parse, len) is unparsed, [0, parse) consumed */
    size_t cap, len, parse;
    size_t need;          /* bytes from `parse` the next message needs, when incomplete */
    const uint8_t *out;   /* pending output: in `buf`, `ctl` or the source batch */
    size_t out_len;
    int out_is_source;
    uint8_t ctl[512];     /* handshake responses and control frames */
    /* MODE_SOURCE */
    size_t src_size;
    uint64_t src_count, src_total, src_sent;
    int src_armed;        /* a burst was started; the current one is done when src_sent == src_total */
    uint8_t *batch;       /* whole frames back to back; the stream cycles through it */
    size_t batch_len;
    /* MODE_DELAY */
    long long delay_ns;
    int hold;             /* the pending output is an echo to hold for delay_ns */
    long long due_ns;     /* while held: when it goes out */
    struct conn *held_next;
};

/* Parse one unit (handshake, frame, message) at buf[parse..len). On STEP_DONE the unit is
 * consumed and `out` may be set; on STEP_NEED `need` says how many bytes it takes. */
enum step ws_next(struct conn *c);
enum step raw_next(struct conn *c);

/* Shared by both framings (echod.c). */
int conn_route(struct conn *c, const char *path, size_t len);
void conn_on_data(struct conn *c, const uint8_t *frame, size_t frame_len, size_t payload_len, int fin);

#endif
