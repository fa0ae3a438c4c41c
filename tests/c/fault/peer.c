/*
 * A peer that dies, freezes, pings a game that does not read, sends too much, breaks the
 * protocol, or never finishes the close handshake.
 *
 * Servers: WSB_RAW_PORT (tests/servers/rawws.py), WSB_MISBEHAVE_PORT (misbehave.py, shared),
 * WSB_OWN_PORT and WSB_OWN_PID (a misbehave.py started for this case alone: it gets killed or
 * frozen), WSB_KEEPALIVE_PORT (misbehave.py pinging at short intervals).
 */
#include "../common/harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The server SIGKILLs itself after the first fragment of a message: the complete message
 * before it is delivered, the fragment never is; WSB_CONNECTION_LOST once, then WSB_CLOSED. */
void case_killed(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_OWN_PORT", "/partial-kill");
    wsb_handle h;
    uint8_t buf[256];
    size_t len = 0;
    uint16_t code = 0;
    EXPECT(wsb_connect(url, "{\"ping_interval_ms\": 0}", &h), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 10000), WSB_OK);
    CHECK(len == 8 && memcmp(buf, "complete", 8) == 0, "first message (%zu bytes)", len);
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, 10000), WSB_CONNECTION_LOST, 10000);
    CHECK(error_has(url) && error_has("lost"), "message: %s", last_error());
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 1000), WSB_CLOSED);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 0), WSB_CLOSED);
    EXPECT(wsb_close_status(h, &code, NULL, 0, NULL), WSB_OK);
    CHECK(code == 1006, "close code %u, want 1006 (no close frame)", code);
    EXPECT(wsb_send(h, buf, 1, WSB_BINARY), WSB_CLOSED);
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 1000), WSB_OK, MARGIN_MS);
}

/* The server process is stopped (SIGSTOP): wsbridge's own pings notice within
 * ping_interval_ms + pong_timeout_ms; wsb_recv and wsb_close keep to their timeouts. */
void case_frozen(int argc, char **argv) {
    (void)argc, (void)argv;
    enum { PING = 300, PONG = 700 };
    char url[256], options[128];
    url_for(url, sizeof url, "WSB_OWN_PORT", "/echo");
    pid_t pid = (pid_t)env_int("WSB_OWN_PID");
    snprintf(options, sizeof options, "{\"ping_interval_ms\": %d, \"pong_timeout_ms\": %d}", PING, PONG);
    wsb_handle watched, quiet;
    uint8_t buf[64];
    size_t len;
    EXPECT(wsb_connect(url, options, &watched), WSB_OK);
    EXPECT(wsb_connect(url, "{\"ping_interval_ms\": 0}", &quiet), WSB_OK);
    EXPECT(wsb_send(watched, (const uint8_t *)"alive?", 6, WSB_TEXT), WSB_OK);
    EXPECT(wsb_recv(watched, buf, sizeof buf, &len, NULL, 5000), WSB_OK);

    CHECK(kill(pid, SIGSTOP) == 0, "cannot stop the server");
    double frozen_at = now_ms();
    /* A send to a frozen peer is only queued: OK. */
    EXPECT(wsb_send(watched, (const uint8_t *)"anyone?", 7, WSB_TEXT), WSB_OK);
    /* A receive with a timeout returns when it says. */
    EXPECT_WITHIN(wsb_recv(quiet, buf, sizeof buf, &len, NULL, 300), WSB_TIMEOUT, 300 + MARGIN_MS);
    CHECK(took_ms >= 290, "returned after %.0f ms of a 300 ms timeout", took_ms);
    /* The pings go unanswered: lost within ping interval + pong timeout. */
    EXPECT(wsb_recv(watched, buf, sizeof buf, &len, NULL, -1), WSB_CONNECTION_LOST);
    double detected = now_ms() - frozen_at;
    CHECK(detected < PING + PONG + MARGIN_MS, "detected after %.0f ms", detected);
    CHECK(error_has(url) && error_has("700 ms") && error_has("pong_timeout_ms"), "message: %s", last_error());
    EXPECT(wsb_recv(watched, buf, sizeof buf, &len, NULL, 0), WSB_CLOSED);
    /* Closing a connection to the frozen peer: no close reply can come, TIMEOUT on time. */
    EXPECT_WITHIN(wsb_close(quiet, 1000, NULL, 500), WSB_TIMEOUT, 500 + MARGIN_MS);
    CHECK(took_ms >= 490, "returned after %.0f ms of a 500 ms timeout", took_ms);
    CHECK(error_has("within 500 ms"), "message: %s", last_error());
    EXPECT_WITHIN(wsb_close(watched, 1000, NULL, 500), WSB_OK, MARGIN_MS);
    CHECK(kill(pid, SIGCONT) == 0, "cannot resume the server");
    printf("frozen: lost reported %.0f ms after SIGSTOP (ping %d ms + pong timeout %d ms)\n", detected,
           PING, PONG);
}

