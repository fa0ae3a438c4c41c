/* The Autobahn|Testsuite client for wsbridge, through the C ABI (include/wsbridge.h).
 *
 *   client PORT AGENT
 *
 * Against the fuzzing server on 127.0.0.1:PORT (tests/autobahn/fuzzingserver.py): asks for the
 * number of cases (/getCaseCount), runs each (/runCase?case=N&agent=AGENT) as an echo client
 * (every text or binary message is sent back as it came; the case ends when the connection
 * does), then has the server write its reports (/updateReports?agent=AGENT). One line per case
 * on stdout; tests/autobahn/run.py judges the server's report. Exits non-zero only when the
 * server cannot be used (it judges the cases, not this program).
 */

#include <wsbridge.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Autobahn's largest messages are 16 MiB (cases 9.x); leave room above them. */
#define OPTIONS                                                                                     \
    "{\"max_message_size\": 67108864, \"send_queue_max_bytes\": 67108864, "                       \
    "\"recv_queue_max_bytes\": 67108864, \"ping_interval_ms\": 0}"
/* The longest wait for the next message of a case: the server ends every case well before. */
#define CASE_WAIT_MS 120000

static char url_base[64];
static uint8_t *buf;
static size_t cap;

static const char *last_error(void) {
    static char text[1024];
    wsb_last_error(text, sizeof text);
    return text;
}

/* Receives one message into `buf`, growing it when the message does not fit. */
static wsb_result recv_message(wsb_handle h, size_t *len, uint32_t *kind) {
    for (;;) {
        wsb_result r = wsb_recv(h, buf, cap, len, kind, CASE_WAIT_MS);
        if (r != WSB_BUFFER_TOO_SMALL) return r;
        uint8_t *bigger = realloc(buf, *len);
        if (!bigger) {
            fprintf(stderr, "out of memory for a message of %zu bytes\n", *len);
            exit(2);
        }
        buf = bigger;
        cap = *len;
    }
}

/* Sends back one message, waiting for room in the send queue when it is full. */
static wsb_result echo(wsb_handle h, size_t len, uint32_t kind) {
    for (;;) {
        wsb_result r = wsb_send(h, buf, len, kind);
        if (r != WSB_WOULD_BLOCK) return r;
        r = wsb_flush(h, CASE_WAIT_MS);
        if (r != WSB_OK && r != WSB_TIMEOUT) return r;
    }
}

/* Connects to PATH; the handle in `*h`. */
static wsb_result open_path(const char *path, wsb_handle *h) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", url_base, path);
    return wsb_connect(url, OPTIONS, h);
}

/* One case: echo until the connection ends; returns how it ended. */
static wsb_result run_case(int n, const char *agent, unsigned *echoed) {
    char path[128];
    snprintf(path, sizeof path, "/runCase?case=%d&agent=%s", n, agent);
    wsb_handle h;
    wsb_result r = open_path(path, &h);
    *echoed = 0;
    if (r != WSB_OK) return r;
    size_t len;
    uint32_t kind;
    while ((r = recv_message(h, &len, &kind)) == WSB_OK) {
        wsb_result s = echo(h, len, kind);
        if (s == WSB_OK) (*echoed)++;
    }
    wsb_close(h, 1000, NULL, 5000);
    return r;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT AGENT\n", argv[0]);
        return 2;
    }
    snprintf(url_base, sizeof url_base, "ws://127.0.0.1:%s", argv[1]);
    const char *agent = argv[2];
    cap = 1 << 16;
    buf = malloc(cap);
    if (!buf) return 2;

    wsb_handle h;
    size_t len;
    uint32_t kind;
    wsb_result r = open_path("/getCaseCount", &h);
    if (r == WSB_OK) r = recv_message(h, &len, &kind);
    if (r != WSB_OK) {
        fprintf(stderr, "getCaseCount: %s: %s\n", wsb_result_name(r), last_error());
        return 1;
    }
    buf[len < cap ? len : cap - 1] = 0;
    int count = atoi((const char *)buf);
    wsb_close(h, 1000, NULL, 5000);
    if (count <= 0) {
        fprintf(stderr, "getCaseCount answered '%s'\n", (const char *)buf);
        return 1;
    }
    printf("%d cases\n", count);

    for (int n = 1; n <= count; n++) {
        unsigned echoed;
        r = run_case(n, agent, &echoed);
        printf("case %d: %u messages echoed, ended with %s%s%s\n", n, echoed, wsb_result_name(r),
               r == WSB_CLOSED ? "" : ": ", r == WSB_CLOSED ? "" : last_error());
        fflush(stdout);
    }

    char path[128];
    snprintf(path, sizeof path, "/updateReports?agent=%s", agent);
    r = open_path(path, &h);
    if (r == WSB_OK) {
        while ((r = recv_message(h, &len, &kind)) == WSB_OK) {
        }
        wsb_close(h, 1000, NULL, 5000);
    }
    if (r != WSB_CLOSED) {
        fprintf(stderr, "updateReports: %s: %s\n", wsb_result_name(r), last_error());
        return 1;
    }
    free(buf);
    wsb_shutdown(5000);
    return 0;
}
