/*
 * The `reconnect` option of wsb_connect and wsb_close_async, from C, against real Python
 * `websockets` servers: a trainer that is killed and restarted, one that refuses (HTTP 503) for
 * a while, one that closes, and a frozen one.
 *
 *     reconnect_test CASE
 *
 * Servers come from the environment: WSB_TRAINER_PORT (tests/servers/misbehave.py, killed and
 * restarted on the same port on request), WSB_MISBEHAVE_PORT (misbehave.py, for the
 * refusing and frozen routes) and WSB_ECHO_PORT (wsserver.py, for close codes).
 * tests/interop/test_reconnect.py starts them and runs every case, once against the shared
 * library and once against the static one.
 *
 * Killing and restarting the trainer is asked of the test driver on this program's standard
 * output ("CMD KILL", "CMD START"); the driver answers on standard input once it is done, so
 * the program waits on the event, never on a clock.
 */
#include "../common/c/harness.h"

#include <stdlib.h>
#include <string.h>

/* Asks the test driver to do `what` to the trainer and waits until it is done. */
static int driver(const char *what) {
    char line[64];
    printf("CMD %s\n", what);
    fflush(stdout);
    return fgets(line, sizeof line, stdin) && strncmp(line, "done", 4) == 0;
}

static uint32_t state_of(wsb_handle h) {
    uint32_t state = 99;
    if (wsb_state(h, &state) != WSB_OK) return 99;
    return state;
}

/* Waits, in wsb_recv (WSB_TIMEOUT: nothing to receive meanwhile), until the state is `want`. */
static int wait_state(wsb_handle h, uint32_t want) {
    uint8_t buf[64];
    size_t len;
    for (int i = 0; i < 3000 && state_of(h) != want; i++) {
        wsb_result r = wsb_recv(h, buf, sizeof buf, &len, NULL, 10);
        if (r != WSB_TIMEOUT) {
            fprintf(stderr, "wsb_recv returned %s while waiting for state %u: %s\n", wsb_result_name(r), want,
                    last_error());
            return 0;
        }
    }
    return state_of(h) == want;
}

static int recv_text(wsb_handle h, const char *want) {
    char buf[256];
    size_t len = 0;
    uint32_t kind = 0;
    wsb_result r = wsb_recv(h, (uint8_t *)buf, sizeof buf - 1, &len, &kind, 20000);
    if (r != WSB_OK) {
        fprintf(stderr, "wsb_recv returned %s, want the message \"%s\": %s\n", wsb_result_name(r), want,
                last_error());
        return 0;
    }
    buf[len] = '\0';
    if (strcmp(buf, want) != 0 || kind != WSB_TEXT) {
        fprintf(stderr, "received \"%s\" (kind %u), want \"%s\"\n", buf, kind, want);
        return 0;
    }
    return 1;
}

static wsb_result send_text(wsb_handle h, const char *text) {
    return wsb_send(h, (const uint8_t *)text, strlen(text), WSB_TEXT);
}

#define RECONNECT_FAST "\"reconnect\": {\"delay_ms\": 20, \"max_delay_ms\": 200, \"give_up_ms\": -1}"

/* ---------------------------------------------------------------------------------------- */

/* The trainer is killed: the connection is reconnecting (observable), messages sent meanwhile
 * are queued up to the send cap (past it WSB_WOULD_BLOCK) and arrive after the trainer came
 * back; wsb_recv says WSB_RECONNECTED once, before the new connection's messages. */
