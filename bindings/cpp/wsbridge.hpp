/*
 * wsbridge.hpp: a header-only C++17 wrapper over the wsbridge C ABI (wsbridge.h).
 *
 * Built for game engines: it compiles with exceptions and RTTI off (-fno-exceptions -fno-rtti,
 * Unreal's defaults), reports every failure as a value, and owns no thread (a close in the
 * background, close_in_background and the destructor's, runs on the library's I/O thread).
 *
 *     #include "wsbridge.hpp"
 *     using namespace std::chrono_literals;
 *
 *     wsbridge::Options options;
 *     options.connect_timeout_ms = 5000;
 *     wsbridge::Result<wsbridge::Client> connected =
 *         wsbridge::Client::connect("ws://127.0.0.1:8001/env/0", options);
 *     if (!connected) {
 *         std::fprintf(stderr, "%s\n", connected.error().to_string().c_str());
 *         return;                       // e.g. "WSB_HANDSHAKE_FAILED: ... HTTP 404 ..."
 *     }
 *     wsbridge::Client client = std::move(connected).value();
 *     if (auto sent = client.send(R"({"obs": [0.1]})"); !sent) { ... sent.error() ... }
 *     wsbridge::Result<wsbridge::Message> reply = client.recv(1000ms);
 *     if (reply) use(reply->kind, reply->text());   // a view into the client's buffer
 *     else if (reply.error().is_timeout()) { ... }  // nothing yet: not an error
 *                                        // ~Client() closes with 1000 (normal closure),
 *                                        // in the background: it never blocks
 *
 * Errors are values: every fallible call returns a Result<T>, which holds either a T or an
 * Error (the result code, its name, and the wsb_last_error() text captured right after the
 * failing C call, on the calling thread). Result<T> tests true on success. On failure it still
 * holds a default T (an empty Client, an empty Message), so a forgotten check reads a
 * harmless value instead of undefined behaviour: an empty Client answers every call with
 * WSB_INVALID_HANDLE.
 *
 * Thread safety of a Client (the C ABI allows more; the wrapper adds a receive buffer):
 * - send, send_binary, state, subprotocol, close_status and close may be called from any
 *   thread, also while another thread waits in recv. close() wakes that recv (it returns
 *   WSB_CLOSED or WSB_INVALID_HANDLE).
 * - recv, poll and exchange use the client's receive buffer: one thread at a time.
 * - moving, assigning and destroying a Client need every other thread to be done with it.
 *
 * Result codes, options and their defaults are documented once, in wsbridge.h.
 */
#ifndef WSBRIDGE_HPP
#define WSBRIDGE_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "wsbridge.h"

namespace wsbridge {

/// A timeout for recv: wait without limit.
inline constexpr std::chrono::milliseconds forever{-1};

/// The failure of a call: a wsbridge result code and the message that states the facts.
class Error {
public:
    /// No error (code WSB_OK).
    Error() = default;
    Error(wsb_result code, std::string message) : code_(code), message_(std::move(message)) {}

    /// The error the C call just made on this thread returned: `code` and wsb_last_error().
    static Error last(wsb_result code) {
        std::string message(wsb_last_error(nullptr, 0), '\0');
        // Writes the text and its NUL terminator, which std::string keeps past size().
        if (!message.empty()) wsb_last_error(&message[0], message.size() + 1);
        return Error(code, std::move(message));
    }

    /// The result code: one of the WSB_* codes of wsbridge.h.
    wsb_result code() const noexcept { return code_; }
    /// The code's name, e.g. "WSB_TIMEOUT".
    const char *name() const noexcept { return wsb_result_name(code_); }
    /// What happened, e.g. "ws://127.0.0.1:8001/nope: the server refused ... HTTP 404 ...".
    const std::string &message() const noexcept { return message_; }
    /// "WSB_NAME: message", for logs.
    std::string to_string() const { return std::string(name()) + ": " + message_; }

