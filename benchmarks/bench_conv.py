"""Benchmark: the ``MultiresConv`` training step, against a bare FFT convolution (default) or the tree.

Usage (from the repository root)::

    python benchmarks/bench_conv.py                  # layer vs bare FFT conv, quiet and loaded (~5 min)
    python benchmarks/bench_conv.py --quick          # the same at 3 sizes, about a minute
    python benchmarks/bench_conv.py --threads 1 2    # also with 2 threads (the thread-policy measurement)
    python benchmarks/bench_conv.py --vs-reference   # FFT path vs the level-by-level tree, time and memory

Each mode writes its tables into its own section of ``docs/benchmarks.md``.

Default: layer vs bare FFT convolution (see ``benchmarks/_conv_ratio.py``)
    One training step (forward + backward) of the layer (fading, Haar, C=48, the models' width)
    and of a bare ``torch.fft`` causal convolution with the same precomputed kernel, alternating,
    at N = 64 (B=64) and 256 ... 16384 (B=16). Each thread count is measured twice in the same
    run: *quiet* (the machine as it is: the load average is printed) and *loaded*, beside
    ``--burners`` (default 1) busy-looping Python processes (``benchmarks/_loadgen.py``).
    Threads: the project's policy (:mod:`multires.training.threads`: 1 unless ``MULTIRES_THREADS``), or
    ``--threads``. Target (PASS/FAIL): layer / bare <= 1.2 at every N, quiet and loaded.

``--vs-reference``: FFT path vs the level-by-level tree
    ``y = conv(x)`` (the fast path, which builds the
    composite kernel ``K`` from ``h0, h1, w`` and applies it with ``torch.fft``) or
    ``y = conv.forward_reference(x)`` (the dilated ``conv1d`` tree of docs/design.md, section 1), then
    ``(y * probe).sum().backward()`` with ``x.requires_grad`` (as for a layer deep in a network).
    Warm-up steps are discarded; the median of the remaining repeats is reported. Threads: the
    policy's (printed). B=16, C=64, k=2, N in {1024, 4096, 16384} (``--quick``: smaller).

How peak memory is measured (``--vs-reference``)
    Each (N, strategy, path) runs one training step in a *fresh subprocess*, after a tiny warm-up
    step at N=64 that loads the FFT / oneDNN code paths. Two numbers are taken there:

    * **peak step RSS**: the process's peak resident set during the step minus its resident set
      just before it (after ``x``, ``probe`` and the layer exist). On Linux the peak is reset
      right before the step (``echo 5 > /proc/self/clear_refs``) and read afterwards as ``VmHWM``
      from ``/proc/self/status``; elsewhere ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is used,
      which cannot be reset and so under-reports steps smaller than the import-time peak. This is
      the extra memory at the peak of the step: activations saved by autograd, temporaries of the
      forward and backward passes and the gradients. PyTorch's CPU allocator does not cache freed
      blocks, so RSS follows the live tensors closely; the resolution is a few MB of page noise.
    * **saved for backward**: bytes of the distinct tensor storages autograd saves during the
      forward pass, counted with ``torch.autograd.graph.saved_tensors_hooks``. Exact and
      deterministic, but it does not see temporaries.

    The memory target is judged on the peak step RSS.

Targets of ``--vs-reference`` (printed as PASS/FAIL): fast >= 5x faster than the reference at N=4096, >= 10x at
N=16384, fast peak step memory <= 1/3 of the reference at N=16384.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from multires import MultiresConv, default_depth
from multires.training.threads import apply_thread_policy, resolve_threads

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _conv_ratio import CONFIGS, QUICK_CONFIGS, RATIO_TARGET, measure_ratio  # noqa: E402
from _loadgen import Burner, load_average  # noqa: E402
from _report import Report  # noqa: E402

SEED = 0
KERNEL_SIZE = 2
FULL = {"batch": 16, "channels": 64, "sizes": [1024, 4096, 16384]}
QUICK = {"batch": 4, "channels": 16, "sizes": [256, 1024]}
#: Speed-up targets (fast vs reference) by N, and the peak-memory ratio target at the largest N.
SPEEDUP_TARGETS = {4096: 5.0, 16384: 10.0}
MEMORY_TARGET_N = 16384
MEMORY_RATIO_TARGET = 1.0 / 3.0
STRATEGIES = ["fading", "uniform"]


def uniform_memory(n: int) -> int:
    """Uniform budget used here: ``M = 2 * J`` (cuts a level part-way for every N benchmarked)."""
    return 2 * default_depth(n, KERNEL_SIZE)


def make_layer(strategy: str, n: int, channels: int) -> MultiresConv:
    torch.manual_seed(SEED)
    memory = uniform_memory(n) if strategy == "uniform" else None
    return MultiresConv(
        channels, kernel_size=KERNEL_SIZE, tree_select=strategy, memory_size=memory, seq_len=n
    )


def make_inputs(batch: int, channels: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(batch, channels, n, generator=g).requires_grad_(True)  # (B C N)
    probe = torch.randn(batch, channels, n, generator=g)  # (B C N), a generic upstream gradient
    return x, probe


def training_step(conv: MultiresConv, path: str, x: torch.Tensor, probe: torch.Tensor) -> None:
    forward = conv.forward if path == "fast" else conv.forward_reference
    conv.zero_grad(set_to_none=True)
    x.grad = None
    y = forward(x)  # (B C N)
    (y * probe).sum().backward()


def time_steps(
    strategy: str, n: int, batch: int, channels: int, warmup: int, repeats: int
) -> dict[str, float]:
    """Median wall time of a training step in seconds, per path.

    The paths alternate (ref, fast, ref, fast, ...) so that both see the same machine load; the
    fast path gets extra repeats at the end when it is cheap, to steady its median.
    """
    conv = make_layer(strategy, n, channels)
    x, probe = make_inputs(batch, channels, n)
    for _ in range(warmup):
        for path in ("ref", "fast"):
            training_step(conv, path, x, probe)
    times: dict[str, list[float]] = {"ref": [], "fast": []}
    for _ in range(repeats):
        for path in ("ref", "fast"):
            start = time.perf_counter()
            training_step(conv, path, x, probe)
            times[path].append(time.perf_counter() - start)
    while len(times["fast"]) < 2 * repeats + 1:
        start = time.perf_counter()
        training_step(conv, "fast", x, probe)
        times["fast"].append(time.perf_counter() - start)
    return {path: statistics.median(t) for path, t in times.items()} | {
        f"{path}_min": min(t) for path, t in times.items()
    }


# --- memory, measured in a fresh process -----------------------------------------------------------


def _proc_status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise OSError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> tuple[int, str]:
    """Reset the peak-RSS counter if the OS allows it; return (current baseline bytes, method)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # Linux >= 4.0: reset VmHWM to the current RSS
        return _proc_status_bytes("VmRSS"), "VmHWM"
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: macOS bytes, Linux KiB
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, "ru_maxrss"


