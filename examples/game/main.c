/*
 * cartpole: a small game trained from Python through wsbridge's env API (docs/env.md).
 *
 *     cartpole HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]
 *              [--reconnect-timeout SECONDS] [--quiet]
 *     cartpole --lobby LOBBY_URL [--env-name NAME] [the same options]
 *
 * Connects to HUB_URL/env/ENV_ID (e.g. `cartpole ws://127.0.0.1:8001 3` opens
 * ws://127.0.0.1:8001/env/3) with K carts (default 1) and answers the trainer until it
 * closes with 1000. The library says hello, checks the trainer's messages, and reconnects to
 * the same slot with backoff when the link drops (for up to --reconnect-timeout seconds,
 * default 30; a negative value: never give up); this file only simulates carts.
 *
 * With --lobby, LOBBY_URL is a lobby's (e.g. ws://127.0.0.1:9000/lobby; docs/env.md, *Lobby*):
 * the library asks it for a free slot of a hub serving NAME (any hub without --env-name),
 * connects there, and goes back to the lobby when that slot is gone for good. The wait for a
 * slot counts against --reconnect-timeout.
 *
 * Exit status: 0 when the trainer finished, 1 when the hub could not be reached in time (or no
 * slot was assigned in time), 2 when the hub or the lobby refused the game for good (4400
 * protocol violation, 4401 or HTTP 401 token, 4404 unknown slot) or the trainer broke the
 * protocol.
 */
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cartpole.h"
#include "wsbridge.h"

/* The slot's path as log lines show it ("lobby" until the lobby assigned one). */
static char path[256] = "";
static int quiet = 0;