    /// WSB_TIMEOUT: nothing happened in time. For recv, not a failure: call again.
    bool is_timeout() const noexcept { return code_ == WSB_TIMEOUT; }
    /// WSB_CLOSED: the connection has ended (read why with Client::close_status).
    bool is_closed() const noexcept { return code_ == WSB_CLOSED; }
    /// WSB_RECONNECTED (Options::reconnect only): not a failure; the link was lost and a new
    /// connection is open: send the peer what it needs first (a hello), then receive again.
    bool is_reconnected() const noexcept { return code_ == WSB_RECONNECTED; }

private:
    wsb_result code_ = WSB_OK;
    std::string message_;
};

/// A T, or the Error that prevented it. Converts to true on success.
template <class T>
class [[nodiscard]] Result {
    static_assert(std::is_default_constructible<T>::value,
                  "Result<T> keeps a default T on failure, so T must be default-constructible");

public:
    Result(T value) : value_(std::move(value)) {}
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const noexcept { return error_.code() == WSB_OK; }
    explicit operator bool() const noexcept { return ok(); }

    /// The error; code WSB_OK on success.
    const Error &error() const noexcept { return error_; }

    /// The value on success; a default T on failure (never undefined behaviour).
    T &value() & noexcept { return value_; }
    const T &value() const & noexcept { return value_; }
    T &&value() && noexcept { return std::move(value_); }
    T &operator*() & noexcept { return value_; }
    const T &operator*() const & noexcept { return value_; }
    T &&operator*() && noexcept { return std::move(value_); }
    T *operator->() noexcept { return &value_; }
    const T *operator->() const noexcept { return &value_; }

private:
    T value_{};
    Error error_;
};

/// Success, or the Error of a call that returns nothing. Not [[nodiscard]]: a game may ignore
/// the result of a per-frame send (a lost link is reported again, once, by recv/poll).
template <>
class Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const noexcept { return error_.code() == WSB_OK; }
    explicit operator bool() const noexcept { return ok(); }
    const Error &error() const noexcept { return error_; }

private:
    Error error_;
};

/// Options of a connection. Unset fields keep the defaults documented in wsbridge.h; each
/// field is the option of the same name there.
struct Options {
    std::optional<std::uint32_t> connect_timeout_ms;
    std::map<std::string, std::string> headers;  ///< extra upgrade headers, e.g. Authorization
    std::vector<std::string> subprotocols;       ///< offered in Sec-WebSocket-Protocol
    std::optional<std::uint64_t> max_message_size;
    std::optional<std::uint32_t> ping_interval_ms;  ///< 0 disables wsbridge's own pings
    std::optional<std::uint32_t> pong_timeout_ms;
    std::optional<std::uint64_t> send_queue_max_bytes;
    std::optional<std::uint64_t> recv_queue_max_bytes;
    /// TLS for wss:// URLs (rejected on ws://): a PEM file of trusted CAs (replaces the system's
    /// roots), the name to verify instead of the URL's host, and, for development only, no
    /// certificate check at all.
    struct Tls {
        std::optional<std::string> ca_file;
        std::optional<std::string> server_name;
        bool accept_invalid_certs = false;
    } tls;
    std::optional<std::string> proxy;     ///< HTTP proxy, "http://user:pass@host:port"
    std::optional<bool> proxy_from_env;   ///< false ignores HTTPS_PROXY, HTTP_PROXY, ALL_PROXY
    /// Reconnect after a lost link, with backoff and jitter (the `reconnect` option of
    /// wsb_connect, where the rules are: when it retries, State::reconnecting, messages sent
    /// meanwhile queued up to send_queue_max_bytes, recv's is_reconnected()). Off unless
    /// `enabled`; unset fields keep the library's defaults.
    struct Reconnect {
        bool enabled = false;
        std::optional<std::uint32_t> delay_ms;        ///< first delay (default 100)
        std::optional<std::uint32_t> max_delay_ms;    ///< cap of the doubling delay (default 5000)
        std::optional<std::int32_t> give_up_ms;       ///< -1 never (default 60000)
        std::optional<std::uint32_t> jitter_percent;  ///< random share of each delay (default 50)
    } reconnect;

