"""Raumbörse against Indico 3.3, interleaved in one window, written to peer-indico.md.

Indico is set up beside the project as ``../shared/peers/indico/RECIPE.md`` says (its folder is
``--peer-dir``, ``$PEER_DIR`` in the recipe). Each round runs four blocks one after the other:
Indico in process, Raumbörse in process, Indico over HTTP, Raumbörse over HTTP (the same
operations, probes drawn the same way: ``bench/peer.py``), and notes the load average before
and after each block. The table compares medians of the same round; the ratio is Indico's time
divided by ours (for throughput, ours divided by Indico's).

    python -m bench.peer_indico --peer-dir /path/to/peer --rounds 2

Not for CI: it takes about 15 minutes a round and needs the Indico installation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.run import ROOT

# (what the row says, Indico's figure, ours, how to compare: "time" or "rate")
ROWS = [
    (
        "conflict check, 1 room, one 2 h slot (in process)",
        "a2 get_rooms_conflicts, 1 room, single 2h slot",
        "a conflict check, 1 room, single 2h slot",
        "time",
    ),
    (
        "conflict check, 1 room, weekly 2 h × 52",
        "a2w get_rooms_conflicts, 1 room, weekly 2h x 52 wks",
        "a conflict check, 1 room, weekly 2h x 52",
        "time",
    ),
    (
        "free-room search, 200 rooms, one 2 h slot (in process)",
        "b1 search_for_rooms(availability=True), 200 rooms, single 2h",
        "b free-room search, 200 rooms, single 2h",
        "time",
    ),
    (
        "free-room search, 200 rooms, weekly × 52 (in process)",
        "b1w search_for_rooms(availability=True), 200 rooms, weekly x52",
        "b free-room search, 200 rooms, weekly x 52",
        "time",
    ),
    (
        "free-room search, one 2 h slot, as Room objects (the web page)",
        "b1 search_for_rooms(availability=True), 200 rooms, single 2h",
        "b' free-room search as Room objects, single 2h",
        "time",
    ),
    (
        "free-room search, weekly × 52, as Room objects (the web page)",
        "b1w search_for_rooms(availability=True), 200 rooms, weekly x52",
        "b' free-room search as Room objects, weekly x 52",
        "time",
    ),
    (
        "availability of one room (in process)",
        "a3 get_rooms_availability+serialize (timeline), 1 room, single",
        "a availability of 1 room (its day), serialised",
        "time",
    ),
    (
        "create a single booking + commit",
        "c1 create_from_data + commit, single 1h (free slot)",
        "c create + commit, single 1h (free slot)",
        "time",
    ),
    (
        "create a weekly series of 52 + commit",
        "c2 create_from_data + commit, weekly 1h x 52 wks",
        "c create + commit, weekly 1h x 52",
        "time",
    ),
    ("search over HTTP (curl, one at a time)", "curl search", "http curl search", "time"),
    (
        "availability / timeline over HTTP",
        "curl timeline",
        "http curl availability of 1 room",
        "time",
    ),
    (
        "single booking over HTTP",
        "curl create",
        "http curl create single booking (POST)",
        "time",
    ),
    (
        "search throughput, wrk 4 connections, 2 workers (req/s)",
        "wrk search c=4",
        "http wrk search, 4 connection(s)",
        "rate",
    ),
    (
        "availability throughput, wrk 4 connections (req/s)",
        "wrk timeline c=4",
        "http wrk availability, 4 connection(s)",
        "rate",
    ),
    (
        "bulk: single bookings through the booking service (/s)",
        "c1 create_from_data + commit, single 1h (free slot)",
        "c create + commit, single 1h (free slot)",
        "bulk",
    ),
]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_block(name: str, command: list[str], env: dict, cwd: Path, log: Path) -> dict:
    before = load()
    started = datetime.now(UTC)
    print(f"[{started:%H:%M:%S}] {name} (load {before})", flush=True)
    with log.open("a") as out:
        out.write(f"\n===== {name} {started.isoformat()} load {before}\n")
        out.flush()
        subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=True)
    after = load()
    seconds = (datetime.now(UTC) - started).total_seconds()
    print(f"    done in {seconds:.0f} s (load {after})", flush=True)
    return {"block": name, "load_before": before, "load_after": after, "seconds": round(seconds)}


def indico_http(summary: Path) -> dict[str, dict]:
    """Indico's HTTP summary lines as figures by a short name."""
    found = {}
    for line in summary.read_text().splitlines():
        median = re.search(r"median=([\d.]+)ms", line)
        if line.startswith("curl") and median:
            kind = "search" if "search" in line else "timeline" if "timeline" in line else "create"
            found[f"curl {kind}"] = {"median_ms": float(median.group(1))}
        rate = re.match(r"wrk (\w+) c=(\d+): Requests/sec:\s+([\d.]+)", line)
        if rate:
            found[f"wrk {rate.group(1)} c={rate.group(2)}"] = {"rps": float(rate.group(3))}
    return found


