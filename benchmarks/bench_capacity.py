"""Classroom capacity: one app server, 10, 20 and 30 concurrent browser sessions (a class).

"A teacher hosts the app for a class." One server (``WME_TORCH_THREADS=1``, loopback only) and one
headless Chromium with one browser context per student. Each student, after an arrival delay,
clicks through every page once with a think time of ``--think`` seconds (uniform, default 3–8 s,
seeded) before each click. One student in five also trains a tiny model (Train page: width 1,
1 layer, 2 epochs, a seed of its own, so a name of its own) and one in five uploads a signal named
with a random token on the Coefficient tree page. Measured:

* **Page script runs** server-side: the server runs with ``WME_RUN_TIMES`` set, so ``app.py``
  logs each completed script run's duration (``ui/run_timing.py``); p50/p95 of the runs during
  each class, against the same figures for one student alone in the same run (the reference).
* **Memory per idle session**: (server RSS with N idle sessions open on Home − RSS with none) / N.
* **Training queue**: the server trains at most ``MAX_CONCURRENT_RUNS`` at once; for each trainer,
  whether the page said it was waiting (and the place in line, if the page shows one), and how
  long after another run ended it started.
* **Isolation**: every student's final sidebar models and page text must hold its own model or
  upload and none of anyone else's.

Targets: 30 browsing sessions' p95 page run ≤ 2× a lone session's; ≤ 20 MB per idle session; no
session sees another's models or uploads. Prints a table; writes ``artifacts/capacity.json`` and its
section of ``docs/benchmarks.md``.
Usage: ``python benchmarks/bench_capacity.py [--classes 10 20 30] [--think 3 8] [--seed 0]``.
A shared machine makes these numbers noisy: the load average is recorded with them. The browser runs
at normal priority beside the server (students' browsers would run on their own machines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import start_app_server, stop_app_server  # noqa: E402
from live_app import (  # noqa: E402
    BROWSE_PAGES,
    TRAINED,
    Served,
    browse_pages,
    errors_on,
    in_browser,
    open_session,
    sidebar_models,
    start_training,
    wait_idle,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
from _report import Report, markdown_table  # noqa: E402

OUT = ROOT / "artifacts" / "capacity.json"
TRAINER_EVERY, UPLOADER_EVERY = 5, 5  # student k trains if k % 5 == 0, uploads if k % 5 == 2
SEED_BASE = 424_200  # student k trains with seed SEED_BASE + k: its model's name is its own
WAITING = re.compile(r"waiting for a free training slot|in line|queue", re.I)
RSS_TARGET_MB, P95_RATIO_TARGET = 20.0, 2.0


@dataclass
class Student:
    index: int
    think: tuple[float, float]
    rng: random.Random
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def role(self) -> str:
        if self.index % TRAINER_EVERY == 0:
            return "trainer"
        return "uploader" if self.index % UPLOADER_EVERY == 2 else "browser"

    def pause(self) -> float:
        return self.rng.uniform(*self.think)


async def _goto(page, title: str) -> None:
    await page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    await wait_idle(page)


async def _train(page, student: Student, ended_at: list[float]) -> dict:
    """Start a tiny run and watch the page until its model joined: did it wait, in which place."""
    await _goto(page, "Train")
    await asyncio.sleep(student.pause())
    name = await start_training(page, width=1, layers=1, epochs=2, seed=SEED_BASE + student.index)
    messages, wait_seen, wait_over = set(), None, None
    while not await page.get_by_text(TRAINED).count():
        alerts = await page.locator('[data-testid^="stAlert"]').all_inner_texts()
        queued = [" ".join(a.split()) for a in alerts if WAITING.search(a)]
        messages.update(queued)
        if queued and wait_seen is None:
            wait_seen = time.time()
        if not queued and wait_seen is not None and wait_over is None:
            wait_over = time.time()
        await asyncio.sleep(0.5)
    if wait_seen is not None and wait_over is None:  # the wait ended between two looks
        wait_over = time.time()
    await wait_idle(page)
    waited = wait_seen is not None
    freed = [t for t in ended_at if wait_seen is not None and wait_seen <= t <= (wait_over or time.time())]
    return {"model": name, "waited": waited, "queue_messages": sorted(messages),
            "started_after_a_slot_freed": bool(freed) if waited else None,
            "start_after_slot_freed_s": round(wait_over - freed[-1], 1) if waited and freed and wait_over else None}


async def _upload(page, student: Student, directory: Path) -> dict:
    await _goto(page, "Coefficient tree")
    await asyncio.sleep(student.pause())
    path = directory / f"class-{student.index}-{student.token}.csv"
    path.write_text("\n".join(f"{v:.4f}" for v in (student.rng.gauss(0, 1) for _ in range(256))) + "\n")
    await page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
    shown = page.get_by_text(student.token).or_(page.locator('[data-testid="stException"]'))
    await shown.first.wait_for(state="attached")  # the upload's name on the page, or the page's error
    await wait_idle(page)
    return {"upload": path.name}


async def _student(browser, url: str, student: Student, ended_at: list[float], directory: Path) -> dict:
    await asyncio.sleep(student.pause())  # arrivals spread out, as a class does
    context, page = await open_session(browser, url)
    try:
        outcome: dict = {"student": student.index, "role": student.role, "token": student.token}
        if student.role == "trainer":
            outcome |= await _train(page, student, ended_at)
        elif student.role == "uploader":
            outcome |= await _upload(page, student, directory)
        outcome |= await browse_pages(page, rounds=1, think_s=student.pause)
        outcome["models"] = await sidebar_models(page)
        await _goto(page, "Coefficient tree")  # where an upload would show
        outcome["text"] = (await page.locator("body").text_content()) + "\n".join(outcome["models"])
        outcome["errors"] += await errors_on(page)
        return outcome
    finally:
        await context.close()


async def _class(browser, served: Served, students: list[Student], directory: Path) -> list[dict]:
    ended_at: list[float] = []
    seen = len(served.ended_runs())

    async def watch_log() -> None:
        nonlocal seen
        while True:
            now = len(served.ended_runs())
            ended_at.extend([time.time()] * (now - seen))
            seen = now
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch_log())
    try:
        return await asyncio.gather(*(_student(browser, served.url, s, ended_at, directory) for s in students))
    finally:
        watcher.cancel()


async def _idle_sessions(browser, url: str, counts: list[int], measure) -> dict[int, float]:
    """Open idle sessions on Home up to each count in turn; ``measure()`` the server's RSS at each."""
    contexts, rss = [], {}
    try:
        for count in counts:
            opened = await asyncio.gather(*(open_session(browser, url) for _ in range(count - len(contexts))))
            contexts += [context for context, _ in opened]
            rss[count] = await asyncio.to_thread(measure)
        return rss
    finally:
        for context in contexts:
            await context.close()


