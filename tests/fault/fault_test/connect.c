/*
 * Connecting to a peer that is not there, does not answer, or refuses.
 *
 * Servers: WSB_RAW_PORT (tests/servers/rawws.py), WSB_MISBEHAVE_PORT (tests/servers/misbehave.py).
 */
#include "../../common/c/harness.h"

#include <stdlib.h>
#include <string.h>

/* TCP accepted, the upgrade never answered: the connect fails within the connect timeout, for
 * the blocking connect (WSB_TIMEOUT) and for the async one (reported by wsb_recv). */
void case_upgrade_timeout(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_RAW_PORT", "/mute");
    wsb_handle h = 0;
    EXPECT_WITHIN(wsb_connect(url, "{\"connect_timeout_ms\": 800}", &h), WSB_TIMEOUT, 800 + MARGIN_MS);
    CHECK(took_ms >= 700, "gave up after %.0f ms, before the 800 ms timeout", took_ms);
    CHECK(error_has(url) && error_has("800 ms") && error_has("HTTP upgrade"), "message: %s", last_error());
    CHECK(h == 0, "handle written on failure");

    uint8_t buf[8];
    size_t len;
    /* wsb_recv reports an expired async connect as WSB_CONNECT_FAILED ("timed out"), since
     * its WSB_TIMEOUT means "no message yet". */
    EXPECT(wsb_connect_async(url, "{\"connect_timeout_ms\": 800}", &h), WSB_OK);
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, -1), WSB_CONNECT_FAILED, 800 + MARGIN_MS);
    CHECK(error_has(url) && error_has("timed out after 800 ms"), "message: %s", last_error());
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 0), WSB_CLOSED);
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 1000), WSB_OK, MARGIN_MS);
}

/* Nobody listens: WSB_CONNECT_FAILED with the OS reason, at once. */
void case_refused(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/env/0", dead_port());
    wsb_handle h = 0;
    EXPECT_WITHIN(wsb_connect(url, "{\"connect_timeout_ms\": 5000}", &h), WSB_CONNECT_FAILED, MARGIN_MS);
#ifdef _WIN32
    const char *os_error = "os error 10061"; /* WSAECONNREFUSED */
#else
    const char *os_error = "os error 111"; /* ECONNREFUSED */
#endif
    CHECK(error_has(url) && error_has("Connection refused") && error_has(os_error),
          "message: %s", last_error());
}

/* A host name that does not resolve: WSB_CONNECT_FAILED with the resolver's reason. */
void case_unresolvable(int argc, char **argv) {
    (void)argc, (void)argv;
    const char *url = "ws://no-such-host.invalid:8001/env/0";
    wsb_handle h = 0;
    EXPECT_WITHIN(wsb_connect(url, "{\"connect_timeout_ms\": 5000}", &h), WSB_CONNECT_FAILED,
                  5000 + MARGIN_MS);
    CHECK(error_has(url) && error_has("cannot resolve host `no-such-host.invalid`"), "message: %s",
          last_error());
    /* The resolver's own words follow the host name (e.g. "Name or service not known"). */
    const char *reason = strstr(last_error(), "`no-such-host.invalid`: ");
    CHECK(reason && strlen(reason) > strlen("`no-such-host.invalid`: ") + 5, "no reason: %s", last_error());
}

/* The upgrade refused with an HTTP status by a real websockets server. */
void case_status(int argc, char **argv) {
    CHECK(argc == 1, "usage: status CODE");
    int code = atoi(argv[0]);
    char path[64], url[256], want[64];
    snprintf(path, sizeof path, "/status/%d", code);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    wsb_handle h = 0;
    EXPECT_WITHIN(wsb_connect(url, "{\"connect_timeout_ms\": 5000}", &h), WSB_HANDSHAKE_FAILED, 5000 + MARGIN_MS);
    snprintf(want, sizeof want, "HTTP %d", code);
    CHECK(error_has(url) && error_has(want), "message lacks the URL or %s: %s", want, last_error());
    snprintf(want, sizeof want, "refused with %d", code);
    CHECK(error_has(want), "message lacks the body: %s", last_error());
    CHECK(h == 0, "handle written on failure");
}

/* A reply that is not an HTTP 101 upgrade: garbage bytes, a hang-up, a wrong accept key. */
void case_bad_upgrade(int argc, char **argv) {
    CHECK(argc == 2, "usage: bad_upgrade PATH FACT");
    char url[256];
    url_for(url, sizeof url, "WSB_RAW_PORT", argv[0]);
    wsb_handle h = 0;
    EXPECT_WITHIN(wsb_connect(url, "{\"connect_timeout_ms\": 5000}", &h), WSB_HANDSHAKE_FAILED, 5000 + MARGIN_MS);
    CHECK(error_has(url) && error_has(argv[1]), "message lacks the URL or '%s': %s", argv[1], last_error());
}
