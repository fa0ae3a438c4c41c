/*
 * wsbridge_env.hpp: the game side of the env protocol (docs/env.md, docs/protocol.md) for C++,
 * header-only, over the wsb_env_* functions of wsbridge.h. The protocol itself (hello, resets
 * and steps, the autoreset rule, reconnecting to the same slot) lives in the library; this
 * header adds RAII, typed spaces and Result<T> values (see wsbridge.hpp). C++17, builds with
 * -fno-exceptions -fno-rtti.
 *
 *     wsbridge::EnvSpec spec;
 *     spec.name = "cartpole";
 *     spec.agents = 2;
 *     spec.observation_space = wsbridge::Space::box({4}, wsbridge::Dtype::float32, -10, 10);
 *     spec.action_space = wsbridge::Space::discrete(2);
 *     wsbridge::Result<wsbridge::Env> opened = wsbridge::Env::open("ws://127.0.0.1:8001/env/0", spec);
 *     wsbridge::Env env = std::move(*opened);
 *     for (;;) {
 *         wsbridge::Result<wsbridge::Event> event = env.next(wsbridge::forever);  // lockstep
 *         if (!event) break;                               // refused, gave up, protocol error
 *         if (event->kind == wsbridge::EventKind::finished) break;
 *         if (!event->needs_answer()) continue;            // connected, disconnected ...
 *         for (std::uint32_t i = 0; i < 2; i++) {
 *             if (env.agent_reset(i)->reset) { ... reset; env.set_observation(i, obs, 4); }
 *             else { std::int64_t a; env.action(i, &a, 1); ... env.set_reward(i, 1.0); }
 *         }
 *         env.submit();
 *     }
 *
 * Steady state allocates nothing: next, agent_reset, action, set_observation, set_reward,
 * set_done and submit pass the caller's memory straight to the library (which copies
 * observations into the outgoing message and actions out of the received one); set_info reuses
 * one buffer. Errors allocate their message.
 *
 * Closing never blocks the calling thread unless asked: close() and the destructor hand the
 * close handshake (up to 1 s) to a background thread; close_blocking() waits for it.
 */
#ifndef WSBRIDGE_ENV_HPP
#define WSBRIDGE_ENV_HPP

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "wsbridge.hpp"

namespace wsbridge {

/// The item type of a Box space (its `dtype` on the wire).
enum class Dtype : std::uint8_t { int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64 };

/// The wire name of a dtype ("float32").
inline const char *dtype_name(Dtype dtype) noexcept {
    switch (dtype) {
    case Dtype::int8: return "int8";
    case Dtype::uint8: return "uint8";
    case Dtype::int16: return "int16";
    case Dtype::uint16: return "uint16";
    case Dtype::int32: return "int32";
    case Dtype::uint32: return "uint32";
    case Dtype::int64: return "int64";
    case Dtype::uint64: return "uint64";
    case Dtype::float32: return "float32";
    case Dtype::float64: return "float64";
    }
    return "float32";
}

/// One agent's observation or action space, as the trainer package's gymnasium spaces. Build it
/// with the factory functions; to_json gives what the hello carries.
///
/// On the wire (what set_observation takes and action writes): a box travels as its dtype,
/// discrete and multi_discrete as int64, one per dimension, multi_binary as int8.
class Space {
public:
    enum class Type : std::uint8_t { box, discrete, multi_discrete, multi_binary, dict, tuple };

    /// Box(low, high, shape, dtype) with the same bounds for every item.
    static Space box(std::vector<std::int64_t> shape, Dtype dtype, double low, double high) {
        Space s(Type::box);
        s.shape_ = std::move(shape);
        s.dtype_ = dtype;
        s.low_.assign(1, low);
        s.high_.assign(1, high);
        s.scalar_bounds_ = true;
        return s;
    }
    /// Box with bounds per item (`low` and `high` hold one value per item, in row-major order).
    static Space box(std::vector<std::int64_t> shape, Dtype dtype, std::vector<double> low, std::vector<double> high) {
        Space s(Type::box);
        s.shape_ = std::move(shape);
        s.dtype_ = dtype;
        s.low_ = std::move(low);
        s.high_ = std::move(high);
        return s;
    }
    /// Discrete(n, start): one integer in [start, start + n).
    static Space discrete(std::int64_t n, std::int64_t start = 0) {
        Space s(Type::discrete);
        s.shape_.assign(1, n);
        s.start_ = start;
        return s;
    }
    /// MultiDiscrete(nvec): one integer in [0, nvec[i]) per dimension.
    static Space multi_discrete(std::vector<std::int64_t> nvec) {
        Space s(Type::multi_discrete);
        s.shape_ = std::move(nvec);
        return s;
    }
    /// MultiBinary(shape): 0 or 1 per item.
    static Space multi_binary(std::vector<std::int64_t> shape) {
        Space s(Type::multi_binary);
        s.shape_ = std::move(shape);
        return s;
    }

