"""A live app server and the browser sessions that use it (async Playwright, Debian's Chromium).

Shared by the load tests (``tests/test_robustness_load.py``) and the reliability and capacity
benchmarks (``benchmarks/bench_reliability.py``, ``benchmarks/bench_capacity.py``). Every wait is a
condition with a ceiling (:data:`HANG_S`) that only catches a hang: a busy machine makes things slow,
never wrong. Latencies are measured here (:class:`HealthMonitor`) but only benchmarks report them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import CHROMIUM, CHROMIUM_ARGS, HANG_S, wait_until  # noqa: F401 - re-exported
from multires.options import TRAIN_LIMITS

PAGE_TIMEOUT_MS = int(HANG_S * 1000)
HEALTH_PERIOD_S = 0.2
HEALTH_TIMEOUT_S = 120.0  # a probe unanswered this long has failed (the server is hung, not busy)
IDLE_CPU_FRACTION = 0.25  # of one core: "nothing left running" once every run has ended
#: Sidebar navigation entry -> the page's heading, in the order a browsing session clicks through them.
BROWSE_PAGES = {"Wavelets": "Wavelets", "Filters": "Filters", "Coefficient tree": "The coefficient tree",
                "TREESELECT memory": "TREESELECT", "Compare": "Compare models", "Train": "Train a model",
                "Home": "Wavelet Memory Explorer"}
TRAINING_PROGRESS = re.compile(r"Epoch \d+ of \d+ planned.* · step \d+ of \d+")  # the live view once steps are done
ENDED = re.compile(r"training run '(?P<name>.*)' ended: (?P<how>.*)$")
TRAINED = "It is now selected in the sidebar"  # the Train page's message once a run's model joined

#: The poller, run as its own process: a thread of the test process would share its GIL with the
#: Playwright client and measure that client's pauses along with the server's.
_POLLER = """
import sys, time, urllib.request
url, period, timeout, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
with open(out, "a") as log:
    while True:
        began, start = time.time(), time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                ok = response.status == 200 and response.read() == b"ok"
        except OSError:
            ok = False
        latency = time.monotonic() - start
        log.write(f"{began:.3f} {latency:.4f} {int(ok)}\\n")
        log.flush()
        time.sleep(max(0.0, period - latency))
"""


@dataclass
class HealthMonitor:
    """Polls ``/_stcore/health`` every HEALTH_PERIOD_S from a separate process; samples are
    ``(wall time, latency s, ok)``."""

    url: str
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _POLLER, f"{self.url}/_stcore/health",
                                         str(HEALTH_PERIOD_S), str(HEALTH_TIMEOUT_S), str(self.log)])
        wait_until(lambda: bool(self.samples()), "the health poller to start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=HANG_S)

    def samples(self, t0: float = 0.0, t1: float = float("inf")) -> list[tuple[float, float, bool]]:
        rows = []
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            parts = line.split()
            if len(parts) == 3 and t0 <= float(parts[0]) <= t1:
                rows.append((float(parts[0]), float(parts[1]), parts[2] == "1"))
        return rows

    def failures(self, t0: float = 0.0) -> tuple[int, int]:
        """(failed probes, probes) since ``t0``."""
        window = self.samples(t0)
        return sum(not ok for _, _, ok in window), len(window)

    def latency(self, t0: float = 0.0, t1: float = float("inf")) -> dict:
        """Median, p95 and max latency (ms) of the probes in ``[t0, t1]`` (for benchmarks)."""
        window = self.samples(t0, t1)
        ordered = sorted(s[1] for s in window)
        if not ordered:
            return {"samples": 0}
        return {"samples": len(ordered), "failures": sum(not s[2] for s in window),
                "median_ms": round(1000 * statistics.median(ordered), 1),
                "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
                "max_ms": round(1000 * ordered[-1], 1)}


@dataclass
class Served:
    """A running app server (``conftest.AppServer``) with its health monitor and /proc figures."""

    server: object
    health: HealthMonitor
    started: float = field(default_factory=time.time)  # wall time the server was ready

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def log(self) -> str:
        return self.server.log.read_text(errors="replace")

    def ended_runs(self) -> list[tuple[str, str]]:
        return [(m["name"], m["how"]) for line in self.log().splitlines() if (m := ENDED.search(line))]

    def wait_for_ended(self, count: int) -> list[tuple[str, str]]:
        """Wait until the log reports ``count`` ended runs in all; returns them."""
        def done() -> bool:
            assert self.server.process.poll() is None, f"the server died:\n{self.log()[-3000:]}"
            return len(self.ended_runs()) >= count
        wait_until(done, f"{count} ended runs (log tail:\n{self.log()[-3000:]})")
        return self.ended_runs()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def threads(self) -> int:
        return int(_proc_status(self.pid, "Threads:"))

    def thread_names(self) -> list[str]:
        """The server's threads by kernel name (``/proc/<pid>/task/*/comm``), sorted: shows which one stayed."""
        names = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                names.append((task / "comm").read_text().strip())
            except OSError:  # the thread ended while we looked
                pass
        return sorted(names)

    def rss_bytes(self) -> int:
        return self.server.rss_bytes()

    def wait_until_idle(self, window_s: float = 2.0) -> float:
        """Wait until the server uses less than IDLE_CPU_FRACTION of a core over ``window_s``; returns it."""
        seen = []

        def idle() -> bool:
            before = self.cpu_seconds()
            time.sleep(window_s)
            seen.append((self.cpu_seconds() - before) / window_s)
            return seen[-1] < IDLE_CPU_FRACTION
        wait_until(idle, "the server's CPU to go idle", poll_s=0)
        return seen[-1]