/* The game does not call wsb_recv for IDLE_MS while the server pings it (and drops peers that
 * do not answer in time); wsbridge's own pings are off, so only the background I/O thread can
 * answer. The connection must still be open, and the server must not have closed it. */
void case_keepalive_idle(int argc, char **argv) {
    CHECK(argc == 1, "usage: keepalive_idle MS");
    int idle = atoi(argv[0]);
    char id[64], path[128], url[256], report[256];
    unique_id(id, sizeof id, "idle");
    snprintf(path, sizeof path, "/idle?id=%s", id);
    url_for(url, sizeof url, "WSB_KEEPALIVE_PORT", path);
    wsb_handle h;
    uint32_t state;
    uint8_t buf[64];
    size_t len;
    EXPECT(wsb_connect(url, "{\"ping_interval_ms\": 0}", &h), WSB_OK);
    pass_time_ms(idle); /* the scenario: a loading screen */
    EXPECT(wsb_state(h, &state), WSB_OK);
    CHECK(state == WSB_STATE_OPEN, "state %u after %d ms idle", state, idle);
    EXPECT(wsb_send(h, (const uint8_t *)"back", 4, WSB_TEXT), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
    CHECK(len == 4 && memcmp(buf, "back", 4) == 0, "echo after idling");
    EXPECT(wsb_close(h, 4000, "idle test done", 5000), WSB_OK);
    snprintf(path, sizeof path, "/report/%s", id);
    url_for(url, sizeof url, "WSB_KEEPALIVE_PORT", path);
    CHECK(fetch_text(url, report, sizeof report), "no report: %s", last_error());
    CHECK(strstr(report, "\"code\": 4000"), "the server ended the connection itself: %s", report);
    printf("keepalive_idle: open after %d ms without wsb_recv\n", idle);
}

/* An incoming message over max_message_size (one frame, or fragments adding up): close 1009,
 * WSB_MESSAGE_TOO_BIG once, then WSB_CLOSED; nothing hangs. */
void case_oversize_in(int argc, char **argv) {
    CHECK(argc == 1, "usage: oversize_in big|bigfrag");
    char id[64], path[128], url[256], report[256];
    unique_id(id, sizeof id, argv[0]);
    snprintf(path, sizeof path, "/%s/5000?id=%s", argv[0], id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    wsb_handle h;
    uint8_t buf[8192];
    size_t len;
    EXPECT(wsb_connect(url, "{\"max_message_size\": 1000}", &h), WSB_OK);
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, 10000), WSB_MESSAGE_TOO_BIG, 10000);
    CHECK(error_has(url) && error_has("max_message_size (1000 bytes)") && error_has("1009"), "message: %s",
          last_error());
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_CLOSED, 5000);
    /* Closed at once, as a game would: wsb_close lets the linger run (within its timeout) so
     * the server still reads our 1009 instead of a reset that destroys it. */
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 1000), WSB_OK, 1000 + MARGIN_MS);
    snprintf(path, sizeof path, "/report/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    CHECK(fetch_text(url, report, sizeof report), "no report: %s", last_error());
    CHECK(strstr(report, "\"code\": 1009"), "the server saw %s", report);
}

/* An outgoing message over max_message_size: WSB_MESSAGE_TOO_BIG, nothing sent, and the
 * connection goes on working. */
