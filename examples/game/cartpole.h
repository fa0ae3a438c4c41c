/*
 * A cart-pole balancing simulation (the classic control task of Barto, Sutton and Anderson,
 * 1983): push a cart left or right so that the pole hinged on it stays upright.
 *
 * Observation: cart position, cart velocity, pole angle (radians), pole angular velocity.
 * Action: 0 pushes left, 1 pushes right. Reward: 1 for every step, the last one included.
 * The episode terminates when the pole leans more than 12 degrees or the cart leaves the
 * track (|x| > 2.4), and is truncated after `max_steps` steps.
 *
 * Each cart has its own random number generator (for its initial state), so agents in one game
 * are independent and reproducible from their seeds.
 */
#ifndef WSB_GAME_CARTPOLE_H
#define WSB_GAME_CARTPOLE_H

#include <stdint.h>

#define CARTPOLE_OBS 4

/* Observation bounds (what the game declares in its hello). */
#define CARTPOLE_X_LIMIT 2.4
#define CARTPOLE_THETA_LIMIT (12.0 * 3.14159265358979323846 / 180.0)

typedef enum { CARTPOLE_RUNNING, CARTPOLE_POLE_FELL, CARTPOLE_OFF_TRACK, CARTPOLE_TIME_LIMIT } cartpole_end;

typedef struct {
    double x, x_dot, theta, theta_dot;
    uint64_t rng;
    int steps;
    int max_steps;
} cartpole;

/* Reseeds the cart's random number generator. */
void cartpole_seed(cartpole *c, uint64_t seed);

/* Starts an episode: every state variable uniform in [-0.05, 0.05]. */
void cartpole_reset(cartpole *c);

/* Advances 20 ms with the push `action` (0 or 1); returns how the episode stands. */
cartpole_end cartpole_step(cartpole *c, int action);

void cartpole_observe(const cartpole *c, float out[CARTPOLE_OBS]);

/* "pole_fell", "off_track", "time_limit" (for infos), or NULL while running. */
const char *cartpole_end_name(cartpole_end end);

#endif
