"""Runs Autobahn|Testsuite's fuzzing server against wsbridge's C client and judges the result.

    python3 run.py --python PY27 --site SITE --client CLIENT --out DIR [--expected FILE]
                   [--bless]

Starts the fuzzing server (tests/autobahn/fuzzingserver.py under Python 2.7) on 127.0.0.1
and a free port, waits for its "PORT" line, runs CLIENT (tests/autobahn/client.c) against it,
stops the server, then reads its JSON report (DIR/reports/index.json) and prints one line per
case, the totals, and every case whose behaviour differs from FILE (tests/autobahn/expected.json,
case id -> behaviour). A case worse than expected fails the run; any other change is listed
so that FILE can be updated (--bless writes FILE from this run).
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import queue
import subprocess
import sys
import threading

HERE = pathlib.Path(__file__).resolve().parent
AGENT = "wsbridge"
# Sections 1-10; 12 and 13 are permessage-deflate, which tungstenite does not offer.
SPEC = {"url": "ws://127.0.0.1", "cases": [f"{n}.*" for n in range(1, 11)], "exclude-cases": [],
        "exclude-agent-cases": {}}
# From best to worst; INFORMATIONAL is Autobahn's "no verdict", never a failure.
RANK = {"OK": 0, "INFORMATIONAL": 0, "NON-STRICT": 1, "UNIMPLEMENTED": 2, "WRONG CODE": 2,
        "UNCLEAN": 2, "FAILED": 3, "MISSING": 3}


def case_key(case: str) -> tuple[int, ...]:
    return tuple(int(p) for p in case.split("."))


def run_suite(args: argparse.Namespace) -> dict[str, dict]:
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    spec = dict(SPEC, outdir=str(out / "reports"))
    (out / "spec.json").write_text(json.dumps(spec, indent=2))
    log = open(out / "server.log", "w")
    server = subprocess.Popen(
        [str(pathlib.Path(args.python).resolve()), str(HERE / "fuzzingserver.py"),
         str(pathlib.Path(args.site).resolve()), str(out / "spec.json")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=out)
    # The server's output is read to its end (a full pipe would stall it) into server.log; its
    # "PORT <n>" line, printed once it listens, is handed over through `listening`.
    listening: queue.Queue[int | None] = queue.Queue()

    def read_output() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("PORT "):
                listening.put(int(line.split()[1]))
            log.write(line)
        listening.put(None)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        port = listening.get()
        if port is None:
            sys.exit(f"the fuzzing server exited with {server.wait()} before listening; "
                     f"see {out / 'server.log'}")
        print(f"fuzzing server on 127.0.0.1:{port}; client output in {out / 'client.log'}", flush=True)
        with open(out / "client.log", "w") as client_log:
            client = subprocess.run([args.client, str(port), AGENT], stdout=client_log,
                                    stderr=subprocess.STDOUT)
        if client.returncode != 0:
            sys.exit(f"the client failed ({client.returncode}): see {out / 'client.log'}")
    finally:
        assert server.stdin is not None
        server.stdin.close()  # the server stops when its standard input closes
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        reader.join()
        log.close()
    index = json.loads((out / "reports" / "index.json").read_text())
    return index[AGENT]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--expected", default=str(HERE / "expected.json"))
    parser.add_argument("--bless", action="store_true")
    args = parser.parse_args()

    results = run_suite(args)
    cases = sorted(results, key=case_key)
    print(f"{'case':<10} {'behavior':<14} {'close':<14} {'remote code':>11}  duration")
    for case in cases:
        r = results[case]
        print(f"{case:<10} {r['behavior']:<14} {r['behaviorClose']:<14} "
              f"{str(r.get('remoteCloseCode')):>11}  {r.get('duration', 0)} ms")
    totals = collections.Counter(results[c]["behavior"] for c in cases)
    print("totals: " + ", ".join(f"{n} {b}" for b, n in sorted(totals.items())) + f" ({len(cases)} cases)")

    got = {c: results[c]["behavior"] for c in cases}
    expected_path = pathlib.Path(args.expected)
    if args.bless:
        expected_path.write_text(json.dumps(got, indent=1, sort_keys=False) + "\n")
        print(f"wrote {expected_path}")
        return 0
    expected = json.loads(expected_path.read_text())
    worse, changed = [], []
    for case in sorted(set(expected) | set(got), key=case_key):
        want, have = expected.get(case, "MISSING"), got.get(case, "MISSING")
        if want != have:
            # A case the file does not list fails too: the file must cover the whole run.
            regression = RANK.get(have, 3) > RANK.get(want, 3) or "MISSING" in (have, want)
            (worse if regression else changed).append(
                f"  {case}: {have} (expected {want})")
    if changed:
        print("changed, not for the worse (update tests/autobahn/expected.json with "
              "`make test-autobahn AUTOBAHN_BLESS=1`):\n" + "\n".join(changed))
    if worse:
        print("REGRESSIONS against tests/autobahn/expected.json:\n" + "\n".join(worse))
        return 1
    print("Autobahn: no regression against tests/autobahn/expected.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
