/* The cart-pole dynamics: see cartpole.h. */
#include "cartpole.h"

#include <math.h>
#include <stddef.h>

static const double gravity = 9.8; /* m/s^2 */
static const double cart_mass = 1.0, pole_mass = 0.1;
static const double half_length = 0.5; /* m, pivot to the pole's centre of mass */
static const double push = 10.0;       /* N */
static const double dt = 0.02;         /* s per step */

/* splitmix64: small, fast, and good enough to draw initial states. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state, double low, double high) {
    return low + (high - low) * (double)(next_random(state) >> 11) * 0x1.0p-53;
}

void cartpole_seed(cartpole *c, uint64_t seed) { c->rng = seed; }

void cartpole_reset(cartpole *c) {
    c->x = uniform(&c->rng, -0.05, 0.05);
    c->x_dot = uniform(&c->rng, -0.05, 0.05);
    c->theta = uniform(&c->rng, -0.05, 0.05);
    c->theta_dot = uniform(&c->rng, -0.05, 0.05);
    c->steps = 0;
}

cartpole_end cartpole_step(cartpole *c, int action) {
    /* Frictionless equations of motion of a pole on a cart (see R. V. Florian, "Correct equations
     * for the dynamics of the cart-pole system", 2007). */
    double total_mass = cart_mass + pole_mass, pole_moment = pole_mass * half_length;
    double force = action ? push : -push;
    double sin_t = sin(c->theta), cos_t = cos(c->theta);
    double common = (force + pole_moment * c->theta_dot * c->theta_dot * sin_t) / total_mass;
    double theta_acc = (gravity * sin_t - cos_t * common) /
                       (half_length * (4.0 / 3.0 - pole_mass * cos_t * cos_t / total_mass));
    double x_acc = common - pole_moment * theta_acc * cos_t / total_mass;
    /* Explicit Euler, as in the original task. */
    c->x += dt * c->x_dot;
    c->x_dot += dt * x_acc;
    c->theta += dt * c->theta_dot;
    c->theta_dot += dt * theta_acc;
    c->steps++;
    if (fabs(c->theta) > CARTPOLE_THETA_LIMIT) return CARTPOLE_POLE_FELL;
    if (fabs(c->x) > CARTPOLE_X_LIMIT) return CARTPOLE_OFF_TRACK;
    if (c->steps >= c->max_steps) return CARTPOLE_TIME_LIMIT;
    return CARTPOLE_RUNNING;
}

void cartpole_observe(const cartpole *c, float out[CARTPOLE_OBS]) {
    out[0] = (float)c->x;
    out[1] = (float)c->x_dot;
    out[2] = (float)c->theta;
    out[3] = (float)c->theta_dot;
}

const char *cartpole_end_name(cartpole_end end) {
    switch (end) {
    case CARTPOLE_POLE_FELL: return "pole_fell";
    case CARTPOLE_OFF_TRACK: return "off_track";
    case CARTPOLE_TIME_LIMIT: return "time_limit";
    default: return NULL;
    }
}
