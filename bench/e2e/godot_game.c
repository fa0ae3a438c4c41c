/* The game of the Godot RL Agents peer row (workload 7): the cartpole of examples/game speaking
 * Godot RL Agents' TCP protocol, as its Godot plugin (sync.gd) does, so that the trainer side of
 * `godot-rl` (PyPI, `godot_rl.core.godot_env.GodotEnv`) can launch and step it like an exported
 * Godot game.
 *
 *     godot_game.x86_64 --port=P [--env_seed=S] [--n_agents=K] [other --key=value, ignored]
 *
 * GodotEnv starts the binary (its name must end in .x86_64 on Linux) with its port, then listens:
 * the game connects to 127.0.0.1:P, retrying while nothing listens yet. Every message either way is
 * a 4-byte little-endian length and a UTF-8 JSON object (Godot's StreamPeer put_string/get_string).
 * The trainer sends "handshake" (no answer), "env_info" (answered with the spaces and the number of
 * agents), "reset" (every agent's first observation), "action" (one {"move": 0|1} per agent,
 * answered with "step": observations, rewards, done flags; an agent whose episode ended starts the
 * next one at once, as a Godot AIController does after `needs_reset`) and "close" (exit 0).
 *
 * Observation of an agent: {"obs": [x, x_dot, theta, theta_dot]}; action: Discrete(2) "move".
 */
#define _DEFAULT_SOURCE /* nanosleep under -std=c11 */
#include "../../examples/game/cartpole.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;

