/*
 * A peer that dies, freezes, pings a game that does not read, sends too much, breaks the
 * protocol, or never finishes the close handshake.
 *
 * Servers: WSB_RAW_PORT (tests/servers/rawws.py), WSB_MISBEHAVE_PORT (misbehave.py, shared),
 * WSB_OWN_PORT and WSB_OWN_PID (a misbehave.py started for this case alone: it gets killed or
 * frozen), WSB_KEEPALIVE_PORT (misbehave.py pinging at short intervals).
 */
#include "../../common/c/harness.h"

#include <signal.h>
#include <stdbool.h>
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
#ifdef _WIN32
    /* A Windows program cannot stop the Linux server process it talks to under Wine. */
    CHECK(0, "frozen needs kill(SIGSTOP) on the server: not available on Windows");
#else
    pid_t pid = (pid_t)env_int("WSB_OWN_PID");
#endif
    snprintf(options, sizeof options, "{\"ping_interval_ms\": %d, \"pong_timeout_ms\": %d}", PING, PONG);
    wsb_handle watched, quiet;
    uint8_t buf[64];
    size_t len;
    EXPECT(wsb_connect(url, options, &watched), WSB_OK);
    EXPECT(wsb_connect(url, "{\"ping_interval_ms\": 0}", &quiet), WSB_OK);
    EXPECT(wsb_send(watched, (const uint8_t *)"alive?", 6, WSB_TEXT), WSB_OK);
    EXPECT(wsb_recv(watched, buf, sizeof buf, &len, NULL, 5000), WSB_OK);

#ifndef _WIN32
    CHECK(kill(pid, SIGSTOP) == 0, "cannot stop the server");
#endif
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
#ifndef _WIN32
    CHECK(kill(pid, SIGCONT) == 0, "cannot resume the server");
#endif
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
    EXPECT(wsb_close(h, 4000, "idle test done", PATIENT_MS), WSB_OK);
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
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
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

/* The raw server's report on the /frame/ connection ID: it holds ANSWERS (the text messages
 * it received before our close frame, as JSON) and our close code CLOSE_CODE. */
static void check_frame_report(const char *id, const char *answers, int close_code) {
    char path[160], url[256], report[256], code[32];
    snprintf(path, sizeof path, "/report/%s", id);
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    CHECK(fetch_text(url, report, sizeof report), "no report: %s", last_error());
    CHECK(strstr(report, answers), "the server saw %s, want %s", report, answers);
    snprintf(code, sizeof code, "\"code\": %d", close_code);
    CHECK(strstr(report, code), "the server saw %s, want close code %d", report, close_code);
}

/* Malformed frames from the raw server. After the "hello" message, recv delivers the
 * messages DELIVERED... (a frame whose length lies may carry one), then reports RESULT once
 * with FACT in its message, then WSB_CLOSED; the server saw our close code CLOSE_CODE.
 * RESULT WSB_TIMEOUT means the frames were accepted and the connection is still open.
 * The game answers every message it receives, as an echo client does. ANSWERS "answered":
 * the messages that arrived intact before the malformed frame are delivered and the answers
 * reach the server before our close frame (the error is reported only after them);
 * "unanswered": the peer's own close came first, so the answers are refused as WSB_CLOSED.
 * wsb_close_status reports the peer's code: 1005 for a close frame without a code, or with one
 * the protocol forbids (never our own 1002 reply), 1006 when we failed the connection. */
