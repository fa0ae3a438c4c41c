// The C++ wrapper (bindings/cpp/wsbridge.hpp) against a real Python `websockets` server.
//
//     wrapper_test CASE        (wrapper_test --list prints the cases)
//
// WSB_ECHO_PORT names a tests/servers/wsserver.py listening on 127.0.0.1; tests/cpp/test_wrapper.py
// starts it and runs every case. Built with -std=c++17 -fno-exceptions -fno-rtti and strict
// warnings (mk/cpp.mk).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "wsbridge.hpp"

using namespace std::chrono_literals;
using wsbridge::Client;
using wsbridge::Error;
using wsbridge::Kind;
using wsbridge::Message;
using wsbridge::Options;
using wsbridge::Result;

namespace {

int failures = 0;

#define CHECK(cond, ...)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            std::fprintf(stderr, __VA_ARGS__);                                       \
            std::fputc('\n', stderr);                                                \
            failures++;                                                              \
            return;                                                                  \
        }                                                                            \
    } while (0)

// A result that must be a success; prints the error (code name and message) otherwise.
#define CHECK_OK(result) CHECK((result).ok(), "%s", (result).error().to_string().c_str())

// A result that must fail with `want`.
#define CHECK_FAILS(result, want)                                                        \
    CHECK((result).error().code() == (want), "got %s, want %s", (result).error().to_string().c_str(), \
          wsb_result_name(want))

int port() {
    const char *v = std::getenv("WSB_ECHO_PORT");
    if (!v) {
        std::fprintf(stderr, "wrapper_test: WSB_ECHO_PORT is not set (run through tests/cpp/test_wrapper.py)\n");
        std::exit(2);
    }
    return std::atoi(v);
}

std::string url(std::string_view path) { return "ws://127.0.0.1:" + std::to_string(port()) + std::string(path); }

// A URL of tests/servers/misbehave.py (WSB_MISBEHAVE_PORT).
std::string misbehave_url(std::string_view path) {
    const char *v = std::getenv("WSB_MISBEHAVE_PORT");
    if (!v) {
        std::fprintf(stderr, "wrapper_test: WSB_MISBEHAVE_PORT is not set (run through tests/cpp/test_wrapper.py)\n");
        std::exit(2);
    }
    return "ws://127.0.0.1:" + std::string(v) + std::string(path);
}

// A per-process name, so /record/<id> routes of different cases never collide.
std::string unique(std::string_view stem) { return std::string(stem) + "-" + std::to_string(getpid()); }

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A listening socket that completes TCP handshakes and never answers.
struct SilentListener {
    int fd = -1;
    int port = 0;
    SilentListener() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&a), len) != 0 || listen(fd, 16) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
            std::perror("wrapper_test: silent listener");
            std::exit(2);
        }
        port = ntohs(a.sin_port);
    }
    ~SilentListener() { close(fd); }
    SilentListener(const SilentListener &) = delete;
    SilentListener &operator=(const SilentListener &) = delete;
};

// Bytes that differ from one position to the next (and include NULs for binary).
std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
    std::vector<std::uint8_t> out(size);
    std::uint32_t x = seed | 1u;
    for (auto &b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return out;
}

// UTF-8 text of exactly `size` bytes mixing ASCII and two-byte characters.
std::string utf8_text(std::size_t size) {
    std::string out;
    out.reserve(size);
    while (out.size() < size) {
        if (size - out.size() >= 2 && out.size() % 7 == 3)
            out += "\xc3\xa9";  // é
        else
            out += static_cast<char>('a' + out.size() % 26);
    }
    return out;
}

// The close code and reason the server received on /record/<id>, read from /report/<id>.
std::string reported_close(const std::string &id) {
    Result<Client> report = Client::connect(url("/report/" + id));
    if (!report) return "report connect failed: " + report.error().to_string();
    Result<Message> m = report->recv(10s);
    if (!m) return "report recv failed: " + m.error().to_string();
    return std::string(m->text());
}