static void test_killed_trainer(void) {
    char url[128];
    url_for(url, sizeof url, "WSB_TRAINER_PORT", "/echo");
    wsb_handle h;
    EXPECT(wsb_connect(url, "{" RECONNECT_FAST ", \"send_queue_max_bytes\": 64}", &h), WSB_OK);
    CHECK(state_of(h) == WSB_STATE_OPEN, "state %u", state_of(h));
    EXPECT(send_text(h, "before"), WSB_OK);
    CHECK(recv_text(h, "before"), "echo before the kill");
    CHECK(driver("KILL"), "the driver did not kill the trainer");
    CHECK(wait_state(h, WSB_STATE_RECONNECTING), "state %u after the trainer was killed", state_of(h));
    /* Queued while the trainer is away, up to send_queue_max_bytes. */
    EXPECT(send_text(h, "queued-1 ................................"), WSB_OK);
    EXPECT(send_text(h, "queued-2"), WSB_OK);
    EXPECT(send_text(h, "too much ................................"), WSB_WOULD_BLOCK);
    CHECK(error_has("send_queue_max_bytes (64)") && error_has("not queued"), "message: %s", last_error());
    CHECK(state_of(h) == WSB_STATE_RECONNECTING, "state %u while the trainer is dead", state_of(h));
    uint16_t code;
    EXPECT(wsb_close_status(h, &code, NULL, 0, NULL), WSB_WOULD_BLOCK); /* not closed */
    CHECK(driver("START"), "the driver did not restart the trainer");
    uint8_t buf[64];
    size_t len = 12345;
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 20000), WSB_RECONNECTED);
    CHECK(len == 12345, "WSB_RECONNECTED wrote a length");
    CHECK(error_has("reconnected to ws://127.0.0.1:") && error_has("attempts") &&
              error_has("2 of 2 messages sent while reconnecting went to the new connection"),
          "message: %s", last_error());
    CHECK(state_of(h) == WSB_STATE_OPEN, "state %u after WSB_RECONNECTED", state_of(h));
    CHECK(recv_text(h, "queued-1 ................................"), "first queued message");
    CHECK(recv_text(h, "queued-2"), "second queued message");
    EXPECT(send_text(h, "after"), WSB_OK);
    CHECK(recv_text(h, "after"), "echo after the reconnect");
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* The trainer is killed for good: wsbridge gives up after give_up_ms and says so, with the
 * facts, once; then the connection is closed. */
static void test_killed_for_good(void) {
    char url[128];
    url_for(url, sizeof url, "WSB_TRAINER_PORT", "/echo");
    wsb_handle h;
    EXPECT(wsb_connect(url, "{\"reconnect\": {\"delay_ms\": 20, \"max_delay_ms\": 50, \"give_up_ms\": 300}}", &h),
           WSB_OK);
    CHECK(driver("KILL"), "the driver did not kill the trainer");
    CHECK(wait_state(h, WSB_STATE_RECONNECTING), "state %u after the trainer was killed", state_of(h));
    EXPECT(send_text(h, "never sent"), WSB_OK);
    uint8_t buf[64];
    size_t len;
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, -1), WSB_CONNECT_FAILED);
    CHECK(error_has("gave up trying to reconnect to ws://127.0.0.1:") && error_has("reconnect.give_up_ms (300 ms)") &&
              error_has("last error: cannot connect") && error_has("the connection had ended: connection to") &&
              error_has("1 message sent meanwhile was not sent"),
          "message: %s", last_error());
    CHECK(state_of(h) == WSB_STATE_CLOSED, "state %u after giving up", state_of(h));
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 0), WSB_CLOSED);
    CHECK(error_has("gave up"), "message: %s", last_error());
    EXPECT(send_text(h, "late"), WSB_CLOSED);
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* A trainer that answers the first three upgrade requests with HTTP 503: a connection started
 * with wsb_connect_async retries with backoff (each gap at least the delay, which doubles) and
 * opens on the fourth attempt; the message sent meanwhile arrives. */
