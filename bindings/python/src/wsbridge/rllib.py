"""RLlib (new API stack): every EnvRunner gets a hub and its games (needs ``ray[rllib]``).

    config = wsbridge.rllib.configure(PPOConfig(), ["./game", "{hub}", "{slot}", "--agents", "2"],
                                      games=4, agents=2)

:func:`configure` registers an env creator (:func:`register`) and sets
``gym_env_vectorize_mode="vector_entry_point"`` and ``num_envs_per_env_runner`` (games x
agents). In each EnvRunner the creator starts a :class:`~wsbridge.Hub` and, given a command,
launches that runner's games; the environment owns both, so RLlib's ``env.close()`` (on
``algo.stop()`` and before every env rebuild after a fault) releases them.

In ``vector_entry_point`` mode the creator receives no ``worker_index``. So that games launched
by someone else can find their runner, each runner takes a distinct index from a small named
Ray actor (keyed by the runner's actor id, so a rebuilt env in the same runner keeps its index):
runner ``i`` serves on ``base_port + i`` (``base_port=0``: a free port, for launched games).
The hub's INFO log lines (connects, reconnects, restarts) go to the runner's stderr, which Ray
shows in the driver's output.

On a cluster, with ``lobby=`` (a lobby's URL for hubs, ``ws://lobby-host:9000/lobby/hubs``;
docs/deploy.md), each runner's hub binds its node's IP and registers its free slots with the
lobby, advertising ``ws://<node ip>:<port>`` (or ``advertise=``, a template with ``{ip}``,
``{port}`` and ``{index}``), so games started anywhere with only the lobby's URL feed whichever
runners have room. When RLlib restarts a failed EnvRunner (``restart_failed_env_runners``), the
new runner's hub registers anew and the lost games, back in the lobby, are assigned to it or to
any other runner with a free slot.
"""

from __future__ import annotations

import logging
import os
import string
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ray
from ray.tune.registry import register_env

from .launcher import make_vector_env
from .lockstep import CONNECT_TIMEOUT
from .vector import RemoteVectorEnv

__all__ = ["advertised_url", "configure", "register", "runner_index"]

logger = logging.getLogger("wsbridge")


@ray.remote(num_cpus=0)
class _RunnerIndices:
    """Hands each EnvRunner (by actor id) a distinct index, the same one every time it asks."""

    def __init__(self) -> None:
        self.indices: dict[str, int] = {}

    def index(self, key: str) -> int:
        return self.indices.setdefault(key, len(self.indices))


def runner_index(name: str) -> int:
    """This process's index among the EnvRunners that create the environment ``name``: 0, 1,
    ... in the order they first asked; stable for the life of the Ray job."""
    context = ray.get_runtime_context()
    actor = context.get_actor_id()
    indices = _RunnerIndices.options(  # type: ignore[attr-defined]
        name=f"wsbridge-runners-{context.get_job_id()}-{name}", get_if_exists=True, lifetime="detached",
    ).remote()
    return int(ray.get(indices.index.remote(actor or f"driver-{os.getpid()}")))


#: The placeholders of ``advertise=``.
ADVERTISE_FIELDS = frozenset({"ip", "port", "index"})


def advertised_url(template: str, *, ip: str, port: int, index: int) -> str:
    """``template`` (``advertise=``) for one runner: ``{ip}`` its node's IP (an IPv6 address in
    brackets), ``{port}`` its hub's port, ``{index}`` its :func:`runner_index`."""
    return template.format_map({"ip": f"[{ip}]" if ":" in ip else ip, "port": port, "index": index})


