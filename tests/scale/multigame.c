/*
 * multigame: many games in one process, for `make test-scale` (tests/scale/run.py).
 *
 *     multigame --name PREFIX (--urls FILE | --lobby URL --games N) [--token T] [--ca FILE]
 *               [--server-name NAME] [--seconds S] [--env-name NAME]
 *
 * Runs one cart-pole game (examples/game/cartpole.c) per env connection, each on its own thread
 * blocking in wsb_env_next (lockstep: the library reads each socket on its game's thread), all
 * sharing the library's one I/O thread. Game i is named PREFIX-gNNNN and connects to line i of
 * FILE (fixed slots), or to the lobby URL (the env option "lobby": the library asks the lobby for
 * a slot and follows the assignment).
 *
 * Counting, so that the run can prove nothing was lost or duplicated: every answer carries, in
 * its agent's info, `s` (this game's answer number, 1, 2, ... over every connection) and `q`
 * (the number of the request it answers, which the trainer sends as the second component of
 * the action, or as reset option "q"). Each game prints lines (times are CLOCK_REALTIME seconds):
 *
 *     connect NAME t=T conn=C                  a connection opened (and the hello went out)
 *     serving NAME t=T conn=C                  its first step answered on that connection
 *     cut NAME t=T conn=C code=X in_episode=E last_s=S why=...
 *                                              the link dropped; E: an episode was running;
 *                                              S: the number of the last answer submitted
 *     end NAME submitted=.. received=.. steps=.. resets=.. episodes=.. cuts=.. episode_cuts=..
 *         connections=.. result=..             at the end (the trainer finished, or --seconds)
 *
 * SIGTERM or --seconds stops the games still running (each closes its env and prints its end
 * line, result WSB_CLOSED). Exit status 0 when every game ended with the trainer's 1000
 * (result "finished"), 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../examples/game/cartpole.h"
#include "wsbridge.h"

typedef struct {
    char name[64];
    char url[512];
    wsb_env env;
    pthread_t thread;
    cartpole cart;
    int in_episode;
    uint64_t submitted, received, steps, resets, episodes, cuts, episode_cuts;
    uint32_t connections;
    int serving; /* a step was answered on the current connection */
    char result[64];
    int ok;
} game;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int running; /* games whose thread has not ended */
static int stopping; /* main is closing the envs (--seconds passed, or SIGTERM) */
static int terminated; /* SIGTERM arrived */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void line(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_lock);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}

static const char *last_error(char *buf, size_t cap) {
    wsb_last_error(buf, cap);
    return buf;
}

/* The request number the trainer put in a reset's options ({"q": N}); -1 when absent. */
static long long reset_q(wsb_env env) {
    char options[256];
    wsb_env_reset_options(env, options, sizeof options, NULL);
    const char *p = strstr(options, "\"q\":");
    return p ? strtoll(p + 4, NULL, 10) : -1;
}