static void test_refusing_trainer(void) {
    char id[64], path[128], url[192];
    unique_id(id, sizeof id, "refuse");
    snprintf(path, sizeof path, "/refuse/3/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    wsb_handle h;
    EXPECT(wsb_connect_async(url, "{\"reconnect\": {\"delay_ms\": 40, \"max_delay_ms\": 1000, \"jitter_percent\": 0}}",
                             &h),
           WSB_OK);
    uint32_t state = state_of(h);
    CHECK(state == WSB_STATE_CONNECTING || state == WSB_STATE_RECONNECTING, "state %u", state);
    EXPECT(send_text(h, "hello"), WSB_OK);
    /* Never open before: no WSB_RECONNECTED, the first message is the echo. */
    CHECK(recv_text(h, "hello"), "the message sent while refused");
    CHECK(state_of(h) == WSB_STATE_OPEN, "state %u", state_of(h));
    char attempts[256];
    snprintf(path, sizeof path, "/attempts/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    CHECK(fetch_text(url, attempts, sizeof attempts), "fetching %s: %s", url, last_error());
    char *p = attempts;
    long count = strtol(p, &p, 10);
    CHECK(count == 4, "the trainer saw %ld upgrade requests (%s), want 4", count, attempts);
    for (int i = 0; i < 3; i++) {
        long gap = strtol(p, &p, 10);
        CHECK(gap >= 40L << i, "gap %d between attempts was %ld ms, below the backoff of %ld ms (%s)", i, gap,
              40L << i, attempts);
    }
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* What is not retried: a close with 1000, an upgrade refused with 404, a failed first attempt of
 * the blocking wsb_connect. A close with 1012 (service restart) is. */
static void test_not_retried(void) {
    char url[192];
    wsb_handle h;
    uint8_t buf[64];
    size_t len;
    uint16_t code = 0;
    url_for(url, sizeof url, "WSB_ECHO_PORT", "/close/1000/done");
    EXPECT(wsb_connect(url, "{" RECONNECT_FAST "}", &h), WSB_OK);
    CHECK(recv_text(h, "closing"), "before the close");
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 20000), WSB_CLOSED);
    CHECK(state_of(h) == WSB_STATE_CLOSED, "state %u after a close with 1000", state_of(h));
    EXPECT(wsb_close_status(h, &code, NULL, 0, NULL), WSB_OK);
    CHECK(code == 1000, "close code %u", code);
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);

    url_for(url, sizeof url, "WSB_ECHO_PORT", "/nowhere");
    EXPECT(wsb_connect_async(url, "{" RECONNECT_FAST "}", &h), WSB_OK);
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 20000), WSB_HANDSHAKE_FAILED);
    CHECK(error_has("HTTP 404"), "message: %s", last_error());
    CHECK(state_of(h) == WSB_STATE_CLOSED, "state %u after a 404", state_of(h));
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);

    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", dead_port());
    EXPECT(wsb_connect(url, "{" RECONNECT_FAST "}", &h), WSB_CONNECT_FAILED);

    url_for(url, sizeof url, "WSB_ECHO_PORT", "/close/1012/restart");
    EXPECT(wsb_connect(url, "{" RECONNECT_FAST "}", &h), WSB_OK);
    CHECK(recv_text(h, "closing"), "before the first close");
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, 20000), WSB_RECONNECTED);
    CHECK(error_has("closed the connection with code 1012 \"restart\""), "message: %s", last_error());
    CHECK(recv_text(h, "closing"), "the new connection's message");
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* Reconnecting with a connection that never opened: wsb_connect_async to a port nobody listens
 * on gives up after give_up_ms, with the facts. */