void case_oversize_out(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/echo");
    static uint8_t buf[4096];
    size_t len;
    wsb_handle h;
    EXPECT(wsb_connect(url, "{\"max_message_size\": 1000}", &h), WSB_OK);
    EXPECT(wsb_send(h, buf, 1001, WSB_BINARY), WSB_MESSAGE_TOO_BIG);
    CHECK(error_has("1001 bytes") && error_has("max_message_size (1000 bytes)"), "message: %s", last_error());
    EXPECT(wsb_send(h, buf, 4096, WSB_TEXT), WSB_MESSAGE_TOO_BIG);
    EXPECT(wsb_send(h, (const uint8_t *)"fine", 4, WSB_TEXT), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
    CHECK(len == 4 && memcmp(buf, "fine", 4) == 0, "the echo after the rejection (%zu bytes)", len);
    EXPECT(wsb_close(h, 1000, NULL, 2000), WSB_OK);
}

/* Four rounds of connect and wsb_close(1000, "bye", 300 ms) to the raw server's PATH, each
 * returning WANT on time; then the sockets and background threads of all four are gone. */
static void close_rounds(const char *path, wsb_result want) {
    char url[256];
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    int fds = count_fds(), threads = baseline_threads();
    for (int round = 0; round < 4; round++) {
        wsb_handle h;
        uint32_t state;
        EXPECT(wsb_connect(url, NULL, &h), WSB_OK);
        EXPECT_WITHIN(wsb_close(h, 1000, "bye", 300), want, 300 + MARGIN_MS);
        if (want == WSB_TIMEOUT) {
            CHECK(took_ms >= 290, "returned after %.0f ms of a 300 ms timeout", took_ms);
            CHECK(error_has(url) && error_has("within 300 ms"), "message: %s", last_error());
            EXPECT(wsb_state(h, &state), WSB_INVALID_HANDLE);
        }
    }
    CHECK_NOTHING_LEFT(fds, threads);
}

/* The server reads our close frame but never answers it and never closes TCP: wsb_close
 * returns WSB_TIMEOUT on time, and the socket and background threads are gone afterwards.
 * Several rounds: the result once depended on which of two threads saw the deadline first. */
void case_noclose(int argc, char **argv) {
    (void)argc, (void)argv;
    close_rounds("/noclose", WSB_TIMEOUT);
}

/* The server answers our close frame but keeps TCP open: the close handshake did complete,
 * so wsb_close returns WSB_OK when its timeout ends the wait for TCP, and nothing leaks. */
void case_close_no_eof(int argc, char **argv) {
    (void)argc, (void)argv;
    close_rounds("/close-no-eof", WSB_OK);
}

/* Malformed frames from the raw server. After the "hello" message, recv delivers the
 * messages DELIVERED... (a frame whose length lies may carry one), then reports RESULT once
 * with FACT in its message, then WSB_CLOSED; the server saw our close code CLOSE_CODE.
 * RESULT WSB_TIMEOUT means the frames were accepted and the connection is still open. */
void case_malformed(int argc, char **argv) {
    CHECK(argc >= 4, "usage: malformed NAME RESULT CLOSE_CODE FACT [DELIVERED...]");
    const char *name = argv[0], *want_name = argv[1], *fact = argv[3];
    int close_code = atoi(argv[2]);
    wsb_result want = 999;
    for (wsb_result r = 0; r < 32; r++)
        if (strcmp(wsb_result_name(r), want_name) == 0) want = r;
    CHECK(want != 999, "unknown result %s", want_name);
    char id[64], path[160], url[256], report[256], expect_code[32];
    unique_id(id, sizeof id, name);
    snprintf(path, sizeof path, "/frame/%s?id=%s", name, id);
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    wsb_handle h;
    uint8_t buf[256];
    size_t len;
    EXPECT(wsb_connect(url, "{\"max_message_size\": 1000000, \"ping_interval_ms\": 0}", &h), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0, "first message (%zu bytes)", len);
    for (int i = 4; i < argc; i++) {
        EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
        CHECK(len == strlen(argv[i]) && memcmp(buf, argv[i], len) == 0, "message %d: '%.*s', want '%s'", i - 3,
              (int)len, (char *)buf, argv[i]);
    }
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, want == WSB_TIMEOUT ? 500 : 5000), want, 5000);
    CHECK(error_has(fact), "message lacks '%s': %s", fact, last_error());
    if (want != WSB_TIMEOUT) {
        CHECK(error_has(url), "message lacks the URL: %s", last_error());
        EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_CLOSED);
    }
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 2000), WSB_OK, 2000 + MARGIN_MS);
    snprintf(path, sizeof path, "/report/%s", id);
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    CHECK(fetch_text(url, report, sizeof report), "no report: %s", last_error());
    snprintf(expect_code, sizeof expect_code, "\"code\": %d", close_code);
    CHECK(strstr(report, expect_code), "the server saw %s, want close code %d", report, close_code);
}

/* The server resets TCP while the game keeps sending: a result code (never SIGPIPE, which
 * would kill this process with the default disposition). */
void case_reset_while_sending(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/drop");
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR, "cannot reset SIGPIPE");
    static uint8_t chunk[65536];
    wsb_handle h;
    EXPECT(wsb_connect(url, "{\"send_queue_max_bytes\": 1048576}", &h), WSB_OK);
    wsb_result r = WSB_OK;
    for (int i = 0; i < 100000 && (r == WSB_OK || r == WSB_WOULD_BLOCK); i++) {
        r = wsb_send(h, chunk, sizeof chunk, WSB_BINARY);
        if (r == WSB_WOULD_BLOCK) {
            r = wsb_flush(h, 5000); /* wait for room; the reset ends it */
            if (r == WSB_TIMEOUT) r = WSB_OK;
        }
    }
    CHECK(r == WSB_CONNECTION_LOST || r == WSB_CLOSED, "sending ended with %s: %s", wsb_result_name(r),
          last_error());
    EXPECT(wsb_close(h, 1000, NULL, 1000), WSB_OK);
}
