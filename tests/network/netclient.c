/*
 * The C side of the network tests (tests/network/): one wsbridge connection, driven from C the
 * way a game would, reporting what happened as key=value lines for the pytest suite to check.
 *
 *     netclient MODE URL OPTIONS_JSON [N]
 *
 * MODE:
 *   open   wsb_connect, read the server's greeting (a JSON text), send a text message and an
 *          N-byte binary message (default 1000) and check both come back unchanged, close.
 *   burst  wsb_connect, read the greeting, then N messages the server wrote in one burst: the
 *          first waiting up to 10 s, every other one with timeout 0 (they must already be here).
 *   async  wsb_connect_async, queue three messages while connecting, then read the greeting and
 *          the three echoes, in order.
 *
 * Output: `step=` the call that ended the run (or `done`), `result=` its result code name,
 * `error=` the last error message, plus `greeting=`, `received=`, `echoed=` as they happen.
 * Exit status 0 when the run went as far as the server allowed (a refused connect included:
 * the test checks `result`), 1 when an echo came back wrong, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsbridge.h"

#define TIMEOUT_MS 10000

static uint8_t buf[8 << 20];

static int report(const char *step, wsb_result r) {
    char msg[4096];
    wsb_last_error(msg, sizeof msg);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    printf("step=%s\nresult=%s\n", step, wsb_result_name(r));
    if (r != WSB_OK) printf("error=%s\n", msg);
    return 0;
}

/* Receives one message into `buf`; prints it as `key=` when it is text. */
static wsb_result recv_one(wsb_handle h, const char *key, int timeout_ms, size_t *len) {
    uint32_t kind = 0;
    wsb_result r = wsb_recv(h, buf, sizeof buf - 1, len, &kind, timeout_ms);
    if (r == WSB_OK && key && kind == WSB_TEXT) {
        buf[*len] = '\0';
        printf("%s=%s\n", key, (const char *)buf);
    }
    return r;
}

static int run_open(wsb_handle h, size_t n) {
    size_t len;
    wsb_result r = recv_one(h, "greeting", TIMEOUT_MS, &len);
    if (r != WSB_OK) return report("recv greeting", r);
    const char *text = "hello over the network";
    if ((r = wsb_send(h, (const uint8_t *)text, strlen(text), WSB_TEXT)) != WSB_OK)
        return report("send text", r);
    uint8_t *blob = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) blob[i] = (uint8_t)(i * 7 + 3);
    if ((r = wsb_send(h, blob, n, WSB_BINARY)) != WSB_OK) return free(blob), report("send binary", r);
    if ((r = recv_one(h, NULL, TIMEOUT_MS, &len)) != WSB_OK) return free(blob), report("recv text", r);
    if (len != strlen(text) || memcmp(buf, text, len) != 0) {
        printf("step=compare text\nresult=MISMATCH\n");
        return free(blob), 1;
    }
    if ((r = recv_one(h, NULL, TIMEOUT_MS, &len)) != WSB_OK) return free(blob), report("recv binary", r);
    int same = len == n && memcmp(buf, blob, n) == 0;
    free(blob);
    if (!same) {
        printf("step=compare binary\nresult=MISMATCH (%zu bytes back, %zu sent)\n", len, n);
        return 1;
    }
    printf("echoed=%zu\n", n);
    return -1;
}

static int run_burst(wsb_handle h, size_t n) {
    size_t len, got = 0;
    wsb_result r = recv_one(h, "greeting", TIMEOUT_MS, &len);
    if (r != WSB_OK) return report("recv greeting", r);
    while (got < n) {
        r = recv_one(h, NULL, got == 0 ? TIMEOUT_MS : 0, &len);
        if (r != WSB_OK) break;
        char want[32];
        snprintf(want, sizeof want, "m%zu", got);
        if (len != strlen(want) || memcmp(buf, want, len) != 0) {
            printf("step=compare burst\nresult=MISMATCH at message %zu\n", got);
            return 1;
        }
        got++;
    }
    printf("received=%zu\n", got);
    if (r != WSB_OK) return report("recv burst", r);
    return -1;
}

static int run_async(wsb_handle h) {
    size_t len;
    const char *queued[] = {"first", "second", "third"};
    wsb_result r;
    for (int i = 0; i < 3; i++)
        if ((r = wsb_send(h, (const uint8_t *)queued[i], strlen(queued[i]), WSB_TEXT)) != WSB_OK)
            return report("send while connecting", r);
    if ((r = recv_one(h, "greeting", TIMEOUT_MS, &len)) != WSB_OK) return report("recv greeting", r);
    for (int i = 0; i < 3; i++) {
        if ((r = recv_one(h, NULL, TIMEOUT_MS, &len)) != WSB_OK) return report("recv echo", r);
        if (len != strlen(queued[i]) || memcmp(buf, queued[i], len) != 0) {
            printf("step=compare echo\nresult=MISMATCH at %d\n", i);
            return 1;
        }
    }
    printf("echoed=3\n");
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: netclient open|burst|async URL OPTIONS_JSON [N]\n");
        return 2;
    }
    if (strcmp(wsb_result_name(WSB_TLS_FAILED), "WSB_TLS_FAILED") != 0) {
        fprintf(stderr, "wsb_result_name(WSB_TLS_FAILED) is %s\n", wsb_result_name(WSB_TLS_FAILED));
        return 2;
    }
    const char *mode = argv[1], *url = argv[2], *options = argv[3];
    size_t n = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : 1000;
    if (n > sizeof buf - 1) n = sizeof buf - 1;
    int is_async = strcmp(mode, "async") == 0;
    wsb_handle h = 0;
    wsb_result r = is_async ? wsb_connect_async(url, options, &h) : wsb_connect(url, options, &h);
    if (r != WSB_OK) return report(is_async ? "connect_async" : "connect", r);
    int status;
    if (strcmp(mode, "open") == 0)
        status = run_open(h, n);
    else if (strcmp(mode, "burst") == 0)
        status = run_burst(h, n);
    else if (is_async)
        status = run_async(h);
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    if (status >= 0) {
        wsb_close(h, 1000, "", 2000);
        return status;
    }
    r = wsb_close(h, 1000, "done", 5000);
    if (r != WSB_OK) return report("close", r);
    return report("done", WSB_OK);
}