const std::size_t kSizes[] = {0, 1, 125, 126, 65535, 65536, 65537, 300000, 1u << 20};

// ---------------------------------------------------------------------------------------------

void test_round_trip_text() {
    Result<Client> c = Client::connect(url("/echo/text"));
    CHECK_OK(c);
    for (std::size_t size : kSizes) {
        const std::string text = utf8_text(size);
        Result<void> sent = c->send(text);
        CHECK_OK(sent);
        Result<Message> m = c->recv(10s);
        CHECK_OK(m);
        CHECK(m->kind == Kind::text && m->is_text(), "size %zu came back as kind %u", size,
              static_cast<unsigned>(m->kind));
        CHECK(m->size == size && m->text() == text, "size %zu came back with %zu bytes, different", size,
              m->size);
    }
}

void test_round_trip_binary() {
    Result<Client> c = Client::connect(url("/echo/binary"));
    CHECK_OK(c);
    const std::uint8_t *largest_buffer = nullptr;
    for (std::size_t size : kSizes) {
        const std::vector<std::uint8_t> bytes = pattern(size, static_cast<std::uint32_t>(size));
        Result<void> sent = c->send_binary(bytes.data(), bytes.size());
        CHECK_OK(sent);
        Result<Message> m = c->recv(10s);
        CHECK_OK(m);
        CHECK(m->kind == Kind::binary && !m->is_text(), "size %zu came back as text", size);
        CHECK(m->size == size && (size == 0 || std::memcmp(m->data, bytes.data(), size) == 0),
              "size %zu came back with %zu bytes, different", size, m->size);
        largest_buffer = m->data;
    }
    // The buffer grew to 1 MiB once and is reused for smaller messages.
    const std::uint8_t small[3] = {1, 0, 2};
    Result<Message> m = c->exchange_binary(small, sizeof small, 10s);
    CHECK_OK(m);
    CHECK(m->size == 3 && std::memcmp(m->data, small, 3) == 0, "small message after 1 MiB");
    CHECK(m->data == largest_buffer, "the receive buffer was reallocated for a smaller message");
}

void test_move_construction() {
    Result<Client> c = Client::connect(url("/echo/move"));
    CHECK_OK(c);
    const wsb_handle h = c->handle();
    Client moved(std::move(*c));
    CHECK(!c->valid() && c->handle() == 0, "the moved-from client still holds handle %llu",
          static_cast<unsigned long long>(c->handle()));
    CHECK(moved.valid() && moved.handle() == h, "the handle did not move");
    Result<Message> m = moved.exchange("after move", 10s);
    CHECK_OK(m);
    CHECK(m->text() == "after move", "got %.*s", static_cast<int>(m->size), m->text().data());
    Result<void> stale = c->send("x");
    CHECK_FAILS(stale, WSB_INVALID_HANDLE);
    // Moving out of a Result by value works too.
    Result<Client> d = Client::connect(url("/echo/move2"));
    CHECK_OK(d);
    Client taken = std::move(d).value();
    CHECK(taken.valid() && !d->valid(), "std::move(result).value() did not move the client");
}

void test_move_assignment() {
    const std::string first = unique("assign-first"), second = unique("assign-second");
    Result<Client> a = Client::connect(url("/record/" + first));
    Result<Client> b = Client::connect(url("/record/" + second));
    CHECK_OK(a);
    CHECK_OK(b);
    Client target = std::move(*a);
    target = std::move(*b);  // closes the first connection with 1000
    CHECK(!b->valid(), "the moved-from client is not empty");
    std::string report = reported_close(first);
    CHECK(contains(report, "\"code\": 1000"), "assignment over an open client: server saw %s", report.c_str());
    Result<Message> m = target.exchange("second", 10s);
    CHECK_OK(m);
    CHECK(m->text() == "second", "the assigned client does not talk to the second connection");
    Client empty;
    target = std::move(empty);  // closes the second connection
    CHECK(!target.valid(), "assigning an empty client left a handle");
    report = reported_close(second);
    CHECK(contains(report, "\"code\": 1000"), "second connection: server saw %s", report.c_str());
}