def isolation(outcomes: list[dict]) -> dict:
    """Each student holds its own model/upload and sees none of the others'."""
    own_missing, leaks = [], []
    for o in outcomes:
        mine = o.get("model") or o.get("upload")
        if mine and mine not in o["text"]:
            own_missing.append(o["student"])
        for other in outcomes:
            theirs = other.get("model") or other.get("upload")
            if other is not o and theirs and theirs in o["text"]:
                leaks.append((o["student"], other["student"]))
    trained = [m for o in outcomes for m in o["models"] if m.endswith("· trained")]
    return {"own_missing": own_missing, "leaks": leaks, "trained_models_seen": len(trained)}


def runs_between(log: Path, t0: float, t1: float) -> list[tuple[str, float]]:
    rows = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return [(r[2], float(r[3])) for r in rows if len(r) == 4 and t0 <= float(r[0]) <= t1]


def run_stats(runs: list[tuple[str, float]]) -> dict:
    times = sorted(1000 * s for _, s in runs)
    if not times:
        return {"runs": 0}
    return {"runs": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "per_page_p50_ms": {p: round(1000 * statistics.median(s for q, s in runs if q == p), 1)
                                for p in sorted({q for q, _ in runs})}}


def settled_rss(served: Served) -> float:
    served.wait_until_idle()
    samples = []
    for _ in range(5):
        samples.append(served.rss_bytes())
        time.sleep(1.0)
    return statistics.median(samples) / 1e6  # MB