    /// Dict(spaces), observations only: `keys[i]` names `spaces[i]`. On the wire one part per
    /// leaf, dict keys sorted (see Env::observation_part).
    static Space dict(std::vector<std::string> keys, std::vector<Space> spaces) {
        Space s(Type::dict);
        s.keys_ = std::move(keys);
        s.items_ = std::move(spaces);
        return s;
    }
    /// Tuple(spaces), observations only: one part per leaf, in order.
    static Space tuple(std::vector<Space> spaces) {
        Space s(Type::tuple);
        s.items_ = std::move(spaces);
        return s;
    }

    Type type() const noexcept { return type_; }

    /// The JSON object of docs/protocol.md, e.g. {"type": "discrete", "n": 2}. Bounds are written
    /// with 17 significant digits (a float64 round-trips), infinities as "inf" and "-inf"; the
    /// library checks every value.
    std::string to_json() const {
        std::string json;
        switch (type_) {
        case Type::box:
            json = "{\"type\": \"box\", \"shape\": ";
            append_list(json, shape_);
            json += ", \"dtype\": \"";
            json += dtype_name(dtype_);
            json += "\", \"low\": ";
            append_bounds(json, low_);
            json += ", \"high\": ";
            append_bounds(json, high_);
            break;
        case Type::discrete:
            json = "{\"type\": \"discrete\", \"n\": " + std::to_string(shape_.empty() ? 0 : shape_[0]);
            if (start_ != 0) json += ", \"start\": " + std::to_string(start_);
            break;
        case Type::multi_discrete:
            json = "{\"type\": \"multi_discrete\", \"nvec\": ";
            append_list(json, shape_);
            break;
        case Type::multi_binary:
            json = "{\"type\": \"multi_binary\", \"n\": ";
            append_list(json, shape_);
            break;
        case Type::dict:
            json = "{\"type\": \"dict\", \"spaces\": {";
            for (std::size_t i = 0; i < items_.size(); i++) {
                if (i) json += ", ";
                Options::append_json_string(json, i < keys_.size() ? keys_[i] : std::string());
                json += ": " + items_[i].to_json();
            }
            json += '}';
            break;
        case Type::tuple:
            json = "{\"type\": \"tuple\", \"spaces\": [";
            for (std::size_t i = 0; i < items_.size(); i++) {
                if (i) json += ", ";
                json += items_[i].to_json();
            }
            json += ']';
            break;
        }
        json += '}';
        return json;
    }

private:
    explicit Space(Type type) : type_(type) {}

    static void append_list(std::string &json, const std::vector<std::int64_t> &items) {
        json += '[';
        for (std::size_t i = 0; i < items.size(); i++) {
            if (i) json += ", ";
            json += std::to_string(items[i]);
        }
        json += ']';
    }

    static void append_number(std::string &json, double value) {
        if (value != value) {  // NaN: no bound the library accepts; it names the key
            json += "\"nan\"";
            return;
        }
        if (value > std::numeric_limits<double>::max() || value < -std::numeric_limits<double>::max()) {
            json += value > 0 ? "\"inf\"" : "\"-inf\"";  // JSON has no infinity: the protocol's strings
            return;
        }
        char text[40];
        const int n = std::snprintf(text, sizeof text, "%.17g", value);
        if (n > 0) json.append(text, static_cast<std::size_t>(n) < sizeof text ? static_cast<std::size_t>(n) : 0);
    }

    void append_bounds(std::string &json, const std::vector<double> &bounds) const {
        if (scalar_bounds_ && bounds.size() == 1) {
            append_number(json, bounds[0]);
            return;
        }
        json += '[';
        for (std::size_t i = 0; i < bounds.size(); i++) {
            if (i) json += ", ";
            append_number(json, bounds[i]);
        }
        json += ']';
    }

