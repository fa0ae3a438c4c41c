"""The lobby (``wsbridge.lobby``, docs/protocol.md *Lobby*): games ask one URL for a slot, hubs
register their free slots there.

Every peer is real: the lobby is a ``websockets`` server (on its own event loop thread, or the
``python -m wsbridge.lobby`` process), hubs are :class:`wsbridge.Hub`, and games are
``websockets`` clients speaking the lobby protocol and then the env protocol (``peers.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from conftest import GAME, Proxy
from peers import ScriptedGame, closed_with, obs_reply
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

import wsbridge
from wsbridge import RemoteVectorEnv
from wsbridge.lobby import Lobby

T = TypeVar("T")


class LobbyThread:
    """A :class:`Lobby` on its own event loop thread, driven from the test's thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lobby = self.call(Lobby(**{"port": 0, **kwargs}).start())

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def url(self, path: str = "/lobby") -> str:
        return f"ws://127.0.0.1:{self.lobby.port}{path}"

    @property
    def hubs_url(self) -> str:
        return self.url("/lobby/hubs")

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """Blocks until ``predicate(lobby.state())`` holds (it is checked on every change)."""
        return self.call(self.lobby.wait_for(predicate, timeout))

    def close(self) -> None:
        if self.thread.is_alive():
            self.call(self.lobby.close())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()


@pytest.fixture
def lobby_factory() -> Iterator[Callable[..., LobbyThread]]:
    """``lobby_factory(**kwargs) -> LobbyThread`` on a free port; closed at the end of the test."""
    made: list[LobbyThread] = []

    def make(**kwargs: Any) -> LobbyThread:
        made.append(LobbyThread(**kwargs))
        return made[-1]

    yield make
    for lobby in made:
        lobby.close()


def lobby_message(env: str = "", previous: str | None = None) -> str:
    message: dict[str, Any] = {"type": "lobby", "version": 1, "env": env}
    if previous is not None:
        message["previous"] = previous
    return json.dumps(message)


