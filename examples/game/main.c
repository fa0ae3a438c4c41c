/*
 * cartpole: a small game trained from Python through wsbridge (docs/protocol.md).
 *
 *     cartpole HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]
 *              [--reconnect-timeout SECONDS] [--quiet]
 *
 * Connects to HUB_URL/env/ENV_ID (e.g. `cartpole ws://127.0.0.1:8001 3` opens
 * ws://127.0.0.1:8001/env/3), says hello with its spaces and its K carts (default 1), then
 * answers the trainer's reset and step messages until the trainer closes with 1000. If the
 * connection drops, or the hub says to retry (1001, 1011, 4408, 4409), it reconnects to the
 * same slot with backoff, for up to --reconnect-timeout seconds (default 30) each time.
 *
 * Exit status: 0 when the trainer finished, 1 when the hub could not be reached in time, 2 when
 * the hub refused the game for good (4400 protocol violation, 4401 token, 4404 unknown slot) or
 * the trainer broke the protocol.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cartpole.h"
#include "wire.h"
#include "wsbridge.h"

typedef struct {
    const char *hub, *env_id, *token;
    int agents, max_steps, quiet;
    double reconnect_timeout;
    char url[512], path[256], options[1024];
} config;

typedef struct {
    config cfg;
    cartpole *carts;
    int *ready;           /* reset at least once on this connection */
    uint64_t *seeds;      /* the seeds of a reset request, */
    int *seeded;          /* and which agents have one (not null) */
    float *obs, *reward;  /* K x 4, K */
    uint8_t *terminated, *truncated;
    char *infos;          /* "\"infos\":[...]" */
    size_t infos_cap;
    uint8_t *in;          /* receive buffer, grows */
    size_t in_cap;
    wire_buf out;
} game;

typedef enum { SESSION_FINISHED, SESSION_RECONNECT, SESSION_FATAL } session_end;

