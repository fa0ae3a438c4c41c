/*
 * Flow control: a trainer that floods a game that does not read, and a trainer that stops
 * reading while the game keeps sending. Memory is read from /proc/self/status.
 *
 * A trainer that floods pings and never reads the pongs (tests/servers/rawws.py /ping-flood).
 *
 * Servers: WSB_MISBEHAVE_PORT (tests/servers/misbehave.py), WSB_RAW_PORT (rawws.py).
 */
#include "../../common/c/harness.h"

#include <stdlib.h>
#include <string.h>

#define MSG (64 * 1024)
/* Allocator and bookkeeping slack on top of what the caps allow. */
#define SLACK_KIB (4 * 1024)

static uint64_t seq_of(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static void put_seq(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* RSS in KiB after one connection has come and gone, so that the library's code and the
 * background thread's stack are already in memory and only queues count in what follows. */
static long warm_rss(void) {
    char url[256];
    wsb_handle h;
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/echo");
    if (wsb_connect(url, NULL, &h) == WSB_OK) wsb_close(h, 1000, NULL, 2000);
    return proc_kib("VmRSS");
}

/* Connects to the flooding server with a receive queue of `cap` bytes. */
static wsb_result connect_flood(wsb_handle *h, long cap) {
    char url[256], path[64], options[128];
    snprintf(path, sizeof path, "/flood/%d", MSG);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    snprintf(options, sizeof options, "{\"recv_queue_max_bytes\": %ld}", cap);
    return wsb_connect(url, options, h);
}

/* The scenario: the game is busy elsewhere for up to `idle_ms` while the flood goes on. Samples
 * RSS every 50 ms and returns the peak growth over `before` (KiB); stops early once it reaches
 * `enough` (0: never). */
static long watch_rss(long before, int idle_ms, long enough) {
    long peak = before;
    for (int t = 0; t < idle_ms && (enough == 0 || peak - before < enough); t += 50) {
        pass_time_ms(50);
        long now = proc_kib("VmRSS");
        if (now > peak) peak = now;
    }
    return peak - before;
}

/* The server sends 64 KiB messages as fast as it can while the game does not read for
 * IDLE_MS. RSS must stay within recv_queue_max_bytes (plus one message being read and some
 * slack); then every message arrives, numbered without a gap, and the flood goes on. */
void case_flood(int argc, char **argv) {
    CHECK(argc == 2, "usage: flood CAP_BYTES IDLE_MS");
    long cap = atol(argv[0]);
    int idle = atoi(argv[1]);
    static uint8_t buf[MSG];
    size_t len;
    wsb_handle h;
    long before = warm_rss(); /* before the connect: the flood starts with the upgrade */
    EXPECT(connect_flood(&h, cap), WSB_OK);
    long grown = watch_rss(before, idle, 0), bound = (cap + 2 * MSG) / 1024 + SLACK_KIB;
    printf("flood: recv_queue_max_bytes %ld KiB, RSS %ld KiB before, peak +%ld KiB while not reading "
           "(bound %ld KiB)\n",
           cap / 1024, before, grown, bound);
    CHECK(grown <= bound, "RSS grew by %ld KiB, bound %ld KiB", grown, bound);
    /* The queue held about `cap` bytes; read twice that: the flow resumed, nothing was lost. */
    uint64_t want = 0;
    long total = 0;
    while (total < 2 * cap + 2 * MSG) {
        EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 10000), WSB_OK);
        CHECK(len == MSG && seq_of(buf) == want, "message %llu: %zu bytes, number %llu",
              (unsigned long long)want, len, (unsigned long long)seq_of(buf));
        want++;
        total += (long)len;
    }
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* The control for `flood`: with a cap above what the idle time lets arrive, RSS does grow
 * by many megabytes, so the bound above measures something real. */
void case_flood_control(int argc, char **argv) {
    CHECK(argc == 2, "usage: flood_control MIN_GROWTH_KIB IDLE_MS");
    long min_growth = atol(argv[0]);
    int idle = atoi(argv[1]);
    wsb_handle h;
    long before = warm_rss();
    EXPECT(connect_flood(&h, 1L << 30), WSB_OK);
    long grown = watch_rss(before, idle, min_growth);
    printf("flood_control: with a 1 GiB cap RSS grew by %ld KiB\n", grown);
    CHECK(grown >= min_growth, "RSS grew by %ld KiB only", grown);
    /* Dropped at once, queue and all: TIMEOUT, or OK if the close reply came in that call. */
    wsb_result r = wsb_close(h, 1000, NULL, 0);
    CHECK(r == WSB_OK || r == WSB_TIMEOUT, "wsb_close returned %s: %s", wsb_result_name(r), last_error());
}

/* The trainer reads one message and stops reading. The game sends numbered 64 KiB messages
 * until WSB_WOULD_BLOCK and wsb_flush cannot finish; retries get WSB_WOULD_BLOCK too (not
 * queued); RSS stays within the send cap. Then the trainer resumes, the game sends the rest (retrying when told to), and
 * the trainer reports every message that got WSB_OK exactly once, in order. */
void case_backpressure(int argc, char **argv) {
    CHECK(argc == 2, "usage: backpressure SEND_CAP_BYTES TOTAL_MESSAGES");
    long cap = atol(argv[0]);
    long total = atol(argv[1]);
    char id[64], path[128], url[256], options[128], reply[512];
    unique_id(id, sizeof id, "stall");
    snprintf(path, sizeof path, "/stall/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    snprintf(options, sizeof options, "{\"send_queue_max_bytes\": %ld, \"ping_interval_ms\": 0}", cap);
    static uint8_t msg[MSG];
    memset(msg, 0xab, sizeof msg);
    size_t len;
    wsb_handle h;
    long before = warm_rss();
    EXPECT(wsb_connect(url, options, &h), WSB_OK);
    uint64_t accepted = 0;
    wsb_result r = WSB_OK;
    /* Until the trainer's buffers, the kernel's and the send queue are all full: a refusal,
     * and a flush that cannot finish (the kernel buffers may still grow for a while). */
    long refused = 0;
    for (;;) {
        put_seq(msg, accepted);
        r = wsb_send(h, msg, sizeof msg, WSB_BINARY);
        if (r == WSB_OK) {
            accepted++;
            CHECK(accepted < 100000, "100000 messages accepted from a trainer that does not read");
            continue;
        }
        CHECK(r == WSB_WOULD_BLOCK, "send returned %s after %llu messages: %s", wsb_result_name(r),
              (unsigned long long)accepted, last_error());
        CHECK(error_has("send_queue_max_bytes") && error_has("not queued"), "message: %s", last_error());
        refused++;
        r = wsb_flush(h, 300);
        if (r == WSB_TIMEOUT) break;
        EXPECT(r, WSB_OK);
    }
    long grown = proc_kib("VmRSS") - before, bound = (cap + MSG) / 1024 + SLACK_KIB;
    printf("backpressure: stalled after %llu messages (%llu KiB) and %ld refusals, RSS +%ld KiB (bound %ld KiB)\n",
           (unsigned long long)accepted, (unsigned long long)accepted * MSG / 1024, refused, grown, bound);
    CHECK(grown <= bound, "RSS grew by %ld KiB, bound %ld KiB", grown, bound);
    /* Retrying while the trainer still does not read: refused, and a refused message is never
     * queued (the exactly-once check at the end proves it). The kernel's buffers may still take
     * a little more meanwhile, so a retry may also be accepted, under its own number. */
    int retries_refused = 0;
    for (int i = 0; i < 20; i++) {
        put_seq(msg, accepted);
        r = wsb_send(h, msg, sizeof msg, WSB_BINARY);
        if (r == WSB_OK) {
            accepted++;
            continue;
        }
        EXPECT(r, WSB_WOULD_BLOCK);
        retries_refused++;
    }
    CHECK(retries_refused > 0, "20 retries accepted from a trainer that does not read");

    snprintf(path, sizeof path, "/resume/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    CHECK(fetch_text(url, reply, sizeof reply) && strcmp(reply, "resumed") == 0, "resume: %s", last_error());
    long refusals = 0;
    CHECK((long)accepted < total, "%llu messages went out before the trainer resumed; raise TOTAL_MESSAGES",
          (unsigned long long)accepted);
    while ((long)accepted < total) {
        put_seq(msg, accepted);
        r = wsb_send(h, msg, sizeof msg, WSB_BINARY);
        if (r == WSB_OK) {
            accepted++;
        } else {
            CHECK(r == WSB_WOULD_BLOCK, "send %llu: %s %s", (unsigned long long)accepted, wsb_result_name(r),
                  last_error());
            refusals++;
            /* Wait for room, as a game would before a scene change, then retry. */
            EXPECT(wsb_flush(h, 30000), WSB_OK);
        }
    }
    EXPECT(wsb_send(h, (const uint8_t *)"END", 3, WSB_TEXT), WSB_OK);
    EXPECT(wsb_recv(h, (uint8_t *)reply, sizeof reply - 1, &len, NULL, 30000), WSB_OK);
    reply[len] = '\0';
    char want[128];
    snprintf(want, sizeof want, "\"received\": %llu, \"in_order\": true", (unsigned long long)accepted);
    CHECK(strstr(reply, want), "the trainer reports %s; %llu messages got WSB_OK", reply,
          (unsigned long long)accepted);
    printf("backpressure: %llu messages accepted, all received once in order (%ld refusals, each "
           "followed by wsb_flush, while draining)\n",
           (unsigned long long)accepted, refusals);
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* Connects to rawws.py's `path` (/ping-flood...) with a send queue of `cap` bytes and no pings of our own
 * (the silence check would end the connection, and the test measures the flood alone). */
static wsb_result connect_ping_flood(wsb_handle *h, const char *path, long cap) {
    char url[256], options[128];
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    snprintf(options, sizeof options, "{\"send_queue_max_bytes\": %ld, \"ping_interval_ms\": 0}", cap);
    return wsb_connect(url, options, h);
}

/* The server sends pings as fast as it can and never reads, while the game does not call
 * wsb_recv for IDLE_MS (the I/O thread answers pings meanwhile). Our pongs count against
 * send_queue_max_bytes: past it wsbridge stops reading the socket, so RSS stays within the cap
 * plus SLACK_KIB. The connection stays open, and a send is refused with WSB_WOULD_BLOCK. */
void case_ping_flood(int argc, char **argv) {
    CHECK(argc == 2, "usage: ping_flood SEND_CAP_BYTES IDLE_MS");
    long cap = atol(argv[0]);
    int idle = atoi(argv[1]);
    wsb_handle h;
    long before = warm_rss();
    EXPECT(connect_ping_flood(&h, "/ping-flood", cap), WSB_OK);
    long grown = watch_rss(before, idle, 0), bound = cap / 1024 + SLACK_KIB;
    printf("ping_flood: send_queue_max_bytes %ld KiB, RSS %ld KiB before, peak +%ld KiB under the flood "
           "(bound %ld KiB)\n",
           cap / 1024, before, grown, bound);
    CHECK(grown <= bound, "RSS grew by %ld KiB, bound %ld KiB", grown, bound);
    uint32_t state = 0;
    EXPECT(wsb_state(h, &state), WSB_OK);
    CHECK(state == WSB_STATE_OPEN, "state %u after the flood, want open", state);
    uint8_t byte = 0;
    EXPECT(wsb_send(h, &byte, 1, WSB_BINARY), WSB_WOULD_BLOCK);
    CHECK(error_has("send_queue_max_bytes"), "message: %s", last_error());
    /* Our close frame waits behind pongs the server never reads: TIMEOUT, on time. */
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 500), WSB_TIMEOUT, 500 + MARGIN_MS);
}

/* The control for `ping_flood`: with a send cap of 1 GiB, RSS grows by many megabytes under
 * the same flood (limited to four times MIN_GROWTH_KIB, after which the server reads again), so the
 * bound above measures something real. */
void case_ping_flood_control(int argc, char **argv) {
    CHECK(argc == 2, "usage: ping_flood_control MIN_GROWTH_KIB IDLE_MS");
    long min_growth = atol(argv[0]);
    int idle = atoi(argv[1]);
    char path[64];
    /* Four times the growth asked for: how much of it stays resident differs between
     * allocators (glibc keeps about all of it, Windows' heap under Wine about half). */
    snprintf(path, sizeof path, "/ping-flood/%ld", 4 * min_growth / 1024 + 1);
    wsb_handle h;
    long before = warm_rss();
    EXPECT(connect_ping_flood(&h, path, 1L << 30), WSB_OK);
    long grown = watch_rss(before, idle, min_growth);
    printf("ping_flood_control: with a 1 GiB send cap RSS grew by %ld KiB\n", grown);
    CHECK(grown >= min_growth, "RSS grew by %ld KiB only", grown);
    wsb_result r = wsb_close(h, 1000, NULL, 0);
    CHECK(r == WSB_OK || r == WSB_TIMEOUT, "wsb_close returned %s: %s", wsb_result_name(r), last_error());
}

/* The same flood with our keepalive on (PING_MS, PONG_MS): once wsbridge stops reading, no byte
 * of the trainer counts as an answer, so the connection is reported lost within the ping
 * interval plus the pong timeout, and the message says that the trainer reads nothing. */
void case_ping_flood_keepalive(int argc, char **argv) {
    CHECK(argc == 3, "usage: ping_flood_keepalive SEND_CAP_BYTES PING_MS PONG_MS");
    long cap = atol(argv[0]);
    int ping = atoi(argv[1]), pong = atoi(argv[2]);
    char url[256], options[160];
    url_for(url, sizeof url, "WSB_RAW_PORT", "/ping-flood");
    snprintf(options, sizeof options,
             "{\"send_queue_max_bytes\": %ld, \"ping_interval_ms\": %d, \"pong_timeout_ms\": %d}", cap, ping,
             pong);
    wsb_handle h;
    uint8_t buf[64];
    size_t len;
    EXPECT(wsb_connect(url, options, &h), WSB_OK);
    /* CONNECTION_LOST rather than TIMEOUT at the recv's own limit is the keepalive at work. It
     * comes once the pongs we owe fill the kernel's buffers and then our send queue (reading is
     * held then, and the peer falls silent): how soon depends on the socket buffers (larger under
     * Wine) and on how fast a loaded machine lets the peer flood, so it is printed, not checked,
     * and the limit is a minute, not the keepalive's own few hundred milliseconds. */
    double start = now_ms();
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 60000), WSB_CONNECTION_LOST);
    double lost_ms = now_ms() - start;
    CHECK(error_has("pong_timeout_ms") && error_has("does not read what we send"), "message: %s", last_error());
    printf("ping_flood_keepalive: lost after %.0f ms (ping %d ms + pong timeout %d ms)\n", lost_ms, ping, pong);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 0), WSB_CLOSED);
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 500), WSB_OK, 500 + MARGIN_MS);
}
