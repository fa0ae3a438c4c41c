// cartpole.cpp: the C++ cartpole, trained from Python through wsbridge::Env (wsbridge_env.hpp,
// docs/env.md). The physics is the C game's (examples/game/cartpole.c); everything else is C++.
//
//     cartpole_cpp HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]
//                  [--reconnect-timeout SECONDS] [--quiet]
//     cartpole_cpp --lobby LOBBY_URL [--env-name NAME] [the same options]
//
// Same command line, lines and exit status as examples/game/main.c: connects to
// HUB_URL/env/ENV_ID with K carts and answers the trainer (lockstep) until it closes with
// 1000; with --lobby, asks that lobby for a free slot (wsbridge::EnvOptions::lobby). Exit status 0
// when the trainer finished, 1 when the hub could not be reached in time, 2 when the hub (or the
// lobby) refused the game or the trainer broke the protocol.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "wsbridge_env.hpp"

extern "C" {
#include "cartpole.h"
}

namespace {

// The default seed of an agent that was never seeded: distinct per slot and agent.
std::uint64_t default_seed(const std::string &path, std::uint32_t agent) {
    std::uint64_t s = 1469598103934665603ULL;  // FNV-1a of the path
    for (char c : path) s = (s ^ static_cast<std::uint8_t>(c)) * 1099511628211ULL;
    return s + agent;
}

class CartPoleGame {
public:
    CartPoleGame(std::uint32_t agents, int max_steps, const std::string &path) : carts_(agents) {
        for (std::uint32_t i = 0; i < agents; i++) {
            carts_[i] = cartpole{};
            carts_[i].max_steps = max_steps;
        }
        seed(path);
    }

    // Seeds every cart's generator from the slot's path (again once a lobby assigned the slot).
    void seed(const std::string &path) {
        for (std::uint32_t i = 0; i < carts_.size(); i++) cartpole_seed(&carts_[i], default_seed(path, i));
    }

    static wsbridge::EnvSpec spec(std::uint32_t agents) {
        const double inf = std::numeric_limits<float>::max();  // as the C game: gymnasium warns about infinite bounds
        const double x = 2 * CARTPOLE_X_LIMIT, theta = 2 * CARTPOLE_THETA_LIMIT;
        wsbridge::EnvSpec spec;
        spec.name = "cartpole";
        spec.agents = agents;
        spec.partial_reset = true;  // answers resets of some carts: same-step autoreset
        spec.observation_space =
            wsbridge::Space::box({CARTPOLE_OBS}, wsbridge::Dtype::float32, {-x, -inf, -theta, -inf}, {x, inf, theta, inf});
        spec.action_space = wsbridge::Space::discrete(2);
        return spec;
    }

    // Answers one reset or step event: the flagged agents reset, on a step the others step,
    // then one submit. A reset may flag only some agents (partial_reset: the trainer's
    // same-step autoreset restarts the episodes that just ended): the others are left alone.
    wsbridge::Result<void> answer(wsbridge::Env &env, bool stepping) {
        for (std::uint32_t i = 0; i < carts_.size(); i++) {
            wsbridge::Result<wsbridge::AgentReset> reset = env.agent_reset(i);
            if (!reset) return reset.error();
            if (!reset->reset && !stepping) continue;
            wsbridge::Result<void> answered = reset->reset ? reset_cart(env, i, reset->seed) : step_cart(env, i);
            if (!answered) return answered;
        }
        return env.submit();
    }

private:
    wsbridge::Result<void> reset_cart(wsbridge::Env &env, std::uint32_t i, std::int64_t seed) {
        if (seed >= 0) cartpole_seed(&carts_[i], static_cast<std::uint64_t>(seed));
        cartpole_reset(&carts_[i]);
        cartpole_observe(&carts_[i], obs_.data());
        return env.set_observation(i, obs_);
    }

    wsbridge::Result<void> step_cart(wsbridge::Env &env, std::uint32_t i) {
        std::int64_t action = 0;  // Discrete(2) travels as int64; the library checked it is 0 or 1
        wsbridge::Result<std::size_t> got = env.action(i, &action, 1);
        if (!got) return got.error();
        const cartpole_end end = cartpole_step(&carts_[i], static_cast<int>(action));
        cartpole_observe(&carts_[i], obs_.data());
        wsbridge::Result<void> set = env.set_observation(i, obs_);
        if (set) set = env.set_reward(i, 1.0);
        if (set) set = env.set_done(i, end == CARTPOLE_POLE_FELL || end == CARTPOLE_OFF_TRACK, end == CARTPOLE_TIME_LIMIT);
        if (set && end != CARTPOLE_RUNNING) {
            // Only at an episode's end: a short string, within std::string's inline buffer.
            info_ = "{\"end\": \"";
            info_ += cartpole_end_name(end);
            info_ += "\"}";
            set = env.set_info(i, info_);
        }
        return set;
    }