def run_class(served: Served, run_log: Path, students: list[Student], directory: Path) -> dict:
    t0, load0 = time.time(), os.getloadavg()[0]
    outcomes = in_browser(_class, served, students, directory)
    t1 = time.time()
    runs = runs_between(run_log, t0, t1)
    trainers = [o for o in outcomes if o["role"] == "trainer"]
    return {
        "sessions": len(students), "seconds": round(t1 - t0, 1), "load_1min": [round(load0, 1), round(os.getloadavg()[0], 1)],
        "page_runs": run_stats(runs), "page_runs_without_train": run_stats([r for r in runs if r[0] != "train"]),
        "pages_visited": sum(o["visited"] for o in outcomes), "pages_expected": len(students) * len(BROWSE_PAGES),
        "errors": [e for o in outcomes for e in o["errors"]],
        "trainers": len(trainers), "trainers_waited": sum(o["waited"] for o in trainers),
        "queue": [{k: o[k] for k in ("student", "waited", "queue_messages", "started_after_a_slot_freed",
                                     "start_after_slot_freed_s")} for o in trainers],
        "uploads": sum(o["role"] == "uploader" for o in outcomes),
        "isolation": isolation(outcomes),
    }


def measure(classes: list[int], think: tuple[float, float], seed: int, directory: Path) -> dict:
    run_log = directory / "runs.log"
    os.environ["WME_RUN_TIMES"] = str(run_log)
    server = start_app_server(directory)
    from live_app import HealthMonitor

    health = HealthMonitor(server.url, directory / "health.log")
    health.start()
    served = Served(server, health)
    rng = random.Random(seed)
    try:
        students = lambda n: [Student(k, think, random.Random(rng.random())) for k in range(n)]  # noqa: E731
        warm = [Student(1, think, random.Random(seed))]  # a browsing student: warms every page's caches
        run_class(served, run_log, warm, directory)
        lone = run_class(served, run_log, [Student(1, think, random.Random(seed + 1))], directory)
        rss0 = settled_rss(served)
        idle_rss = in_browser(_idle_sessions, served.url, classes, lambda: settled_rss(served))
        result = {"lone": lone, "rss_no_sessions_mb": round(rss0, 1),
                  "idle_mb_per_session": {n: round((idle_rss[n] - rss0) / n, 2) for n in classes}, "classes": {}}
        print(f"lone student p95 {lone['page_runs'].get('p95_ms')} ms; idle MB/session {result['idle_mb_per_session']}",
              file=sys.stderr, flush=True)
        save(result)
        for n in classes:
            served.wait_until_idle()
            result["classes"][n] = run_class(served, run_log, students(n), directory)
            save(result)  # a class at a time: a run cut short keeps the classes done
            print(f"class of {n}: {result['classes'][n]['page_runs']}", file=sys.stderr, flush=True)
        result["health"] = health.latency(served.started)
        return result
    finally:
        health.stop()
        stop_app_server(server)


def save(result: dict) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")


def judge(result: dict) -> None:
    """Add each class's p95 ratio to the lone student's and which targets it met."""
    lone = result["lone"]["page_runs"]
    for n, c in result["classes"].items():
        c["p95_over_lone"] = round(c["page_runs"]["p95_ms"] / lone["p95_ms"], 2) if c["page_runs"]["runs"] else None
        c["targets_met"] = {"p95_le_2x_lone": c["p95_over_lone"] is not None and c["p95_over_lone"] <= P95_RATIO_TARGET,
                            "idle_le_20mb": result["idle_mb_per_session"][n] <= RSS_TARGET_MB,
                            "isolated": not c["isolation"]["leaks"] and not c["isolation"]["own_missing"]}