def figure(results: list[dict], name: str) -> dict | None:
    return next((r for r in results if r["name"].startswith(name)), None)


def value(found: dict | None, kind: str) -> float | None:
    if found is None:
        return None
    if kind == "time":
        return found.get("median_ms")
    if kind == "rate":
        return found.get("rps")
    return 1000 / found["mean_ms"] if "mean_ms" in found else found.get("per_second")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-dir", type=Path, default=os.environ.get("PEER_DIR"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/raumboerse_bench_peer",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if args.peer_dir is None or not (args.peer_dir / "venv").exists():
        parser.error("--peer-dir must name the Indico installation of the recipe")
    peer = args.peer_dir.resolve()
    env = os.environ | {"PEER_DIR": str(peer), "INDICO_CONFIG": str(peer / "etc" / "indico.conf")}
    work = args.out / "peer"
    work.mkdir(parents=True, exist_ok=True)
    log = work / "peer-indico.log"
    ours = [sys.executable, "-m", "bench.peer", "--database-url", args.database_url]
    rounds = []
    for number in range(1, args.rounds + 1):
        blocks = []
        blocks.append(
            run_block(
                f"round {number}: Indico in process",
                [str(peer / "venv/bin/python"), "scripts/bench_inproc.py"],
                env,
                peer,
                log,
            )
        )
        indico = json.loads((peer / "results" / "inproc.json").read_text())["results"]
        blocks.append(
            run_block(
                f"round {number}: Raumbörse in process",
                [*ours, "--no-http", "--out", str(work / f"round{number}-inproc")],
                env,
                ROOT,
                log,
            )
        )
        mine = json.loads((work / f"round{number}-inproc" / "raumboerse.json").read_text())
        blocks.append(
            run_block(
                f"round {number}: Indico over HTTP",
                ["bash", "scripts/bench_http.sh", "2"],
                env,
                peer,
                log,
            )
        )
        http = indico_http(peer / "results" / "http_w2" / "summary.txt")
        shutil.copy(
            peer / "results" / "http_w2" / "summary.txt", work / f"round{number}-indico-http.txt"
        )
        (work / f"round{number}-indico-inproc.json").write_text(json.dumps(indico, indent=2))
        blocks.append(
            run_block(
                f"round {number}: Raumbörse over HTTP",
                [*ours, "--http-only", "--out", str(work / f"round{number}-http")],
                env,
                ROOT,
                log,
            )
        )
        mine_http = json.loads((work / f"round{number}-http" / "raumboerse.json").read_text())
        theirs = indico + [{"name": k} | v for k, v in http.items()]
        ours_all = mine["results"] + mine_http["results"]
        rows = []
        for label, their_name, our_name, kind in ROWS:
            a = value(figure(theirs, their_name), kind)
            b = value(figure(ours_all, our_name), kind)
            ratio = None
            if a and b:
                ratio = a / b if kind == "time" else b / a
            rows.append({"row": label, "kind": kind, "indico": a, "raumboerse": b, "ratio": ratio})
        rounds.append({"round": number, "blocks": blocks, "rows": rows})
    write_markdown(rounds, args.out / "peer-indico.md")
    (work / "peer-indico.json").write_text(json.dumps(rounds, indent=2))
    print(f"wrote {args.out / 'peer-indico.md'}")
    return 0


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "time":
        return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"
    return f"{value:.1f}"


def write_markdown(rounds: list[dict], target: Path) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    lines = [
        "# Raumbörse against Indico 3.3 room booking (peer dataset, PostgreSQL)",
        "",
        f"Written by `python -m bench.peer_indico` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit `{commit}`. Indico and Raumbörse on the same machine, the same PostgreSQL and "
        "the same data profile (200 rooms, 20,000 bookings, 224,000 dates), interleaved "
        "(Indico, Raumbörse, Indico, Raumbörse per round). Medians; ratio = how many times "
        "faster Raumbörse is (for req/s and bookings/s: ours divided by Indico's).",
        "",
    ]
    header = "| figure |"
    rule = "| --- |"
    for r in rounds:
        header += f" Indico r{r['round']} | Raumbörse r{r['round']} | ratio r{r['round']} |"
        rule += " ---: | ---: | ---: |"
    lines += [header, rule]
    for index, (label, *_rest) in enumerate(ROWS):
        line = f"| {label} |"
        for r in rounds:
            row = r["rows"][index]
            ratio = f"{row['ratio']:.1f}×" if row["ratio"] else "–"
            line += (
                f" {_fmt(row['indico'], row['kind'])} | {_fmt(row['raumboerse'], row['kind'])} |"
                f" {ratio} |"
            )
        lines.append(line)
    lines += ["", "Load average (1, 5, 15 min) before and after each block:", ""]
    lines += ["| block | load before | load after | seconds |", "| --- | --- | --- | ---: |"]
    for r in rounds:
        for b in r["blocks"]:
            lines.append(
                f"| {b['block']} | {b['load_before']} | {b['load_after']} | {b['seconds']} |"
            )
    target.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