void case_malformed(int argc, char **argv) {
    CHECK(argc >= 5, "usage: malformed NAME RESULT CLOSE_CODE FACT answered|unanswered [DELIVERED...]");
    const char *name = argv[0], *want_name = argv[1], *fact = argv[3];
    int close_code = atoi(argv[2]);
    bool answered = strcmp(argv[4], "answered") == 0;
    CHECK(answered || strcmp(argv[4], "unanswered") == 0, "answered or unanswered, not %s", argv[4]);
    wsb_result want = 999;
    for (wsb_result r = 0; r < 32; r++)
        if (strcmp(wsb_result_name(r), want_name) == 0) want = r;
    CHECK(want != 999, "unknown result %s", want_name);
    char id[64], path[160], url[256], expect[160];
    unique_id(id, sizeof id, name);
    snprintf(path, sizeof path, "/frame/%s?id=%s", name, id);
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    wsb_handle h;
    uint8_t buf[256];
    size_t len;
    /* What the server must have received before our close frame, as its report lists it. */
    size_t used = (size_t)snprintf(expect, sizeof expect, "\"answers\": [");
    EXPECT(wsb_connect(url, "{\"max_message_size\": 1000000, \"ping_interval_ms\": 0}", &h), WSB_OK);
    for (int i = 4; i < argc; i++) {
        const char *message = i == 4 ? "hello" : argv[i];
        EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
        CHECK(len == strlen(message) && memcmp(buf, message, len) == 0, "message %d: '%.*s', want '%s'", i - 3,
              (int)len, (char *)buf, message);
        EXPECT(wsb_send(h, buf, len, WSB_TEXT), answered ? WSB_OK : WSB_CLOSED);
        if (answered)
            used += (size_t)snprintf(expect + used, sizeof expect - used, "%s\"%s\"", i == 4 ? "" : ", ", message);
    }
    snprintf(expect + used, sizeof expect - used, "]");
    EXPECT_WITHIN(wsb_recv(h, buf, sizeof buf, &len, NULL, want == WSB_TIMEOUT ? 500 : 5000), want, 5000);
    CHECK(error_has(fact), "message lacks '%s': %s", fact, last_error());
    if (want != WSB_TIMEOUT) {
        CHECK(error_has(url), "message lacks the URL: %s", last_error());
        EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_CLOSED);
        uint16_t status = 0;
        EXPECT(wsb_close_status(h, &status, NULL, 0, NULL), WSB_OK);
        int no_code = strncmp(name, "close-code-", 11) == 0 || strcmp(name, "close-empty") == 0;
        CHECK(status == (no_code ? 1005 : 1006), "the peer's close status is %u, want %d", status,
              no_code ? 1005 : 1006);
    }
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 2000), WSB_OK, 2000 + MARGIN_MS);
    check_frame_report(id, expect, close_code);
}

/* The game answers the "hello" before the malformed frame NAME and closes (code 1000) without
 * reading further: the answer reaches the server, then our close frame carries the error's
 * code CLOSE_CODE (the connection had failed), and wsb_close completes at once. */
void case_malformed_close(int argc, char **argv) {
    CHECK(argc == 2, "usage: malformed_close NAME CLOSE_CODE");
    char id[64], path[160], url[256];
    unique_id(id, sizeof id, argv[0]);
    snprintf(path, sizeof path, "/frame/%s?id=%s", argv[0], id);
    url_for(url, sizeof url, "WSB_RAW_PORT", path);
    wsb_handle h;
    uint8_t buf[256];
    size_t len;
    EXPECT(wsb_connect(url, "{\"ping_interval_ms\": 0}", &h), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 5000), WSB_OK);
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0, "first message (%zu bytes)", len);
    EXPECT(wsb_send(h, buf, len, WSB_TEXT), WSB_OK);
    EXPECT_WITHIN(wsb_close(h, 1000, NULL, 2000), WSB_OK, 2000 + MARGIN_MS);
    check_frame_report(id, "\"answers\": [\"hello\"]", atoi(argv[1]));
}

/* The server resets TCP while the game keeps sending: a result code (never SIGPIPE, which
 * would kill this process with the default disposition). */
void case_reset_while_sending(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/drop");
#ifdef SIGPIPE /* not on Windows, where a send to a reset socket only fails */
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR, "cannot reset SIGPIPE");
#endif
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
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}