void test_destructor_closes() {
    const std::string id = unique("destructor");
    {
        Result<Client> c = Client::connect(url("/record/" + id));
        CHECK_OK(c);
        Result<Message> m = c->exchange("hello", 10s);
        CHECK_OK(m);
    }  // ~Client
    const std::string report = reported_close(id);
    CHECK(contains(report, "\"code\": 1000"), "the server saw %s, want code 1000", report.c_str());
}

void test_bad_url() {
    Result<Client> c = Client::connect("http://127.0.0.1:1/env/0");
    CHECK_FAILS(c, WSB_INVALID_ARGUMENT);
    CHECK(contains(c.error().message(), "http://127.0.0.1:1/env/0"), "message: %s", c.error().message().c_str());
    CHECK(std::strcmp(c.error().name(), "WSB_INVALID_ARGUMENT") == 0, "name %s", c.error().name());
    // A failed Result holds an empty Client: using it is an error value, not a crash.
    CHECK(!c->valid(), "a failed connect produced a handle");
    Result<void> sent = c->send("x");
    CHECK_FAILS(sent, WSB_INVALID_HANDLE);

    Result<Client> garbage = Client::connect("not a url");
    CHECK_FAILS(garbage, WSB_INVALID_ARGUMENT);
    const std::string_view with_nul("ws://127.0.0.1:1/\0tail", 22);
    Result<Client> nul = Client::connect(with_nul);
    CHECK_FAILS(nul, WSB_INVALID_ARGUMENT);
    CHECK(contains(nul.error().message(), "NUL byte at offset 17"), "message: %s", nul.error().message().c_str());

    SilentListener gone;
    const int dead = gone.port;
    close(gone.fd);
    gone.fd = -1;
    Result<Client> refused = Client::connect("ws://127.0.0.1:" + std::to_string(dead) + "/env/0");
    CHECK_FAILS(refused, WSB_CONNECT_FAILED);
    CHECK(!refused.error().message().empty(), "no message for a refused connection");
}

void test_unrouted_path() {
    Result<Client> c = Client::connect(url("/no/such/route"));
    CHECK_FAILS(c, WSB_HANDSHAKE_FAILED);
    CHECK(contains(c.error().message(), "404"), "message: %s", c.error().message().c_str());
}

void test_connect_timeout() {
    SilentListener silent;
    Options options;
    options.connect_timeout_ms = 200;
    const std::string target = "ws://127.0.0.1:" + std::to_string(silent.port) + "/env/0";
    Result<Client> c = Client::connect(target, options);
    CHECK_FAILS(c, WSB_TIMEOUT);
    CHECK(c.error().is_timeout() && !c->valid(), "timeout: %s", c.error().to_string().c_str());

    // The same failure through connect_async: reported once by recv, as WSB_CONNECT_FAILED (for
    // recv a timeout means "no message yet"), then WSB_CLOSED.
    Result<Client> later = Client::connect_async(target, options);
    CHECK_OK(later);
    Result<wsbridge::State> state = later->state();
    CHECK_OK(state);
    Result<Message> failure = later->recv(wsbridge::forever);
    CHECK_FAILS(failure, WSB_CONNECT_FAILED);
    CHECK(failure.error().message().find("timed out after 200 ms") != std::string::npos, "message: %s",
          failure.error().to_string().c_str());
    Result<Message> after = later->recv(0ms);
    CHECK_FAILS(after, WSB_CLOSED);
}

void test_connect_async() {
    Result<Client> c = Client::connect_async(url("/echo/async"));
    CHECK_OK(c);
    Result<void> sent = c->send("queued while connecting");  // sent once open
    CHECK_OK(sent);
    Result<Message> m = c->recv(10s);
    CHECK_OK(m);
    CHECK(m->text() == "queued while connecting", "got %.*s", static_cast<int>(m->size), m->text().data());
    Result<wsbridge::State> state = c->state();
    CHECK_OK(state);
    CHECK(*state == wsbridge::State::open, "state %u", static_cast<unsigned>(*state));
}