    /// The options JSON object wsb_connect takes. Strings are escaped (quotes, backslashes and
    /// control characters; UTF-8 passes through). Values are checked by the library, whose
    /// messages name the option.
    std::string to_json() const {
        std::string json = "{";
        auto key = [&json](const char *name) {
            if (json.size() > 1) json += ", ";
            json += '"';
            json += name;
            json += "\": ";
        };
        auto number = [&](const char *name, const auto &field) {
            if (field) {
                key(name);
                json += std::to_string(*field);
            }
        };
        number("connect_timeout_ms", connect_timeout_ms);
        if (!headers.empty()) {
            key("headers");
            json += '{';
            for (const auto &header : headers) {
                if (json.back() != '{') json += ", ";
                append_json_string(json, header.first);
                json += ": ";
                append_json_string(json, header.second);
            }
            json += '}';
        }
        if (!subprotocols.empty()) {
            key("subprotocols");
            json += '[';
            for (const auto &protocol : subprotocols) {
                if (json.back() != '[') json += ", ";
                append_json_string(json, protocol);
            }
            json += ']';
        }
        number("max_message_size", max_message_size);
        number("ping_interval_ms", ping_interval_ms);
        number("pong_timeout_ms", pong_timeout_ms);
        number("send_queue_max_bytes", send_queue_max_bytes);
        number("recv_queue_max_bytes", recv_queue_max_bytes);
        if (tls.ca_file || tls.server_name || tls.accept_invalid_certs) {
            key("tls");
            json += '{';
            if (tls.ca_file) {
                json += "\"ca_file\": ";
                append_json_string(json, *tls.ca_file);
            }
            if (tls.server_name) {
                if (json.back() != '{') json += ", ";
                json += "\"server_name\": ";
                append_json_string(json, *tls.server_name);
            }
            if (tls.accept_invalid_certs) {
                if (json.back() != '{') json += ", ";
                json += "\"accept_invalid_certs\": true";
            }
            json += '}';
        }
        if (proxy) {
            key("proxy");
            append_json_string(json, *proxy);
        }
        if (proxy_from_env) {
            key("proxy_from_env");
            json += *proxy_from_env ? "true" : "false";
        }
        if (reconnect.enabled) {
            key("reconnect");
            json += '{';
            auto field = [&json](const char *name, const auto &value) {
                if (!value) return;
                if (json.back() != '{') json += ", ";
                json += '"';
                json += name;
                json += "\": ";
                json += std::to_string(*value);
            };
            field("delay_ms", reconnect.delay_ms);
            field("max_delay_ms", reconnect.max_delay_ms);
            field("give_up_ms", reconnect.give_up_ms);
            field("jitter_percent", reconnect.jitter_percent);
            json += '}';
        }
        json += '}';
        return json;
    }

    /// Appends `text` to `json` as a JSON string literal (RFC 8259 escaping).
    static void append_json_string(std::string &json, std::string_view text) {
        static const char hex[] = "0123456789abcdef";
        json += '"';
        for (char c : text) {
            switch (c) {
            case '"': json += "\\\""; break;
            case '\\': json += "\\\\"; break;
            case '\b': json += "\\b"; break;
            case '\f': json += "\\f"; break;
            case '\n': json += "\\n"; break;
            case '\r': json += "\\r"; break;
            case '\t': json += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    json += "\\u00";
                    json += hex[static_cast<unsigned char>(c) >> 4];
                    json += hex[static_cast<unsigned char>(c) & 0xf];
                } else {
                    json += c;
                }
            }
        }
        json += '"';
    }
};