    std::vector<cartpole> carts_;
    std::array<float, CARTPOLE_OBS> obs_{};
    std::string info_;
};

int usage() {
    std::fprintf(stderr,
                 "usage: cartpole_cpp HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]\n"
                 "                    [--reconnect-timeout SECONDS] [--quiet]\n"
                 "       cartpole_cpp --lobby LOBBY_URL [--env-name NAME] [the same options]\n"
                 "  e.g. `cartpole_cpp ws://127.0.0.1:8001 3` connects to ws://127.0.0.1:8001/env/3;\n"
                 "  `cartpole_cpp --lobby ws://127.0.0.1:9000/lobby` asks that lobby for a free slot\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    std::string hub, slot;
    std::optional<std::string> token, lobby, env_name;
    long agents = 1, max_steps = 500;
    double reconnect_timeout = 30;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--quiet") quiet = true;
        else if (a == "--agents" && has_value) agents = std::atol(argv[++i]);
        else if (a == "--max-steps" && has_value) max_steps = std::atol(argv[++i]);
        else if (a == "--token" && has_value) token = argv[++i];
        else if (a == "--lobby" && has_value) lobby = argv[++i];
        else if (a == "--env-name" && has_value) env_name = argv[++i];
        else if (a == "--reconnect-timeout" && has_value) reconnect_timeout = std::atof(argv[++i]);
        else if (a.rfind("--", 0) == 0) return usage();
        else if (hub.empty()) hub = a;
        else if (slot.empty()) slot = a;
        else return usage();
    }
    if ((lobby ? !hub.empty() : slot.empty()) || (env_name && !lobby)) return usage();
    if (agents < 1 || agents > 65536 || max_steps < 1 || max_steps > 1000000000) return usage();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    // The slot's path as log lines show it ("lobby" until the lobby assigned one).
    std::string path = lobby ? "lobby" : "/env/" + slot;
    if (!hub.empty() && hub.back() == '/') hub.pop_back();
    std::string url = lobby ? *lobby : hub + path;
    const auto say = [&](const std::string &text) {
        if (!quiet) std::printf("cartpole %s: %s\n", path.c_str(), text.c_str());
    };

    const auto k = static_cast<std::uint32_t>(agents);
    CartPoleGame game(k, static_cast<int>(max_steps), path);
    wsbridge::EnvOptions options;
    options.connection.connect_timeout_ms = 5000;
    options.token = token;
    options.reconnect_give_up_ms = static_cast<std::int64_t>(reconnect_timeout * 1000);
    if (lobby) {
        options.lobby = true;
        options.env_name = env_name.value_or("");
    }
    wsbridge::Result<wsbridge::Env> opened = wsbridge::Env::open(url, CartPoleGame::spec(k), options);
    if (!opened) {
        std::fprintf(stderr, "cartpole %s: %s\n", path.c_str(), opened.error().to_string().c_str());
        return 2;
    }
    wsbridge::Env env = std::move(*opened);

    // Lockstep: wait for each request of the trainer and answer it.
    int status = -1;
    while (status < 0) {
        wsbridge::Result<wsbridge::Event> event = env.next(wsbridge::forever);
        if (!event) {
            const wsb_result r = event.error().code();
            std::string why = event.error().to_string();
            if (r == WSB_ENV_REFUSED && lobby) {  // by the lobby or a slot's hub: the error says which
                why = "refused: " + event.error().message();
            } else if (r == WSB_ENV_REFUSED) {  // a close code, or an HTTP refusal (401 token, 404 slot) without one
                wsbridge::Result<wsbridge::CloseStatus> closed = env.close_status();
                why = "refused by the hub: " +
                      (closed ? std::to_string(closed->code) + " " + closed->reason + ": " : std::string()) +
                      event.error().message();
            }
            std::fprintf(stderr, "cartpole %s: %s\n", path.c_str(), why.c_str());
            status = r == WSB_ENV_REFUSED || r == WSB_ENV_PROTOCOL_ERROR || r == WSB_ENV_VERSION_MISMATCH ? 2 : 1;
            break;
        }
        switch (event->kind) {
        case wsbridge::EventKind::connected:
        case wsbridge::EventKind::reconnected:
            if (lobby) {  // the slot the lobby assigned (credentials redacted); log lines name its path
                wsbridge::Result<std::string> assigned = env.url();
                if (assigned) url = *assigned;
                const std::size_t host = url.find("://");
                const std::size_t slash = host == std::string::npos ? host : url.find('/', host + 3);
                path = slash == std::string::npos ? "/" : url.substr(slash, url.find('?', slash) - slash);
                if (event->kind == wsbridge::EventKind::connected) game.seed(path);  // per slot, as a fixed one
            }
            // Never the query: it may carry a token (docs/security.md).
            say("connected to " + url.substr(0, url.find('?')) + (lobby ? ", assigned by the lobby" : "") +
                " (connection " + std::to_string(event->connection) +
                ", " + std::to_string(k) + (k > 1 ? " agents" : " agent") + ", wsbridge " +
                std::string(wsbridge::version()) + ")");
            break;
        case wsbridge::EventKind::disconnected: {
            wsbridge::Result<wsbridge::CloseStatus> closed = env.close_status();
            if (event->cause == WSB_CLOSED)
                say("the hub closed the connection (" + std::to_string(closed->code) + " " + closed->reason +
                    "); reconnecting");
            else
                say(std::string("connection lost (") + wsb_result_name(event->cause) + ": " + closed->reason +
                    "); reconnecting");
            break;
        }
        case wsbridge::EventKind::finished: {
            wsbridge::Result<wsbridge::CloseStatus> closed = env.close_status();
            say("the trainer finished (" + std::to_string(closed->code) + " " + closed->reason + ")");
            status = 0;
            break;
        }
        case wsbridge::EventKind::reset:
        case wsbridge::EventKind::step: {
            wsbridge::Result<void> answered = game.answer(env, event->kind == wsbridge::EventKind::step);
            if (!answered) {
                std::fprintf(stderr, "cartpole %s: %s\n", path.c_str(), answered.error().to_string().c_str());
                status = 2;
            }
            break;
        }
        default: break;
        }
    }
    static_cast<void>(env.close_blocking());
    static_cast<void>(wsbridge::shutdown(std::chrono::milliseconds(1000)));
    return status;
}