void test_options_json() {
    CHECK(Options().to_json() == "{}", "empty options: %s", Options().to_json().c_str());
    Options o;
    o.connect_timeout_ms = 1500;
    o.headers["X-Quote"] = "say \"hi\"\tback\\slash \xc3\xa9\n\x01";
    o.headers["Authorization"] = "Bearer t";
    o.subprotocols = {"wsb.v1", "a\"b"};
    o.max_message_size = 4096;
    o.ping_interval_ms = 0;
    o.pong_timeout_ms = 300;
    o.send_queue_max_bytes = 1u << 20;
    o.recv_queue_max_bytes = 2u << 20;
    const std::string want =
        "{\"connect_timeout_ms\": 1500, "
        "\"headers\": {\"Authorization\": \"Bearer t\", "
        "\"X-Quote\": \"say \\\"hi\\\"\\tback\\\\slash \xc3\xa9\\n\\u0001\"}, "
        "\"subprotocols\": [\"wsb.v1\", \"a\\\"b\"], \"max_message_size\": 4096, \"ping_interval_ms\": 0, "
        "\"pong_timeout_ms\": 300, \"send_queue_max_bytes\": 1048576, \"recv_queue_max_bytes\": 2097152}";
    CHECK(o.to_json() == want, "\n got  %s\n want %s", o.to_json().c_str(), want.c_str());

    Options net;
    net.tls.ca_file = "C:\\certs\\ca.pem";
    net.tls.server_name = "trainer.internal";
    net.tls.accept_invalid_certs = true;
    net.proxy = "http://u:p@proxy:3128";
    net.proxy_from_env = false;
    const std::string want_net =
        "{\"tls\": {\"ca_file\": \"C:\\\\certs\\\\ca.pem\", \"server_name\": \"trainer.internal\", "
        "\"accept_invalid_certs\": true}, \"proxy\": \"http://u:p@proxy:3128\", \"proxy_from_env\": false}";
    CHECK(net.to_json() == want_net, "\n got  %s\n want %s", net.to_json().c_str(), want_net.c_str());
    // The library takes every key the wrapper writes (a ws:// URL refuses `tls` by name).
    Result<Client> refused = Client::connect(url("/echo"), net);
    CHECK_FAILS(refused, WSB_INVALID_ARGUMENT);
    CHECK(contains(refused.error().message(), "option `tls`"), "message: %s", refused.error().message().c_str());
}

// Options::reconnect: on its own (defaults) and with every field, taken by the library.
void test_reconnect_options_json() {
    Options o;
    o.reconnect.enabled = true;
    CHECK(o.to_json() == "{\"reconnect\": {}}", "defaults: %s", o.to_json().c_str());
    o.reconnect.delay_ms = 20;
    o.reconnect.max_delay_ms = 400;
    o.reconnect.give_up_ms = -1;
    o.reconnect.jitter_percent = 0;
    const std::string want =
        "{\"reconnect\": {\"delay_ms\": 20, \"max_delay_ms\": 400, \"give_up_ms\": -1, \"jitter_percent\": 0}}";
    CHECK(o.to_json() == want, "\n got  %s\n want %s", o.to_json().c_str(), want.c_str());
    Result<Client> c = Client::connect(url("/echo"), o);
    CHECK_OK(c);
    o.reconnect.jitter_percent = 101;
    Result<Client> refused = Client::connect(url("/echo"), o);
    CHECK_FAILS(refused, WSB_INVALID_ARGUMENT);
    CHECK(contains(refused.error().message(), "reconnect.jitter_percent"), "message: %s",
          refused.error().message().c_str());
}