class Asking:
    """A game asking the lobby for a slot, on its own thread: :meth:`assignment` blocks until the
    lobby answers (or closes the connection without an answer)."""

    def __init__(self, url: str, env: str = "", previous: str | None = None, **connect_kwargs: Any) -> None:
        self.ws: ClientConnection = connect(url, legacy=True, **connect_kwargs)
        try:
            self.ws.send(lobby_message(env, previous))
        except ConnectionClosed:
            pass  # the lobby refused it at once: _run reads why
        self.answers: queue.Queue[dict[str, Any] | tuple[int | None, str | None]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.answers.put(json.loads(self.ws.recv()))
        except ConnectionClosed:
            pass
        self.answers.put(closed_with(self.ws))

    def assignment(self, timeout: float = 30) -> dict[str, Any]:
        """The lobby's ``assign`` message; the lobby must close with 1000 after it."""
        answer = self.answers.get(timeout=timeout)
        assert isinstance(answer, dict), f"the lobby closed the connection without an assignment: {answer}"
        assert answer["type"] == "assign", answer
        assert self.answers.get(timeout=timeout) == (1000, "assigned")
        return answer

    def closed(self, timeout: float = 30) -> tuple[int | None, str | None]:
        """How the lobby closed the connection, without an assignment."""
        answer = self.answers.get(timeout=timeout)
        assert isinstance(answer, tuple), f"the lobby assigned a slot: {answer}"
        return answer

    def answered(self) -> bool:
        return not self.answers.empty()

    def leave(self) -> None:
        self.ws.close()
        self.thread.join(timeout=30)


def play(url: str) -> ScriptedGame:
    """A game connected to a slot: answers every reset and step with observation [1, 1, 1, 1]."""
    return ScriptedGame(url, lambda m: obs_reply(m.type, np.ones((1, 4), np.float32)))


def slot_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# ---- assignment ------------------------------------------------------------------------------

def test_a_game_is_assigned_a_free_slot_of_a_matching_hub_and_plays_there(lobby_factory, hub_factory) -> None:
    lobby = lobby_factory()
    hub = hub_factory(games=2, lobby=lobby.hubs_url, hub_id="cart", env_name="cartpole")
    other = hub_factory(games=1, lobby=lobby.hubs_url, hub_id="other", env_name="other")
    lobby.wait_for(lambda s: len(s["hubs"]) == 2)
    first = Asking(lobby.url(), env="cartpole").assignment()
    assert first["hub"] == "cart" and first["url"] in (hub.slot_url(0), hub.slot_url(1))
    slot = slot_of(first["url"])
    # Reserved until the game arrives: not in the pool meanwhile.
    state = lobby.wait_for(lambda s: s["hubs"]["cart"]["reserved"] == [slot])
    assert slot not in state["hubs"]["cart"]["free"]
    game = play(first["url"])
    assert hub.wait_for_connection(slot, timeout=30).name == "scripted"
    # The hub's next free map no longer lists it: the reservation ends, the slot is taken.
    lobby.wait_for(lambda s: s["hubs"]["cart"]["reserved"] == [] and slot not in s["hubs"]["cart"]["free"])
    # A game that asks for no env in particular may get any hub's slot; one that lost a slot
    # (previous) is given another one if there is one.
    other_slot = "1" if slot == "0" else "0"
    second = Asking(lobby.url(), env="cartpole", previous=hub.slot_url(other_slot))
    assert second.assignment()["url"] == hub.slot_url(other_slot)  # the only cartpole slot left
    third = Asking(lobby.url(), env="other", previous=other.slot_url(0)).assignment()
    assert third == {"type": "assign", "url": other.slot_url(0), "hub": "other"}
    env = RemoteVectorEnv(hub, slots=[slot], connect_timeout=30, progress=False)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [[1, 1, 1, 1]]
    env.close()
    game.close()


def test_a_hub_offers_what_its_advertise_url_says_and_not_the_slots_it_withholds(lobby_factory,
                                                                                 hub_factory) -> None:
    lobby = lobby_factory()
    hub = hub_factory(games=3, lobby=lobby.hubs_url, hub_id="h", advertise="wss://edge.example/hub/7/")
    hub.withhold(["0"])
    state = lobby.wait_for(lambda s: "h" in s["hubs"] and s["hubs"]["h"]["free"] == ["1", "2"])
    assert state["hubs"]["h"]["env"] == ""
    assert Asking(lobby.url(), env="anything").assignment()["url"] == "wss://edge.example/hub/7/env/1"
    hub.withhold(["0"], withheld=False)
    lobby.wait_for(lambda s: s["hubs"]["h"]["free"] == ["0", "2"])


def test_make_vector_env_trains_games_that_came_through_the_lobby(lobby_factory) -> None:
    lobby = lobby_factory()
    asking = [Asking(lobby.url(), env="cartpole") for _ in range(2)]  # they wait: no hub yet
    played: queue.Queue[ScriptedGame] = queue.Queue()
    for game in asking:
        threading.Thread(target=lambda g=game: played.put(play(g.assignment()["url"])), daemon=True).start()
    env = wsbridge.make_vector_env(games=2, lobby=lobby.hubs_url, env_name="cartpole", hub_id="trainer",
                                   connect_timeout=30, progress=False)
    try:
        assert env.hub.lobby_registered and env.hub.hub_id == "trainer"
        obs, _ = env.reset(seed=0)
        obs, *_ = env.step(env.action_space.sample())
        assert obs.tolist() == [[1, 1, 1, 1]] * 2
    finally:
        env.close()
    lobby.wait_for(lambda s: s["hubs"] == {} and s["hubs_left"] == 1)
    for _ in asking:
        played.get(timeout=30).close()


def test_launched_games_keep_their_fixed_slots_and_the_lobby_hands_out_the_others(lobby_factory, hub_factory,
                                                                                   tmp_path) -> None:
    lobby = lobby_factory()
    hub = hub_factory(games=3, lobby=lobby.hubs_url, hub_id="h")
    launcher = wsbridge.Launcher([str(GAME), "{hub}", "{slot}"], hub, slots=["0", "2"], log_dir=tmp_path)
    try:
        lobby.wait_for(lambda s: "h" in s["hubs"] and s["hubs"]["h"]["free"] == ["1"])
        assert Asking(lobby.url()).assignment()["url"] == hub.slot_url(1)
        assert hub.wait_for_connection("0", timeout=30).name == "cartpole"
        assert hub.wait_for_connection("2", timeout=30).name == "cartpole"
    finally:
        launcher.close()
    # Its games are gone: the hub offers their slots to the lobby again (1 stays reserved).
    lobby.wait_for(lambda s: {"0", "2"} <= set(s["hubs"]["h"]["free"]))


def test_games_wait_until_a_slot_frees_and_are_served_in_arrival_order(lobby_factory, hub_factory) -> None:
    lobby = lobby_factory()
    hub = hub_factory(games=1, lobby=lobby.hubs_url, hub_id="a", env_name="a")
    lobby.wait_for(lambda s: "a" in s["hubs"])
    url = Asking(lobby.url(), env="a").assignment()["url"]
    holder = play(url)
    hub.wait_for_connection(0, timeout=30)
    waiting = []
    for i, env in enumerate(["a", "b", "", "a"]):  # every one of them arrives before the next
        waiting.append(Asking(lobby.url(), env=env))
        lobby.wait_for(lambda s, n=i + 1: s["waiting"] == n)
    # A hub for "b" appears: the second game is the first that matches it.
    b = hub_factory(games=1, lobby=lobby.hubs_url, hub_id="b", env_name="b")
    assert waiting[1].assignment()["url"] == b.slot_url(0)
    # The slot of "a" frees: the first game gets it, not the later ones.
    holder.close()
    assert waiting[0].assignment()["url"] == url
    play(url).close()  # it came and went: the slot frees again, for the next in line (any env)
    assert waiting[2].assignment()["url"] == url
    assert not waiting[3].answered()
    assert lobby.wait_for(lambda s: s["waiting"] == 1)["assignments"] == 4
    waiting[3].leave()  # a waiting game that leaves is forgotten
    lobby.wait_for(lambda s: s["waiting"] == 0)


def test_a_reservation_expires_when_its_game_does_not_arrive(lobby_factory, hub_factory, caplog) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge.lobby")
    lobby = lobby_factory(reserve_timeout=5)
    hub = hub_factory(games=1, lobby=lobby.hubs_url, hub_id="h")
    lobby.wait_for(lambda s: "h" in s["hubs"])
    first = Asking(lobby.url()).assignment()  # this game never goes to its slot
    second = Asking(lobby.url())
    state = lobby.wait_for(lambda s: s["waiting"] == 1)
    assert state["hubs"]["h"]["reserved"] == ["0"] and state["hubs"]["h"]["free"] == []
    # After reserve_timeout the hub still lists the slot free: it is offered again.
    assert second.assignment()["url"] == first["url"] == hub.slot_url(0)
    assert any("reservation of slot 0 of hub h expired" in r.getMessage() for r in caplog.records)


# ---- hubs coming and going -------------------------------------------------------------------

def test_a_hub_whose_lobby_connection_drops_is_forgotten_and_its_games_play_on(lobby_factory, hub_factory) -> None:
    lobby = lobby_factory()
    proxy = Proxy(lobby.lobby.port)  # closed by the test itself
    dropped = hub_factory(games=2, lobby=proxy.url() + "/lobby/hubs", hub_id="dropped")
    kept = hub_factory(games=1, lobby=lobby.hubs_url, hub_id="kept")
    lobby.wait_for(lambda s: len(s["hubs"]) == 2)
    url = Asking(lobby.url()).assignment()["url"]
    assert url.startswith(dropped.url())  # the hub with the most free slots
    game = play(url)
    env = RemoteVectorEnv(dropped, slots=[slot_of(url)], connect_timeout=30, progress=False)
    env.reset(seed=0)
    proxy.close()  # the hub's link to the lobby fails, and stays down
    state = lobby.wait_for(lambda s: "dropped" not in s["hubs"])
    assert state["hubs_left"] == 1 and state["hubs"]["kept"]["free"] == ["0"]
    assert Asking(lobby.url()).assignment()["url"] == kept.slot_url(0)
    assert not dropped.lobby_registered
    # The game on the dropped hub never noticed.
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert obs.tolist() == [[1, 1, 1, 1]] and not truncated.any() and "wsbridge_reconnected" not in info
    env.close()
    game.close()


def test_a_hub_started_before_its_lobby_serves_games_and_registers_once_the_lobby_is_up(lobby_factory,
                                                                                       hub_factory) -> None:
    with socket.socket() as probe:  # a port where nothing listens yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = WatchLog("wsbridge")
    hub = hub_factory(games=2, lobby=f"ws://127.0.0.1:{port}/lobby/hubs", hub_id="early")
    log.wait_for(f"hub early: lobby ws://127.0.0.1:{port}/lobby/hubs: ")  # refused: it retries
    game = play(hub.url(0))  # a game told its slot plays meanwhile
    env = RemoteVectorEnv(hub, slots=["0"], connect_timeout=30, progress=False)
    env.reset(seed=0)
    lobby = lobby_factory(port=port)
    assert lobby.wait_for(lambda s: "early" in s["hubs"])["hubs"]["early"]["free"] == ["1"]
    assert Asking(lobby.url()).assignment()["url"] == hub.slot_url(1)
    obs, *_ = env.step(env.action_space.sample())
    assert obs.tolist() == [[1, 1, 1, 1]]
    env.close()
    game.close()


def test_a_hub_that_registers_again_under_its_id_replaces_its_old_connection(lobby_factory) -> None:
    lobby = lobby_factory()
    register = json.dumps({"type": "hub", "version": 1, "id": "h", "env": "", "free": {"0": "ws://h:1/env/0"}})
    with connect(lobby.hubs_url) as old, connect(lobby.hubs_url) as new:
        old.send(register)
        lobby.wait_for(lambda s: s["registrations"] == 1)
        new.send(register.replace("env/0", "env/zero"))
        assert closed_with(old) == (4409, "replaced by a new connection of the same hub id")
        assert Asking(lobby.url()).assignment()["url"] == "ws://h:1/env/zero"


def lobby_process(*args: str) -> tuple[subprocess.Popen[str], int]:
    """``python -m wsbridge.lobby`` and the port it printed once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "wsbridge.lobby", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), f"the lobby printed {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
    return proc, int(line)


def stop(lobby: subprocess.Popen[str]) -> int:
    """SIGTERM, then its exit status."""
    lobby.send_signal(signal.SIGTERM)
    lobby.communicate(timeout=30)
    return lobby.returncode


def test_hubs_register_again_after_the_lobby_restarts_and_games_play_on(hub_factory, caplog) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge")
    tokens = ["--token", "game-secret", "--hub-token", "hub-secret"]
    lobby, port = lobby_process("--port", "0", *tokens)
    try:
        base = f"ws://127.0.0.1:{port}"
        hub = hub_factory(games=1, lobby=base + "/lobby/hubs", lobby_token="hub-secret", hub_id="h")
        headers = {"Authorization": "Bearer game-secret"}
        url = Asking(base + "/lobby", additional_headers=headers).assignment()["url"]
        game = play(url)
        env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
        env.reset(seed=0)
        waiting = Asking(base + "/lobby?token=game-secret")  # the hub is full: it waits
        assert stop(lobby) == 0
        assert waiting.closed() == (1001, "the lobby is shutting down")
        # The game in play talks to its hub, not to the lobby: it never noticed.
        obs, _, _, truncated, info = env.step(env.action_space.sample())
        assert obs.tolist() == [[1, 1, 1, 1]] and not truncated.any() and "wsbridge_reconnected" not in info
        lobby, _ = lobby_process("--port", str(port), *tokens)
        # The waiting game comes back; the hub has registered again with its (empty) free map.
        waiting = Asking(base + "/lobby?token=game-secret")
        env.close()
        game.close()  # its slot frees: the hub tells the new lobby
        assert waiting.assignment() == {"type": "assign", "url": url, "hub": "h"}
        assert any("registered with the lobby" in r.getMessage() and r.getMessage().endswith("again")
                   for r in caplog.records)
    finally:
        stop(lobby)


# ---- refusals and limits ---------------------------------------------------------------------

def test_tokens_are_checked_before_the_upgrade_and_a_game_token_never_registers_a_hub(lobby_factory,
                                                                                       hub_factory) -> None:
    lobby = lobby_factory(token="game-secret", hub_token="hub-secret")
    for url, headers in [(lobby.url(), {}), (lobby.url(), {"Authorization": "Bearer hub-secret"}),
                         (lobby.url() + "?token=guess", {}), (lobby.hubs_url, {}),
                         (lobby.hubs_url + "?token=game-secret", {}), (lobby.url("/elsewhere"), {})]:
        with pytest.raises(InvalidStatus) as e:
            connect(url, additional_headers=headers)
        assert e.value.response.status_code == 401, url
    log = WatchLog("wsbridge")
    wrong = hub_factory(games=1, lobby=lobby.hubs_url, lobby_token="game-secret", hub_id="wrong")
    log.wait_for("hub wrong: lobby " + lobby.hubs_url + ": HTTP 401 (wrong or missing lobby_token); retrying")
    assert not wrong.lobby_registered
    hub_factory(games=1, lobby=lobby.hubs_url, lobby_token="hub-secret", hub_id="right")
    assert lobby.wait_for(lambda s: "right" in s["hubs"])["hubs"].keys() == {"right"}
    answer = Asking(lobby.url(), additional_headers={"Authorization": "Bearer game-secret"}).assignment()
    assert answer["hub"] == "right"
    with pytest.raises(ValueError, match="hub_token is required when token is set"):
        Lobby(token="t")
    with pytest.raises(ValueError, match="must differ from token"):
        Lobby(token="t", hub_token="t")


class WatchLog(logging.Handler):
    """Collects a logger's messages; :meth:`wait_for` blocks until one contains a text."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.DEBUG)
        self.messages: queue.Queue[str] = queue.Queue()
        self.logger = logging.getLogger(name)
        self.logger.addHandler(self)
        self.previous_level = self.logger.level
        self.logger.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.put(record.getMessage())

    def wait_for(self, text: str, timeout: float = 30) -> str:
        try:
            while True:
                message = self.messages.get(timeout=timeout)
                if text in message:
                    return message
        finally:
            self.logger.removeHandler(self)
            self.logger.setLevel(self.previous_level)


@pytest.mark.parametrize("message, reason", [
    (b'{"type": "lobby"}', "a lobby message is a text frame holding a JSON object, not a binary frame"),
    ("lobby please", "a lobby message must be a JSON object (this is not JSON)"),
    ("[1]", "a lobby message must be a JSON object, not list"),
    ('{"type": "hello", "version": 1, "env": ""}', "'type' must be 'lobby', not 'hello'"),
    ('{"type": "lobby", "env": ""}', "'version' is missing"),
    ('{"type": "lobby", "version": 2, "env": ""}', "'version' is 2; this lobby speaks 1"),
    ('{"type": "lobby", "version": 1}', "'env' is missing"),
    ('{"type": "lobby", "version": 1, "env": 5}', "'env' must be a string, not int"),
    ('{"type": "lobby", "version": 1, "env": "a\\nb"}', "'env' must be at most 256 printable characters"),
    ('{"type": "lobby", "version": 1, "env": "", "previous": "http://x/env/0"}',
     "'previous' must start with ws:// or wss://"),
])
def test_a_bad_game_message_is_closed_with_4400_naming_the_field(lobby_factory, message, reason) -> None:
    lobby = lobby_factory()
    with connect(lobby.url()) as ws:
        ws.send(message)
        assert closed_with(ws) == (4400, reason)


@pytest.mark.parametrize("message, reason", [
    ({"type": "lobby", "version": 1, "env": ""}, "'type' must be 'hub', not 'lobby'"),
    ({"type": "hub", "version": 1, "env": "", "free": {}}, "'id' is missing"),
    ({"type": "hub", "version": 1, "id": "", "env": "", "free": {}}, "'id' must not be empty"),
    ({"type": "hub", "version": 1, "id": "h", "env": ""}, "'free' must be an object of slot ids to slot URLs, "
                                                           "not NoneType"),
    ({"type": "hub", "version": 1, "id": "h", "env": "", "free": {"0": "/env/0"}},
     "'free'['0'] must start with ws:// or wss://"),
    ({"type": "hub", "version": 1, "id": "h", "env": "", "free": {"0": 7}}, "'free'['0'] must be a string, not int"),
    ({"type": "hub", "version": 1, "id": "h", "env": "", "free": {"": "ws://h/env/"}},
     "'free' keys must be slot ids of at most 256 printable characters"),
])
def test_a_bad_hub_message_is_closed_with_4400_naming_the_field(lobby_factory, message, reason) -> None:
    lobby = lobby_factory()
    with connect(lobby.hubs_url) as ws:
        ws.send(json.dumps(message))
        assert closed_with(ws) == (4400, reason)
    assert lobby.wait_for(lambda s: True)["hubs"] == {}


def test_protocol_breaches_after_the_first_message_and_unknown_paths(lobby_factory) -> None:
    lobby = lobby_factory()
    with connect(lobby.url()) as ws:
        ws.send(lobby_message())
        ws.send(lobby_message())
        assert closed_with(ws) == (4400, "a game sends one lobby message, then waits for its assignment")
    with connect(lobby.hubs_url) as ws:
        ws.send(json.dumps({"type": "hub", "version": 1, "id": "h", "env": "", "free": {}}))
        ws.send(json.dumps({"type": "hub", "version": 1, "id": "h", "env": "", "free": {}}))
        assert closed_with(ws) == (4400, "'type' must be 'free', not 'hub'")
    with connect(lobby.url("/lobby/games")) as ws:
        assert closed_with(ws) == (4404, "nothing at /lobby/games: this lobby serves /lobby (games) and /lobby/hubs "
                                         "(hubs)")


def test_limits_bound_what_games_and_hubs_may_hold(lobby_factory) -> None:
    lobby = lobby_factory(max_waiting=2, max_hubs=1, max_slots=3, max_size=4096, hello_timeout=3)
    with connect(lobby.url()) as ws:  # a game's one message is small
        ws.send(json.dumps({"type": "lobby", "version": 1, "env": "x" * 9000}))
        assert closed_with(ws)[0] == 1009
    waiting = [Asking(lobby.url()), Asking(lobby.url())]
    lobby.wait_for(lambda s: s["waiting"] == 2)
    assert Asking(lobby.url()).closed() == (1013, "the lobby holds 2 games (max_waiting); retry later")
    waiting[0].leave()
    lobby.wait_for(lambda s: s["waiting"] == 1)
    waiting.append(Asking(lobby.url()))  # room again
    lobby.wait_for(lambda s: s["waiting"] == 2)

    def hub(hub_id: str, slots: int) -> str:
        free = {str(i): f"ws://h/env/{i}" for i in range(slots)}
        return json.dumps({"type": "hub", "version": 1, "id": hub_id, "env": "", "free": free})

    with connect(lobby.hubs_url) as ws:
        ws.send(hub("big", 4))
        assert closed_with(ws) == (4400, "'free' lists 4 slots; this lobby takes at most 3 (max_slots)")
    with connect(lobby.hubs_url) as first, connect(lobby.hubs_url) as second:
        first.send(hub("first", 0))
        lobby.wait_for(lambda s: "first" in s["hubs"])
        second.send(hub("second", 0))
        assert closed_with(second) == (1013, "the lobby has 1 hubs (max_hubs); retry later")
        first.send(json.dumps({"type": "free", "free": {"x" * 5000: "ws://h/env/x"}}))  # over max_size
        assert closed_with(first)[0] == 1009
    with connect(lobby.hubs_url) as ws:
        assert closed_with(ws) == (4400, "no hub message within 3 s")
    for game in waiting[1:]:  # still waiting: no hub
        assert not game.answered()
        game.leave()


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_a_flood_of_games_and_hubs_costs_the_lobby_bounded_memory() -> None:
    """The lobby in its own process, so that its memory alone is measured: ``max_waiting`` games
    that wait, then ``max_hubs`` hubs with maps at the size limits, then one more of each."""
    games, hubs, max_size = 500, 4, 2**20
    lobby, port = lobby_process("--port", "0", "--max-waiting", str(games), "--max-hubs", str(hubs),
                                "--log-level", "ERROR")

    opened: list[Any] = []

    async def open_(url: str) -> Any:
        opened.append(await connect_async(url, ping_interval=None, max_size=None))
        return opened[-1]

    async def flood() -> tuple[int, int, int]:
        start = status_kib(lobby.pid, "VmRSS")
        for i in range(games):
            ws = await open_(f"ws://127.0.0.1:{port}/lobby")
            await ws.send(json.dumps({"type": "lobby", "version": 1, "env": f"{i:03d}" + "e" * 253}))
        assert (await closed_async(await open_(f"ws://127.0.0.1:{port}/lobby"))) == 1013
        after_games = status_kib(lobby.pid, "VmRSS")
        url = "ws://trainer.example:8000/" + "p" * 204 + "/env/"
        free = {f"{i}": f"{url}{i}" for i in range(4000)}  # just under max_size and max_slots
        message = json.dumps({"type": "hub", "version": 1, "id": "h", "env": "none", "free": free})
        assert max_size - 50_000 < len(message) < max_size
        for h in range(hubs):  # their env matches no game
            ws = await open_(f"ws://127.0.0.1:{port}/lobby/hubs")
            await ws.send(message.replace('"id": "h"', f'"id": "h{h}"'))
        extra = await open_(f"ws://127.0.0.1:{port}/lobby/hubs")
        await extra.send(json.dumps({"type": "hub", "version": 1, "id": "one-more", "env": "", "free": {}}))
        assert (await closed_async(extra)) == 1013  # and the hubs before it were all read
        return start, after_games, status_kib(lobby.pid, "VmRSS")

    async def measure() -> tuple[int, int, int]:
        try:
            return await asyncio.wait_for(flood(), 120)
        finally:
            await asyncio.gather(*(ws.close() for ws in opened))

    try:
        start, after_games, after_hubs = asyncio.run(measure())
    finally:
        stop(lobby)
    per_game, per_hub = (after_games - start) / games, (after_hubs - after_games) / hubs
    figures = f"{per_game:.1f} KiB per waiting game, {per_hub / 1024:.1f} MiB per hub at max_size"
    print(figures)
    assert per_game < 64, figures  # measured: about 19 KiB
    assert per_hub < 8 * 1024, figures  # measured: about 3.6 MiB


async def connect_async(url: str, **kwargs: Any) -> Any:
    from websockets.asyncio.client import connect as connect_

    return await connect_(url, **kwargs)


async def closed_async(ws: Any) -> int | None:
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as e:
        return None if e.rcvd is None else e.rcvd.code
