"""Does uniform TREESELECT beat resolution fading when a task needs exact values far back?

Usage (from the repository root)::

    MULTIRES_THREADS=1 nice -n 10 python scripts/uniform_vs_fading.py      # 20 runs, ~8 min on a shared 2-core CPU
    python scripts/uniform_vs_fading.py --seeds 2 --out /tmp/check.csv     # a quicker look

Writes ``assets/studies/distant_windows.csv``: one row per (setting, seed, rule) with the test
accuracy and the counted budget. The app (TREESELECT and Compare pages) reads it through
:func:`multires.figures.uniform_test.paired_summary`.

The task is ``"distant-windows"`` at its defaults (:func:`multires.data.tasks.distant_windows_task`):
white noise of length 64; is the stretch 36-47 steps before the end higher on average than the
stretch 48-59 steps before the end? Read at the last step.

Equal budgets: Haar filters, depth J = 6 (length 64), so fading keeps J + 1 = 7 cells per channel;
uniform gets M = 7 (``memory_size``) — the same slots per channel and the same distinct
coefficients per layer (every channel of a fading or uniform layer reads the same cells), and the
same parameter count (one weight per cell plus the skip weight); the script checks all three.
Same width, layers, data, initialisation seed, batches and number of optimizer steps; the pair of a
seed differs only in the rule. Two settings:

* ``memory alone``: 1 block, Haar filters frozen — the layer's memory is exactly what the rule
  keeps, so this isolates the rule; the script also records the *ceiling*: the best accuracy any
  classifier can reach from that memory (the label is the sign of a linear function of the input,
  so it is ``1/2 + arcsin(rho)/pi``, ``rho`` the correlation of the label's sum difference with its
  best linear estimate from the kept cells).
* ``full model``: 2 blocks, filters learned from Haar — the app's recipe shape, where learned filters
  and stacked layers can work around the rule.

Every run also records ``layer1_ceiling``: the same best accuracy from the trained network's *first
layer* memory, all its channels together with their own (learned or frozen) filters — how much of
the two stretches the first layer can still see after training moved the filters.

The recipe (width 16, batch 32, 8 epochs = 504 steps, lr 0.01, best validation epoch) was fixed
before any run and never tuned; the test split is scored once per run, at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from multires import default_depth, memory_slots, wavelet_filters  # noqa: E402
from multires.checkpoint import save_run  # noqa: E402
from multires.data.tasks import best_window_accuracy, load_task  # noqa: E402
from multires.training import TrainConfig, train  # noqa: E402
from multires.training.threads import apply_thread_policy, resolve_threads  # noqa: E402

OUT = ROOT / "assets" / "studies" / "distant_windows.csv"
TASK = "distant-windows"
SETTINGS = {  # name -> (blocks, filters frozen)
    "memory alone": (1, True),
    "full model": (2, False),
}
RECIPE = dict(wavelet="haar", d_model=16, batch_size=32, epochs=8, min_steps=0)


def ceiling(tree_select: str, memory_size: int | None, depth: int) -> float:
    """Best accuracy any classifier can reach from the kept cells (plus the skip sample), frozen Haar."""
    h0, h1 = wavelet_filters("haar")
    slots = memory_slots(tree_select, depth, len(h0), memory_size=memory_size)
    return best_window_accuracy(h0, h1, slots, depth)  # the task's default length and stretches


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="paired seeds 0..N-1 (default 5)")
    p.add_argument("--out", type=Path, default=OUT, help=f"CSV to write (default {OUT.relative_to(ROOT)})")
    p.add_argument("--models", type=Path, default=None,
                   help="also save every trained model as DIR/<setting>-<rule>-seed<N>/ (default: not saved)")
    args = p.parse_args(argv)
    threads = resolve_threads(None)
    apply_thread_policy(threads)

    rows = []
    start = time.perf_counter()
    for setting, (blocks, frozen) in SETTINGS.items():
        for seed in range(args.seeds):
            task = load_task(TASK, seed=seed)
            budget = {}
            common = dict(n_layers=blocks, freeze_filters=frozen, seed=seed, **RECIPE)
            fading = TrainConfig(tree_select="fading", **common)
            depth = default_depth(task.length, len(wavelet_filters(RECIPE["wavelet"])[0]))  # uniform: M = J + 1
            configs = {"fading": fading, "uniform": TrainConfig(tree_select="uniform", memory_size=depth + 1, **common)}
            for rule, config in configs.items():
                result = train(task, config)
                convs = result.net.convs
                first = convs[0]  # the first layer's memory, every channel's filters and cells together
                taps = [result.net.filters(0, c) for c in range(first.channels)]
                layer1 = best_window_accuracy(np.array([t[0] for t in taps]), np.array([t[1] for t in taps]),
                                              [first.kept_slots(c) for c in range(first.channels)], first.depth)
                counted = (convs[0].slots_per_channel(), max(c.distinct_slots() for c in convs),
                           result.net.n_parameters(), result.steps)
                budget[rule] = counted
                rows.append({
                    "setting": setting, "seed": seed, "tree_select": rule, "memory_size": config.memory_size,
                    "n_layers": blocks, "filters": "Haar, frozen" if frozen else "learned from Haar",
                    "d_model": config.d_model, "depth": depth, "slots_per_channel": counted[0],
                    "distinct_per_layer": counted[1], "n_parameters": counted[2], "steps": counted[3],
                    "test_accuracy": result.test["accuracy"], "val_accuracy": result.val["accuracy"],
                    "ceiling": ceiling(rule, config.memory_size, depth) if frozen else float("nan"),
                    "layer1_ceiling": layer1,
                    "train_time_s": round(result.train_time, 2), "wall_time_s": round(result.wall_time, 2),
                })
                if args.models is not None:
                    save_run(args.models / f"{setting.replace(' ', '-')}-{rule}-seed{seed}", result.net, result.metrics())
                print(f"{setting:13s} seed {seed} {rule:8s} test accuracy {result.test['accuracy']:.3f}, first-layer "
                      f"ceiling {layer1:.3f} ({result.steps} steps, {result.train_time:.1f} s)", flush=True)
            if budget["fading"] != budget["uniform"]:
                raise SystemExit(f"unequal budgets at {setting} seed {seed}: {budget}")
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.6g")
    print(f"wrote {args.out} ({len(table)} runs, {time.perf_counter() - start:.0f} s wall, {threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