    Type type_;
    Dtype dtype_ = Dtype::float32;
    std::vector<std::int64_t> shape_;  ///< box and multi_binary: the shape; discrete: {n}; multi_discrete: nvec
    std::vector<double> low_, high_;
    bool scalar_bounds_ = false;
    std::int64_t start_ = 0;
    std::vector<std::string> keys_;  ///< dict: the keys of items_
    std::vector<Space> items_;       ///< dict, tuple: the subspaces
};

/// What a game declares once (wsb_env_open's `spec_json`): serialised by to_json when the env
/// opens, never again.
struct EnvSpec {
    std::string name;           ///< for the trainer's logs; empty: none
    std::uint32_t agents = 1;   ///< agents this game simulates (one row each in every message)
    Space observation_space = Space::box({1}, Dtype::float32, -1, 1);
    Space action_space = Space::discrete(2);
    /// The game resets some agents only when asked (a RESET flagging them): the hello offers
    /// same-step autoreset.
    bool partial_reset = false;

    std::string to_json() const {
        std::string json = "{";
        if (!name.empty()) {
            json += "\"name\": ";
            Options::append_json_string(json, name);
            json += ", ";
        }
        json += "\"agents\": " + std::to_string(agents);
        if (partial_reset) json += ", \"partial_reset\": true";
        json += ", \"observation_space\": " + observation_space.to_json();
        json += ", \"action_space\": " + action_space.to_json();
        json += '}';
        return json;
    }
};

/// How the env connects and runs (wsb_env_open's `options_json`); unset fields keep the
/// library's defaults, documented there.
struct EnvOptions {
    Options connection;                         ///< the connection's options (TLS, proxy, timeouts)
    std::optional<std::string> token;           ///< sent as `Authorization: Bearer <token>`
    std::optional<std::uint32_t> reconnect_delay_ms;
    std::optional<std::uint32_t> reconnect_max_delay_ms;
    std::optional<std::int64_t> reconnect_give_up_ms;  ///< -1: never give up
    std::optional<std::uint32_t> decision_period;      ///< frames per decision
    std::optional<bool> repeat_actions;                ///< between decisions: REPEAT (true) or NO_DECISION
    /// true: the URL given to Env::open is a lobby's; the env asks it for a free slot, connects
    /// there, and goes back to it when the slot is gone for good (docs/env.md, *Lobby*).
    std::optional<bool> lobby;
    std::optional<std::string> env_name;               ///< with lobby: a hub serving this env name ("": any)
    std::optional<std::uint32_t> lobby_return_ms;      ///< with lobby: back to it after the slot failed this long

    std::string to_json() const {
        std::string json = "{\"connection\": " + connection.to_json();
        if (token) {
            json += ", \"token\": ";
            Options::append_json_string(json, *token);
        }
        auto number = [&json](const char *name, const auto &field) {
            if (!field) return;
            json += ", \"";
            json += name;
            json += "\": ";
            json += std::to_string(*field);
        };
        number("reconnect_delay_ms", reconnect_delay_ms);
        number("reconnect_max_delay_ms", reconnect_max_delay_ms);
        number("reconnect_give_up_ms", reconnect_give_up_ms);
        number("decision_period", decision_period);
        if (repeat_actions) json += *repeat_actions ? ", \"repeat_actions\": true" : ", \"repeat_actions\": false";
        if (lobby) json += *lobby ? ", \"lobby\": true" : ", \"lobby\": false";
        if (env_name) {
            json += ", \"env_name\": ";
            Options::append_json_string(json, *env_name);
        }
        number("lobby_return_ms", lobby_return_ms);
        json += '}';
        return json;
    }
};

/// What Env::next reports (the WSB_EVENT_* constants).
enum class EventKind : std::uint32_t {
    none = 0,
    connected = WSB_EVENT_CONNECTED,
    reconnected = WSB_EVENT_RECONNECTED,
    reset = WSB_EVENT_RESET,
    step = WSB_EVENT_STEP,
    repeat = WSB_EVENT_REPEAT,
    no_decision = WSB_EVENT_NO_DECISION,
    disconnected = WSB_EVENT_DISCONNECTED,
    finished = WSB_EVENT_FINISHED,
    settings = WSB_EVENT_SETTINGS,
};

/// One event of Env::next (wsb_env_event).
struct Event {
    EventKind kind = EventKind::none;
    std::uint32_t connection = 0;  ///< the connection's number (1 for the first)
    std::uint32_t resets = 0;      ///< reset: the agents (all); step: the agents flagged to reset
    wsb_result cause = WSB_OK;     ///< disconnected: why (WSB_CLOSED, WSB_CONNECTION_LOST ...)
    std::uint16_t close_code = 0;  ///< disconnected, finished: the trainer's close code (1006: none)