def _peak_rss(method: str) -> int:
    if method == "VmHWM":
        return _proc_status_bytes("VmHWM")
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_probe(strategy: str, path: str, n: int, batch: int, channels: int) -> dict:
    """Run in a fresh subprocess: peak RSS increase of one step, and bytes saved for backward."""
    small = make_layer(strategy, 64, channels)  # load the code paths (FFT plans, oneDNN) at a tiny size
    training_step(small, path, *make_inputs(batch, channels, 64))
    conv = make_layer(strategy, n, channels)
    x, probe = make_inputs(batch, channels, n)
    gc.collect()
    before, method = _reset_peak_rss()
    training_step(conv, path, x, probe)
    peak = _peak_rss(method) - before

    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = (conv.forward if path == "fast" else conv.forward_reference)(x)
    del y
    return {"peak_bytes": peak, "saved_bytes": sum(saved.values()), "method": method}


def measure_memory_in_subprocess(strategy: str, path: str, n: int, batch: int, channels: int) -> dict:
    spec = json.dumps({"strategy": strategy, "path": path, "n": n, "batch": batch, "channels": channels})
    result = subprocess.run(
        [sys.executable, __file__, "--memory-probe", spec], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"memory probe failed for {spec}:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report ---------------------------------------------------------------------------------------


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.0f}"


def run(quick: bool, repeats: int | None) -> list[dict]:
    setup = QUICK if quick else FULL
    batch, channels, sizes = setup["batch"], setup["channels"], setup["sizes"]
    print(
        f"MultiresConv training step (forward + backward), B={batch}, C={channels}, k={KERNEL_SIZE}, "
        f"float32, torch {torch.__version__}, threads={torch.get_num_threads()}"
        + (" [QUICK smoke run]" if quick else "")
    )
    print("the uniform rule uses M = 2*J; depth J = default_depth(N) (the coarsest level sees all N).\n")
    rows = []
    for n in sizes:
        for strategy in STRATEGIES:
            n_repeats = repeats or (3 if quick else (3 if n >= 16384 else 5))
            warmup = 1
            timed = time_steps(strategy, n, batch, channels, warmup, n_repeats)
            ref, fast = timed["ref"], timed["fast"]
            ref_min, fast_min = timed["ref_min"], timed["fast_min"]
            mem_ref = measure_memory_in_subprocess(strategy, "ref", n, batch, channels)
            mem_fast = measure_memory_in_subprocess(strategy, "fast", n, batch, channels)
            row = {
                "n": n,
                "strategy": strategy,
                "depth": default_depth(n, KERNEL_SIZE),
                "memory_size": uniform_memory(n)
                if strategy == "uniform"
                else default_depth(n, KERNEL_SIZE) + 1,
                "ref_s": ref,
                "fast_s": fast,
                "ref_min_s": ref_min,
                "fast_min_s": fast_min,
                "mem_ref": mem_ref,
                "mem_fast": mem_fast,
            }
            rows.append(row)
            print(
                f"  measured N={n} {strategy}: ref {ref * 1e3:.1f} ms, fast {fast * 1e3:.1f} ms",
                file=sys.stderr,
            )
    return rows