/// The kind of a message.
enum class Kind : std::uint32_t { text = WSB_TEXT, binary = WSB_BINARY };

/// The state of a connection (wsb_state).
enum class State : std::uint32_t {
    connecting = WSB_STATE_CONNECTING,
    open = WSB_STATE_OPEN,
    closing = WSB_STATE_CLOSING,
    closed = WSB_STATE_CLOSED,
    reconnecting = WSB_STATE_RECONNECTING,  ///< Options::reconnect: waiting or connecting again
};

/// One whole received message: a view into the receiving Client's buffer, valid until the
/// next recv, poll or exchange on that Client, or until it is moved or destroyed.
struct Message {
    Kind kind = Kind::binary;
    const std::uint8_t *data = nullptr;
    std::size_t size = 0;

    bool is_text() const noexcept { return kind == Kind::text; }
    /// The bytes as characters (UTF-8 for a text message).
    std::string_view text() const noexcept {
        return size ? std::string_view(reinterpret_cast<const char *>(data), size) : std::string_view();
    }
};

/// The close code and reason the peer sent (wsb_close_status).
struct CloseStatus {
    std::uint16_t code = 0;  ///< 1005: the close frame had no code; 1006: no close frame
    std::string reason;
};

namespace detail {

inline std::int32_t to_timeout_ms(std::chrono::milliseconds timeout) noexcept {
    if (timeout.count() < 0) return -1;
    constexpr std::chrono::milliseconds::rep most = INT32_MAX;
    return static_cast<std::int32_t>(timeout.count() < most ? timeout.count() : most);
}

/// Copies `text` into `out` as a NUL-terminated C string; fails if `text` holds a NUL byte,
/// which the C side would take as the end of the string.
inline Result<void> c_string(const char *what, std::string_view text, std::string &out) {
    std::size_t nul = text.find('\0');
    if (nul != std::string_view::npos) {
        return Error(WSB_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte at offset " +
                                               std::to_string(nul) + ", which C would read as its end");
    }
    out.assign(text.data(), text.size());
    return {};
}

/// Success, or the Error of the C call that just returned `r` on this thread.
inline Result<void> result_of(wsb_result r) {
    if (r != WSB_OK) return Error::last(r);
    return {};
}

}  // namespace detail

/// A WebSocket connection. Move-only; the destructor closes it (code 1000) if it is open.
/// A default-constructed or moved-from Client is empty: every call returns WSB_INVALID_HANDLE.
class Client {
public:
    Client() noexcept = default;
    ~Client() { release_quietly(); }

    Client(Client &&other) noexcept
        : handle_(other.handle_.exchange(0)),
          buffer_(std::move(other.buffer_)),
          capacity_(std::exchange(other.capacity_, 0)),
          close_timeout_ms_(other.close_timeout_ms_) {}

