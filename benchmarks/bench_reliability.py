"""Reliability latencies of one app server, each next to a reference measured in the same run.

The load tests (``tests/test_robustness_load.py``) prove what must hold however busy the machine
is; this script measures how long it took, which depends on the machine:

* **Health** (``/_stcore/health`` polled every 0.2 s from a separate process): median/p95/max latency
  with the server idle (the reference), then while two sessions train and two browse every page.
* **Stop**: seconds from pressing Stop on a training run (and, separately, from closing its tab)
  until the server logs that the run ended. Reference: the idle health median.
* **Memory**: the server's resident memory before and after ``--sessions`` train-and-close
  sessions (two at a time), and the growth per session (first half vs second half: a leak keeps
  growing, a cache levels off).

Usage: ``python benchmarks/bench_reliability.py [--idle 20] [--stops 3] [--sessions 10]``; prints a
table and writes ``artifacts/bench_reliability.json`` and its section of ``docs/benchmarks.md``. On a shared machine the figures are noisy:
the load average is printed with them. The browser runs at normal priority (not idle priority:
other users' jobs on a shared machine would starve it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import start_app_server, stop_app_server  # noqa: E402
from live_app import (  # noqa: E402
    TRAINED,
    TRAINING_PROGRESS,
    HealthMonitor,
    Served,
    browse_pages,
    in_browser,
    open_session,
    start_training,
    wait_idle,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
from _report import Report, markdown_table  # noqa: E402

OUT = ROOT / "artifacts" / "bench_reliability.json"


async def _wait_ended(served: Served, count: int) -> float:
    """Poll the server log (every 50 ms) until ``count`` runs have ended; returns the time then."""
    while len(served.ended_runs()) < count:
        await asyncio.sleep(0.05)
    return time.monotonic()


async def _stop_delays(browser, served: Served, stops: int, close: bool) -> list[float]:
    """Start a long run, wait until it trains, then press Stop (or close the tab); seconds until it ended."""
    delays = []
    for _ in range(stops):
        before = len(served.ended_runs())
        context, page = await open_session(browser, f"{served.url}/train")
        try:
            await start_training(page, epochs=500)
            await page.get_by_text(TRAINING_PROGRESS).first.wait_for()
            if close:
                t0 = time.monotonic()
                await context.close()
            else:
                await page.get_by_role("button", name="Stop").first.click()
                t0 = time.monotonic()
            delays.append(await _wait_ended(served, before + 1) - t0)
        finally:
            await context.close()
    return delays


async def _four_sessions(browser, served: Served) -> None:
    async def trainer(seed: int) -> None:
        context, page = await open_session(browser, f"{served.url}/train")
        try:
            await start_training(page, width=1, layers=1, epochs=2, seed=seed)
            await page.get_by_text(TRAINED).wait_for()
            await wait_idle(page)
        finally:
            await context.close()

    async def browsing() -> None:
        context, page = await open_session(browser, served.url)
        try:
            await browse_pages(page, rounds=2)
        finally:
            await context.close()

    await asyncio.gather(trainer(1), trainer(2), browsing(), browsing())


async def _train_and_close(browser, served: Served, count: int, rss: list[int]) -> None:
    async def lane(n: int) -> None:
        for _ in range(n):
            context, page = await open_session(browser, f"{served.url}/train")
            await start_training(page, epochs=500)
            await page.get_by_text(TRAINING_PROGRESS).first.wait_for()
            await context.close()
            rss.append(served.rss_bytes())

    await asyncio.gather(lane(count - count // 2), lane(count // 2))


def stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"n": len(ordered), "median_s": round(ordered[len(ordered) // 2], 2), "max_s": round(ordered[-1], 2)}


def measure(idle_s: float, stops: int, sessions: int, directory: Path) -> dict:
    server = start_app_server(directory)
    health = HealthMonitor(server.url, directory / "health.log")
    health.start()
    served = Served(server, health)
    try:
        in_browser(lambda browser: open_session(browser, served.url))  # warm the caches (one Home load)
        served.wait_until_idle()
        t0 = time.time()
        time.sleep(idle_s)
        idle = health.latency(t0)
        t0 = time.time()
        in_browser(_four_sessions, served)
        loaded = health.latency(t0)
        served.wait_until_idle()
        after_stop = in_browser(_stop_delays, served, stops, False)
        after_close = in_browser(_stop_delays, served, stops, True)
        served.wait_for_ended(len(served.ended_runs()))
        served.wait_until_idle()
        rss_before, rss = served.rss_bytes(), []
        before = len(served.ended_runs())
        in_browser(_train_and_close, served, sessions, rss)
        served.wait_for_ended(before + sessions)
        served.wait_until_idle()
        rss_after = served.rss_bytes()
    finally:
        health.stop()
        stop_app_server(server)
    mib = lambda b: round(b / 2**20, 1)  # noqa: E731
    half = sessions // 2
    return {
        "health_idle": idle, "health_four_sessions": loaded,
        "health_p95_ratio": round(loaded["p95_ms"] / idle["p95_ms"], 1),
        "stop_after_stop_button": stats(after_stop), "stop_after_tab_close": stats(after_close),
        "memory": {"sessions": sessions, "rss_before_mib": mib(rss_before), "rss_after_mib": mib(rss_after),
                   "growth_per_session_mib": round((rss_after - rss_before) / 2**20 / sessions, 2),
                   "growth_first_half_mib": mib(rss[half - 1] - rss_before),
                   "growth_second_half_mib": mib(rss[-1] - rss[half - 1])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of health probes on the idle server")
    parser.add_argument("--stops", type=int, default=3, help="runs stopped by the Stop button, and by closing the tab")
    parser.add_argument("--sessions", type=int, default=10, help="train-and-close sessions for the memory figure")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and browser on a kill too
    report = Report("reliability")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.idle, args.stops, max(2, args.sessions), Path(tmp))
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "load_before": [round(x, 2) for x in load_before],
                         "load_after": [round(x, 2) for x in os.getloadavg()]}
    idle, loaded = result["health_idle"], result["health_four_sessions"]
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print(f"{'health (ms)':<34}{'median':>8}{'p95':>8}{'max':>8}{'fails':>7}")
    for label, row in (("idle server (reference)", idle), ("2 training + 2 browsing", loaded)):
        print(f"{label:<34}{row['median_ms']:>8}{row['p95_ms']:>8}{row['max_ms']:>8}{row['failures']:>7}")
    print(f"health p95 under load / idle p95: {result['health_p95_ratio']}x")
    for label, key in (("stop after the Stop button", "stop_after_stop_button"),
                       ("stop after the tab closed", "stop_after_tab_close")):
        row = result[key]
        print(f"{label:<34} median {row['median_s']} s, max {row['max_s']} s over {row['n']} runs")
    mem = result["memory"]
    print(f"RSS {mem['rss_before_mib']} -> {mem['rss_after_mib']} MiB over {mem['sessions']} train-and-close sessions "
          f"({mem['growth_per_session_mib']} MiB/session; first half +{mem['growth_first_half_mib']}, "
          f"second half +{mem['growth_second_half_mib']})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    report.write(*markdown(result))


def markdown(result: dict) -> tuple[str, ...]:
    """The run's figures as Markdown: health latencies, how fast runs stop, memory per session."""
    health = markdown_table(
        ("health probes (ms)", "median", "p95", "max", "failed probes"),
        [(label, row["median_ms"], row["p95_ms"], row["max_ms"], row["failures"])
         for label, row in (("idle server (reference)", result["health_idle"]),
                            ("2 sessions training + 2 browsing", result["health_four_sessions"]))],
        "lrrrr")
    stops = markdown_table(
        ("a run ends", "median s", "max s", "runs"),
        [(label, result[key]["median_s"], result[key]["max_s"], result[key]["n"])
         for label, key in (("after the Stop button", "stop_after_stop_button"),
                            ("after its tab closed", "stop_after_tab_close"))],
        "lrrr")
    mem = result["memory"]
    return (health, f"Health p95 under load / idle p95: {result['health_p95_ratio']}×.", stops,
            f"Server memory: {mem['rss_before_mib']} → {mem['rss_after_mib']} MiB over {mem['sessions']} "
            f"train-and-close sessions ({mem['growth_per_session_mib']} MiB per session; first half "
            f"+{mem['growth_first_half_mib']}, second half +{mem['growth_second_half_mib']} MiB).")


if __name__ == "__main__":
    main()
