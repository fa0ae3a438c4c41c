// wsbridge::Env allocates nothing per step once running: this game replaces the global operator
// new with a counting one, answers a trainer (tests/cpp/test_env_wrapper.py drives it with
// RemoteVectorEnv), and reports how many C++ allocations each phase made.
//
//     env_alloc_test URL WARMUP_STEPS
//
// Prints "steady N" after the trainer finished: the operator new calls made by the steps after
// the first WARMUP_STEPS (every call of the step path: next, agent_reset, action,
// set_observation, set_reward, set_done, set_info, submit), then "finished".
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "wsbridge_env.hpp"

namespace {
std::atomic<long> allocations{0};
}

void *operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    void *p = std::malloc(size ? size : 1);
    if (!p) std::abort();  // no exceptions in this build
    return p;
}
void *operator new[](std::size_t size) { return operator new(size); }
void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size ? size : 1);
}
void *operator new[](std::size_t size, const std::nothrow_t &tag) noexcept { return operator new(size, tag); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: env_alloc_test URL WARMUP_STEPS\n");
        return 2;
    }
    const long warmup = std::atol(argv[2]);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    wsbridge::EnvSpec spec;
    spec.name = "alloc";
    spec.agents = 2;
    spec.observation_space = wsbridge::Space::box({8}, wsbridge::Dtype::float32, -1, 1);
    spec.action_space = wsbridge::Space::multi_discrete({3, 3});
    wsbridge::Result<wsbridge::Env> opened = wsbridge::Env::open(argv[1], spec);
    if (!opened) {
        std::printf("error %s\n", opened.error().to_string().c_str());
        return 2;
    }
    wsbridge::Env env = std::move(*opened);
    std::array<float, 8> obs{};
    std::array<std::int64_t, 2> action{};
    const std::string info = "{\"note\": \"an info of more than the small string buffer\"}";
    long steps = 0, before = 0;
    for (;;) {
        wsbridge::Result<wsbridge::Event> event = env.next(wsbridge::forever);
        if (!event) {
            std::printf("error %s\n", event.error().to_string().c_str());
            return 2;
        }
        if (event->kind == wsbridge::EventKind::finished) break;
        if (!event->needs_answer()) continue;
        if (event->kind == wsbridge::EventKind::step && ++steps == warmup) before = allocations.load();
        for (std::uint32_t i = 0; i < 2; i++) {
            wsbridge::Result<wsbridge::AgentReset> reset = env.agent_reset(i);
            if (!reset) return 2;
            if (!reset->reset) {
                wsbridge::Result<std::size_t> got = env.action(i, action);
                if (!got || *got != 2) return 2;
                obs[0] = static_cast<float>(action[0]) / 3.0f;
                static_cast<void>(env.set_reward(i, 1.0));
                static_cast<void>(env.set_done(i, false, steps % 50 == 0));
                static_cast<void>(env.set_info(i, info));
            }
            if (!env.set_observation(i, obs)) return 2;
        }
        if (!env.submit()) return 2;
    }
    std::printf("steady %ld (in %ld steps)\n", allocations.load() - before, steps - warmup);
    std::printf("finished\n");
    static_cast<void>(env.close_blocking());
    return 0;
}