def _proc_status(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return line.split()[1]
    raise RuntimeError(f"no {key} line for pid {pid}")


# --- browsers ---------------------------------------------------------------------------------------------


def in_browser(scenario, *args):
    """Run ``await scenario(browser, *args)`` with a fresh headless Chromium, on a thread of its own
    (pytest's main thread may not run an event loop beside sync Playwright's). The browser runs at
    normal priority: at idle priority, on a busy shared machine, it got no CPU at all for minutes."""
    from playwright.async_api import async_playwright

    async def main():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                return await scenario(browser, *args)
            finally:
                await browser.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def wait_idle(page) -> None:
    """The script run has finished: app mounted and no 'running' status widget (as conftest's)."""
    await page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_timeout(300)
    await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                 timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_timeout(300)


async def open_session(browser, url: str):
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    await page.goto(url, wait_until="domcontentloaded")
    await wait_idle(page)
    return context, page


async def errors_on(page) -> list[str]:
    return await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()


def number_label(text: str, field_name: str) -> str:
    """A Train page number input's label, with the trainer's bounds as the page shows them."""
    low, high = TRAIN_LIMITS[field_name]
    return f"{text} ({int(low)}–{int(high)})"


async def set_number(page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label)
    await box.fill(str(value))
    await box.press("Enter")
    await wait_idle(page)


async def sidebar_models(page) -> list[str]:
    """The options of the sidebar's Model picker, as shown ("name · source")."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    await box.click()
    options = page.locator('[role="option"]')
    await options.first.wait_for()
    texts = [" ".join(t.split()) for t in await options.all_inner_texts()]  # HTML collapses the double spaces
    await page.keyboard.press("Escape")
    return texts


async def start_training(page, width: int | None = None, layers: int | None = None, epochs: int | None = None,
                         seed: int | None = None) -> str:
    """Set the run up on the Train page and press Train; returns the name the page announces."""
    for label, value in ((number_label("Width", "d_model"), width), (number_label("Layers", "n_layers"), layers),
                         (number_label("Epochs", "epochs"), epochs), ("Seed (0–2³¹−1)", seed)):
        if value is not None:
            await set_number(page, label, value)
    # Issue 23: wait_idle can return before the rerun that Enter started has begun (a loaded server shows no
    # status widget for a while), so the caption read next could still name the previous seed: the test then
    # looked for a model that was never trained (the app did train the typed seed). Wait for the caption to
    # show what was typed before reading the name and clicking.
    wanted = [f"seed {seed}" if seed is not None else "",
              f"{width}×" if width is not None else "", f"×{layers} " if layers is not None else ""]
    caption = page.get_by_text("Will train")
    deadline = time.monotonic() + HANG_S
    while True:
        shown = await caption.inner_text()
        if all(part in shown for part in wanted):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Train page never showed {wanted}: {shown!r}")
        await asyncio.sleep(0.2)
    await wait_idle(page)
    name = (await caption.inner_text()).removeprefix("Will train").strip()
    await page.get_by_role("button", name="Train", exact=True).click()
    return name


async def browse_pages(page, rounds: int = 1, think_s=None) -> dict:
    """Click through every page with the sidebar navigation, as a user does; ``think_s()`` (if given)
    is awaited as the pause before each click. Returns pages visited and errors seen."""
    visited, errors = 0, []
    for _ in range(rounds):
        for title, heading in BROWSE_PAGES.items():
            if think_s is not None:
                await asyncio.sleep(think_s())
            await page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            await wait_idle(page)
            if shown := await errors_on(page):  # a page that failed draws no chart: do not wait for one
                errors += shown
            else:
                await page.locator("h1").filter(has_text=heading).first.wait_for()
                await page.locator(".js-plotly-plot").first.wait_for()
            visited += 1
    return {"visited": visited, "errors": errors}
