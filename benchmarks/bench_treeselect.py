"""Learned TREESELECT vs the hand-made rules at equal memory size M.

Same seeds, same training budget, same network; only the TREESELECT rule differs.

* ``memory``: recall x[N-1-tau] at the last step of white noise (N=256) for tau in 1..128.
  Filters are frozen at Haar so that *which coefficients are kept* is the only difference,
  1 block, 8 channels, M = J + 1 = 9 slots per channel (fading's size). Reported: test R^2 per lag
  and its mean, plus the closed-form memory capacity (mean ridge R^2 over lags 0..128) of the slots
  the readout can see (fading/uniform: the same M slots in every channel; learned: the union of
  the per-channel selections).
* ``digits``: sklearn digits as length-64 sequences (J = 6), learned filters from Haar init,
  the default network, M = J + 1 = 7. Reported: test accuracy.

* ``size``: trainable weights of one MultiresConv channel, fading vs learned at M = J + 1, and
  what a checkpoint stores, over lengths 64..16384 (no training): the learned candidate menu is
  capped per band (``multires.treeselect.learned_lags_per_band``), so it stays a small multiple
  of fading's instead of growing with the receptive field.

Usage: ``python benchmarks/bench_treeselect.py [--seeds 0 1 2] [--quick]``. Prints (and writes into
``docs/benchmarks.md``) markdown tables
and a PASS/FAIL line for the target: learned >= max(fading, uniform) on every task (within one
standard error over seeds) and learned > both on the memory task.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from multires import MultiresConv, candidate_slots, memory_capacity  # noqa: E402
from multires.data.tasks import load_task  # noqa: E402
from multires.training import TrainConfig, train  # noqa: E402
from multires.training.threads import apply_thread_policy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Report  # noqa: E402

STRATEGIES = ("fading", "uniform", "learned")


def memory_run(strategy: str, seed: int, epochs: int) -> dict:
    task = load_task("memory", seed=0)
    depth = 8
    cfg = TrainConfig(
        tree_select=strategy, memory_size=None if strategy == "fading" else depth + 1, wavelet="haar",
        freeze_filters=True, d_model=8, n_layers=1, norm="layer", epochs=epochs, batch_size=64,
        lr=3e-3, seed=seed,
    )
    result = train(task, cfg)
    conv = result.net.convs[0]
    h0, h1 = (conv.h0[0].detach().double().numpy(), conv.h1[0].detach().double().numpy())
    seen = sorted({s for c in range(conv.channels) for s in conv.kept_slots(c)})
    assert len(seen) == conv.distinct_slots()
    _, capacity = memory_capacity(h0, h1, seen, conv.depth, max_lag=128)
    return {"r2": np.array(result.test["r2"]), "r2_mean": result.test["r2_mean"],
            "capacity": float(np.mean(capacity[:129])), "capacity_curve": np.asarray(capacity[:129]), "distinct_slots": len(seen),
            "time": result.train_time, "lags": task.lags}


def digits_run(strategy: str, seed: int, epochs: int) -> dict:
    task = load_task("digits", seed=0)
    cfg = TrainConfig(tree_select=strategy, memory_size=None if strategy == "fading" else 7,
                      wavelet="haar", epochs=epochs, seed=seed)
    result = train(task, cfg)
    return {"accuracy": result.test["accuracy"], "time": result.train_time}


def size_table() -> None:
    """Weights per channel (h0, h1, w) of fading and learned(M = J + 1), and the pre-cap menu's."""
    print("**Size**: trainable weights per MultiresConv channel (k = 2, M = J + 1)\n")
    print("| length N | J | fading | learned (capped menu) | learned before the cap | ratio learned / fading |")
    print("|---|---|---|---|---|---|")
    for n in (64, 256, 1460, 4096, 16384):
        fading = MultiresConv(1, seq_len=n)
        learned = MultiresConv(1, seq_len=n, tree_select="learned", memory_size=fading.depth + 1)
        sizes = [sum(p.numel() for p in conv.parameters()) for conv in (fading, learned)]
        before = 2 * 2 + len(candidate_slots(fading.depth, 2)) + 1
        print(f"| {n} | {fading.depth} | {sizes[0]} | {sizes[1]} | {before} | {sizes[1] / sizes[0]:.2f} |")
    print()


def mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0


def main() -> int:
    report = Report("treeselect")
    with report.capture():
        status = compare()
    report.write()
    return status


def compare() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--memory-epochs", type=int, default=15)
    parser.add_argument("--digits-epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="one seed, few epochs (smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the thread policy, multires.training.threads: 1 unless MULTIRES_THREADS)")
    args = parser.parse_args()
    apply_thread_policy(args.threads)
    if args.quick:
        args.seeds, args.memory_epochs, args.digits_epochs = [0], 2, 2
    print(f"TREESELECT comparison: {torch.get_num_threads()} thread(s), seeds {args.seeds}.\n")
    size_table()

    mem = {s: [memory_run(s, seed, args.memory_epochs) for seed in args.seeds] for s in STRATEGIES}
    lags = mem["fading"][0]["lags"]
    print(f"**Memory task** (frozen Haar, 8 channels, M = 9, {args.memory_epochs} epochs): test R^2 per lag\n")
    print("| TREESELECT rule | " + " | ".join(f"tau={t}" for t in lags) + " | mean R^2 | capacity (mean R^2, lags 0-128) | distinct slots seen | train s |")
    print("|---" * (len(lags) + 5) + "|")
    for s in STRATEGIES:
        r2 = np.mean([r["r2"] for r in mem[s]], axis=0)
        m, se = mean_se([r["r2_mean"] for r in mem[s]])
        cap = np.mean([r["capacity"] for r in mem[s]])
        distinct = np.mean([r["distinct_slots"] for r in mem[s]])
        t = np.mean([r["time"] for r in mem[s]])
        print(f"| {s} | " + " | ".join(f"{v:.2f}" for v in r2) + f" | {m:.3f} ± {se:.3f} | {cap:.3f} | {distinct:.0f} | {t:.0f} |")

    print("\n**Memory capacity of the kept slots** (closed-form ridge R^2 of x[n - tau] from the memory, white noise)\n")
    taus = [0, *lags]
    print("| TREESELECT rule | " + " | ".join(f"tau={t}" for t in taus) + " |")
    print("|---" * (len(taus) + 1) + "|")
    for s in STRATEGIES:
        curve = np.mean([r["capacity_curve"] for r in mem[s]], axis=0)
        print(f"| {s} | " + " | ".join(f"{curve[t]:.2f}" for t in taus) + " |")

    dig = {s: [digits_run(s, seed, args.digits_epochs) for seed in args.seeds] for s in STRATEGIES}
    print(f"\n**Digits** (learned filters from Haar, M = 7, {args.digits_epochs} epochs): test accuracy\n")
    print("| TREESELECT rule | accuracy | train s |\n|---|---|---|")
    for s in STRATEGIES:
        m, se = mean_se([r["accuracy"] for r in dig[s]])
        print(f"| {s} | {100 * m:.1f}% ± {100 * se:.1f} | {np.mean([r['time'] for r in dig[s]]):.0f} |")

    ok = True
    for name, results, key in (("memory", mem, "r2_mean"), ("digits", dig, "accuracy")):
        learned, learned_se = mean_se([r[key] for r in results["learned"]])
        best = max(mean_se([r[key] for r in results[s]])[0] for s in ("fading", "uniform"))
        matches = learned + learned_se >= best
        beats = learned > best
        ok &= matches and (beats or name != "memory")
        print(f"\n{name}: learned {learned:.3f} vs best hand-made {best:.3f} -> "
              f"{'beats' if beats else ('matches' if matches else 'BELOW')}")
    print(f"\nTARGET (learned matches the better rule everywhere, beats both on memory): {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