    /// Closes this client's own connection (code 1000, in the background), then takes over
    /// `other`'s.
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            release_quietly();
            handle_.store(other.handle_.exchange(0));
            buffer_ = std::move(other.buffer_);
            capacity_ = std::exchange(other.capacity_, 0);
            close_timeout_ms_ = other.close_timeout_ms_;
        }
        return *this;
    }

    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /// Opens `url` (ws://host[:port][/path][?query]) and blocks until the connection is open
    /// or has failed, within options.connect_timeout_ms (wsb_connect).
    static Result<Client> connect(std::string_view url, const Options &options = {}) {
        return open(url, options, wsb_connect);
    }

    /// Starts opening `url` and returns at once, in State::connecting (wsb_connect_async).
    /// Messages sent meanwhile are queued; a failure is reported once by recv or poll.
    static Result<Client> connect_async(std::string_view url, const Options &options = {}) {
        return open(url, options, wsb_connect_async);
    }

    /// Takes ownership of a handle from the C API (0 makes an empty Client).
    static Client adopt(wsb_handle handle) noexcept {
        Client client;
        client.handle_.store(handle);
        return client;
    }

    /// The C handle, for calls the wrapper does not cover; still owned by this Client.
    wsb_handle handle() const noexcept { return handle_.load(); }
    /// Gives the handle up without closing it: the caller must wsb_close it.
    wsb_handle release() noexcept { return handle_.exchange(0); }
    /// True unless the Client is empty (it may still be connecting, or closed by the peer).
    bool valid() const noexcept { return handle_.load() != 0; }
    explicit operator bool() const noexcept { return valid(); }

    /// Queues one whole text message (must be UTF-8) and returns without waiting (wsb_send).
    /// WSB_WOULD_BLOCK: the send queue is full and the message was not queued.
    Result<void> send(std::string_view text) {
        return detail::result_of(wsb_send(handle(), reinterpret_cast<const std::uint8_t *>(text.data()),
                                          text.size(), WSB_TEXT));
    }

    /// Queues one whole binary message of `size` bytes from `data`.
    Result<void> send_binary(const void *data, std::size_t size) {
        return detail::result_of(wsb_send(handle(), static_cast<const std::uint8_t *>(data), size, WSB_BINARY));
    }

    /// Waits until every message queued so far has been written to the socket (wsb_flush).
    /// `timeout`: 0ms only checks, wsbridge::forever waits without limit. is_timeout(): some
    /// bytes are still queued (the peer reads slower than the game sends).
    Result<void> flush(std::chrono::milliseconds timeout) {
        return detail::result_of(wsb_flush(handle(), detail::to_timeout_ms(timeout)));
    }

    /// Receives one whole message into the client's reusable buffer, which grows to the
    /// largest message seen. `timeout`: 0ms polls, wsbridge::forever waits without limit.
    /// Errors: is_timeout() (nothing yet: the connection is fine), is_closed() (ended: see
    /// close_status), is_reconnected() (Options::reconnect: a new connection is open; receive
    /// again), or the error that ended the connection, reported once (wsb_recv).
    Result<Message> recv(std::chrono::milliseconds timeout) { return receive(timeout, true); }

    /// Delivers the messages already received, at most `max_messages` of them, to
    /// `on_message(const Message &)` without waiting, and returns how many. For a game's
    /// per-frame tick. `on_message` may return bool: false stops the poll after that message
    /// (e.g. when it closed or replaced this Client). An error other than a timeout (the
    /// connection ended or failed) is returned after the messages received before it.
    template <class OnMessage>
    Result<std::size_t> poll(std::size_t max_messages, OnMessage &&on_message) {
        std::size_t delivered = 0;
        while (delivered < max_messages) {
            Result<Message> message = receive(std::chrono::milliseconds(0), false);
            if (!message) {
                if (message.error().is_timeout()) break;
                return message.error();
            }
            ++delivered;
            if constexpr (std::is_same<decltype(on_message(*message)), bool>::value) {
                if (!on_message(*message)) break;
            } else {
                on_message(*message);
            }
        }
        return delivered;
    }

    /// Lockstep: sends `text` and waits up to `timeout` for the next message (the reply of a
    /// trainer that answers every message once). Blocks the calling thread: wsbridge delivers
    /// the reply without any engine tick.
    Result<Message> exchange(std::string_view text, std::chrono::milliseconds timeout) {
        Result<void> sent = send(text);
        if (!sent) return sent.error();
        return recv(timeout);
    }

    /// Lockstep with a binary message.
    Result<Message> exchange_binary(const void *data, std::size_t size, std::chrono::milliseconds timeout) {
        Result<void> sent = send_binary(data, size);
        if (!sent) return sent.error();
        return recv(timeout);
    }

    /// The connection's state, without blocking (wsb_state).
    Result<State> state() const {
        std::uint32_t s = 0;
        wsb_result r = wsb_state(handle(), &s);
        if (r != WSB_OK) return Error::last(r);
        return static_cast<State>(s);
    }

    /// The subprotocol the server selected, "" if none (wsb_subprotocol).
    Result<std::string> subprotocol() const {
        const wsb_handle h = handle();
        std::size_t len = 0;
        wsb_result r = wsb_subprotocol(h, nullptr, 0, &len);
        if (r != WSB_OK) return Error::last(r);
        std::string protocol(len, '\0');
        r = wsb_subprotocol(h, &protocol[0], len + 1, &len);
        if (r != WSB_OK) return Error::last(r);
        return protocol;
    }

    /// The peer's close code and reason, once recv reported is_closed() (wsb_close_status;
    /// WSB_WOULD_BLOCK while the connection is still open).
    Result<CloseStatus> close_status() const {
        const wsb_handle h = handle();
        CloseStatus status;
        std::size_t len = 0;
        wsb_result r = wsb_close_status(h, &status.code, nullptr, 0, &len);
        if (r != WSB_OK) return Error::last(r);
        status.reason.assign(len, '\0');
        r = wsb_close_status(h, &status.code, &status.reason[0], len + 1, &len);
        if (r != WSB_OK) return Error::last(r);
        return status;
    }

    /// Flushes queued messages, performs the close handshake within `timeout` and releases the
    /// connection; the Client is empty afterwards, except after WSB_INVALID_ARGUMENT (a bad
    /// code or reason), which changes nothing (wsb_close). Wakes a recv waiting on another
    /// thread.
    Result<void> close(std::uint16_t code = 1000, std::string_view reason = {},
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
        std::string reason_c;
        Result<void> valid_reason = detail::c_string("the close reason", reason, reason_c);
        if (!valid_reason) return valid_reason;
        wsb_handle h = handle();
        wsb_result r = wsb_close(h, code, reason_c.c_str(), detail::to_timeout_ms(timeout));
        Result<void> closed = detail::result_of(r);
        if (r != WSB_INVALID_ARGUMENT) handle_.compare_exchange_strong(h, 0);
        return closed;
    }

    /// Closes without blocking the calling thread (for a game thread: EndPlay, a level unload):
    /// the Client is empty when this returns, and the close of close(code, reason, timeout)
    /// finishes in the background on the library's I/O thread, within `timeout`, or at once when
    /// shutdown() closes every connection (which waits for it; call it before the process
    /// exits or the library is unloaded) (wsb_close_async). Returns an error only for a reason
    /// holding a NUL byte (WSB_INVALID_ARGUMENT; the Client is unchanged); a code or reason the
    /// library refuses drops the connection without waiting. An empty Client: OK.
    Result<void> close_in_background(std::uint16_t code = 1000, std::string_view reason = {},
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
        std::string reason_c;
        Result<void> valid_reason = detail::c_string("the close reason", reason, reason_c);
        if (!valid_reason) return valid_reason;
        const wsb_handle h = handle_.exchange(0);
        if (h == 0) return {};
        if (wsb_close_async(h, code, reason_c.c_str(), detail::to_timeout_ms(timeout)) == WSB_INVALID_ARGUMENT)
            static_cast<void>(wsb_close_async(h, 1000, nullptr, 0));
        return {};
    }

    /// How long the close handshake of the destructor and move assignment may take in the
    /// background (default 1000 ms; 0 drops the connection at once). They never block.
    void set_close_timeout(std::chrono::milliseconds timeout) noexcept {
        close_timeout_ms_ = detail::to_timeout_ms(timeout);
    }

