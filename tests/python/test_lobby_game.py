"""The native env layer's lobby side end to end: real C cartpole processes started with
``--lobby`` (examples/game, through libwsbridge) find their slots through a real lobby
(``python -m wsbridge.lobby``, its own process) on real hubs that register with it; a game waits
in the lobby until a slot is free, and goes back to the lobby when its slot is gone for good."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wsbridge
from wsbridge import CloseCode, RemoteVectorEnv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
from lobby_process import LobbyProcess  # noqa: E402

GAME_TOKEN, HUB_TOKEN = "s3cret", "hub-s3cret"


@pytest.fixture
def lobby() -> Iterator[LobbyProcess]:
    lobby = LobbyProcess(token=GAME_TOKEN, hub_token=HUB_TOKEN)
    yield lobby
    lobby.close()


def lobby_hub(hub_factory: Callable[..., wsbridge.Hub], lobby: LobbyProcess, hub_id: str) -> wsbridge.Hub:
    """A one-slot hub for cartpole games that registers with ``lobby`` (waited for)."""
    hub = hub_factory(games=1, token=GAME_TOKEN, lobby=lobby.url("/lobby/hubs"), lobby_token=HUB_TOKEN,
                      hub_id=hub_id, env_name="cartpole")
    lobby.expect(f"hub {hub_id} registered")
    return hub


def assigned(line: str) -> str:
    """The slot URL of a game's "connected to URL, assigned by the lobby" line."""
    found = re.search(r"connected to (\S+), assigned by the lobby", line)
    assert found, line
    return found.group(1)


def test_a_game_waits_in_the_lobby_until_a_hub_offers_a_slot_then_trains_there(lobby, hub_factory, launch) -> None:
    # The game comes first: no hub has registered, so the lobby holds it until one does.
    game = launch("--lobby", lobby.url(), "--token", GAME_TOKEN, "--env-name", "cartpole", "--agents", "2")
    hub = lobby_hub(hub_factory, lobby, "h1")
    line = game.expect("assigned by the lobby")
    assert assigned(line) == hub.url(0)
    assert "(connection 1, 2 agents" in line
    lobby.expect(f"assigned {hub.url(0)} (hub h1)")
    info = hub.wait_for_connection("0", timeout=30)
    assert (info.name, info.agents) == ("cartpole", 2)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset(seed=3)
    for _ in range(20):
        env.step(env.action_space.sample())
    env.close()
    hub.close()  # 1000: training finished
    game.expect("the trainer finished")
    assert game.wait() == 0


def test_a_game_whose_slot_is_gone_goes_back_to_the_lobby_for_another(lobby, hub_factory, launch) -> None:
    hubs = {h.url(0): h for h in (lobby_hub(hub_factory, lobby, hub_id) for hub_id in ("a", "b"))}
    game = launch("--lobby", lobby.url(), "--token", GAME_TOKEN, "--env-name", "cartpole")
    first = assigned(game.expect("assigned by the lobby"))
    assert first in hubs
    hubs[first].wait_for_connection("0", timeout=30)
    # The hub says the slot no longer exists: the game asks the lobby again, naming the slot it
    # lost, and the lobby sends it to the other hub's free slot.
    hubs[first].kick("0", CloseCode.UNKNOWN_SLOT, "slot removed")
    game.expect("the hub closed the connection (4404 slot removed); reconnecting")
    second = assigned(game.expect("assigned by the lobby"))
    (other,) = set(hubs) - {first}
    assert second == other
    assert hubs[second].wait_for_connection("0", timeout=30).connection == 1
    for hub in hubs.values():
        hub.close()
    game.expect("the trainer finished")
    assert game.wait() == 0


def test_a_wrong_token_is_refused_by_the_lobby(lobby, launch) -> None:
    game = launch("--lobby", lobby.url() + "?token=guess", "--env-name", "cartpole")
    assert game.wait() == 2
    err = game.stderr()
    assert f"refused: the lobby at {lobby.url()}?token=*** refused this game with HTTP 401" in err, err
    assert "guess" not in err