    /// reset, step, repeat and no_decision must be answered with Env::submit.
    bool needs_answer() const noexcept {
        return kind == EventKind::reset || kind == EventKind::step || kind == EventKind::repeat ||
               kind == EventKind::no_decision;
    }
    /// step and repeat carry actions (Env::action).
    bool has_actions() const noexcept { return kind == EventKind::step || kind == EventKind::repeat; }
};

/// Whether an agent resets in the current event (wsb_env_agent_reset).
struct AgentReset {
    bool reset = false;
    std::int64_t seed = -1;  ///< the seed to reseed with before the reset, or -1: none
    bool has_seed() const noexcept { return seed >= 0; }
};

/// The sizes a game needs for its buffers (wsb_env_layout).
struct EnvLayout {
    std::uint32_t agents = 0;
    std::size_t observation_bytes = 0;  ///< one agent's observation row
    std::size_t action_bytes = 0;       ///< one agent's action row
};

/// A part (leaf) of a dict or tuple observation space: its number and its bytes per agent.
struct ObservationPart {
    std::uint32_t index = 0;
    std::size_t bytes = 0;
};

/// Pass as `agent` to action and set_observation for every agent's rows at once.
inline constexpr std::uint32_t all_agents = WSB_ALL_AGENTS;

/// The game side of one trainer slot (wsb_env_*). Move-only; the destructor closes it without
/// blocking. A default-constructed or moved-from Env is empty: every call returns
/// WSB_INVALID_HANDLE. Meant for one thread, the game loop (see wsb_env_next); close may be
/// called from another thread to end a blocking next.
class Env {
public:
    Env() noexcept = default;
    ~Env() { static_cast<void>(close()); }

    Env(Env &&other) noexcept : handle_(other.handle_.exchange(0)), info_(std::move(other.info_)) {}
    Env &operator=(Env &&other) noexcept {
        if (this != &other) {
            static_cast<void>(close());
            handle_.store(other.handle_.exchange(0));
            info_ = std::move(other.info_);
        }
        return *this;
    }
    Env(const Env &) = delete;
    Env &operator=(const Env &) = delete;

    /// Opens the env (wsb_env_open): returns at once; the first next() reports
    /// EventKind::connected once the connection is open and the hello went out.
    static Result<Env> open(std::string_view url, const EnvSpec &spec, const EnvOptions &options = {}) {
        std::string url_c;
        Result<void> valid_url = detail::c_string("the URL", url, url_c);
        if (!valid_url) return valid_url.error();
        const std::string spec_json = spec.to_json();
        const std::string options_json = options.to_json();
        wsb_env h = 0;
        const wsb_result r = wsb_env_open(url_c.c_str(), spec_json.c_str(), options_json.c_str(), &h);
        if (r != WSB_OK) return Error::last(r);
        Env env;
        env.handle_.store(h);
        return env;
    }

    /// The handle, for calls to wsbridge.h; 0 if empty.
    wsb_env handle() const noexcept { return handle_.load(); }
    bool is_open() const noexcept { return handle() != 0; }

    /// The next event (wsb_env_next). `timeout`: forever blocks until the trainer's next request
    /// (lockstep); 0 never blocks (once per frame from a game loop). Nothing yet: an error with
    /// is_timeout() (no message, no allocation: call again). finished, or an error other than a
    /// timeout (refused, gave up reconnecting, protocol error, version mismatch): the env is over.
    Result<Event> next(std::chrono::milliseconds timeout) {
        wsb_env_event ev{};
        const wsb_result r = wsb_env_next(handle(), detail::to_timeout_ms(timeout), &ev);
        if (r == WSB_TIMEOUT) return Error(r, std::string());
        if (r != WSB_OK) return Error::last(r);
        Event event;
        event.kind = static_cast<EventKind>(ev.kind);
        event.connection = ev.connection;
        event.resets = ev.resets;
        event.cause = ev.cause;
        event.close_code = ev.close_code;
        return event;
    }

