"""A short real training run: the demo's cross-entropy method (tools/demo_train.py) on two
cartpole game processes of two carts each, through one hub port. Everything is seeded (the
games' physics, the search, the lockstep order), so the run is reproducible.

``short_training_run`` is the run and its assertions; the other bindings' cartpoles (the C++
one in tests/cpp/test_cartpole.py) call it with their own game processes."""

from __future__ import annotations

from demo_train import History, plot, train

from wsbridge import RemoteVectorEnv


def short_training_run(env: RemoteVectorEnv) -> History:
    """Six generations of 32 candidates on ``env`` (4 carts, episodes of at most 200 steps);
    asserts that the mean return rises (the last generation's mean over twice the first's, a
    generation over 150) and that every step was one round trip."""
    history = train(env, generations=6, seed=0, progress=False)
    means = [m for _, m in history.generations]
    assert len(means) == 6 and len(history.episodes) == 6 * 32
    assert means[-1] > 2 * means[0] and max(means) > 150, f"mean return per generation: {means}"
    assert history.env_steps == env.num_envs * len(env.round_trips) - env.num_envs  # one round trip per step
    return history


def test_a_short_training_run_raises_the_mean_return(hub_factory, launch, tmp_path) -> None:
    hub = hub_factory(games=2)
    for slot in range(2):
        launch(hub.url(), slot, "--agents", "2", "--max-steps", "200")
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    history = short_training_run(env)
    plot(history, tmp_path / "curve.png", "test")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
