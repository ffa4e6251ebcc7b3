"""One page of the app with the issue-23 hostile checkpoint: seconds and peak memory of each of its tabs.

Run by ``bench_hostile.py --pages`` in a fresh process per page, against a checkout given as the
first argument (so a copy of the code before a fix can be measured in the same run)::

    python benchmarks/_tab_costs.py ROOT app_pages/4_TREESELECT.py

The checkpoint is a legal learned model (width 8, 2 layers, depth 16, M = 1,800: about 209 KB),
written and read back through the checkpoint format as an upload is, and selected in the sidebar
with a 8,192-sample uploaded signal (the longest window every analysis can take). Each tab's time is
the wall time the page spends inside it (Streamlit runs every tab on every run); its memory is the
peak resident growth inside it (VmHWM, reset on entry). Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve()
PAGE = sys.argv[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

#: the issue's hostile file: every field within the loading bounds
HOSTILE = dict(d_model=8, n_layers=2, depth=16, tree_select="learned", memory_size=1800, seq_len=4096)
SIGNAL_LENGTH = 8192


def _mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _timed_tabs(costs: dict[str, list[float]]) -> None:
    """Make every ``with tab:`` block of the pages record its seconds and peak memory growth in ``costs``."""
    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator

    labels: dict[int, str] = {}
    open_: dict[int, tuple[float, float]] = {}
    make_tabs, enter, leave = st.tabs, DeltaGenerator.__enter__, DeltaGenerator.__exit__

    def tabs(names, *args, **kwargs):
        made = make_tabs(names, *args, **kwargs)
        labels.update({id(tab): name for tab, name in zip(made, names)})
        return made

    def timed_enter(self):
        if id(self) in labels:
            _reset_peak()
            open_[id(self)] = (time.perf_counter(), _mb("VmRSS"))
        return enter(self)

    def timed_exit(self, *exc):
        done = leave(self, *exc)
        if id(self) in open_:
            start, rss = open_.pop(id(self))
            costs[labels[id(self)]] = [round(time.perf_counter() - start, 2), round(_mb("VmHWM") - rss)]
        return done

    st.tabs, DeltaGenerator.__enter__, DeltaGenerator.__exit__ = tabs, timed_enter, timed_exit


def main() -> None:
    import numpy as np

    from conftest import open_app
    from multires import ModelConfig
    from multires.checkpoint import checkpoint_bytes, load_checkpoint
    from multires.model import build_model
    from ui.models import ModelEntry

    data = checkpoint_bytes(build_model(ModelConfig(**HOSTILE), seed=0).eval(), {"task": "digits"})
    net, _config, metrics = load_checkpoint(data)
    entry = ModelEntry("hostile learned", net, metrics, "uploaded")
    signal = {"name": "long noise", "values": np.random.default_rng(0).standard_normal(SIGNAL_LENGTH)}
    at = open_app(None, check=False, session_models={"hostile learned": entry}, model="hostile learned",
                  uploaded_signal=signal, signal="Uploaded signal")
    costs: dict[str, list[float]] = {}
    _timed_tabs(costs)
    _reset_peak()
    rss = _mb("VmRSS")
    start = time.perf_counter()
    at.switch_page(PAGE).run()
    seconds = time.perf_counter() - start
    charts = sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))
    print(json.dumps({"page": PAGE, "file_bytes": len(data), "seconds": round(seconds, 2),
                      "peak_mb": round(_mb("VmHWM") - rss), "chart_mb": round(charts / 1e6, 2), "tabs": costs,
                      "errors": [str(e.message)[:200] for e in at.exception]}))


if __name__ == "__main__":
    main()
