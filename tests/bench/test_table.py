"""The `make bench` table: goals judged right, missing figures shown as n/a, one table out."""

from __future__ import annotations

import math

from bench.goals import CLIENTS, all_rows, front_rows, jobs_rows, push_rows, storm_rows
from bench.rates import sustained_rate
from bench.table import HEADER, Row, at_least, at_most, ratio, render, summary

FRONT = {
    "rps": {
        "api_job": 1500.0,
        "redis_job": 2000.0,
        "api_healthz": 3000.0,
        "static_healthz": 8000.0,
    },
    "client_cpu": {"api_job": 0.5, "redis_job": 0.6, "static_healthz": 0.95},
    "p50_ms": {"api_job": 0.8, "redis_job": 0.5},
    "connections": 64,
}


def test_goals_judge_both_directions_and_leave_nan_unjudged() -> None:
    assert at_least(0.6, "").met(0.6) is True
    assert at_least(0.6, "").met(0.59) is False
    assert at_most(5, "").met(5.0) is True
    assert at_most(5, "").met(5.1) is False
    assert at_most(5, "").met(math.nan) is None
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 2.0))


def test_front_rows_take_ratios_against_the_same_run_references() -> None:
    job, job_static, healthz, single = front_rows(FRONT)
    assert job.judged == 0.75
    assert job.met == "yes"
    assert job_static.goal is None
    assert job_static.met == "—"
    assert healthz.judged == 3000 / 8000
    assert healthz.met == "NO"
    assert single.judged == 0.8
    assert single.met == "yes"
    assert "64 conns" in job.figure
    assert job.ratio_text == "0.75x"


def test_a_reference_the_load_generator_could_not_saturate_is_flagged() -> None:
    job, _, healthz, _ = front_rows(FRONT)
    assert "capped" not in job.reference  # the generator used 60 % of a core there
    assert "generator at 95% CPU: capped" in healthz.reference


def test_job_steps_are_listed_as_context_rows() -> None:
    rows = jobs_rows(
        {
            "ours": {"per_second": 40.0, "submits_per_second": 320.0},
            "stock": {"per_second": 60.0, "submits_per_second": 900.0},
            "steps": {"upload received, record created": 4.0},
        }
    )
    assert [r.met for r in rows] == ["yes", "yes", "—"]  # 40/60 >= 0.5; 320/s >= 300/s
    assert rows[2].figure == "P1 step: upload received, record created"
    assert rows[2].jobcast == "4.00 ms"


def test_cpu_per_job_is_listed_by_process_with_the_stock_total() -> None:
    rows = jobs_rows(
        {
            "ours": {
                "per_second": 40.0,
                "submits_per_second": 320.0,
                "cpu_ms": {"api": 3.0, "Redis": 1.0},
            },
            "stock": {"per_second": 60.0, "submits_per_second": 900.0, "cpu_ms": {"worker": 2.0}},
        }
    )
    assert [r.figure for r in rows[2:]] == [
        "P1 CPU per job: api",
        "P1 CPU per job: Redis",
        "P1 CPU per job: total",
    ]
    assert rows[-1].jobcast == "4.00 ms"
    assert rows[-1].reference == "stock Celery, worker + Redis: 2.00 ms"
    assert rows[-1].ratio_text == "2.00x"
    assert rows[-1].met == "—"


def test_the_bench_clients_cpu_is_shown_apart_from_the_totals() -> None:
    rows = jobs_rows(
        {
            "ours": {
                "per_second": 40.0,
                "submits_per_second": 320.0,
                "cpu_ms": {"api": 3.0, CLIENTS: 1.5},
            },
            "stock": {
                "per_second": 60.0,
                "submits_per_second": 900.0,
                "cpu_ms": {"worker": 2.0, CLIENTS: 0.5},
            },
        }
    )
    total, clients = rows[-2], rows[-1]
    assert (total.figure, total.jobcast, total.ratio_text) == (
        "P1 CPU per job: total",
        "3.00 ms",
        "1.50x",
    )
    assert total.reference == "stock Celery, worker + Redis: 2.00 ms"
    assert clients.figure == "P1 CPU per job: the bench's clients (httpx, channel taps)"
    assert (clients.jobcast, clients.reference, clients.ratio_text) == (
        "1.50 ms",
        "Celery's client: 0.50 ms",
        "3.00x",
    )


def test_push_goal_is_a_difference_of_p99s() -> None:
    late = push_rows(
        {"rate": 100, "push_p99_ms": 12.0, "trip_p99_ms": 6.0, "commit_push_p99_ms": 1.0}
    )
    assert late[0].judged == 6.0
    assert late[0].met == "NO"
    assert late[0].ratio_text == "+6.0 ms"
    assert late[1].met == "yes"


def storm_side(gapless: int, live_p99: float, pause: float) -> dict[str, float]:
    return {"clients": 5000, "gapless": gapless, "live_p99_ms": live_p99, "gc_max_storm_ms": pause}


def test_storm_rows_judge_every_client_the_live_p99_and_the_longest_pause() -> None:
    resumed, live, pause = storm_rows(
        {"tuned": storm_side(5000, 180.0, 40.0), "stock": storm_side(5000, 900.0, 400.0)}
    )
    assert resumed.figure == "Storm: all 5,000 clients resumed with no gap"
    assert (resumed.jobcast, resumed.met) == ("5,000 of 5,000", "yes")
    assert live.met == "yes"
    assert pause.ratio_text == "0.10x the time"
    assert pause.met == "yes"
    one_short = storm_rows({"tuned": storm_side(4999, 300.0, 120.0), "stock": None})
    assert [r.met for r in one_short] == ["NO", "NO", "NO"]
    assert "n/a" in one_short[2].reference


def test_a_benchmark_that_did_not_run_leaves_n_a_rows_not_a_crash() -> None:
    rows = all_rows({"front": FRONT, "jobs": None})
    assert len(rows) == 6  # benchmarks not asked for (--only) leave no rows
    assert {r.met for r in rows[4:] if r.goal is not None} == {"n/a"}
    text = summary(rows)
    assert text.startswith("2 of ")
    assert "missed: P8 GET /healthz" in text
    assert "not measured" in text


def test_render_is_one_aligned_markdown_table() -> None:
    rows = [Row("fig", "1 /s", "ref: 2 /s", "0.50x", 0.5, at_least(0.6, ">= 0.6x"))]
    lines = render(rows).splitlines()
    assert len(lines) == 3
    assert len({len(line) for line in lines}) == 1
    assert [c.strip() for c in lines[0].strip("|").split("|")] == list(HEADER)
    assert lines[2].rstrip(" |").endswith("NO")


def test_sustained_rate_is_the_last_before_round_trips_queue() -> None:
    probes = [(50.0, 4.0), (100.0, 5.0), (200.0, 7.9), (400.0, 40.0), (800.0, 6.0)]
    assert sustained_rate(probes) == 200.0  # 400/s queued: a later fast probe does not count
    assert sustained_rate([(100.0, 40.0), (50.0, 5.0)]) == 50.0  # sorted: judged from 50/s
    assert sustained_rate([(50.0, 4.0)]) == 50.0
