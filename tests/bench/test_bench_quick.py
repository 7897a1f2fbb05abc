"""The benchmark code must not rot: generate tiny datasets and run the quick suite in process.

Timings are not judged here (CI machines vary); the test checks that every figure is produced
with sane numbers, that the generated occupancy is consistent, and that the hand-written lower
bound query finds the same rooms as the search service.
"""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import generate as gen
from bench.run import Row, _before, judge_surface, markdown_table, run_suite


@pytest.fixture
def bench_urls(tmp_path):
    """A database per dataset next to the test database (never the test database itself)."""
    base = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if not base:
        yield "sqlite", lambda name: f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    created = []

    def url_for(name: str) -> str:
        target = url.set(database=f"{url.database}_bench_{worker}_{name}")
        created.append(target)
        return target.render_as_string(hide_password=False)

    yield "postgresql", url_for
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for target in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def _check_dataset(url: str, profile: str) -> None:
    engine = create_engine(gen._normalise(url))
    with engine.connect() as conn:
        occurrences = conn.scalar(text("SELECT count(*) FROM occurrence"))
        # Exactly one occupancy row per approved date and unit of its room.
        missing = conn.scalar(
            text(
                """
                SELECT count(*) FROM occurrence o
                WHERE o.status = 'approved'
                  AND NOT EXISTS (SELECT 1 FROM occupancy x WHERE x.occurrence_id = o.id)
                """
            )
        )
        stray = conn.scalar(
            text(
                """
                SELECT count(*) FROM occupancy x JOIN occurrence o ON o.id = x.occurrence_id
                WHERE o.status <> 'approved'
                """
            )
        )
        wrong_units = conn.scalar(
            text(
                """
                SELECT count(*) FROM occupancy x JOIN occurrence o ON o.id = x.occurrence_id
                WHERE x.unit_id <> o.room_id
                  AND NOT EXISTS (SELECT 1 FROM room p WHERE p.id = x.unit_id
                                  AND p.parent_id = o.room_id)
                """
            )
        )
        overlaps = conn.scalar(
            text(
                """
                SELECT count(*) FROM occupancy a JOIN occupancy b
                  ON a.unit_id = b.unit_id AND a.id < b.id
                 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                """
            )
        )
        statuses = dict(
            conn.execute(text("SELECT status, count(*) FROM occurrence GROUP BY status")).all()
        )
    engine.dispose()
    assert occurrences > 10_000
    assert (missing, stray, wrong_units, overlaps) == (0, 0, 0, 0)
    if profile == "city":  # the realistic mix has every status
        assert set(statuses) == {"approved", "pending", "declined", "cancelled"}
    else:
        assert set(statuses) == {"approved"}


def test_generator_and_quick_suite(tmp_path, bench_urls):
    database, url_for = bench_urls
    out = tmp_path / "results"

    results = run_suite(
        quick=True,
        databases=[database],
        out=out,
        http=False,
        in_process_generation=True,
        urls={database: url_for},
    )

    for profile in ("city", "peer"):
        _check_dataset(url_for(f"{profile}1"), profile)
    generation = {g["profile"]: g for g in results["generation"]}
    assert generation["peer"]["rows"]["booking"] == 20 * (20 + 80)
    assert generation["peer"]["rows"]["occurrence"] == 20 * (20 * 52 + 80)
    assert all(g["seconds"] > 0 and g["peak_rss_mib"] > 0 for g in generation.values())

    figures = results["figures"]
    timed = [f for f in figures if f["median_ms"] is not None]
    names = {f["figure"].split(" ")[0] for f in timed}
    expected = {"1a", "1b", "1c", "2a", "2b", "2c", "2d", "2e", "3", "4a", "4b", "7a", "7b", "7c"}
    assert expected <= names
    for figure in timed:
        assert 0 < figure["median_ms"] <= figure["p95_ms"], figure
        assert figure["samples"] >= 3, figure
        assert figure["database"] == database
    lower_bounds = [f for f in figures if f["figure"].startswith(("7b", "7c"))]
    assert len(lower_bounds) == 3  # 7b on both datasets, 7c on the peer dataset
    assert all(f["extra"]["same_rooms"] for f in lower_bounds)
    searches = [f for f in figures if f["figure"].startswith("2a")]
    assert all(" of " in f["notes"] and not f["notes"].startswith("0 of") for f in searches)

    saved = json.loads((out / "results.json").read_text())
    assert saved["figures"] == json.loads(json.dumps(figures, default=str))
    table = (out / "results.md").read_text()
    assert "| Figure | Database |" in table and "1a request weekly series" in table
    plans = (out / f"plans-{database}.md").read_text()
    assert "occupancy" in plans


def test_a_dataset_is_generated_in_a_fresh_checkout_without_bench_data(tmp_path, monkeypatch):
    """``bench/.data/`` does not exist in a fresh clone; generating in a subprocess (the
    suite's default) must create it for its report instead of failing."""
    from bench import run

    monkeypatch.setattr(run, "DATA", tmp_path / "fresh" / ".data")
    url = f"sqlite:///{tmp_path / 'tiny.sqlite3'}"
    report = run.generate_dataset(url, "city", 1, tiny=True, in_process=False)
    assert report["profile"] == "city" and report["rows"]["occurrence"] > 0
    assert (tmp_path / "fresh" / ".data" / "generation.json").exists()


def test_an_answer_over_http_is_judged_by_what_it_costs_beyond_its_service_call():
    """#14's surface target: at most 2 ms (median) beyond the service call it answers with."""
    service = [Row("2d free-room search", "postgresql", "peer ×1", 3.1, 3.5)]
    service.append(Row("2e availability of one room", "postgresql", "peer ×1", 4.0, 4.4))
    http = [
        Row("5 search over HTTP, one request at a time", "postgresql", "peer ×1", 4.6, 5.0),
        Row("5 availability over HTTP, one request at a time", "postgresql", "peer ×1", 6.5, 7.0),
        Row("5 load: search, 2 workers, 4 connections", "postgresql", "peer ×1", 9.0),
    ]
    judge_surface(http, service)
    search, availability, load = http
    assert (search.within, search.extra["beyond_service_ms"]) == (True, 1.5)
    assert (availability.within, availability.extra["beyond_service_ms"]) == (False, 2.5)
    assert "2.50 ms beyond the service call (figure 2e)" in availability.notes
    assert (load.within, load.target) == (None, "")


def test_results_show_each_figure_before_and_after():
    """results.md records each figure's median of an earlier run (``--before``) beside today's."""
    earlier = {
        "meta": {
            "commit": "95db201",
            "finished_at": "2026-11-30T07:00:00+00:00",
            "load_average_before": [0.5, 0.4, 0.3],
            "load_average_after": [1.1, 0.9, 0.6],
        },
        "figures": [{"figure": "1a series", "database": "sqlite", "dataset": "city ×1",
                     "median_ms": 12.0, "p95_ms": 13.0}],
    }  # fmt: skip
    now = [
        Row("1a series", "sqlite", "city ×1", 6.0, 6.5),
        Row("1a series", "postgresql", "city ×1", 9.0, 9.5),  # not in the earlier run
    ]
    before, sentence = _before(earlier)
    table = markdown_table(now, before).splitlines()
    assert "| Before ms | Change |" in table[0]
    assert "| 6.00 | 6.50 | 12.00 | 2.0× faster |" in table[2]
    assert "| 9.00 | 9.50 |  |  |" in table[3]
    assert "commit 95db201" in sentence and "load average before 0.5" in sentence
    assert "Before ms" not in markdown_table(now)