def report(result: dict) -> None:
    lone = result["lone"]["page_runs"]
    print(f"lone student: {lone['runs']} page runs, p50 {lone['p50_ms']} ms, p95 {lone['p95_ms']} ms (reference)")
    print(f"server RSS with no sessions {result['rss_no_sessions_mb']} MB")
    print(f"{'N':>3} {'p50 ms':>8} {'p95 ms':>8} {'p95/lone':>9} {'MB/idle':>8} {'pages':>9} {'errors':>6} "
          f"{'trainers':>8} {'waited':>6} {'leaks':>5} {'load':>10}")
    for n, c in result["classes"].items():
        runs, load = c["page_runs"], c["load_1min"]
        print(f"{n:>3} {runs.get('p50_ms')!s:>8} {runs.get('p95_ms')!s:>8} {c['p95_over_lone']!s:>8}x "
              f"{result['idle_mb_per_session'][n]:>8} {c['pages_visited']:>4}/{c['pages_expected']:<4} "
              f"{len(c['errors']):>6} {c['trainers']:>8} {c['trainers_waited']:>6} "
              f"{len(c['isolation']['leaks']):>5} {load[0]:>4}->{load[1]:<5}")
        for q in c["queue"]:
            if q["waited"]:
                print(f"     trainer {q['student']}: waited ({'; '.join(q['queue_messages'])}); started after a "
                      f"slot freed: {q['started_after_a_slot_freed']} ({q['start_after_slot_freed_s']} s later)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 20, 30], help="class sizes, in order")
    parser.add_argument("--think", type=float, nargs=2, default=[3.0, 8.0], help="think time range (s) before a click")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and browser on a kill too
    section = Report("capacity")
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(sorted(args.classes), tuple(args.think), args.seed, Path(tmp))
    result["settings"] = {"think_s": args.think, "seed": args.seed, "trainer_every": TRAINER_EVERY,
                          "uploader_every": UPLOADER_EVERY, "cpus": os.cpu_count()}
    judge(result)
    save(result)
    report(result)
    print(f"wrote {OUT.relative_to(ROOT)}")
    section.write(*markdown(result))


def markdown(result: dict) -> tuple[str, ...]:
    """The run's table: one row per class size, the lone student first as the reference."""
    lone = result["lone"]["page_runs"]
    rows = [("1 (reference)", lone["runs"], f"{lone['p50_ms']} / {lone['p95_ms']}", "1", "–", "–", "–", "–", "–")]
    for n, c in result["classes"].items():
        runs, load = c["page_runs"], c["load_1min"]
        rows.append((n, runs.get("runs"), f"{runs.get('p50_ms')} / {runs.get('p95_ms')}", f"{c['p95_over_lone']}×",
                     result["idle_mb_per_session"][n], f"{c['pages_visited']}/{c['pages_expected']}, {len(c['errors'])}",
                     f"{c['trainers']} ({c['trainers_waited']})",
                     f"{len(c['isolation']['leaks'])} (own missing: {len(c['isolation']['own_missing'])})",
                     f"{load[0]} → {load[1]}"))
    table = markdown_table(
        ("sessions", "page runs", "p50 / p95 ms", "p95 ÷ lone", "MB per idle session", "pages opened, errors",
         "trainers (waited)", "leaks between sessions", "load (1 min) start → end"),
        rows, "rrlrrllll")
    think = result["settings"]["think_s"]
    return (table, f"Think time {think[0]:g}–{think[1]:g} s per click; targets: p95 at most "
                   f"{P95_RATIO_TARGET:g}× a lone session's, at most {RSS_TARGET_MB:g} MB per idle session, no leak. "
                   f"Server memory with no sessions: {result['rss_no_sessions_mb']} MB.")


if __name__ == "__main__":
    main()
