// The C++ game of the env conformance suite (tests/conformance): spaces_game.c's contract (its
// comment says it all: command line, behaviour, output lines, exit status), written on the C++
// wrapper (wsbridge::Env, bindings/cpp/wsbridge_env.hpp) instead of the C ABI.
//
//     spaces_game_cpp URL [--agents K] [--obs KIND] [--act KIND] [--episode N] [--poll]
//                     [--decision-period N] [--no-repeat] [--give-up-ms MS] [--token T] [--same-step]
//                     [--lobby [--env-name NAME]]
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "wsbridge_env.hpp"

namespace {

enum Kind { BOX_F32, BOX_F64, IMAGE, BOX_I16, DISCRETE, MULTI_DISCRETE, MULTI_BINARY, DICT, TUPLE, KINDS };

const char *const kKindNames[KINDS] = {"box_f32",      "box_f64", "image", "box_i16", "discrete", "multi_discrete",
                                       "multi_binary", "dict",    "tuple"};

// The parts of the dict and tuple kinds, in wire order: path and leaf kind.
struct Part {
    const char *path;
    Kind leaf;
};
const std::vector<Part> kDictParts = {{"camera", IMAGE}, {"mode", DISCRETE}, {"pos", BOX_F32}};
const std::vector<Part> kTupleParts = {{"0", BOX_I16}, {"1.bits", MULTI_BINARY}};

const std::vector<Part> *parts_of(Kind k) { return k == DICT ? &kDictParts : k == TUPLE ? &kTupleParts : nullptr; }

// The space of each kind, typed (serialised to the same JSON as spaces_game.c's table).
wsbridge::Space space_of(Kind k) {
    using wsbridge::Dtype;
    using wsbridge::Space;
    switch (k) {
    case BOX_F32: return Space::box({3}, Dtype::float32, -1, 1);
    case BOX_F64: return Space::box({2, 2}, Dtype::float64, -1, 1);
    case IMAGE: return Space::box({16, 16, 3}, Dtype::uint8, 0, 255);
    case BOX_I16: return Space::box({4}, Dtype::int16, -100, 100);
    case DISCRETE: return Space::discrete(5, 2);
    case MULTI_DISCRETE: return Space::multi_discrete({3, 4, 5});
    case MULTI_BINARY: return Space::multi_binary({2, 3});
    // Keys out of order on purpose: the parts are the leaves with dict keys sorted.
    case DICT: return Space::dict({"pos", "camera", "mode"}, {space_of(BOX_F32), space_of(IMAGE), space_of(DISCRETE)});
    default: return Space::tuple({space_of(BOX_I16), Space::dict({"bits"}, {space_of(MULTI_BINARY)})});
    }
}

// Items per agent and bytes per item on the wire (dict, tuple: bytes, 1).
constexpr std::array<std::size_t, KINDS> kItems = {3, 4, 768, 4, 1, 3, 6, 768 + 8 + 12, 8 + 6};
constexpr std::array<std::size_t, KINDS> kItemBytes = {4, 8, 1, 2, 8, 8, 1, 1, 1};

std::uint64_t next_random(std::uint64_t &state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// One observation row drawn from `rng`, written as the space's wire items (a dict or tuple:
// its parts' rows one after the other, drawn in that order).
void draw(Kind k, std::uint64_t &rng, std::uint8_t *out) {
    static const std::int64_t nvec[3] = {3, 4, 5};
    if (const std::vector<Part> *parts = parts_of(k)) {
        for (const Part &p : *parts) {
            draw(p.leaf, rng, out);
            out += kItems[p.leaf] * kItemBytes[p.leaf];
        }
        return;
    }
    for (std::size_t j = 0; j < kItems[k]; j++) {
        const std::uint64_t r = next_random(rng);
        const double unit = static_cast<double>(r >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        switch (k) {
        case BOX_F32: {
            const float v = static_cast<float>(unit);
            std::memcpy(out + 4 * j, &v, 4);
            break;
        }
        case BOX_F64: std::memcpy(out + 8 * j, &unit, 8); break;
        case IMAGE: out[j] = static_cast<std::uint8_t>(r); break;
        case BOX_I16: {
            const auto v = static_cast<std::int16_t>(static_cast<std::int64_t>(r % 201) - 100);
            std::memcpy(out + 2 * j, &v, 2);
            break;
        }
        case DISCRETE: {
            const std::int64_t v = 2 + static_cast<std::int64_t>(r % 5);
            std::memcpy(out, &v, 8);
            break;
        }
        case MULTI_DISCRETE: {
            const auto v = static_cast<std::int64_t>(r % static_cast<std::uint64_t>(nvec[j]));
            std::memcpy(out + 8 * j, &v, 8);
            break;
        }
        case MULTI_BINARY: out[j] = static_cast<std::uint8_t>(r & 1); break;
        default: break;
        }
    }
}

// Appends what snprintf wrote to `text` (`n` characters) to `out`.
void append(std::string &out, const char (&text)[64], int n) {
    if (n > 0) out.append(text, static_cast<std::size_t>(n) < sizeof text ? static_cast<std::size_t>(n) : sizeof text - 1);
}

// The action row's items as a JSON list, formatted exactly as spaces_game.c does.
void format_action(Kind k, const std::uint8_t *row, std::string &out) {
    char t[64];
    out = "[";
    for (std::size_t j = 0; j < kItems[k]; j++) {
        if (j) out += ',';
        switch (k) {
        case BOX_F32: {
            float v;
            std::memcpy(&v, row + 4 * j, 4);
            append(out, t, std::snprintf(t, sizeof t, "%.9g", static_cast<double>(v)));
            break;
        }
        case BOX_F64: {
            double v;
            std::memcpy(&v, row + 8 * j, 8);
            append(out, t, std::snprintf(t, sizeof t, "%.17g", v));
            break;
        }
        case IMAGE: append(out, t, std::snprintf(t, sizeof t, "%u", static_cast<unsigned>(row[j]))); break;
        case BOX_I16: {
            std::int16_t v;
            std::memcpy(&v, row + 2 * j, 2);
            append(out, t, std::snprintf(t, sizeof t, "%d", static_cast<int>(v)));
            break;
        }
        case MULTI_BINARY: append(out, t, std::snprintf(t, sizeof t, "%d", static_cast<int>(static_cast<std::int8_t>(row[j])))); break;
        default: {
            std::int64_t v;
            std::memcpy(&v, row + 8 * j, 8);
            append(out, t, std::snprintf(t, sizeof t, "%lld", static_cast<long long>(v)));
            break;
        }
        }
    }
    out += ']';
}

bool kind_arg(const char *name, Kind &out) {
    for (int k = 0; k < KINDS; k++) {
        if (std::strcmp(name, kKindNames[k]) == 0) {
            out = static_cast<Kind>(k);
            return true;
        }
    }
    std::fprintf(stderr, "spaces_game_cpp: unknown space kind %s\n", name);
    return false;
}

struct Agent {
    std::uint64_t rng = 0;
    int t = 0, frames = 0, length = 0;
    std::vector<std::uint8_t> obs, action;
};

int fail(const char *what, wsbridge::Env &env, const wsbridge::Error &error) {
    const wsbridge::Result<wsbridge::CloseStatus> status =
        error.code() == WSB_ENV_REFUSED ? env.close_status() : wsbridge::Result<wsbridge::CloseStatus>(error);
    if (error.code() == WSB_ENV_REFUSED && status)
        std::printf("error %s: %u %s: %s\n", error.name(), status->code, status->reason.c_str(), error.message().c_str());
    else
        std::printf("error %s: %s (in %s)\n", error.name(), error.message().c_str(), what);
    static_cast<void>(env.close_blocking());
    static_cast<void>(wsbridge::shutdown(std::chrono::milliseconds(1000)));
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    const char *url = nullptr;
    std::optional<std::string> token, env_name;
    int agents = 1, episode = 4, period = 1;
    bool poll = false, repeat = true, same_step = false, lobby = false;
    long give_up = 30000;
    Kind obs_kind = BOX_F32, act_kind = DISCRETE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const bool more = i + 1 < argc;
        bool ok = true;
        if (std::strcmp(a, "--agents") == 0 && more) agents = std::atoi(argv[++i]);
        else if (std::strcmp(a, "--obs") == 0 && more) ok = kind_arg(argv[++i], obs_kind);
        else if (std::strcmp(a, "--act") == 0 && more) ok = kind_arg(argv[++i], act_kind);
        else if (std::strcmp(a, "--episode") == 0 && more) episode = std::atoi(argv[++i]);
        else if (std::strcmp(a, "--decision-period") == 0 && more) period = std::atoi(argv[++i]);
        else if (std::strcmp(a, "--give-up-ms") == 0 && more) give_up = std::atol(argv[++i]);
        else if (std::strcmp(a, "--token") == 0 && more) token = argv[++i];
        else if (std::strcmp(a, "--poll") == 0) poll = true;
        else if (std::strcmp(a, "--lobby") == 0) lobby = true;
        else if (std::strcmp(a, "--env-name") == 0 && more) env_name = argv[++i];
        else if (std::strcmp(a, "--no-repeat") == 0) repeat = false;
        else if (std::strcmp(a, "--same-step") == 0) same_step = true;
        else if (!url && a[0] != '-') url = a;
        else {
            std::fprintf(stderr, "spaces_game_cpp: bad argument %s (see the comment at the top of spaces_game.c)\n", a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (!url || agents < 1 || episode < 1 || period < 1) {
        std::fprintf(stderr, "usage: spaces_game_cpp URL [--agents K] [--obs KIND] [--act KIND] ...\n");
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    wsbridge::EnvSpec spec;
    spec.name = "spaces";
    spec.agents = static_cast<std::uint32_t>(agents);
    spec.observation_space = space_of(obs_kind);
    spec.action_space = space_of(act_kind);
    spec.partial_reset = same_step;
    wsbridge::EnvOptions options;
    options.decision_period = static_cast<std::uint32_t>(period);
    options.repeat_actions = repeat;
    options.reconnect_give_up_ms = give_up;
    options.connection.connect_timeout_ms = 2000;
    options.token = token;
    options.lobby = lobby;
    options.env_name = env_name;
    wsbridge::Env env;
    {
        wsbridge::Result<wsbridge::Env> opened = wsbridge::Env::open(url, spec, options);
        if (!opened) return fail("wsbridge::Env::open", env, opened.error());
        env = std::move(*opened);
    }

    const wsbridge::Result<wsbridge::EnvLayout> layout = env.layout();
    const std::size_t obs_bytes = kItems[obs_kind] * kItemBytes[obs_kind];
    const std::size_t act_bytes = kItems[act_kind] * kItemBytes[act_kind];
    if (!layout || layout->agents != spec.agents || layout->observation_bytes != obs_bytes ||
        layout->action_bytes != act_bytes) {
        std::printf("error layout: %u agents, %zu and %zu bytes per row\n", layout->agents, layout->observation_bytes,
                    layout->action_bytes);
        return 2;
    }
    if (parts_of(act_kind)) {
        std::printf("error --act: dict and tuple spaces are for observations only\n");
        return 2;
    }
    // A dict's parts are set one by one (set_observation_part); other rows whole.
    std::vector<wsbridge::ObservationPart> parts;
    std::vector<std::size_t> part_offset;
    if (obs_kind == DICT) {
        std::size_t off = 0;
        for (const Part &p : kDictParts) {
            const wsbridge::Result<wsbridge::ObservationPart> part = env.observation_part(p.path);
            if (!part) return fail("wsbridge::Env::observation_part", env, part.error());
            if (part->index != parts.size() || part->bytes != kItems[p.leaf] * kItemBytes[p.leaf]) {
                std::printf("error part %s: index %u, %zu bytes\n", p.path, part->index, part->bytes);
                return 2;
            }
            parts.push_back(*part);
            part_offset.push_back(off);
            off += part->bytes;
        }
        const wsbridge::Result<wsbridge::ObservationPart> none = env.observation_part("nope");
        if (none || none.error().code() != WSB_INVALID_ARGUMENT) {
            std::printf("error part nope: found\n");
            return 2;
        }
    }
    std::vector<Agent> ag(spec.agents);
    for (std::uint32_t i = 0; i < spec.agents; i++) {
        ag[i].rng = 1000 + i;
        ag[i].length = episode + static_cast<int>(i);
        ag[i].obs.resize(obs_bytes);
        ag[i].action.resize(act_bytes);
    }
    std::string info, list;

    for (;;) {
        wsbridge::Result<wsbridge::Event> event =
            env.next(poll ? std::chrono::milliseconds(0) : wsbridge::forever);
        if (!event && event.error().is_timeout() && poll) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the rest of a 1 ms frame of a game loop
            continue;
        }
        if (!event) return fail("wsbridge::Env::next", env, event.error());
        switch (event->kind) {
        case wsbridge::EventKind::connected:
        case wsbridge::EventKind::reconnected: {
            const bool first = event->kind == wsbridge::EventKind::connected;
            std::printf("%s %u\n", first ? "connected" : "reconnected", event->connection);
            if (!lobby) continue;
            const wsbridge::Result<std::string> slot = env.url();
            if (!slot) return fail("wsbridge::Env::url", env, slot.error());
            std::printf("slot %s\n", slot->c_str());
            continue;
        }
        case wsbridge::EventKind::disconnected: {
            const wsbridge::Result<wsbridge::CloseStatus> status = env.close_status();
            std::printf("disconnected %u %s %s\n", status->code, wsb_result_name(event->cause), status->reason.c_str());
            continue;
        }
        case wsbridge::EventKind::finished: {
            const wsbridge::Result<wsbridge::CloseStatus> status = env.close_status();
            std::printf("finished %u %s\n", status->code, status->reason.c_str());
            static_cast<void>(env.close_blocking());
            static_cast<void>(wsbridge::shutdown(std::chrono::milliseconds(1000)));
            return 0;
        }
        case wsbridge::EventKind::settings: {
            const wsbridge::Result<std::string> settings = env.settings();
            if (!settings) return fail("wsbridge::Env::settings", env, settings.error());
            std::printf("settings %s\n", settings->c_str());
            continue;
        }
        default: break;
        }
        for (std::uint32_t i = 0; i < spec.agents; i++) {
            Agent &a = ag[i];
            const wsbridge::Result<wsbridge::AgentReset> reset = env.agent_reset(i);
            if (!reset) return fail("wsbridge::Env::agent_reset", env, reset.error());
            static_cast<void>(env.add_reward(i, 1.0 + 0.25 * i));
            if (event->kind == wsbridge::EventKind::reset && !reset->reset) {
                // A partial RESET (same-step autoreset): this agent's row is the step's.
                const wsbridge::Result<void> kept = env.set_observation(i, a.obs);
                if (kept || kept.error().code() != WSB_INVALID_ARGUMENT) {
                    std::printf("error wsbridge::Env::set_observation of an agent a partial RESET keeps: %s\n",
                                kept ? "accepted" : kept.error().message().c_str());
                    static_cast<void>(env.close_blocking());
                    static_cast<void>(wsbridge::shutdown(std::chrono::milliseconds(1000)));
                    return 2;
                }
                continue;
            }
            if (reset->reset) {
                static_cast<void>(env.set_done(i, true, true));  // the library must answer reset rows without it
                if (reset->has_seed()) a.rng = static_cast<std::uint64_t>(reset->seed);
                a.t = 0;
                info = "{\"reset\": true}";
            } else {
                const bool no_action = event->kind == wsbridge::EventKind::no_decision;
                if (event->kind == wsbridge::EventKind::step) a.frames = 0;
                const wsbridge::Result<std::size_t> got = env.action(i, a.action);
                if (no_action) {
                    if (got.error().code() != WSB_INVALID_ARGUMENT)
                        return fail("wsbridge::Env::action without a decision", env, got.error());
                } else if (!got) {
                    return fail("wsbridge::Env::action", env, got.error());
                }
                a.t++;
                a.frames++;
                if (a.t >= a.length) static_cast<void>(env.set_done(i, i % 2 == 0, i % 2 == 1));
                format_action(act_kind, a.action.data(), list);
                info = "{\"action\": " + list + ", \"frames\": " + std::to_string(a.frames) +
                       ", \"t\": " + std::to_string(a.t) + (no_action ? ", \"no_action\": true}" : "}");
            }
            draw(obs_kind, a.rng, a.obs.data());
            if (!parts.empty()) {
                for (std::size_t p = 0; p < parts.size(); p++) {
                    const wsbridge::Result<void> set =
                        env.set_observation_part(i, parts[p], a.obs.data() + part_offset[p], parts[p].bytes);
                    if (!set) return fail("wsbridge::Env::set_observation_part", env, set.error());
                }
            } else {
                const wsbridge::Result<void> set = env.set_observation(i, a.obs);
                if (!set) return fail("wsbridge::Env::set_observation", env, set.error());
            }
            const wsbridge::Result<void> set_info = env.set_info(i, info);
            if (!set_info) return fail("wsbridge::Env::set_info", env, set_info.error());
        }
        const wsbridge::Result<void> submitted = env.submit();
        if (!submitted) return fail("wsbridge::Env::submit", env, submitted.error());
    }
}