def print_table(rows: list[dict]) -> None:
    print("Times are medians; the fastest repeat is in brackets.\n")
    print(
        "| N | TREESELECT rule | J | M | ref ms | fast ms | speedup | peak step MB ref | peak step MB fast "
        "| fast/ref peak | saved MB ref | saved MB fast |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        peak_ratio = r["mem_fast"]["peak_bytes"] / max(r["mem_ref"]["peak_bytes"], 1)
        print(
            f"| {r['n']} | {r['strategy']} | {r['depth']} | {r['memory_size']} | {r['ref_s'] * 1e3:.1f} "
            f"({r['ref_min_s'] * 1e3:.1f}) | {r['fast_s'] * 1e3:.1f} ({r['fast_min_s'] * 1e3:.1f}) "
            f"| {r['ref_s'] / r['fast_s']:.1f}x | {mb(r['mem_ref']['peak_bytes'])} "
            f"| {mb(r['mem_fast']['peak_bytes'])} | {peak_ratio:.3f} | {mb(r['mem_ref']['saved_bytes'])} "
            f"| {mb(r['mem_fast']['saved_bytes'])} |"
        )
    print(
        "\nTime-vs-N scaling exponent, log(t2/t1) / log(N2/N1), from the medians and (in brackets) from "
        "the fastest repeat, which is less sensitive to other load on the machine. N log N over a 4x "
        "step is ~1.1-1.2; the reference also gains 2 levels per 4x step.\n"
    )
    print("| TREESELECT rule | N1 -> N2 | ref exponent | fast exponent |")
    print("|---|---|---:|---:|")

    def exponent(a: dict, b: dict, key: str) -> float:
        return math.log(b[key] / a[key]) / math.log(b["n"] / a["n"])

    for strategy in STRATEGIES:
        mine = [r for r in rows if r["strategy"] == strategy]
        for a, b in itertools.pairwise(mine):
            print(
                f"| {strategy} | {a['n']} -> {b['n']} | {exponent(a, b, 'ref_s'):.2f} "
                f"({exponent(a, b, 'ref_min_s'):.2f}) | {exponent(a, b, 'fast_s'):.2f} "
                f"({exponent(a, b, 'fast_min_s'):.2f}) |"
            )


def print_targets(rows: list[dict]) -> bool:
    print("\nTargets:\n")
    ok = True
    checked = False
    for r in rows:
        target = SPEEDUP_TARGETS.get(r["n"])
        if target is not None:
            checked = True
            speedup = r["ref_s"] / r["fast_s"]
            passed = speedup >= target
            ok &= passed
            verdict = "PASS" if passed else "FAIL"
            print(f"- [{verdict}] N={r['n']} {r['strategy']}: speedup {speedup:.1f}x >= {target:g}x")
        if r["n"] == MEMORY_TARGET_N:
            ratio = r["mem_fast"]["peak_bytes"] / max(r["mem_ref"]["peak_bytes"], 1)
            passed = ratio <= MEMORY_RATIO_TARGET
            ok &= passed
            print(
                f"- [{'PASS' if passed else 'FAIL'}] N={r['n']} {r['strategy']}: fast/ref peak step memory "
                f"{ratio:.3f} <= {MEMORY_RATIO_TARGET:.3f}"
            )
    if not checked:
        print("- (quick run: the targets are defined for N=4096 and N=16384; run without --quick)")
    return ok


def run_vs_reference(quick: bool, repeats: int | None) -> int:
    """The FFT path against the level-by-level tree (time and memory); exit status."""
    report = Report("conv-vs-reference")
    with report.capture():
        rows = run(quick, repeats)
        ok = _print_vs_reference(rows, rows[0]["mem_fast"]["method"])
    report.write()
    return 0 if ok or quick else 1


def _print_vs_reference(rows: list[dict], method: str) -> bool:
    print(
        f"Memory: 'peak step' = peak RSS ({method}) during one training step minus RSS before it, "
        "in a fresh subprocess; 'saved' = distinct storages autograd saves in the forward pass "
        "(saved_tensors_hooks).\n"
    )
    print_table(rows)
    return print_targets(rows)


def run_ratios(configs: list[tuple[int, int]], threads: list[int], burners: int) -> dict:
    """Layer vs bare FFT conv at every (N, B), per thread count, quiet then loaded."""
    results: dict = {}
    for count in threads:
        apply_thread_policy(count)
        for column in ("quiet", "loaded"):
            before = load_average()
            with Burner(burners if column == "loaded" else 0):
                print(f"  threads={count} {column} (load {before})", file=sys.stderr, flush=True)
                cells = {(n, b): measure_ratio(n, b) for n, b in configs}
            results[(count, column)] = {"cells": cells, "load": (before, load_average())}
    return results


def print_ratios(configs: list[tuple[int, int]], threads: list[int], results: dict, policy: int) -> bool:
    """The ratio table, its load averages and PASS/FAIL for the policy's thread count; True if all pass."""
    head = "| N | B |" + "".join(f" {c} thr. {col}: layer / bare ms (ratio) [CPU ratio] |" for c in threads
                                for col in ("quiet", "loaded"))
    print(head)
    print("|---:|---:|" + "---:|" * (2 * len(threads)))
    ok = True
    for n, b in configs:
        line = f"| {n} | {b} |"
        for count in threads:
            for column in ("quiet", "loaded"):
                cell = results[(count, column)]["cells"][(n, b)]
                line += (f" {cell['layer_s'] * 1e3:.1f} / {cell['bare_s'] * 1e3:.1f} ({cell['ratio']:.2f}x) "
                         f"[{cell['cpu_ratio']:.2f}x] |")
        print(line)
    print("\nLoad average (1, 5, 15 min) before / after each column:\n")
    for (count, column), result in results.items():
        print(f"- {count} thread(s), {column}: {result['load'][0]} / {result['load'][1]}")
    if policy not in threads:
        return True
    print(f"\nTargets (policy: {policy} thread(s)): layer forward+backward <= {RATIO_TARGET}x the bare FFT conv\n")
    for column in ("quiet", "loaded"):
        for (n, b), cell in results[(policy, column)]["cells"].items():
            passed = cell["ratio"] <= RATIO_TARGET
            ok &= passed
            print(f"- [{'PASS' if passed else 'FAIL'}] N={n} B={b} {column}: {cell['ratio']:.2f}x <= {RATIO_TARGET}x")
    # Thread policy check: is any other count faster than the policy's, quiet or loaded?
    for count in (c for c in threads if c != policy):
        for column in ("quiet", "loaded"):
            speedups = [results[(policy, column)]["cells"][k]["layer_s"] / results[(count, column)]["cells"][k]["layer_s"]
                        for k in configs]
            print(f"- {column}: layer step with {count} threads is {min(speedups):.2f}x-{max(speedups):.2f}x "
                  f"as fast as with {policy} (over N)")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, for a smoke run")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="torch thread counts to measure (default: the policy's, multires.training.threads)")
    parser.add_argument("--burners", type=int, default=1, help="busy processes beside the 'loaded' column (default 1)")
    parser.add_argument("--vs-reference", action="store_true", help="the FFT path vs the level-by-level tree instead")
    parser.add_argument("--repeats", type=int, default=None, help="--vs-reference: timed repeats per configuration")
    parser.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    policy = resolve_threads(None)
    if args.memory_probe:
        apply_thread_policy()
        spec = json.loads(args.memory_probe)
        print(
            json.dumps(
                memory_probe(spec["strategy"], spec["path"], spec["n"], spec["batch"], spec["channels"])
            )
        )
        return 0
    if args.vs_reference:
        apply_thread_policy(args.threads[0] if args.threads else None)
        return run_vs_reference(args.quick, args.repeats)
    report = Report("conv-ratio")
    threads = args.threads or [policy]
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    print(f"MultiresConv (fading, Haar, C=48, k=2) vs bare FFT conv, forward + backward, float32, "
          f"torch {torch.__version__}; threads measured {threads} (policy: {policy}); 'loaded' = "
          f"{args.burners} busy process(es) beside; {os.cpu_count()} CPUs; load average at start "
          f"{load_average()}" + (" [QUICK]" if args.quick else "") + "\n")
    results = run_ratios(configs, threads, args.burners)
    print()
    with report.capture():
        print(f"Milliseconds per step, layer / bare FFT convolution (ratio) [ratio of CPU time]; 'loaded' = "
              f"{args.burners} busy process(es) beside.\n")
        ok = print_ratios(configs, threads, results, policy)
    report.write()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