    /// Whether `agent` resets in the current event, and with which seed (wsb_env_agent_reset).
    Result<AgentReset> agent_reset(std::uint32_t agent) const {
        std::uint8_t reset = 0;
        AgentReset out;
        const wsb_result r = wsb_env_agent_reset(handle(), agent, &reset, &out.seed);
        if (r != WSB_OK) return Error::last(r);
        out.reset = reset != 0;
        return out;
    }

    /// The options of the current reset: the JSON object the trainer passed, "{}" when none
    /// (wsb_env_reset_options).
    Result<std::string> reset_options() const {
        std::size_t len = 0;
        wsb_result r = wsb_env_reset_options(handle(), nullptr, 0, &len);
        if (r != WSB_OK) return Error::last(r);
        std::string options(len, '\0');
        r = wsb_env_reset_options(handle(), &options[0], len + 1, &len);
        if (r != WSB_OK) return Error::last(r);
        options.resize(len);
        return options;
    }

    /// The latest engine settings the trainer sent (event `settings`), a JSON object: "{}"
    /// before any (wsb_env_settings). Keys the trainer package defines: `time_scale`,
    /// `target_frame_rate`, `quality_level`; any other key is the game's own.
    Result<std::string> settings() const {
        std::size_t len = 0;
        wsb_result r = wsb_env_settings(handle(), nullptr, 0, &len);
        if (r != WSB_OK) return Error::last(r);
        std::string json(len, '\0');
        r = wsb_env_settings(handle(), &json[0], len + 1, &len);
        if (r != WSB_OK) return Error::last(r);
        json.resize(len);
        return json;
    }

    /// The slot's URL (wsb_env_url): the one given to open, or with EnvOptions::lobby the one the
    /// lobby assigned last ("" before the first assignment); credentials redacted.
    Result<std::string> url() const {
        std::size_t len = 0;
        wsb_result r = wsb_env_url(handle(), nullptr, 0, &len);
        if (r != WSB_OK) return Error::last(r);
        std::string text(len, '\0');
        r = wsb_env_url(handle(), &text[0], len + 1, &len);
        if (r != WSB_OK) return Error::last(r);
        text.resize(len);
        return text;
    }

    /// A part (leaf) of a dict or tuple observation space, found by its path ("camera",
    /// "1.bits": keys and indices joined by "."), for set_observation_part
    /// (wsb_env_observation_part).
    Result<ObservationPart> observation_part(std::string_view path) const {
        std::string path_c;
        Result<void> valid = detail::c_string("the part's path", path, path_c);
        if (!valid) return valid.error();
        ObservationPart out;
        const wsb_result r = wsb_env_observation_part(handle(), path_c.c_str(), &out.index, &out.bytes);
        if (r != WSB_OK) return Error::last(r);
        return out;
    }

    /// Sets one part of `agent`'s dict or tuple observation (`count` items of the part's dtype),
    /// straight into the outgoing message (wsb_env_set_observation_part).
    template <class T>
    Result<void> set_observation_part(std::uint32_t agent, const ObservationPart &part, const T *items,
                                      std::size_t count) {
        static_assert(std::is_trivially_copyable<T>::value, "observations are copied as bytes");
        return detail::result_of(wsb_env_set_observation_part(
            handle(), agent, part.index, reinterpret_cast<const std::uint8_t *>(items), count * sizeof(T)));
    }

    /// Copies `agent`'s action of the current step or repeat into `items` (`count` items of the
    /// action space's wire type: std::int64_t for discrete and multi_discrete, std::int8_t for
    /// multi_binary, the box's dtype), straight from the received message (wsb_env_action).
    /// Returns the items written.
    template <class T>
    Result<std::size_t> action(std::uint32_t agent, T *items, std::size_t count) const {
        static_assert(std::is_trivially_copyable<T>::value, "actions are copied as bytes");
        std::size_t len = 0;
        const wsb_result r =
            wsb_env_action(handle(), agent, reinterpret_cast<std::uint8_t *>(items), count * sizeof(T), &len);
        if (r != WSB_OK) return Error::last(r);
        return len / sizeof(T);
    }
    /// action into a contiguous container (std::array, std::vector, a std::span ...).
    template <class Container, class = decltype(std::declval<Container &>().data() + std::declval<Container &>().size())>
    Result<std::size_t> action(std::uint32_t agent, Container &items) const {
        return action(agent, items.data(), items.size());
    }

