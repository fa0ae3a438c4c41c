/*
 * The C game of the env conformance suite (tests/conformance): declares any space the protocol
 * has, through the C ABI (wsb_env_*), and behaves in a way the suite can check.
 *
 *     spaces_game URL [--agents K] [--obs KIND] [--act KIND] [--episode N] [--poll]
 *                 [--decision-period N] [--no-repeat] [--give-up-ms MS] [--token T] [--same-step]
 *                 [--lobby [--env-name NAME]]
 *
 * KIND: box_f32 (float32 [3] in [-1, 1]), box_f64 (float64 [2, 2] in [-1, 1]), image (uint8
 * [16, 16, 3]), box_i16 (int16 [4] in [-100, 100]), discrete (Discrete(5, start=2)),
 * multi_discrete (nvec [3, 4, 5]), multi_binary (n [2, 3]); observations only: dict ({"camera":
 * image, "mode": discrete, "pos": box_f32}, set part by part with wsb_env_set_observation_part),
 * tuple ((box_i16, {"bits": multi_binary}), set as whole rows: the parts one after the other).
 *
 * Behaviour (the contract every implementation of the suite follows):
 * - every observation item is drawn from the agent's random generator (splitmix64), mapped
 *   into the observation space; a reset with a seed restarts the generator from the seed, a
 *   reset without one continues it; agent i starts from seed 1000 + i.
 * - each frame (STEP, REPEAT, NO_DECISION) gives reward 1 + 0.25 i; agent i's episode ends
 *   after N + i frames, terminated for even i, truncated for odd i. Rows reset in a STEP get
 *   that reward and both episode ends set too: the library must answer them with reward 0 and
 *   no episode end (the autoreset rule).
 * - infos: {"action": [the action's items], "frames": frames since the decision, "t": frames
 *   since the reset} after a frame (on NO_DECISION frames "action" is the decision's and
 *   "no_action": true is added); {"reset": true} after a reset.
 * - --poll drives the env with timeout 0 once per 1 ms frame (a game loop), else it blocks.
 * - --same-step declares "partial_reset": true (the hello offers same-step autoreset). A RESET
 *   then may flag some agents only: the others are left alone (their reward added and their
 *   observation offered must both be ignored or refused by the library); the flagged ones
 *   reset as in any RESET (their episode ends set to 1: the library must answer the step's).
 * - --lobby: URL is a lobby's (env options "lobby": true, "env_name": NAME); after each
 *   "connected N" and "reconnected N" line the game prints "slot URL", the slot the lobby
 *   assigned (wsb_env_url).
 * - stdout, one line each: "connected N", "reconnected N", "disconnected CODE CAUSE REASON",
 *   "finished CODE REASON", "settings JSON" (engine settings received, as wsb_env_settings has them); a failure prints "error NAME: MESSAGE" on stdout and exits 2
 *   (WSB_ENV_REFUSED: "error WSB_ENV_REFUSED: CODE REASON: MESSAGE"). Exit 0 after "finished".
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsbridge.h"

typedef enum { BOX_F32, BOX_F64, IMAGE, BOX_I16, DISCRETE, MULTI_DISCRETE, MULTI_BINARY, DICT, TUPLE, KINDS } kind;

#define BOX_F32_JSON "{\"type\": \"box\", \"shape\": [3], \"dtype\": \"float32\", \"low\": -1, \"high\": 1}"
#define IMAGE_JSON "{\"type\": \"box\", \"shape\": [16, 16, 3], \"dtype\": \"uint8\", \"low\": 0, \"high\": 255}"
#define BOX_I16_JSON "{\"type\": \"box\", \"shape\": [4], \"dtype\": \"int16\", \"low\": -100, \"high\": 100}"
#define DISCRETE_JSON "{\"type\": \"discrete\", \"n\": 5, \"start\": 2}"
#define MULTI_BINARY_JSON "{\"type\": \"multi_binary\", \"n\": [2, 3]}"

static const struct {
    const char *name, *json;
    size_t items, size; /* items per agent, bytes per item on the wire (dict, tuple: bytes, 1) */
} SPACES[KINDS] = {
    {"box_f32", BOX_F32_JSON, 3, 4},
    {"box_f64", "{\"type\": \"box\", \"shape\": [2, 2], \"dtype\": \"float64\", \"low\": -1, \"high\": 1}", 4, 8},
    {"image", IMAGE_JSON, 768, 1},
    {"box_i16", BOX_I16_JSON, 4, 2},
    {"discrete", DISCRETE_JSON, 1, 8},
    {"multi_discrete", "{\"type\": \"multi_discrete\", \"nvec\": [3, 4, 5]}", 3, 8},
    {"multi_binary", MULTI_BINARY_JSON, 6, 1},
    /* Keys out of order on purpose: the parts are the leaves with dict keys sorted. */
    {"dict", "{\"type\": \"dict\", \"spaces\": {\"pos\": " BOX_F32_JSON ", \"camera\": " IMAGE_JSON
             ", \"mode\": " DISCRETE_JSON "}}", 768 + 8 + 12, 1},
    {"tuple", "{\"type\": \"tuple\", \"spaces\": [" BOX_I16_JSON ", {\"type\": \"dict\", \"spaces\": {\"bits\": "
              MULTI_BINARY_JSON "}}]}", 8 + 6, 1},
};

