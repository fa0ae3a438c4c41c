"""Every fault case, once: an id naming the scenario and the arguments of
`fault_test CASE ARG...` (tests/fault/fault_test/). test_faults.py runs them all; test_memory.py runs
them under ASan/UBSan and a subset under valgrind; docs/reliability.md cites the ids."""

from __future__ import annotations


def malformed(name: str, result: str, code: int, fact: str, *delivered: str,
              answered: bool = True) -> tuple[str, list[str]]:
    """A malformed-frame case (tests/servers/rawws.py FRAMES): the result wsb_recv reports, the
    close code the server receives, a fact in the message, the messages delivered first (after
    "hello"); the game answers each, and the answers reach the server before our close frame
    unless the peer's own close came first (``answered=False``)."""
    answers = "answered" if answered else "unanswered"
    return f"malformed-{name}", ["malformed", name, result, str(code), fact, answers, *delivered]


MALFORMED = [
    malformed("opcode-3", "WSB_PROTOCOL_ERROR", 1002, "invalid opcode: 3"),
    malformed("opcode-11", "WSB_PROTOCOL_ERROR", 1002, "invalid opcode: 11"),
    malformed("rsv1", "WSB_PROTOCOL_ERROR", 1002, "Reserved bits are non-zero"),
    malformed("rsv2", "WSB_PROTOCOL_ERROR", 1002, "Reserved bits are non-zero"),
    malformed("rsv3", "WSB_PROTOCOL_ERROR", 1002, "Reserved bits are non-zero"),
    malformed("masked", "WSB_PROTOCOL_ERROR", 1002, "masked frame"),
    malformed("len-short", "WSB_PROTOCOL_ERROR", 1002, "invalid opcode: 12", "he"),
    malformed("len-msb", "WSB_MESSAGE_TOO_BIG", 1009, "9223372036854775808 bytes"),
    malformed("len-huge", "WSB_MESSAGE_TOO_BIG", 1009, "1099511627776 bytes"),
    malformed("len-nonminimal", "WSB_TIMEOUT", 1000, "no message", "hello"),
    malformed("utf8-text", "WSB_PROTOCOL_ERROR", 1007, "not valid UTF-8; closed the connection with 1007"),
    malformed("utf8-fragmented", "WSB_PROTOCOL_ERROR", 1007, "not valid UTF-8; closed the connection with 1007"),
    malformed("ping-fragmented", "WSB_PROTOCOL_ERROR", 1002, "Fragmented control frame"),
    malformed("ping-oversized", "WSB_PROTOCOL_ERROR", 1002, "Control frame too big"),
    malformed("close-oversized", "WSB_PROTOCOL_ERROR", 1002, "Control frame too big"),
    malformed("cont-no-start", "WSB_PROTOCOL_ERROR", 1002, "nothing to continue"),
    malformed("text-in-fragment", "WSB_PROTOCOL_ERROR", 1002, "While waiting for more fragments"),
    malformed("close-1-byte", "WSB_PROTOCOL_ERROR", 1002, "Invalid close sequence"),
    malformed("close-bad-utf8", "WSB_PROTOCOL_ERROR", 1007, "closed the connection with 1007"),
]

# A close code no endpoint may send: tungstenite replaces it with 1002 "Protocol violation"
# before wsbridge sees it; wsbridge reports WSB_PROTOCOL_ERROR saying the code is forbidden
# (docs/reliability.md, which cites these by their own test name, test_forbidden_close_code).
FORBIDDEN_CLOSE_CODES = [
    malformed("close-code-1005", "WSB_PROTOCOL_ERROR", 1002, "forbids", answered=False),
    malformed("close-code-999", "WSB_PROTOCOL_ERROR", 1002, "forbids", answered=False),
]

# Cases that measure RSS: meaningless under valgrind and ASan, which keep memory of their own.
RSS_CASES = ("flood", "flood_control", "backpressure", "ping_flood", "ping_flood_control")
# Cases that kill or freeze their server: each gets a server of its own.
OWN_SERVER_CASES = ("killed", "frozen")

CASES: list[tuple[str, list[str]]] = [
    # connecting
    ("upgrade-never-answered", ["upgrade_timeout"]),
    ("connection-refused", ["refused"]),
    ("unresolvable-host", ["unresolvable"]),
    *[(f"upgrade-refused-{s}", ["status", str(s)]) for s in (401, 403, 404, 500)],
    ("upgrade-answered-with-garbage", ["bad_upgrade", "/garbage", "invalid upgrade response"]),
    ("upgrade-hung-up", ["bad_upgrade", "/hangup", "closed the connection before answering the HTTP upgrade"]),
    ("upgrade-wrong-accept-key", ["bad_upgrade", "/bad-accept", "Sec-WebSocket-Accept"]),
    # RFC 6455 4.1: an extension the client did not offer fails the connection
    ("upgrade-accepts-unoffered-extension", ["bad_upgrade", "/deflate", "Sec-WebSocket-Extensions"]),
    # a peer that dies, freezes or never finishes
    ("server-killed-mid-message", ["killed"]),
    ("server-frozen", ["frozen"]),
    # the server pings every 0.5 s and drops a peer silent for 1 s; the game idles 3 s
    ("game-not-reading-stays-connected", ["keepalive_idle", "3000"]),
    ("server-never-answers-close", ["noclose"]),
    ("server-answers-close-keeps-tcp", ["close_no_eof"]),
    ("reset-while-sending-no-sigpipe", ["reset_while_sending"]),
    # sizes and flow control
    ("incoming-over-limit-one-frame", ["oversize_in", "big"]),
    ("incoming-over-limit-fragments", ["oversize_in", "bigfrag"]),
    ("outgoing-over-limit", ["oversize_out"]),
    ("flood-recv-queue-1MiB", ["flood", str(1 << 20), "1500"]),
    ("flood-recv-queue-4MiB", ["flood", str(4 << 20), "1500"]),
    ("flood-control-grows-without-cap", ["flood_control", str(48 * 1024), "5000"]),
    ("backpressure-would-block-then-exactly-once", ["backpressure", str(1 << 20), "400"]),
    # a server that floods pings and never reads the pongs: bounded by send_queue_max_bytes
    ("ping-flood-pongs-bounded-by-send-queue", ["ping_flood", str(1 << 20), "3000"]),
    ("ping-flood-control-grows-without-cap", ["ping_flood_control", str(8 * 1024), "20000"]),
    ("ping-flood-with-keepalive-reported-lost", ["ping_flood_keepalive", str(1 << 20), "300", "700"]),
    # malformed frames from a raw-socket server
    *MALFORMED,
    # the game answers the message before a malformed frame, then closes without reading on
    ("malformed-answered-then-closed", ["malformed_close", "rsv2", "1002"]),
    ("malformed-answered-then-closed-utf8", ["malformed_close", "utf8-text", "1007"]),
    # a close frame without a code: the peer's status is 1005 (and so for a forbidden code)
    ("peer-close-without-code", ["malformed", "close-empty", "WSB_CLOSED", "1005", "code 1005", "unanswered"]),
    # handles
    ("stale-and-forged-handles", ["stale_handles"]),
    ("close-races-send-and-recv", ["close_race", "2000"]),
]


def ids(cases: list[tuple[str, list[str]]]) -> list[str]:
    return [c[0] for c in cases]


def argvs(cases: list[tuple[str, list[str]]]) -> list[list[str]]:
    return [c[1] for c in cases]
