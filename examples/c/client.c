/*
 * The seed client in C: connect to the trainer, send one JSON message, print the reply, close.
 *
 *     ./client [PORT]        (default 8001; connects to ws://127.0.0.1:PORT/env/0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsbridge.h"

static int fail(const char *what, wsb_result r) {
    char msg[1024];
    wsb_last_error(msg, sizeof msg);
    fprintf(stderr, "client: %s failed: %s: %s\n", what, wsb_result_name(r), msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "8001";
    char url[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%s/env/0", port);

    wsb_handle h;
    wsb_result r = wsb_connect(url, "{\"connect_timeout_ms\": 5000}", &h);
    if (r != WSB_OK) return fail("connect", r);
    printf("client: connected to %s (wsbridge %s)\n", url, wsb_version());

    const char *message = "{\"message\": \"Message from Client\", \"number\": 256, \"bool\": true}";
    r = wsb_send(h, (const uint8_t *)message, strlen(message), WSB_TEXT);
    if (r != WSB_OK) return fail("send", r);
    printf("client: sent     %s\n", message);

    char reply[4096];
    size_t len = 0;
    uint32_t kind = 0;
    r = wsb_recv(h, (uint8_t *)reply, sizeof reply - 1, &len, &kind, 5000);
    if (r != WSB_OK) return fail("recv", r);
    reply[len] = '\0';
    printf("client: received %s\n", reply);

    r = wsb_close(h, 1000, "done", 2000);
    if (r != WSB_OK) return fail("close", r);
    printf("client: closed\n");
    return 0;
}