static void say(const game *g, const char *fmt, ...) {
    if (g->cfg.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    printf("cartpole %s: ", g->cfg.path);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static void complain(const game *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cartpole %s: ", g->cfg.path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *last_error(void) {
    static char msg[1024];
    wsb_last_error(msg, sizeof msg);
    return msg;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- command line ------------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, config *c) {
    *c = (config){.agents = 1, .max_steps = 500, .reconnect_timeout = 30.0};
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--quiet") == 0) c->quiet = 1;
        else if (strcmp(a, "--agents") == 0 && has_value) c->agents = atoi(argv[++i]);
        else if (strcmp(a, "--max-steps") == 0 && has_value) c->max_steps = atoi(argv[++i]);
        else if (strcmp(a, "--token") == 0 && has_value) c->token = argv[++i];
        else if (strcmp(a, "--reconnect-timeout") == 0 && has_value) c->reconnect_timeout = atof(argv[++i]);
        else if (a[0] == '-' && a[1] == '-') return -1;
        else if (positional == 0) c->hub = a, positional++;
        else if (positional == 1) c->env_id = a, positional++;
        else return -1;
    }
    if (positional != 2 || c->agents < 1 || c->agents > 65536 || c->max_steps < 1) return -1;
    size_t n = strlen(c->hub);
    int slash = n > 0 && c->hub[n - 1] == '/';
    snprintf(c->path, sizeof c->path, "/env/%s", c->env_id);
    snprintf(c->url, sizeof c->url, "%.*s%s", (int)(n - (size_t)slash), c->hub, c->path);
    if (c->token)
        snprintf(c->options, sizeof c->options,
                 "{\"connect_timeout_ms\": 5000, \"headers\": {\"Authorization\": \"Bearer %s\"}}", c->token);
    else
        snprintf(c->options, sizeof c->options, "{\"connect_timeout_ms\": 5000}");
    return 0;
}

/* ---- protocol ---------------------------------------------------------------------------- */

static int send_message(game *g, wsb_handle h, uint32_t kind, const void *data, size_t len) {
    wsb_result r = wsb_send(h, data, len, kind);
    if (r != WSB_OK) complain(g, "send failed: %s: %s", wsb_result_name(r), last_error());
    return r == WSB_OK ? 0 : -1;
}

static int send_hello(game *g, wsb_handle h) {
    char hello[1024];
    double m = FLT_MAX;
    int n = snprintf(hello, sizeof hello,
                     "{\"type\":\"hello\",\"protocol\":1,\"name\":\"cartpole\",\"agents\":%d,"
                     "\"observation_space\":{\"type\":\"box\",\"shape\":[4],\"dtype\":\"float32\","
                     "\"low\":[%.9g,%.9g,%.9g,%.9g],\"high\":[%.9g,%.9g,%.9g,%.9g]},"
                     "\"action_space\":{\"type\":\"discrete\",\"n\":2}}",
                     g->cfg.agents, -2 * CARTPOLE_X_LIMIT, -m, -2 * CARTPOLE_THETA_LIMIT, -m,
                     2 * CARTPOLE_X_LIMIT, m, 2 * CARTPOLE_THETA_LIMIT, m);
    return send_message(g, h, WSB_TEXT, hello, (size_t)n);
}

/* Appends `,{...}` or `[{...}` for agent i's info to g->infos. */
static void add_info(game *g, size_t *len, int i, const char *end) {
    char *at = g->infos + *len;
    size_t room = g->infos_cap - *len;
    int n = end ? snprintf(at, room, "%s{\"end\":\"%s\"}", i ? "," : "[", end)
                : snprintf(at, room, "%s{}", i ? "," : "[");
    *len += (size_t)n;
}

static int send_reply(game *g, wsb_handle h, const char *type) {
    uint64_t rows[2] = {(uint64_t)g->cfg.agents, CARTPOLE_OBS};
    size_t k = (size_t)g->cfg.agents;
    wire_out_array arrays[] = {
        {"obs", "float32", 2, rows, g->obs, k * CARTPOLE_OBS * sizeof(float)},
        {"reward", "float32", 1, rows, g->reward, k * sizeof(float)},
        {"terminated", "bool", 1, rows, g->terminated, k},
        {"truncated", "bool", 1, rows, g->truncated, k},
    };
    size_t n = strcmp(type, "reset") == 0 ? 1 : 4;
    if (wire_build(&g->out, type, g->infos, arrays, n) != 0) {
        complain(g, "out of memory building a %s message", type);
        return -1;
    }
    return send_message(g, h, WSB_BINARY, g->out.data, g->out.len);
}

/* The default seed of an agent that was never seeded: distinct per slot and agent. */
static uint64_t default_seed(const game *g, int agent) {
    uint64_t s = 1469598103934665603ULL; /* FNV-1a of the path */
    for (const char *p = g->cfg.path; *p; p++) s = (s ^ (uint8_t)*p) * 1099511628211ULL;
    return s + (uint64_t)agent;
}

static void reset_agent(game *g, int i, size_t *infos_len) {
    cartpole_reset(&g->carts[i]);
    cartpole_observe(&g->carts[i], &g->obs[i * CARTPOLE_OBS]);
    g->reward[i] = 0.0f;
    g->terminated[i] = g->truncated[i] = 0;
    g->ready[i] = 1;
    add_info(g, infos_len, i, NULL);
}

/* Handles one request; returns 0, or -1 with a reason in `err` for a protocol violation. */
static int handle(game *g, wsb_handle h, const wire_msg *m, char *err, size_t cap) {
    char type[32];
    int k = g->cfg.agents;
    size_t infos_len = (size_t)snprintf(g->infos, g->infos_cap, "\"infos\":");
    if (wire_string(m, "type", type, sizeof type, err, cap) != 0) return -1;
    if (strcmp(type, "reset") == 0) {
        if (wire_int_list(m, "seeds", g->seeds, g->seeded, k) != k) {
            snprintf(err, cap, "reset: \"seeds\" must list %d integers or nulls", k);
            return -1;
        }
        for (int i = 0; i < k; i++) {
            if (g->seeded[i]) cartpole_seed(&g->carts[i], g->seeds[i]);
            reset_agent(g, i, &infos_len);
        }
    } else if (strcmp(type, "step") == 0) {
        wire_array action, reset;
        if (wire_array_get(m, "action", &action, err, cap) != 0 || wire_array_get(m, "reset", &reset, err, cap) != 0)
            return -1;
        if (strcmp(action.dtype, "int64") != 0 || action.ndim != 1 || action.shape[0] != (uint64_t)k ||
            strcmp(reset.dtype, "bool") != 0 || reset.ndim != 1 || reset.shape[0] != (uint64_t)k) {
            snprintf(err, cap, "step: expected action int64[%d] and reset bool[%d], got %s and %s", k, k,
                     action.dtype, reset.dtype);
            return -1;
        }
        for (int i = 0; i < k; i++) {
            int64_t a;
            memcpy(&a, action.data + 8 * (size_t)i, sizeof a); /* little-endian host: see main */
            if (reset.data[i]) {
                reset_agent(g, i, &infos_len);
                continue;
            }
            if (!g->ready[i]) {
                snprintf(err, cap, "step: agent %d must be reset on this connection before it steps", i);
                return -1;
            }
            if (a != 0 && a != 1) {
                snprintf(err, cap, "step: action %lld of agent %d is not 0 or 1", (long long)a, i);
                return -1;
            }
            cartpole_end end = cartpole_step(&g->carts[i], (int)a);
            cartpole_observe(&g->carts[i], &g->obs[i * CARTPOLE_OBS]);
            g->reward[i] = 1.0f;
            g->terminated[i] = end == CARTPOLE_POLE_FELL || end == CARTPOLE_OFF_TRACK;
            g->truncated[i] = end == CARTPOLE_TIME_LIMIT;
            add_info(g, &infos_len, i, cartpole_end_name(end));
        }
    } else {
        snprintf(err, cap, "unknown message type \"%s\" (expected reset or step)", type);
        return -1;
    }
    memcpy(g->infos + infos_len, "]", 2);
    return send_reply(g, h, type) == 0 ? 0 : 1;
}

/* ---- connection -------------------------------------------------------------------------- */

/* Whether a close code from the hub means "do not come back". */
static int permanent(uint16_t code) {
    return code == 1002 || code == 1003 || code == 1007 || code == 1008 || code == 1009 || code == 4400 ||
           code == 4401 || code == 4404;
}

/* Talks to the hub over one connection until it ends. */
static session_end session(game *g, wsb_handle h) {
    for (int i = 0; i < g->cfg.agents; i++) g->ready[i] = 0;
    if (send_hello(g, h) != 0) return SESSION_RECONNECT;
    for (;;) {
        size_t len = 0;
        uint32_t kind = 0;
        wsb_result r = wsb_recv(h, g->in, g->in_cap, &len, &kind, -1);
        if (r == WSB_BUFFER_TOO_SMALL) {
            uint8_t *bigger = realloc(g->in, len);
            if (!bigger) {
                complain(g, "out of memory for a %zu-byte message", len);
                return SESSION_FATAL;
            }
            g->in = bigger;
            g->in_cap = len;
            continue;
        }
        if (r == WSB_CLOSED) {
            uint16_t code = 0;
            char reason[128] = "";
            wsb_close_status(h, &code, reason, sizeof reason, NULL);
            if (code == 1000) {
                say(g, "the trainer finished (%u %s)", code, reason);
                return SESSION_FINISHED;
            }
            if (permanent(code)) {
                complain(g, "refused by the hub: %u %s", code, reason);
                return SESSION_FATAL;
            }
            say(g, "the hub closed the connection (%u %s); reconnecting", code, reason);
            return SESSION_RECONNECT;
        }
        if (r != WSB_OK) {
            say(g, "connection lost (%s: %s); reconnecting", wsb_result_name(r), last_error());
            return SESSION_RECONNECT;
        }
        wire_msg m;
        char err[256];
        int bad = wire_parse(g->in, len, kind, &m, err, sizeof err);
        if (bad == 0) bad = handle(g, h, &m, err, sizeof err);
        if (bad > 0) return SESSION_RECONNECT; /* sending failed: the next recv says why */
        if (bad < 0) {
            complain(g, "the trainer broke the protocol: %s", err);
            wsb_close(h, 4400, "protocol violation (see the game's log)", 1000);
            return SESSION_FATAL;
        }
    }
}

/* Connects, retrying with backoff until the reconnect timeout; 0 on success. */
static int connect_with_retry(game *g, wsb_handle *h) {
    double deadline = now_s() + g->cfg.reconnect_timeout, backoff = 0.05;
    for (;;) {
        wsb_result r = wsb_connect(g->cfg.url, g->cfg.options, h);
        if (r == WSB_OK) return 0;
        if (r == WSB_INVALID_ARGUMENT) {
            complain(g, "%s", last_error());
            return -1;
        }
        if (now_s() + backoff > deadline) {
            complain(g, "could not connect within %g s: %s: %s", g->cfg.reconnect_timeout, wsb_result_name(r),
                     last_error());
            return -1;
        }
        /* Nothing to wait on while the trainer is away: back off and try again. */
        struct timespec pause = {(time_t)backoff, (long)((backoff - (double)(time_t)backoff) * 1e9)};
        nanosleep(&pause, NULL);
        backoff = backoff * 2 > 1.0 ? 1.0 : backoff * 2;
    }
}

int main(int argc, char **argv) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        fprintf(stderr, "cartpole: this example assumes a little-endian host (the protocol is little-endian)\n");
        return 2;
    }
    game g = {0};
    if (parse_args(argc, argv, &g.cfg) != 0) {
        fprintf(stderr, "usage: cartpole HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]\n"
                        "                [--reconnect-timeout SECONDS] [--quiet]\n"
                        "  e.g. `cartpole ws://127.0.0.1:8001 3` connects to ws://127.0.0.1:8001/env/3\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t k = (size_t)g.cfg.agents;
    g.carts = calloc(k, sizeof *g.carts);
    g.ready = calloc(k, sizeof *g.ready);
    g.seeds = calloc(k, sizeof *g.seeds);
    g.seeded = calloc(k, sizeof *g.seeded);
    g.obs = calloc(k * CARTPOLE_OBS, sizeof *g.obs);
    g.reward = calloc(k, sizeof *g.reward);
    g.terminated = calloc(k, 1);
    g.truncated = calloc(k, 1);
    g.infos_cap = 16 + k * 32;
    g.infos = malloc(g.infos_cap);
    g.in_cap = 4096;
    g.in = malloc(g.in_cap);
    if (!g.carts || !g.ready || !g.seeds || !g.seeded || !g.obs || !g.reward || !g.terminated || !g.truncated ||
        !g.infos || !g.in) {
        fprintf(stderr, "cartpole: out of memory for %zu agents\n", k);
        return 1;
    }
    for (int i = 0; i < g.cfg.agents; i++) {
        g.carts[i].max_steps = g.cfg.max_steps;
        cartpole_seed(&g.carts[i], default_seed(&g, i));
    }

    int status = 0;
    for (int connection = 1;; connection++) {
        wsb_handle h;
        if (connect_with_retry(&g, &h) != 0) {
            status = 1;
            break;
        }
        say(&g, "connected to %s (connection %d, %d agent%s, wsbridge %s)", g.cfg.url, connection, g.cfg.agents,
            g.cfg.agents > 1 ? "s" : "", wsb_version());
        session_end end = session(&g, h);
        wsb_close(h, 1000, NULL, 1000);
        if (end == SESSION_FINISHED) break;
        if (end == SESSION_FATAL) {
            status = 2;
            break;
        }
    }
    wsb_shutdown(1000);
    wire_buf_free(&g.out);
    free(g.carts);
    free(g.ready);
    free(g.seeds);
    free(g.seeded);
    free(g.obs);
    free(g.reward);
    free(g.terminated);
    free(g.truncated);
    free(g.infos);
    free(g.in);
    return status;
}