static int answer(game *g, const wsb_env_event *ev) {
    float obs[CARTPOLE_OBS];
    char info[128];
    long long q;
    uint8_t reset = 0;
    int64_t seed = -1;
    wsb_env_agent_reset(g->env, 0, &reset, &seed);
    if (ev->kind == WSB_EVENT_RESET) {
        q = reset_q(g->env);
    } else {
        int64_t action[2] = {0, -1}; /* multi_discrete [2, 2**40]: the push, the request number */
        wsb_env_action(g->env, 0, (uint8_t *)action, sizeof action, NULL);
        q = action[1];
    }
    if (reset) {
        if (seed >= 0) cartpole_seed(&g->cart, (uint64_t)seed);
        cartpole_reset(&g->cart);
        g->in_episode = 1;
        g->resets++;
    } else if (ev->kind == WSB_EVENT_STEP) {
        int64_t action[2] = {0, -1};
        wsb_env_action(g->env, 0, (uint8_t *)action, sizeof action, NULL);
        cartpole_end end = cartpole_step(&g->cart, (int)action[0]);
        wsb_env_set_reward(g->env, 0, 1.0);
        wsb_env_set_done(g->env, 0, end == CARTPOLE_POLE_FELL || end == CARTPOLE_OFF_TRACK,
                         end == CARTPOLE_TIME_LIMIT);
        if (end != CARTPOLE_RUNNING) {
            g->in_episode = 0;
            g->episodes++;
        }
        g->steps++;
    }
    cartpole_observe(&g->cart, obs);
    wsb_env_set_observation(g->env, 0, (const uint8_t *)obs, sizeof obs);
    snprintf(info, sizeof info, "{\"s\": %llu, \"q\": %lld}", (unsigned long long)(g->submitted + 1), q);
    wsb_env_set_info(g->env, 0, info);
    wsb_result r = wsb_env_submit(g->env);
    if (r != WSB_OK) {
        char msg[512];
        snprintf(g->result, sizeof g->result, "%s", wsb_result_name(r));
        line("error %s submit: %s", g->name, last_error(msg, sizeof msg));
        return -1;
    }
    g->submitted++;
    if (ev->kind == WSB_EVENT_STEP && !g->serving) {
        g->serving = 1;
        line("serving %s t=%.6f conn=%u", g->name, now(), g->connections);
    }
    return 0;
}

static void *play(void *arg) {
    game *g = arg;
    char msg[1024];
    for (;;) {
        wsb_env_event ev;
        wsb_result r = wsb_env_next(g->env, -1, &ev);
        if (r != WSB_OK) {
            snprintf(g->result, sizeof g->result, "%s", wsb_result_name(r));
            /* Stopped at --seconds (the env was closed from main) is fine; anything else is not. */
            if (!((r == WSB_CLOSED || r == WSB_INVALID_HANDLE) && __atomic_load_n(&stopping, __ATOMIC_SEQ_CST)))
                line("error %s next: %s", g->name, last_error(msg, sizeof msg));
            break;
        }
        if (ev.kind == WSB_EVENT_CONNECTED || ev.kind == WSB_EVENT_RECONNECTED) {
            g->connections = ev.connection;
            g->serving = 0;
            line("connect %s t=%.6f conn=%u", g->name, now(), ev.connection);
        } else if (ev.kind == WSB_EVENT_DISCONNECTED) {
            char reason[128] = "";
            uint16_t code = 0;
            wsb_env_close_status(g->env, &code, reason, sizeof reason, NULL);
            g->cuts++;
            g->episode_cuts += (uint64_t)g->in_episode;
            line("cut %s t=%.6f conn=%u code=%u in_episode=%d last_s=%llu why=%s %s", g->name, now(), ev.connection,
                 ev.close_code, g->in_episode, (unsigned long long)g->submitted, wsb_result_name(ev.cause), reason);
            g->in_episode = 0;
        } else if (ev.kind == WSB_EVENT_FINISHED) {
            snprintf(g->result, sizeof g->result, "finished");
            g->ok = 1;
            break;
        } else if (ev.kind == WSB_EVENT_RESET || ev.kind == WSB_EVENT_STEP) {
            g->received++;
            if (answer(g, &ev) != 0) break;
        }
    }
    line("end %s submitted=%llu received=%llu steps=%llu resets=%llu episodes=%llu cuts=%llu episode_cuts=%llu "
         "connections=%u result=%s",
         g->name, (unsigned long long)g->submitted, (unsigned long long)g->received, (unsigned long long)g->steps,
         (unsigned long long)g->resets, (unsigned long long)g->episodes, (unsigned long long)g->cuts,
         (unsigned long long)g->episode_cuts, g->connections, g->result);
    pthread_mutex_lock(&done_lock);
    running--;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

/* One cart per game; the action's second component carries the trainer's request number. */
static void make_spec(char *out, size_t cap, const char *name) {
    double m = FLT_MAX, x = 2 * CARTPOLE_X_LIMIT, theta = 2 * CARTPOLE_THETA_LIMIT;
    snprintf(out, cap,
             "{\"name\": \"%s\", \"agents\": 1,"
             " \"action_space\": {\"type\": \"multi_discrete\", \"nvec\": [2, 1099511627776]},"
             " \"observation_space\": {\"type\": \"box\", \"shape\": [4], \"dtype\": \"float32\","
             " \"low\": [%.9g, %.9g, %.9g, %.9g], \"high\": [%.9g, %.9g, %.9g, %.9g]}}",
             name, -x, -m, -theta, -m, x, m, theta, m);
}

/* SIGTERM (blocked in every thread, taken here) stops the games as --seconds does. */
static void *take_sigterm(void *arg) {
    sigset_t *set = arg;
    int sig = 0;
    if (sigwait(set, &sig) == 0) {
        pthread_mutex_lock(&done_lock);
        terminated = 1;
        pthread_cond_signal(&done_cond);
        pthread_mutex_unlock(&done_lock);
    }
    return NULL;
}

static int usage(void) {
    fprintf(stderr, "usage: multigame --name PREFIX (--urls FILE | --lobby URL --games N) [--token T] [--ca FILE]\n"
                    "                 [--server-name NAME] [--seconds S] [--env-name NAME]\n");
    return 2;
}

/* Appends `"key": "value", ` to `out` (values must not need escaping: checked by the caller). */
static void add_string(char *out, size_t cap, const char *key, const char *value) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "\"%s\": \"%s\", ", key, value);
}