// Options::reconnect against a trainer that refuses twice (HTTP 503): the message sent while
// refused arrives once it accepts. Then one that restarts (closes with 1012): recv says
// is_reconnected() once, with the facts, and the new connection's messages follow.
void test_reconnect() {
    Options o;
    o.reconnect.enabled = true;
    o.reconnect.delay_ms = 20;
    o.reconnect.give_up_ms = -1;
    Result<Client> c = Client::connect_async(misbehave_url("/refuse/2/" + unique("refuse")), o);
    CHECK_OK(c);
    CHECK_OK(c->send("sent while refused"));
    Result<Message> echoed = c->recv(20s);
    CHECK_OK(echoed);
    CHECK(echoed->text() == "sent while refused", "got %.*s", static_cast<int>(echoed->size), echoed->text().data());
    Result<wsbridge::State> state = c->state();
    CHECK(state.ok() && *state == wsbridge::State::open, "state %u", static_cast<unsigned>(*state));

    Result<Client> r = Client::connect(url("/close/1012/restart"), o);
    CHECK_OK(r);
    Result<Message> first = r->recv(20s);
    CHECK(first.ok() && first->text() == "closing", "%s", first.error().to_string().c_str());
    Result<Message> news = r->recv(20s);
    CHECK(news.error().is_reconnected(), "got %s", news.error().to_string().c_str());
    CHECK(contains(news.error().message(), "code 1012"), "message: %s", news.error().message().c_str());
    Result<Message> again = r->recv(20s);
    CHECK(again.ok() && again->text() == "closing", "%s", again.error().to_string().c_str());
}

// The destructor never blocks: a Client connected to a frozen trainer (it reads nothing, so it
// never answers the close) with no limit on its close is destroyed at once; shutdown() waits
// for that close in the background and reports it did not complete.
void test_destructor_never_blocks() {
    {
        Result<Client> c = Client::connect(misbehave_url("/freeze/" + unique("frozen-destructor")));
        CHECK_OK(c);
        c->set_close_timeout(wsbridge::forever);
    }  // ~Client: a blocking close would wait for ever here
    Result<void> down = wsbridge::shutdown(300ms);
    CHECK_FAILS(down, WSB_TIMEOUT);
    CHECK(contains(down.error().message(), "1 of 1 connections did not finish closing"), "message: %s",
          down.error().message().c_str());
}

void test_options_reach_the_server() {
    Options o;
    o.headers["X-Wsb-Test"] = "say \"hi\"\tback\\slash";
    o.subprotocols = {"wsb.v1"};
    Result<Client> c = Client::connect(url("/headers"), o);
    CHECK_OK(c);
    Result<Message> m = c->recv(10s);
    CHECK_OK(m);
    // The server answers with its request headers as JSON (names lowercased on the wire).
    const std::string_view want = R"("x-wsb-test": "say \"hi\"\tback\\slash")";
    CHECK(contains(m->text(), want), "headers seen by the server: %.*s", static_cast<int>(m->size),
          m->text().data());
    Result<std::string> protocol = c->subprotocol();
    CHECK_OK(protocol);
    CHECK(*protocol == "wsb.v1", "subprotocol \"%s\"", protocol->c_str());

    // A control character survives the JSON escaping and is rejected by name by the library.
    Options bad;
    bad.headers["X-Wsb-Bad"] = "a\x01z";
    Result<Client> rejected = Client::connect(url("/headers"), bad);
    CHECK_FAILS(rejected, WSB_INVALID_ARGUMENT);
    CHECK(contains(rejected.error().message(), "X-Wsb-Bad"), "message: %s", rejected.error().message().c_str());
    Options zero;
    zero.max_message_size = 0;
    Result<Client> invalid = Client::connect(url("/echo"), zero);
    CHECK_FAILS(invalid, WSB_INVALID_ARGUMENT);
    CHECK(contains(invalid.error().message(), "max_message_size"), "message: %s", invalid.error().message().c_str());
}