def _check_template(template: str) -> set[str]:
    """The placeholders ``template`` uses; ``ValueError`` for one :func:`advertised_url` lacks."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise ValueError(f"advertise={template!r} is not a valid template: {e}") from None
    unknown = fields - ADVERTISE_FIELDS
    if unknown or not template.startswith(("ws://", "wss://", "{")):
        raise ValueError(f"advertise={template!r} must be a ws:// or wss:// URL with only the placeholders "
                         f"{{ip}}, {{port}}, {{index}}" + (f"; it uses {', '.join(sorted(unknown))}" if unknown else ""))
    return fields


def register(name: str, command: Sequence[str] | None = None, *, games: int = 1, agents: int = 1,
             base_port: int = 0, lobby: str | None = None, lobby_token: str | None = None,
             advertise: str | None = None, log_dir: str | os.PathLike[str] | None = None, max_restarts: int = 3,
             connect_timeout: float | None = CONNECT_TIMEOUT, on_lost: str = "raise", log_level: int = logging.INFO,
             **hub_kwargs: Any) -> int:
    """Registers ``name`` with Ray Tune's env registry; returns ``num_envs_per_env_runner``
    (``games * agents``).

    Each EnvRunner's env is :func:`wsbridge.make_vector_env` with ``games`` slots on port
    ``base_port + runner_index(name)`` (or a free port when ``base_port`` is 0, which needs a
    ``command`` or a ``lobby``), and the games launched from ``command`` (logs under
    ``log_dir/runner-<index>``). The creator refuses (``ValueError``) a ``num_envs`` other than
    ``games * agents``, or games whose agents do not add up to it.

    With ``lobby`` (the lobby's URL for hubs) and no ``command``, the games come from the
    lobby: the hub binds the runner's node IP (``ray.util.get_node_ip_address()``; ``host=``
    overrides it, e.g. ``"0.0.0.0"``), registers with the lobby (``lobby_token``: the lobby's
    hub token) as ``advertise`` (default ``ws://{ip}:{port}``; ``{ip}``, ``{port}`` and
    ``{index}`` are filled in per runner; ``{port}`` needs a ``base_port``, so that the port
    is known before the hub starts), with the hub id
    ``<name>-<index>-<random>`` (new on every start, so the lobby never mixes a restarted
    runner's slots with its predecessor's).
    """
    if lobby is None and (lobby_token is not None or advertise is not None):
        raise ValueError("lobby_token and advertise only apply with lobby= (the lobby's URL for hubs)")
    if lobby is not None and command is not None:
        raise ValueError("with lobby=, games come from the lobby: launch them with the lobby's URL, not a command")
    if command is None and base_port == 0 and lobby is None:
        raise ValueError("games launched by someone else need a base_port (or a lobby) to find their EnvRunner's hub")
    host = hub_kwargs.pop("host", None)
    # Without a host, the hub binds the node's IP and advertises ws://<that IP>:<its port> itself.
    template = advertise if advertise is not None or host is None else "ws://{ip}:{port}"
    fields = _check_template(template) if template is not None else set()
    if lobby is not None and "port" in fields and base_port == 0:
        raise ValueError(f"advertise={template!r} with host={host!r} needs the hub's port before it starts: give a "
                         "base_port (runner i serves on base_port + i), or leave host unset (the hub binds the "
                         "node's IP and advertises ws://<node ip>:<its port>)")
    num_envs = games * agents

    def create(config: Mapping[str, Any]) -> RemoteVectorEnv:
        wanted = config.get("num_envs", num_envs)
        if wanted != num_envs:
            raise ValueError(f"RLlib asks for {wanted} sub-environments per EnvRunner but {name!r} was registered "
                             f"with {games} games x {agents} agents = {num_envs}: set num_envs_per_env_runner to "
                             f"{num_envs} (wsbridge.rllib.configure does)")
        _log_to_stderr(log_level)
        index = runner_index(name)
        port = base_port + index if base_port else 0
        logs = None if log_dir is None else Path(log_dir) / f"runner-{index}"
        where: dict[str, Any] = {} if host is None else {"host": host}
        if lobby is not None:
            ip = ray.util.get_node_ip_address()
            where = {"host": ip if host is None else host, "lobby": lobby, "lobby_token": lobby_token,
                     "hub_id": f"{name}-{index}-{uuid.uuid4().hex[:12]}"}
            if template is not None:
                where["advertise"] = advertised_url(template, ip=ip, port=port, index=index)
        env = make_vector_env(command, games=games, port=port, log_dir=logs, max_restarts=max_restarts,
                              connect_timeout=connect_timeout, progress=False, on_lost=on_lost, **where,
                              **hub_kwargs)
        if env.num_envs != num_envs:
            found = env.num_envs
            env.close()
            raise ValueError(f"the games of {name!r} have {found} agents in all, not {games} x {agents}")
        logger.info("EnvRunner %d: %d games x %d agents on %s%s", index, games, agents, env.hub.url(),
                    "" if lobby is None else f", found through the lobby at {lobby}")
        return env

    register_env(name, create)
    return num_envs


def configure(config: Any, command: Sequence[str] | None = None, *, name: str = "wsbridge", games: int = 1,
              agents: int = 1, **kwargs: Any) -> Any:
    """:func:`register` ``name``, then set ``config``'s (an ``AlgorithmConfig``) environment,
    ``gym_env_vectorize_mode="vector_entry_point"`` and ``num_envs_per_env_runner``. Returns
    ``config``."""
    num_envs = register(name, command, games=games, agents=agents, **kwargs)
    return config.environment(env=name).env_runners(num_envs_per_env_runner=num_envs,
                                                    gym_env_vectorize_mode="vector_entry_point")


def _log_to_stderr(level: int) -> None:
    """The ``wsbridge`` logger's lines on this process's stderr (Ray forwards it to the driver)."""
    if not any(getattr(h, "_wsbridge_rllib", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s wsbridge %(levelname)s: %(message)s", "%H:%M:%S"))
        handler._wsbridge_rllib = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
