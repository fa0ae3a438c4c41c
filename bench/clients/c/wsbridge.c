/* The wsbridge row: the C ABI exactly as a C program uses it, with the default options, or with
 * the options JSON in the environment variable WSB_BENCH_OPTIONS (the "spin off" row sets
 * {"spin_budget_us": 0}).
 *
 * wsb_send never waits: at the send queue cap it returns WSB_WOULD_BLOCK and the message is not
 * queued. As the header advises, this client then waits with wsb_flush and sends again, and
 * counts those waits (reported with the upload workload). */

#include "harness.h"
#include "wsbridge.h"

#include <stdio.h>
#include <stdlib.h>

static void fail_with(const char *what, wsb_result r) {
    char msg[512];
    wsb_last_error(msg, sizeof msg);
    bench_fail("%s: %s: %s", what, wsb_result_name(r), msg);
}

static void *wsb_open(const char *host, int port, const char *path) {
    char url[512];
    snprintf(url, sizeof url, "ws://%s:%d%s", host, port, path);
    wsb_handle h;
    wsb_result r = wsb_connect(url, getenv("WSB_BENCH_OPTIONS"), &h);
    if (r != WSB_OK) {
        fail_with("wsb_connect", r);
        return NULL;
    }
    wsb_handle *p = malloc(sizeof *p);
    *p = h;
    return p;
}

static int wsb_send_msg(void *conn, const uint8_t *data, size_t len) {
    for (;;) {
        wsb_result r = wsb_send(*(wsb_handle *)conn, data, len, WSB_BINARY);
        if (r == WSB_OK) return 0;
        if (r != WSB_WOULD_BLOCK) {
            fail_with("wsb_send", r);
            return -1;
        }
        bench_count_retry();
        r = wsb_flush(*(wsb_handle *)conn, -1);
        if (r != WSB_OK) {
            fail_with("wsb_flush", r);
            return -1;
        }
    }
}

static long wsb_recv_msg(void *conn, uint8_t *buf, size_t cap) {
    size_t len = 0;
    uint32_t kind = 0;
    wsb_result r = wsb_recv(*(wsb_handle *)conn, buf, cap, &len, &kind, -1);
    if (r != WSB_OK) {
        fail_with("wsb_recv", r);
        return -1;
    }
    return (long)len;
}

static void wsb_close_conn(void *conn) {
    wsb_close(*(wsb_handle *)conn, 1000, NULL, 5000);
    free(conn);
}

const bench_driver DRIVER = {"wsbridge", 1, wsb_open, wsb_send_msg, wsb_recv_msg, wsb_close_conn, NULL, NULL};