/* The parts of the dict and tuple kinds, in wire order: path and leaf kind. */
typedef struct { const char *path; kind leaf; } part;
static const part DICT_PARTS[] = {{"camera", IMAGE}, {"mode", DISCRETE}, {"pos", BOX_F32}, {NULL, KINDS}};
static const part TUPLE_PARTS[] = {{"0", BOX_I16}, {"1.bits", MULTI_BINARY}, {NULL, KINDS}};

static const part *parts_of(kind k) { return k == DICT ? DICT_PARTS : k == TUPLE ? TUPLE_PARTS : NULL; }

static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One observation row drawn from `rng`, written as the space's wire items (a dict or tuple:
   its parts' rows one after the other, drawn in that order). */
static void draw(kind k, uint64_t *rng, uint8_t *out) {
    static const int64_t nvec[3] = {3, 4, 5};
    if (parts_of(k)) {
        for (const part *p = parts_of(k); p->path; p++) {
            draw(p->leaf, rng, out);
            out += SPACES[p->leaf].items * SPACES[p->leaf].size;
        }
        return;
    }
    for (size_t j = 0; j < SPACES[k].items; j++) {
        uint64_t r = next_random(rng);
        double unit = (double)(r >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        switch (k) {
        case BOX_F32: { float v = (float)unit; memcpy(out + 4 * j, &v, 4); break; }
        case BOX_F64: memcpy(out + 8 * j, &unit, 8); break;
        case IMAGE: out[j] = (uint8_t)r; break;
        case BOX_I16: { int16_t v = (int16_t)((int64_t)(r % 201) - 100); memcpy(out + 2 * j, &v, 2); break; }
        case DISCRETE: { int64_t v = 2 + (int64_t)(r % 5); memcpy(out, &v, 8); break; }
        case MULTI_DISCRETE: { int64_t v = (int64_t)(r % (uint64_t)nvec[j]); memcpy(out + 8 * j, &v, 8); break; }
        case MULTI_BINARY: out[j] = (uint8_t)(r & 1); break;
        default: break;
        }
    }
}

/* Appends the action row's items as a JSON list. */
static int format_action(kind k, const uint8_t *row, char *out, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "[");
    for (size_t j = 0; j < SPACES[k].items && n < cap; j++) {
        const char *sep = j ? "," : "";
        switch (k) {
        case BOX_F32: { float v; memcpy(&v, row + 4 * j, 4); n += (size_t)snprintf(out + n, cap - n, "%s%.9g", sep, v); break; }
        case BOX_F64: { double v; memcpy(&v, row + 8 * j, 8); n += (size_t)snprintf(out + n, cap - n, "%s%.17g", sep, v); break; }
        case IMAGE: n += (size_t)snprintf(out + n, cap - n, "%s%u", sep, row[j]); break;
        case BOX_I16: { int16_t v; memcpy(&v, row + 2 * j, 2); n += (size_t)snprintf(out + n, cap - n, "%s%d", sep, v); break; }
        case MULTI_BINARY: n += (size_t)snprintf(out + n, cap - n, "%s%d", sep, (int8_t)row[j]); break;
        default: { int64_t v; memcpy(&v, row + 8 * j, 8); n += (size_t)snprintf(out + n, cap - n, "%s%lld", sep, (long long)v); break; }
        }
    }
    if (n < cap) n += (size_t)snprintf(out + n, cap - n, "]");
    return n < cap ? 0 : -1;
}

static kind kind_arg(const char *name) {
    for (int k = 0; k < KINDS; k++)
        if (strcmp(name, SPACES[k].name) == 0) return (kind)k;
    fprintf(stderr, "spaces_game: unknown space kind %s\n", name);
    exit(2);
}

typedef struct {
    uint64_t rng;
    int t, frames, length;
    uint8_t *obs, *action;
} agent;

static int fail(const char *what, wsb_env env, wsb_result r) {
    char msg[1024], reason[128] = "";
    uint16_t code = 0;
    wsb_last_error(msg, sizeof msg);
    if (r == WSB_ENV_REFUSED && wsb_env_close_status(env, &code, reason, sizeof reason, NULL) == WSB_OK)
        printf("error %s: %u %s: %s\n", wsb_result_name(r), code, reason, msg);
    else
        printf("error %s: %s (in %s)\n", wsb_result_name(r), msg, what);
    wsb_env_close(env);
    wsb_shutdown(1000);
    return 2;
}