private:
    static constexpr std::size_t kInitialBuffer = 16 * 1024;

    template <class Open>
    static Result<Client> open(std::string_view url, const Options &options, Open open_c) {
        std::string url_c;
        Result<void> valid_url = detail::c_string("the URL", url, url_c);
        if (!valid_url) return valid_url.error();
        const std::string json = options.to_json();
        wsb_handle h = 0;
        wsb_result r = open_c(url_c.c_str(), json.c_str(), &h);
        if (r != WSB_OK) return Error::last(r);
        return adopt(h);
    }

    /// recv. With `describe_timeout` false, a WSB_TIMEOUT comes back without the wsb_last_error
    /// text: poll, called every tick, drops it, so it costs no library call and no allocation.
    Result<Message> receive(std::chrono::milliseconds timeout, bool describe_timeout) {
        const wsb_handle h = handle();
        if (capacity_ == 0 && !grow(kInitialBuffer)) return out_of_memory(kInitialBuffer);
        std::size_t len = 0;
        std::uint32_t kind = 0;
        wsb_result r = wsb_recv(h, buffer_.get(), capacity_, &len, &kind, detail::to_timeout_ms(timeout));
        while (r == WSB_BUFFER_TOO_SMALL) {
            // The message stays queued: fetch it at once into a buffer of its size.
            if (!grow(len)) return out_of_memory(len);
            r = wsb_recv(h, buffer_.get(), capacity_, &len, &kind, 0);
        }
        if (r == WSB_TIMEOUT && !describe_timeout) return Error(r, std::string());
        if (r != WSB_OK) return Error::last(r);
        Message message;
        message.kind = static_cast<Kind>(kind);
        message.data = buffer_.get();
        message.size = len;
        return message;
    }

    /// Makes the buffer at least `size` bytes; false if the memory cannot be had.
    bool grow(std::size_t size) noexcept {
        if (size <= capacity_ && buffer_) return true;
        std::size_t larger = capacity_ + capacity_ / 2;
        std::size_t capacity = size > larger ? size : larger;
        if (capacity == 0) capacity = 1;
        std::unique_ptr<std::uint8_t[]> bigger(new (std::nothrow) std::uint8_t[capacity]);
        if (!bigger) return false;
        buffer_ = std::move(bigger);
        capacity_ = capacity;
        return true;
    }

    static Error out_of_memory(std::size_t size) {
        return Error(WSB_MESSAGE_TOO_BIG, "cannot allocate a receive buffer of " + std::to_string(size) +
                                              " bytes; the message stays queued");
    }

    void release_quietly() noexcept {
        const wsb_handle h = handle_.exchange(0);
        if (h != 0) static_cast<void>(wsb_close_async(h, 1000, nullptr, close_timeout_ms_));
    }

    std::atomic<wsb_handle> handle_{0};
    std::unique_ptr<std::uint8_t[]> buffer_;
    std::size_t capacity_ = 0;
    std::int32_t close_timeout_ms_ = 1000;
};

/// The version of the loaded library, e.g. "0.1.0" (wsb_version).
inline std::string_view version() noexcept { return wsb_version(); }

/// Checks that the loaded library is the version this header was written for; the error
/// names both versions. Call it once at startup (a mismatched DLL is otherwise silent).
inline Result<void> check_version() {
    const std::string header = std::to_string(WSB_VERSION_MAJOR) + "." + std::to_string(WSB_VERSION_MINOR) +
                               "." + std::to_string(WSB_VERSION_PATCH);
    if (version() == header) return {};
    return Error(WSB_INTERNAL, "wsbridge.h is version " + header + " but the loaded library is version " +
                                   std::string(version()));
}

/// Closes every connection (code 1001) and stops wsbridge's background threads, before the
/// host unloads the library (wsb_shutdown). A Client still alive keeps a stale handle: its
/// calls return WSB_INVALID_HANDLE and its destructor does no harm while the library is
/// loaded; once the library is unloaded, release() such a Client instead of destroying it.
inline Result<void> shutdown(std::chrono::milliseconds timeout) {
    return detail::result_of(wsb_shutdown(detail::to_timeout_ms(timeout)));
}

}  // namespace wsbridge

#endif  // WSBRIDGE_HPP