    /// Copies `agent`'s observation (`count` items of the observation space's wire type) into
    /// the answer being built, straight into the outgoing message (wsb_env_set_observation).
    template <class T>
    Result<void> set_observation(std::uint32_t agent, const T *items, std::size_t count) {
        static_assert(std::is_trivially_copyable<T>::value, "observations are copied as bytes");
        return detail::result_of(wsb_env_set_observation(handle(), agent, reinterpret_cast<const std::uint8_t *>(items),
                                                         count * sizeof(T)));
    }
    /// set_observation from a contiguous container (std::array, std::vector, a std::span ...).
    template <class Container,
              class = decltype(std::declval<const Container &>().data() + std::declval<const Container &>().size())>
    Result<void> set_observation(std::uint32_t agent, const Container &items) {
        return set_observation(agent, items.data(), items.size());
    }

    /// Sets `agent`'s reward for the next answer (wsb_env_set_reward).
    Result<void> set_reward(std::uint32_t agent, double reward) {
        return detail::result_of(wsb_env_set_reward(handle(), agent, reward));
    }
    /// Adds to `agent`'s reward for the next answer (wsb_env_add_reward).
    Result<void> add_reward(std::uint32_t agent, double reward) {
        return detail::result_of(wsb_env_add_reward(handle(), agent, reward));
    }
    /// Ends `agent`'s episode in the next answer (wsb_env_set_done).
    Result<void> set_done(std::uint32_t agent, bool terminated, bool truncated = false) {
        return detail::result_of(wsb_env_set_done(handle(), agent, terminated ? 1 : 0, truncated ? 1 : 0));
    }
    /// Sets `agent`'s info for the next answer: a JSON object, empty for none (wsb_env_set_info).
    /// Copied through one buffer the Env keeps (no allocation once it is large enough).
    Result<void> set_info(std::uint32_t agent, std::string_view json) {
        Result<void> valid = detail::c_string("the info", json, info_);
        if (!valid) return valid;
        return detail::result_of(wsb_env_set_info(handle(), agent, info_.c_str()));
    }

    /// Finishes the current reset, step, repeat or no_decision event (wsb_env_submit).
    Result<void> submit() { return detail::result_of(wsb_env_submit(handle())); }

    /// The number of agents and the bytes of one agent's rows (wsb_env_layout).
    Result<EnvLayout> layout() const {
        EnvLayout out;
        const wsb_result r = wsb_env_layout(handle(), &out.agents, &out.observation_bytes, &out.action_bytes);
        if (r != WSB_OK) return Error::last(r);
        return out;
    }

    /// The trainer's close code and reason from the latest disconnection (wsb_env_close_status);
    /// WSB_WOULD_BLOCK when there was none since the current connection opened.
    Result<CloseStatus> close_status() const {
        CloseStatus status;
        char reason[128];
        std::size_t len = 0;
        const wsb_result r = wsb_env_close_status(handle(), &status.code, reason, sizeof reason, &len);
        if (r != WSB_OK) return Error::last(r);
        status.reason.assign(reason, len < sizeof reason ? len : sizeof reason - 1);
        return status;
    }

    /// Closes the env without blocking the calling thread (a game thread, EndPlay): the Env is
    /// empty when this returns, a next() blocking on another thread returns WSB_CLOSED, and the
    /// close handshake (1000, at most 1 s) runs on a detached thread; shutdown() waits for it.
    /// An empty Env: OK.
    Result<void> close() noexcept {
        const wsb_env h = handle_.exchange(0);
        if (h == 0) return {};
        std::thread([h] { static_cast<void>(wsb_env_close(h)); }).detach();
        return {};
    }

    /// Closes the env and waits for the close handshake (at most 1 s; wsb_env_close), for
    /// programs that end right after. An empty Env: OK.
    Result<void> close_blocking() {
        const wsb_env h = handle_.exchange(0);
        if (h == 0) return {};
        return detail::result_of(wsb_env_close(h));
    }

private:
    std::atomic<wsb_env> handle_{0};
    std::string info_;
};

}  // namespace wsbridge

#endif  // WSBRIDGE_ENV_HPP