static int read_all(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One message into *buf (grown as needed, NUL-terminated); its length or -1. */
static long read_message(char **buf, size_t *cap) {
    uint8_t len[4];
    if (read_all(len, 4) != 0) return -1;
    size_t n = (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 | (size_t)len[3] << 24;
    if (n + 1 > *cap) {
        char *grown = realloc(*buf, n + 1);
        if (!grown) return -1;
        *buf = grown;
        *cap = n + 1;
    }
    if (read_all(*buf, n) != 0) return -1;
    (*buf)[n] = 0;
    return (long)n;
}

/* Sends the message whose JSON text starts 4 bytes into out (the length goes there). */
static int send_message(char *out, size_t text_len) {
    out[0] = (char)(text_len & 0xff);
    out[1] = (char)(text_len >> 8 & 0xff);
    out[2] = (char)(text_len >> 16 & 0xff);
    out[3] = (char)(text_len >> 24 & 0xff);
    size_t n = text_len + 4;
    const char *p = out;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int connect_with_retry(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* GodotEnv launches the game before it listens: retry for up to 60 s (its own accept timeout). */
    for (int attempt = 0; attempt < 30000; attempt++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) return -1;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return s;
        }
        int err = errno;
        close(s);
        if (err != ECONNREFUSED && err != EINTR) {
            fprintf(stderr, "godot_game: connect to 127.0.0.1:%d: %s\n", port, strerror(err));
            return -1;
        }
        struct timespec pause = {0, 2000000}; /* 2 ms between attempts */
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "godot_game: nothing listened on 127.0.0.1:%d within 60 s\n", port);
    return -1;
}

static int is_type(const char *msg, const char *type) {
    char want[64];
    snprintf(want, sizeof want, "\"type\": \"%s\"", type);
    if (strstr(msg, want)) return 1;
    snprintf(want, sizeof want, "\"type\":\"%s\"", type);
    return strstr(msg, want) != NULL;
}

static size_t put_obs(char *out, size_t at, const cartpole *c) {
    float o[CARTPOLE_OBS];
    cartpole_observe(c, o);
    return at + (size_t)sprintf(out + at, "{\"obs\": [%.7g, %.7g, %.7g, %.7g]}", o[0], o[1], o[2], o[3]);
}

int main(int argc, char **argv) {
    int port = -1, agents = 1;
    long long seed = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--port=", 7) == 0) port = atoi(argv[i] + 7);
        else if (strncmp(argv[i], "--n_agents=", 11) == 0) agents = atoi(argv[i] + 11);
        else if (strncmp(argv[i], "--env_seed=", 11) == 0) seed = atoll(argv[i] + 11);
        /* GodotEnv also passes --disable-render-loop, --headless and the like: nothing to render. */
    }
    if (port <= 0 || port > 65535 || agents < 1 || agents > 65536) {
        fprintf(stderr, "usage: %s --port=P [--env_seed=S] [--n_agents=K]\n", argv[0]);
        return 2;
    }
    cartpole *carts = calloc((size_t)agents, sizeof *carts);
    /* Per agent at most: a step's observation (~80 B), reward and flag; plus the envelope. */
    size_t out_cap = 256 + (size_t)agents * 160;
    char *out = malloc(out_cap), *in = NULL;
    size_t in_cap = 0;
    if (!carts || !out) return 1;
    for (int i = 0; i < agents; i++) {
        carts[i].max_steps = 500;
        cartpole_seed(&carts[i], (uint64_t)seed * 65536u + (uint64_t)i);
        cartpole_reset(&carts[i]);
    }
    if ((fd = connect_with_retry(port)) < 0) return 1;
    for (;;) {
        if (read_message(&in, &in_cap) < 0) {
            fprintf(stderr, "godot_game: the trainer closed the connection\n");
            return 1;
        }
        size_t at = 4;
        if (is_type(in, "handshake")) continue;
        if (is_type(in, "close")) break;
        if (is_type(in, "env_info")) {
            at += (size_t)sprintf(out + at,
                                  "{\"type\": \"env_info\", \"observation_space\": {\"obs\": {\"size\": [4], "
                                  "\"space\": \"box\"}}, \"action_space\": {\"move\": {\"size\": 2, "
                                  "\"action_type\": \"discrete\"}}, \"n_agents\": %d}",
                                  agents);
        } else if (is_type(in, "reset")) {
            at += (size_t)sprintf(out + at, "{\"type\": \"reset\", \"obs\": [");
            for (int i = 0; i < agents; i++) {
                cartpole_reset(&carts[i]);
                if (i) out[at++] = ',';
                at = put_obs(out, at, &carts[i]);
            }
            at += (size_t)sprintf(out + at, "]}");
        } else if (is_type(in, "action")) {
            const char *p = strstr(in, "\"action\"");
            char *done = malloc((size_t)agents);
            if (!done) return 1;
            at += (size_t)sprintf(out + at, "{\"type\": \"step\", \"obs\": [");
            for (int i = 0; i < agents; i++) {
                p = p ? strstr(p, "\"move\"") : NULL;
                if (!p) {
                    fprintf(stderr, "godot_game: an action message without a move for agent %d\n", i);
                    return 2;
                }
                p += 6;
                while (*p == ':' || *p == ' ') p++;
                cartpole_end end = cartpole_step(&carts[i], *p == '1');
                done[i] = end != CARTPOLE_RUNNING;
                if (i) out[at++] = ',';
                at = put_obs(out, at, &carts[i]);
                if (done[i]) cartpole_reset(&carts[i]); /* the next observation is the new episode's */
            }
            at += (size_t)sprintf(out + at, "], \"reward\": [");
            for (int i = 0; i < agents; i++) at += (size_t)sprintf(out + at, i ? ", 1.0" : "1.0");
            at += (size_t)sprintf(out + at, "], \"done\": [");
            for (int i = 0; i < agents; i++)
                at += (size_t)sprintf(out + at, "%s%s", i ? ", " : "", done[i] ? "true" : "false");
            at += (size_t)sprintf(out + at, "]}");
            free(done);
        } else {
            fprintf(stderr, "godot_game: unknown message %.80s\n", in);
            return 2;
        }
        if (send_message(out, at - 4) != 0) {
            fprintf(stderr, "godot_game: send: %s\n", strerror(errno));
            return 1;
        }
    }
    close(fd);
    free(carts);
    free(out);
    free(in);
    return 0;
}