void test_error_values() {
    Client empty;
    CHECK(!empty.valid() && !empty, "a default Client is not empty");
    Result<void> sent = empty.send("x");
    CHECK_FAILS(sent, WSB_INVALID_HANDLE);
    CHECK(!sent.error().message().empty(), "no message for an invalid handle");
    Result<Message> got = empty.recv(0ms);
    CHECK_FAILS(got, WSB_INVALID_HANDLE);
    CHECK(got->size == 0 && got->data == nullptr, "a failed recv holds a non-empty message");
    Result<wsbridge::State> state = empty.state();
    CHECK_FAILS(state, WSB_INVALID_HANDLE);
    Result<void> closed = empty.close();
    CHECK_FAILS(closed, WSB_INVALID_HANDLE);

    Options small;
    small.max_message_size = 1024;
    Result<Client> c = Client::connect(url("/echo/errors"), small);
    CHECK_OK(c);
    Result<void> invalid_utf8 = c->send("\xff\xfe");
    CHECK_FAILS(invalid_utf8, WSB_INVALID_UTF8);
    const std::vector<std::uint8_t> big(2000, 7);
    Result<void> too_big = c->send_binary(big.data(), big.size());
    CHECK_FAILS(too_big, WSB_MESSAGE_TOO_BIG);
    Result<void> bad_code = c->close(999);
    CHECK_FAILS(bad_code, WSB_INVALID_ARGUMENT);
    Result<void> bad_reason = c->close(1000, std::string_view("a\0b", 3));
    CHECK_FAILS(bad_reason, WSB_INVALID_ARGUMENT);
    CHECK(contains(bad_reason.error().message(), "close reason"), "message: %s",
          bad_reason.error().message().c_str());
    // None of these changed the connection.
    CHECK(c->valid(), "a rejected close released the client");
    Result<Message> m = c->exchange("still open", 10s);
    CHECK_OK(m);
    CHECK(m->text() == "still open", "got %.*s", static_cast<int>(m->size), m->text().data());
    Result<void> done = c->close(1000, "bye", 60s); // patient: returns when done
    CHECK_OK(done);
    CHECK(!c->valid(), "close() left a handle");
}

void test_recv_timeout() {
    Result<Client> c = Client::connect(url("/silent"));
    CHECK_OK(c);
    Result<Message> m = c->recv(50ms);
    CHECK_FAILS(m, WSB_TIMEOUT);
    CHECK(m.error().is_timeout() && !m.error().is_closed(), "is_timeout");
    Result<wsbridge::State> state = c->state();
    CHECK_OK(state);
    CHECK(*state == wsbridge::State::open, "a timeout changed the state to %u", static_cast<unsigned>(*state));
}

void test_close_status() {
    Result<Client> c = Client::connect(url("/close/4000/bye%20now"));
    CHECK_OK(c);
    Result<Message> first = c->recv(10s);
    CHECK_OK(first);
    CHECK(first->text() == "closing", "first message %.*s", static_cast<int>(first->size), first->text().data());
    Result<Message> end = c->recv(10s);
    CHECK_FAILS(end, WSB_CLOSED);
    CHECK(end.error().is_closed(), "is_closed");
    Result<wsbridge::CloseStatus> status = c->close_status();
    CHECK_OK(status);
    CHECK(status->code == 4000 && status->reason == "bye now", "close status %u \"%s\"", status->code,
          status->reason.c_str());
    Result<void> closed = c->close();
    CHECK_OK(closed);
}

void test_close_from_another_thread() {
    Result<Client> c = Client::connect(url("/silent"));
    CHECK_OK(c);
    wsb_result seen = WSB_OK;
    std::thread receiver([&] { seen = c->recv(wsbridge::forever).error().code(); });
    Result<void> closed = c->close(1000, "", 60s);
    receiver.join();
    CHECK_OK(closed);
    CHECK(seen == WSB_CLOSED || seen == WSB_INVALID_HANDLE, "the waiting recv returned %s", wsb_result_name(seen));
}