static void say(const char *fmt, ...) {
    if (quiet) return;
    va_list ap;
    va_start(ap, fmt);
    printf("cartpole %s: ", path);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static const char *last_error(void) {
    static char msg[1024];
    wsb_last_error(msg, sizeof msg);
    return msg;
}

/* The default seed of an agent that was never seeded: distinct per slot and agent. */
static uint64_t default_seed(int agent) {
    uint64_t s = 1469598103934665603ULL; /* FNV-1a of the path */
    for (const char *p = path; *p; p++) s = (s ^ (uint8_t)*p) * 1099511628211ULL;
    return s + (uint64_t)agent;
}

/* Starts agent i's episode and reports its first observation. */
static void reset_cart(wsb_env env, cartpole *cart, uint32_t i, int64_t seed) {
    float obs[CARTPOLE_OBS];
    if (seed >= 0) cartpole_seed(cart, (uint64_t)seed);
    cartpole_reset(cart);
    cartpole_observe(cart, obs);
    wsb_env_set_observation(env, i, (const uint8_t *)obs, sizeof obs);
}

/* Pushes agent i's cart with the trainer's action and reports the outcome. */
static void step_cart(wsb_env env, cartpole *cart, uint32_t i) {
    int64_t action = 0; /* Discrete(2) travels as int64; the library checked it is 0 or 1 */
    float obs[CARTPOLE_OBS];
    char info[64] = "";
    wsb_env_action(env, i, (uint8_t *)&action, sizeof action, NULL);
    cartpole_end end = cartpole_step(cart, (int)action);
    cartpole_observe(cart, obs);
    wsb_env_set_observation(env, i, (const uint8_t *)obs, sizeof obs);
    wsb_env_set_reward(env, i, 1.0);
    wsb_env_set_done(env, i, end == CARTPOLE_POLE_FELL || end == CARTPOLE_OFF_TRACK, end == CARTPOLE_TIME_LIMIT);
    if (end != CARTPOLE_RUNNING) snprintf(info, sizeof info, "{\"end\": \"%s\"}", cartpole_end_name(end));
    wsb_env_set_info(env, i, info);
}

int main(int argc, char **argv) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        fprintf(stderr, "cartpole: this example assumes a little-endian host (the protocol is little-endian)\n");
        return 2;
    }
    const char *hub = NULL, *slot = NULL, *token = NULL, *lobby = NULL, *env_name = NULL;
    int agents = 1, max_steps = 500, bad = 0;
    double reconnect_timeout = 30;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--quiet") == 0) quiet = 1;
        else if (strcmp(a, "--agents") == 0 && has_value) agents = atoi(argv[++i]);
        else if (strcmp(a, "--max-steps") == 0 && has_value) max_steps = atoi(argv[++i]);
        else if (strcmp(a, "--token") == 0 && has_value) token = argv[++i];
        else if (strcmp(a, "--lobby") == 0 && has_value) lobby = argv[++i];
        else if (strcmp(a, "--env-name") == 0 && has_value) env_name = argv[++i];
        else if (strcmp(a, "--reconnect-timeout") == 0 && has_value) reconnect_timeout = atof(argv[++i]);
        else if (a[0] == '-' && a[1] == '-') bad = 1;
        else if (!hub) hub = a;
        else if (!slot) slot = a;
        else bad = 1;
    }
    if (lobby ? hub != NULL : !slot) bad = 1;
    if (env_name && !lobby) bad = 1;
    if (bad || agents < 1 || agents > 65536 || max_steps < 1 || (token && strpbrk(token, "\"\\")) ||
        (env_name && strpbrk(env_name, "\"\\")) || (lobby && strlen(lobby) >= 512)) {
        fprintf(stderr, "usage: cartpole HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]\n"
                        "                [--reconnect-timeout SECONDS] [--quiet]\n"
                        "       cartpole --lobby LOBBY_URL [--env-name NAME] [the same options]\n"
                        "  e.g. `cartpole ws://127.0.0.1:8001 3` connects to ws://127.0.0.1:8001/env/3;\n"
                        "  `cartpole --lobby ws://127.0.0.1:9000/lobby` asks that lobby for a free slot\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Declare the game once: K carts, a 4-float observation, two actions; RESET events may
       restart some carts only (partial_reset), so the trainer may use same-step autoreset. */
    char url[512], spec[1024], options[1024], lobby_options[512] = "";
    if (lobby) {
        snprintf(path, sizeof path, "lobby");
        snprintf(url, sizeof url, "%s", lobby);
        snprintf(lobby_options, sizeof lobby_options, ", \"lobby\": true, \"env_name\": \"%.400s\"",
                 env_name ? env_name : "");
    } else {
        snprintf(path, sizeof path, "/env/%.200s", slot);
        size_t n = strlen(hub);
        snprintf(url, sizeof url, "%.*s%s", (int)(n - (n > 0 && hub[n - 1] == '/')), hub, path);
    }
    double m = FLT_MAX, x = 2 * CARTPOLE_X_LIMIT, theta = 2 * CARTPOLE_THETA_LIMIT;
    snprintf(spec, sizeof spec,
             "{\"name\": \"cartpole\", \"agents\": %d, \"partial_reset\": true,"
             " \"action_space\": {\"type\": \"discrete\", \"n\": 2},"
             " \"observation_space\": {\"type\": \"box\", \"shape\": [4], \"dtype\": \"float32\","
             " \"low\": [%.9g, %.9g, %.9g, %.9g], \"high\": [%.9g, %.9g, %.9g, %.9g]}}",
             agents, -x, -m, -theta, -m, x, m, theta, m);
    snprintf(options, sizeof options,
             "{\"connection\": {\"connect_timeout_ms\": 5000}, \"reconnect_give_up_ms\": %.0f%s%.400s%s%s}",
             reconnect_timeout < 0 ? -1.0 : reconnect_timeout * 1000, token ? ", \"token\": \"" : "", token ? token : "", token ? "\"" : "",
             lobby_options);

    cartpole *carts = calloc((size_t)agents, sizeof *carts);
    if (!carts) {
        fprintf(stderr, "cartpole: out of memory for %d agents\n", agents);
        return 1;
    }
    for (int i = 0; i < agents; i++) {
        carts[i].max_steps = max_steps;
        cartpole_seed(&carts[i], default_seed(i)); /* with --lobby, again once a slot is assigned */
    }
    wsb_env env = 0;
    wsb_result r = wsb_env_open(url, spec, options, &env);
    int status = -1;
    if (r != WSB_OK) {
        fprintf(stderr, "cartpole %s: %s: %s\n", path, wsb_result_name(r), last_error());
        status = 2;
    }

    /* Lockstep: wait for each request of the trainer (-1: no time limit) and answer it. */
    while (status < 0) {
        wsb_env_event ev;
        uint16_t code = 0;
        char reason[128] = "";
        r = wsb_env_next(env, -1, &ev);
        if (r != WSB_OK) {
            char why[1024]; /* kept before wsb_env_close_status, whose own failure would replace it */
            snprintf(why, sizeof why, "%s", last_error());
            wsb_env_close_status(env, &code, reason, sizeof reason, NULL);
            /* Code 0: no close frame (the hub refused the WebSocket upgrade itself); the error says how. */
            if (r == WSB_ENV_REFUSED && lobby) /* by the lobby or a slot's hub: the error says which */
                fprintf(stderr, "cartpole %s: refused: %s\n", path, why);
            else if (r == WSB_ENV_REFUSED && code != 0)
                fprintf(stderr, "cartpole %s: refused by the hub: %u %s\n", path, code, reason);
            else if (r == WSB_ENV_REFUSED) fprintf(stderr, "cartpole %s: refused by the hub: %s\n", path, why);
            else fprintf(stderr, "cartpole %s: %s: %s\n", path, wsb_result_name(r), why);
            status = r == WSB_ENV_REFUSED || r == WSB_ENV_PROTOCOL_ERROR || r == WSB_ENV_VERSION_MISMATCH ? 2 : 1;
            break;
        }
        switch (ev.kind) {
        case WSB_EVENT_CONNECTED:
        case WSB_EVENT_RECONNECTED:
            if (lobby) {
                /* The slot the lobby assigned (credentials redacted); log lines name its path. */
                wsb_env_url(env, url, sizeof url, NULL);
                const char *host = strstr(url, "://");
                const char *slash = host ? strchr(host + 3, '/') : NULL;
                snprintf(path, sizeof path, "%.*s", (int)strcspn(slash ? slash : "/", "?"), slash ? slash : "/");
                if (ev.kind == WSB_EVENT_CONNECTED) /* carts seeded per slot, as with a fixed one */
                    for (int i = 0; i < agents; i++) cartpole_seed(&carts[i], default_seed(i));
            }
            /* Never the query: it may carry a token (docs/security.md). */
            say("connected to %.*s%s (connection %u, %d agent%s, wsbridge %s)", (int)strcspn(url, "?"), url,
                lobby ? ", assigned by the lobby" : "", ev.connection, agents, agents > 1 ? "s" : "",
                wsb_version());
            break;
        case WSB_EVENT_DISCONNECTED:
            wsb_env_close_status(env, &code, reason, sizeof reason, NULL);
            if (ev.cause == WSB_CLOSED) say("the hub closed the connection (%u %s); reconnecting", code, reason);
            else say("connection lost (%s: %s); reconnecting", wsb_result_name(ev.cause), reason);
            break;
        case WSB_EVENT_SETTINGS: { /* engine settings from the trainer: a cartpole has none to apply */
            char settings[256];
            wsb_env_settings(env, settings, sizeof settings, NULL);
            say("engine settings (ignored): %s", settings);
            break;
        }
        case WSB_EVENT_FINISHED:
            wsb_env_close_status(env, &code, reason, sizeof reason, NULL);
            say("the trainer finished (%u %s)", code, reason);
            status = 0;
            break;
        case WSB_EVENT_RESET:
        case WSB_EVENT_STEP:
            for (uint32_t i = 0; i < (uint32_t)agents; i++) {
                uint8_t reset = 0;
                int64_t seed = -1;
                wsb_env_agent_reset(env, i, &reset, &seed);
                if (reset) reset_cart(env, &carts[i], i, seed);
                else if (ev.kind == WSB_EVENT_STEP) step_cart(env, &carts[i], i);
                /* A RESET may flag only some agents (partial_reset: the trainer's same-step
                   autoreset restarts the episodes that just ended): leave the others alone. */
            }
            if ((r = wsb_env_submit(env)) != WSB_OK) {
                fprintf(stderr, "cartpole %s: %s: %s\n", path, wsb_result_name(r), last_error());
                status = 2;
            }
            break;
        }
    }
    wsb_env_close(env);
    wsb_shutdown(1000);
    free(carts);
    return status;
}