int main(int argc, char **argv) {
    const char *prefix = NULL, *urls = NULL, *lobby = NULL, *token = NULL, *ca = NULL, *server_name = NULL;
    const char *env_name = NULL;
    int games = 0;
    double seconds = 300;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) return usage();
        const char *v = argv[++i];
        if (strcmp(a, "--name") == 0) prefix = v;
        else if (strcmp(a, "--urls") == 0) urls = v;
        else if (strcmp(a, "--lobby") == 0) lobby = v;
        else if (strcmp(a, "--games") == 0) games = atoi(v);
        else if (strcmp(a, "--token") == 0) token = v;
        else if (strcmp(a, "--ca") == 0) ca = v;
        else if (strcmp(a, "--server-name") == 0) server_name = v;
        else if (strcmp(a, "--seconds") == 0) seconds = atof(v);
        else if (strcmp(a, "--env-name") == 0) env_name = v;
        else return usage();
    }
    const char *values[] = {prefix, token, ca, server_name, lobby, env_name};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        if (values[i] && strpbrk(values[i], "\"\\")) return usage();
    if (!prefix || (!urls) == (!lobby) || (lobby && games < 1) || seconds <= 0) return usage();
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);

    char **list = NULL;
    if (urls) {
        FILE *f = fopen(urls, "r");
        if (!f) {
            fprintf(stderr, "multigame: cannot open %s: %s\n", urls, strerror(errno));
            return 1;
        }
        char buf[512];
        int cap = 0;
        games = 0;
        while (fgets(buf, sizeof buf, f)) {
            buf[strcspn(buf, "\r\n")] = 0;
            if (!buf[0]) continue;
            if (games == cap) {
                cap = cap ? 2 * cap : 64;
                char **grown = realloc(list, (size_t)cap * sizeof *list);
                if (!grown) return 1;
                list = grown;
            }
            list[games++] = strdup(buf);
        }
        fclose(f);
        if (games == 0) {
            fprintf(stderr, "multigame: %s lists no URL\n", urls);
            return 1;
        }
    }

    static char options_json[2048];
    char connection[1024] = "\"proxy_from_env\": false, \"connect_timeout_ms\": 10000";
    if (ca || server_name) {
        char tls[768] = "";
        if (ca) add_string(tls, sizeof tls, "ca_file", ca);
        if (server_name) add_string(tls, sizeof tls, "server_name", server_name);
        tls[strlen(tls) - 2] = 0; /* the last ", " */
        size_t n = strlen(connection);
        snprintf(connection + n, sizeof connection - n, ", \"tls\": {%s}", tls);
    }
    char extra[512] = "";
    if (token) add_string(extra, sizeof extra, "token", token);
    if (lobby) {
        size_t n = strlen(extra);
        snprintf(extra + n, sizeof extra - n, "\"lobby\": true, ");
        if (env_name) add_string(extra, sizeof extra, "env_name", env_name);
    }
    snprintf(options_json, sizeof options_json,
             "{%s\"connection\": {%s}, \"reconnect_delay_ms\": 50, \"reconnect_max_delay_ms\": 1000,"
             " \"reconnect_give_up_ms\": -1}",
             extra, connection);

    game *all = calloc((size_t)games, sizeof *all);
    char (*specs)[1024] = calloc((size_t)games, sizeof *specs);
    if (!all || !specs) {
        fprintf(stderr, "multigame: out of memory for %d games\n", games);
        return 1;
    }
    static sigset_t sigterm;
    sigemptyset(&sigterm);
    sigaddset(&sigterm, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigterm, NULL);
    pthread_t signal_thread;
    pthread_create(&signal_thread, NULL, take_sigterm, &sigterm);
    pthread_detach(signal_thread);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    running = games;
    line("start t=%.6f games=%d wsbridge=%s options=%s", now(), games, wsb_version(), options_json);
    for (int i = 0; i < games; i++) {
        game *g = &all[i];
        snprintf(g->name, sizeof g->name, "%s-g%04d", prefix, i);
        snprintf(g->url, sizeof g->url, "%s", urls ? list[i] : lobby);
        snprintf(g->result, sizeof g->result, "running");
        g->cart.max_steps = 500;
        uint64_t seed = 1469598103934665603ULL;
        for (const char *p = g->name; *p; p++) seed = (seed ^ (uint8_t)*p) * 1099511628211ULL;
        cartpole_seed(&g->cart, seed);
        make_spec(specs[i], sizeof specs[i], g->name);
    }
    /* Open every env first (each returns at once and connects in the background), then give
       each its thread. */
    for (int i = 0; i < games; i++) {
        game *g = &all[i];
        char msg[512];
        wsb_result r = wsb_env_open(g->url, specs[i], options_json, &g->env);
        if (r != WSB_OK) {
            fprintf(stderr, "multigame %s: wsb_env_open: %s: %s\n", g->name, wsb_result_name(r),
                    last_error(msg, sizeof msg));
            return 1;
        }
    }
    for (int i = 0; i < games; i++) {
        int e = pthread_create(&all[i].thread, &attr, play, &all[i]);
        if (e != 0) {
            fprintf(stderr, "multigame: cannot start the thread of game %d of %d: %s\n", i, games, strerror(e));
            return 1;
        }
    }

    /* Wait for every game to end, or for --seconds: then close the envs still running (their
       blocking wsb_env_next returns WSB_CLOSED) and wait for their threads. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds;
    pthread_mutex_lock(&done_lock);
    while (running > 0 && !terminated) {
        if (pthread_cond_timedwait(&done_cond, &done_lock, &deadline) == ETIMEDOUT) break;
    }
    int left = running;
    pthread_mutex_unlock(&done_lock);
    if (left > 0) {
        line("stop t=%.6f running=%d (%s)", now(), left, terminated ? "SIGTERM" : "--seconds passed");
        __atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
        for (int i = 0; i < games; i++) wsb_env_close(all[i].env);
    }
    int failed = 0;
    for (int i = 0; i < games; i++) {
        pthread_join(all[i].thread, NULL);
        failed += !all[i].ok;
        if (left == 0) wsb_env_close(all[i].env);
    }
    wsb_shutdown(2000);
    line("exit t=%.6f games=%d failed=%d", now(), games, failed);
    return failed ? 1 : 0;
}