// A trainer frozen by /freeze/<id> reads nothing, so a blocking close without a time limit
// would wait until /resume/<id>, which this test opens only after close_in_background returned.
void test_close_in_background_never_blocks() {
    const std::string id = unique("freeze");
    Result<Client> c = Client::connect(misbehave_url("/freeze/" + id + "?id=" + id));
    CHECK_OK(c);
    Result<void> started = c->close_in_background(4005, "level unloaded", wsbridge::forever);
    CHECK_OK(started);
    CHECK(!c->valid(), "the Client is empty at once");
    CHECK_FAILS(c->send("late"), WSB_INVALID_HANDLE);
    Result<Client> resume = Client::connect(misbehave_url("/resume/" + id));
    CHECK_OK(resume);
    Result<Message> resumed = resume->recv(10s);
    CHECK_OK(resumed);
    // /report/<id> answers once the frozen connection has ended: the background close finished.
    Result<Client> report = Client::connect(misbehave_url("/report/" + id));
    CHECK_OK(report);
    Result<Message> seen = report->recv(wsbridge::forever);
    CHECK_OK(seen);
    CHECK(contains(seen->text(), "4005") && contains(seen->text(), "level unloaded"), "report %.*s",
          static_cast<int>(seen->size), seen->text().data());
    Client empty;
    CHECK_OK(empty.close_in_background());
    Result<Client> other = Client::connect(url("/echo"));
    CHECK_OK(other);
    CHECK_FAILS(other->close_in_background(1000, std::string("bad\0reason", 10)), WSB_INVALID_ARGUMENT);
    CHECK(other->valid(), "a refused reason changes nothing");
}

// Sending on a lost link is a value, never a crash: WSB_CLOSED or WSB_CONNECTION_LOST, and the
// end still reaches the game through recv, once, as the error that ended it.
void test_send_on_a_lost_link() {
    Result<Client> c = Client::connect(misbehave_url("/drop"));
    CHECK_OK(c);
    Result<Message> end = c->recv(10s);
    CHECK(!end && !end.error().is_timeout(), "the drop is reported by recv");
    for (int i = 0; i < 3; i++) {
        Result<void> sent = c->send("obs");
        CHECK(sent.error().code() == WSB_CLOSED || sent.error().code() == WSB_CONNECTION_LOST, "send: %s",
              sent.error().to_string().c_str());
    }
    Result<Message> after = c->recv(0ms);
    CHECK(after.error().is_closed(), "then WSB_CLOSED: %s", after.error().to_string().c_str());
}

void test_poll() {
    Result<Client> c = Client::connect(url("/echo/poll"));
    CHECK_OK(c);
    const int count = 7;
    for (int i = 0; i < count; i++) {
        Result<void> sent = c->send("m" + std::to_string(i));
        CHECK_OK(sent);
    }
    std::vector<std::string> got;
    auto keep = [&got](const Message &m) { got.emplace_back(m.text()); };
    while (got.size() < static_cast<std::size_t>(count)) {
        Result<std::size_t> n = c->poll(2, keep);
        CHECK_OK(n);
        CHECK(*n <= 2, "poll(2) delivered %zu messages", *n);
        if (*n == 0) {  // nothing arrived yet: wait for the next message instead of spinning
            Result<Message> m = c->recv(10s);
            CHECK_OK(m);
            keep(*m);
        }
    }
    for (int i = 0; i < count; i++)
        CHECK(got[static_cast<std::size_t>(i)] == "m" + std::to_string(i), "message %d is %s", i,
              got[static_cast<std::size_t>(i)].c_str());

    // A callback that returns false stops the poll after its message.
    for (int i = 0; i < count; i++) {
        Result<void> sent = c->send("s" + std::to_string(i));
        CHECK_OK(sent);
    }
    got.clear();
    Result<Message> head = c->recv(10s);  // once s0 is here, the others follow it closely
    CHECK_OK(head);
    keep(*head);
    while (got.size() < static_cast<std::size_t>(count)) {
        Result<std::size_t> n = c->poll(10, [&got](const Message &m) {
            got.emplace_back(m.text());
            return false;
        });
        CHECK_OK(n);
        CHECK(*n <= 1, "a callback returning false did not stop poll (%zu messages)", *n);
        if (*n == 0) {
            Result<Message> m = c->recv(10s);
            CHECK_OK(m);
            keep(*m);
        }
    }
    CHECK(got.back() == "s" + std::to_string(count - 1), "last message %s", got.back().c_str());

    // After the connection ends, poll delivers what came before, then the WSB_CLOSED error.
    Result<Client> closing = Client::connect(url("/close/1000/done"));
    CHECK_OK(closing);
    Result<Message> first = closing->recv(10s);
    CHECK_OK(first);
    Result<Message> end = closing->recv(10s);
    CHECK_FAILS(end, WSB_CLOSED);
    Result<std::size_t> after = closing->poll(10, keep);
    CHECK_FAILS(after, WSB_CLOSED);
}