static void test_give_up_connecting(void) {
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", dead_port());
    wsb_handle h;
    EXPECT(wsb_connect_async(url, "{\"reconnect\": {\"delay_ms\": 10, \"max_delay_ms\": 40, \"give_up_ms\": 300}}", &h),
           WSB_OK);
    EXPECT(send_text(h, "queued"), WSB_OK);
    uint8_t buf[16];
    size_t len;
    EXPECT(wsb_recv(h, buf, sizeof buf, &len, NULL, -1), WSB_CONNECT_FAILED);
    CHECK(error_has("gave up trying to connect") && error_has("attempts") && error_has("Connection refused") &&
              error_has("1 message sent meanwhile was not sent"),
          "message: %s", last_error());
    CHECK(state_of(h) == WSB_STATE_CLOSED, "state %u", state_of(h));
    EXPECT(wsb_close(h, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* wsb_close_async against a frozen trainer (it reads nothing, so it cannot answer the close):
 * the call returns while the close is unanswered, the handle is released at once, and the
 * handshake completes in the background once the trainer reads again: it saw our code and
 * reason, and wsb_shutdown, which waited for it, reports success. */
static void test_close_async_completes(void) {
    char id[64], path[160], url[192], report[256];
    unique_id(id, sizeof id, "frozen");
    snprintf(path, sizeof path, "/freeze/%s?id=%s", id, id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    wsb_handle h;
    EXPECT(wsb_connect(url, NULL, &h), WSB_OK);
    EXPECT(wsb_close_async(h, 4000, "left the level", 60000), WSB_OK);
    EXPECT(wsb_state(h, &(uint32_t){0}), WSB_INVALID_HANDLE);
    CHECK(wsbridge_threads() >= 1, "the background close has no thread: %s", thread_names());
    snprintf(path, sizeof path, "/resume/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    CHECK(fetch_text(url, report, sizeof report) && strcmp(report, "resumed") == 0, "resume: %s", last_error());
    snprintf(path, sizeof path, "/report/%s", id);
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
    CHECK(fetch_text(url, report, sizeof report), "report: %s", last_error());
    CHECK(strstr(report, "\"code\": 4000") && strstr(report, "left the level"), "the trainer saw %s", report);
    EXPECT(wsb_shutdown(-1), WSB_OK);
    CHECK(wsbridge_threads() == 0, "after wsb_shutdown: %s", thread_names());
}

/* A trainer frozen for good: wsb_close_async returns at once all the same; wsb_shutdown waits
 * for the close within its own timeout and reports it did not complete (and one whose own
 * timeout ran out too); nothing runs afterwards. */
static void test_close_async_frozen(void) {
    char id[64], path[160], url[192];
    wsb_handle h[2];
    for (int i = 0; i < 2; i++) {
        unique_id(id, sizeof id, "frozen");
        snprintf(path, sizeof path, "/freeze/%s", id);
        url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", path);
        EXPECT(wsb_connect(url, NULL, &h[i]), WSB_OK);
    }
    EXPECT(wsb_close_async(h[0], 1000, "bye", 60000), WSB_OK);
    EXPECT(wsb_close_async(h[1], 1000, "bye", 0), WSB_OK); /* drops it on the I/O thread */
    EXPECT(wsb_close_async(h[0], 1000, "bye", 0), WSB_INVALID_HANDLE);
    EXPECT(wsb_shutdown(300), WSB_TIMEOUT);
    CHECK(error_has("2 of 2 connections did not finish closing"), "message: %s", last_error());
    CHECK(wsbridge_threads() == 0, "after wsb_shutdown: %s", thread_names());
}

/* Rejected arguments change nothing. */
static void test_close_async_arguments(void) {
    char url[128];
    url_for(url, sizeof url, "WSB_ECHO_PORT", "/echo");
    wsb_handle h;
    EXPECT(wsb_connect(url, NULL, &h), WSB_OK);
    EXPECT(wsb_close_async(h, 1005, NULL, 1000), WSB_INVALID_ARGUMENT);
    EXPECT(wsb_close_async(h, 1000, NULL, -2), WSB_INVALID_ARGUMENT);
    CHECK(state_of(h) == WSB_STATE_OPEN, "state %u", state_of(h));
    EXPECT(wsb_connect(url, "{\"reconnect\": {\"jitter_percent\": 150}}", &h), WSB_INVALID_ARGUMENT);
    CHECK(error_has("`reconnect.jitter_percent`"), "message: %s", last_error());
    EXPECT(wsb_shutdown(5000), WSB_OK);
}

/* ---------------------------------------------------------------------------------------- */

static const test_case cases[] = {
    {"killed_trainer", test_killed_trainer},
    {"killed_for_good", test_killed_for_good},
    {"refusing_trainer", test_refusing_trainer},
    {"not_retried", test_not_retried},
    {"give_up_connecting", test_give_up_connecting},
    {"close_async_completes", test_close_async_completes},
    {"close_async_frozen", test_close_async_frozen},
    {"close_async_arguments", test_close_async_arguments},
};

int main(int argc, char **argv) {
    return run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
