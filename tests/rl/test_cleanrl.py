"""A CleanRL-style loop: a gymnasium vector environment (``RemoteVectorEnv`` on launched games)
driven by a small torch policy, with the split step so that the games simulate while the
policy's update runs. REINFORCE with a mean baseline; the steps that only reset an agent
(next-step autoreset: reward 0, action ignored) are masked out, as such loops must."""

from __future__ import annotations

import numpy as np
import torch
from conftest import GAME

import wsbridge


def test_a_torch_policy_gradient_loop_learns(tmp_path) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    env = wsbridge.make_vector_env([str(GAME), "{hub}", "{slot}", "--agents", "2", "--max-steps", "200", "--quiet"],
                                   games=4, log_dir=tmp_path, progress=False)
    policy = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    optimizer = torch.optim.Adam(policy.parameters(), lr=0.01)
    n, horizon, gamma = env.num_envs, 256, 0.99
    finished: list[float] = []
    means = []
    try:
        obs, _ = env.reset(seed=0)
        returns, skip = np.zeros(n), np.zeros(n, dtype=bool)  # skip: the step that only resets
        for update in range(20):
            log_probs, rewards, dones, valid = [], [], [], []
            for _ in range(horizon):
                dist = torch.distributions.Categorical(logits=policy(torch.as_tensor(obs)))
                action = dist.sample()
                env.step_async(action.numpy())
                log_probs.append(dist.log_prob(action))  # computed while the games simulate
                obs, reward, terminated, truncated, _ = env.step_wait()
                done = terminated | truncated
                returns += reward
                finished += returns[done].tolist()
                returns[done] = 0
                rewards.append(reward)
                dones.append(done)
                valid.append(~skip)
                skip = done
            # Discounted returns to go, cut at each episode's end.
            to_go, running = np.zeros((horizon, n)), np.zeros(n)
            for t in reversed(range(horizon)):
                running = rewards[t] + gamma * running * ~dones[t]
                to_go[t] = running
            mask = torch.as_tensor(np.array(valid))
            advantage = torch.as_tensor(to_go, dtype=torch.float32)
            advantage = (advantage - advantage[mask].mean()) / (advantage[mask].std() + 1e-8)
            loss = -(torch.stack(log_probs) * advantage)[mask].mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            means.append(float(np.mean(finished[-20:])) if finished else 0.0)
    finally:
        env.close()
    print(f"CleanRL-style loop: mean of the last 20 episode returns after each update {[round(m) for m in means]}")
    assert means[-1] > 3 * means[0] and means[-1] > 60, means