void test_lockstep_exchange() {
    Result<Client> c = Client::connect(url("/env/lockstep"));
    CHECK_OK(c);
    for (int step = 0; step < 200; step++) {
        const std::string obs = "{\"step\": " + std::to_string(step) + "}";
        Result<Message> reply = c->exchange(obs, 10s);
        CHECK_OK(reply);
        CHECK(reply->text() == obs, "step %d: got %.*s", step, static_cast<int>(reply->size), reply->text().data());
    }
}

void test_shutdown() {
    const std::string id = unique("shutdown");
    Result<Client> c = Client::connect(url("/record/" + id));
    CHECK_OK(c);
    Result<void> down = wsbridge::shutdown(2000ms);
    CHECK_OK(down);
    Result<void> sent = c->send("after shutdown");
    CHECK_FAILS(sent, WSB_INVALID_HANDLE);
    const std::string report = reported_close(id);  // also proves the library is usable again
    CHECK(contains(report, "\"code\": 1001"), "after wsb_shutdown the server saw %s, want 1001", report.c_str());
}  // ~Client on the stale handle: a harmless WSB_INVALID_HANDLE

void test_version() {
    Result<void> same = wsbridge::check_version();
    CHECK_OK(same);
    const std::string want = std::to_string(WSB_VERSION_MAJOR) + "." + std::to_string(WSB_VERSION_MINOR) + "." +
                             std::to_string(WSB_VERSION_PATCH);
    CHECK(wsbridge::version() == want, "version %s", std::string(wsbridge::version()).c_str());
}

struct Case {
    const char *name;
    void (*run)();
};

const Case kCases[] = {
    {"round_trip_text", test_round_trip_text},
    {"round_trip_binary", test_round_trip_binary},
    {"move_construction", test_move_construction},
    {"move_assignment", test_move_assignment},
    {"destructor_closes", test_destructor_closes},
    {"bad_url", test_bad_url},
    {"unrouted_path", test_unrouted_path},
    {"connect_timeout", test_connect_timeout},
    {"connect_async", test_connect_async},
    {"options_json", test_options_json},
    {"options_reach_the_server", test_options_reach_the_server},
    {"reconnect_options_json", test_reconnect_options_json},
    {"reconnect", test_reconnect},
    {"destructor_never_blocks", test_destructor_never_blocks},
    {"error_values", test_error_values},
    {"recv_timeout", test_recv_timeout},
    {"close_status", test_close_status},
    {"close_from_another_thread", test_close_from_another_thread},
    {"close_in_background_never_blocks", test_close_in_background_never_blocks},
    {"send_on_a_lost_link", test_send_on_a_lost_link},
    {"poll", test_poll},
    {"lockstep_exchange", test_lockstep_exchange},
    {"shutdown", test_shutdown},
    {"version", test_version},
};

}  // namespace

int main(int argc, char **argv) {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const Case &c : kCases) std::printf("%s\n", c.name);
        return 0;
    }
    if (argc != 2) {
        std::fprintf(stderr, "usage: wrapper_test CASE | --list\n");
        return 2;
    }
    for (const Case &c : kCases) {
        if (std::strcmp(argv[1], c.name) == 0) {
            c.run();
            return failures ? 1 : 0;
        }
    }
    std::fprintf(stderr, "wrapper_test: no case named %s (see --list)\n", argv[1]);
    return 2;
}