int main(int argc, char **argv) {
    const char *url = NULL, *token = NULL, *env_name = "";
    int agents = 1, episode = 4, poll = 0, period = 1, repeat = 1, same_step = 0, lobby = 0;
    long give_up = 30000;
    kind obs_kind = BOX_F32, act_kind = DISCRETE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--agents") == 0 && more) agents = atoi(argv[++i]);
        else if (strcmp(a, "--obs") == 0 && more) obs_kind = kind_arg(argv[++i]);
        else if (strcmp(a, "--act") == 0 && more) act_kind = kind_arg(argv[++i]);
        else if (strcmp(a, "--episode") == 0 && more) episode = atoi(argv[++i]);
        else if (strcmp(a, "--decision-period") == 0 && more) period = atoi(argv[++i]);
        else if (strcmp(a, "--give-up-ms") == 0 && more) give_up = atol(argv[++i]);
        else if (strcmp(a, "--token") == 0 && more) token = argv[++i];
        else if (strcmp(a, "--poll") == 0) poll = 1;
        else if (strcmp(a, "--no-repeat") == 0) repeat = 0;
        else if (strcmp(a, "--same-step") == 0) same_step = 1;
        else if (strcmp(a, "--lobby") == 0) lobby = 1;
        else if (strcmp(a, "--env-name") == 0 && more) env_name = argv[++i];
        else if (!url && a[0] != '-') url = a;
        else {
            fprintf(stderr, "spaces_game: bad argument %s (see the comment at the top of spaces_game.c)\n", a);
            return 2;
        }
    }
    if (!url || agents < 1 || episode < 1 || period < 1) {
        fprintf(stderr, "usage: spaces_game URL [--agents K] [--obs KIND] [--act KIND] ...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char spec[1024], options[1024];
    snprintf(spec, sizeof spec,
             "{\"name\": \"spaces\", \"agents\": %d, \"partial_reset\": %s, \"observation_space\": %s,"
             " \"action_space\": %s}", agents, same_step ? "true" : "false", SPACES[obs_kind].json,
             SPACES[act_kind].json);
    snprintf(options, sizeof options,
             "{\"decision_period\": %d, \"repeat_actions\": %s, \"reconnect_give_up_ms\": %ld,"
             " \"connection\": {\"connect_timeout_ms\": 2000}%s%s%s, \"lobby\": %s, \"env_name\": \"%.200s\"}",
             period, repeat ? "true" : "false", give_up, token ? ", \"token\": \"" : "", token ? token : "",
             token ? "\"" : "", lobby ? "true" : "false", env_name);
    wsb_env env = 0;
    wsb_result r = wsb_env_open(url, spec, options, &env);
    if (r != WSB_OK) return fail("wsb_env_open", env, r);

    uint32_t k = 0;
    size_t obs_bytes = 0, act_bytes = 0;
    wsb_env_layout(env, &k, &obs_bytes, &act_bytes);
    if (k != (uint32_t)agents || obs_bytes != SPACES[obs_kind].items * SPACES[obs_kind].size ||
        act_bytes != SPACES[act_kind].items * SPACES[act_kind].size) {
        printf("error layout: %u agents, %zu and %zu bytes per row\n", k, obs_bytes, act_bytes);
        return 2;
    }
    if (parts_of(act_kind)) {
        printf("error --act: dict and tuple spaces are for observations only\n");
        return 2;
    }
    /* A dict's parts are set one by one (wsb_env_set_observation_part); other rows whole. */
    uint32_t part_index[8];
    size_t part_offset[8], part_bytes[8], nparts = 0;
    if (obs_kind == DICT) {
        size_t off = 0;
        for (const part *p = DICT_PARTS; p->path; p++, nparts++) {
            if ((r = wsb_env_observation_part(env, p->path, &part_index[nparts], &part_bytes[nparts])) != WSB_OK)
                return fail("wsb_env_observation_part", env, r);
            if (part_index[nparts] != nparts || part_bytes[nparts] != SPACES[p->leaf].items * SPACES[p->leaf].size) {
                printf("error part %s: index %u, %zu bytes\n", p->path, part_index[nparts], part_bytes[nparts]);
                return 2;
            }
            part_offset[nparts] = off;
            off += part_bytes[nparts];
        }
        uint32_t none;
        if (wsb_env_observation_part(env, "nope", &none, NULL) != WSB_INVALID_ARGUMENT) {
            printf("error part nope: found\n");
            return 2;
        }
    }
    agent *ag = calloc(k, sizeof *ag);
    size_t info_cap = 64 + SPACES[act_kind].items * 32;
    char *info = malloc(info_cap), *list = malloc(info_cap);
    for (uint32_t i = 0; i < k; i++) {
        ag[i].rng = 1000 + i;
        ag[i].length = episode + (int)i;
        ag[i].obs = malloc(obs_bytes);
        ag[i].action = malloc(act_bytes);
    }

    for (;;) {
        wsb_env_event ev;
        r = wsb_env_next(env, poll ? 0 : -1, &ev);
        if (r == WSB_TIMEOUT && poll) {
            struct timespec frame = {0, 1000000}; /* the rest of a 1 ms frame of a game loop */
            nanosleep(&frame, NULL);
            continue;
        }
        if (r != WSB_OK) return fail("wsb_env_next", env, r);
        uint16_t code = 0;
        char reason[128] = "";
        switch (ev.kind) {
        case WSB_EVENT_CONNECTED:
        case WSB_EVENT_RECONNECTED: {
            printf("%s %u\n", ev.kind == WSB_EVENT_CONNECTED ? "connected" : "reconnected", ev.connection);
            char slot[512];
            if (lobby && (r = wsb_env_url(env, slot, sizeof slot, NULL)) != WSB_OK) return fail("wsb_env_url", env, r);
            if (lobby) printf("slot %s\n", slot);
            continue;
        }
        case WSB_EVENT_DISCONNECTED:
            wsb_env_close_status(env, &code, reason, sizeof reason, NULL);
            printf("disconnected %u %s %s\n", code, wsb_result_name(ev.cause), reason);
            continue;
        case WSB_EVENT_SETTINGS: {
            char settings[512];
            if ((r = wsb_env_settings(env, settings, sizeof settings, NULL)) != WSB_OK) return fail("wsb_env_settings", env, r);
            printf("settings %s\n", settings);
            continue;
        }
        case WSB_EVENT_FINISHED:
            wsb_env_close_status(env, &code, reason, sizeof reason, NULL);
            printf("finished %u %s\n", code, reason);
            wsb_env_close(env);
            wsb_shutdown(1000);
            return 0;
        default: break;
        }
        for (uint32_t i = 0; i < k; i++) {
            agent *a = &ag[i];
            uint8_t reset = 0;
            int64_t seed = -1;
            if ((r = wsb_env_agent_reset(env, i, &reset, &seed)) != WSB_OK) return fail("wsb_env_agent_reset", env, r);
            wsb_env_add_reward(env, i, 1.0 + 0.25 * i);
            if (ev.kind == WSB_EVENT_RESET && !reset) {
                /* A partial RESET (same-step autoreset): this agent's row is the step's. */
                if (wsb_env_set_observation(env, i, a->obs, obs_bytes) != WSB_INVALID_ARGUMENT)
                    return fail("wsb_env_set_observation of an agent a partial RESET keeps", env, WSB_INTERNAL);
                continue;
            }
            if (reset) {
                wsb_env_set_done(env, i, 1, 1); /* the library must answer reset rows without it */
                if (seed >= 0) a->rng = (uint64_t)seed;
                a->t = 0;
                snprintf(info, info_cap, "{\"reset\": true}");
            } else {
                int no_action = ev.kind == WSB_EVENT_NO_DECISION;
                if (ev.kind == WSB_EVENT_STEP) a->frames = 0;
                if (no_action) {
                    r = wsb_env_action(env, i, a->action, act_bytes, NULL);
                    if (r != WSB_INVALID_ARGUMENT) return fail("wsb_env_action without a decision", env, r);
                } else if ((r = wsb_env_action(env, i, a->action, act_bytes, NULL)) != WSB_OK) {
                    return fail("wsb_env_action", env, r);
                }
                a->t++;
                a->frames++;
                if (a->t >= a->length) wsb_env_set_done(env, i, i % 2 == 0, i % 2 == 1);
                if (format_action(act_kind, a->action, list, info_cap) != 0) return fail("format_action", env, WSB_INTERNAL);
                snprintf(info, info_cap, "{\"action\": %s, \"frames\": %d, \"t\": %d%s}", list, a->frames, a->t,
                         no_action ? ", \"no_action\": true" : "");
            }
            draw(obs_kind, &a->rng, a->obs);
            if (nparts) {
                for (size_t p = 0; p < nparts; p++)
                    if ((r = wsb_env_set_observation_part(env, i, part_index[p], a->obs + part_offset[p],
                                                          part_bytes[p])) != WSB_OK)
                        return fail("wsb_env_set_observation_part", env, r);
            } else if ((r = wsb_env_set_observation(env, i, a->obs, obs_bytes)) != WSB_OK) {
                return fail("wsb_env_set_observation", env, r);
            }
            if ((r = wsb_env_set_info(env, i, info)) != WSB_OK) return fail("wsb_env_set_info", env, r);
        }
        if ((r = wsb_env_submit(env)) != WSB_OK) return fail("wsb_env_submit", env, r);
    }
}
