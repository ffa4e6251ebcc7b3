"""``python -m multires.study``: run a study grid on Ray Tune (see :mod:`multires.study`).

Examples (shell)::

    python -m multires.study --grid smoke --out runs/smoke
    python -m multires.study --grid ucr --out runs/ucr --num-cpus 2
    python -m multires.study --tasks ucr:GunPoint --tree-selects fading,learned --memory-sizes 4,8 \\
        --inits haar,random --seeds 0,1,2 --epochs 20 --out runs/gunpoint
    python -m multires.study --grid ucr --address auto --out runs/ucr   # on a running Ray cluster
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, Callable, Sequence

from multires.checkpoint.io import check_writable_dir
from multires.data.tasks.registry import check_task_name
from multires.plaintext import quote

from . import runner
from .grid import GRID_PRESETS, StudyGrid, all_trials, grid_preset
from .report import write_charts

__all__ = ["build_grids", "main", "parse_args"]


def _items(cast: Callable[[str], Any]) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        try:
            return tuple(cast(item.strip()) for item in text.split(",") if item.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {quote(text)}") from None
    return parse


def _bool(text: str) -> bool:
    if text.lower() in ("true", "frozen", "1", "yes"):
        return True
    if text.lower() in ("false", "learned", "0", "no"):
        return False
    raise ValueError(text)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="multires-study", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", choices=sorted(GRID_PRESETS), help="start from a preset grid (flags below override it)")
    p.add_argument("--out", required=True, help="output directory (results.csv/.parquet; re-use it to resume)")
    p.add_argument("--tasks", type=_items(str), help="load_task names, e.g. ucr:GunPoint,smnist,memory")
    p.add_argument("--tree-selects", type=_items(str), help="fading,uniform,learned")
    p.add_argument("--memory-sizes", type=_items(int), help="budgets M per channel for uniform/learned, e.g. 4,8")
    p.add_argument("--inits", type=_items(str), help="PyWavelets names and/or 'random', e.g. haar,db2,random")
    p.add_argument("--freeze", type=_items(_bool), help="filters frozen at init and/or learned: true,false")
    p.add_argument("--d-models", type=_items(int), help="widths, e.g. 1,16 (1 = single-channel network)")
    p.add_argument("--seeds", type=_items(int), help="e.g. 0,1,2")
    p.add_argument("--n-layers", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-seconds", type=float, help="training time cap per trial")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                   help="where trials compute (default: the TrainConfig default, auto: a GPU when present)")
    p.add_argument("--address", help="Ray cluster address (default: a local Ray for this run)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray or pool = trials at once (default: all)")
    p.add_argument("--backend", choices=runner.BACKENDS, default="ray",
                   help="ray (default: Ray Tune, local or --address) or local (a process pool on this machine, no Ray)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    p.add_argument("--dry-run", action="store_true", help="list the trials and exit")
    return p.parse_args(argv)


_FIELDS = {"tasks": "tasks", "tree_selects": "tree_selects", "memory_sizes": "memory_sizes", "inits": "inits",
           "freeze": "freeze", "d_models": "d_models", "seeds": "seeds", "n_layers": "n_layers",
           "epochs": "epochs", "max_seconds": "max_seconds"}


def build_grids(args: argparse.Namespace) -> tuple[StudyGrid, ...]:
    """The preset's grids (if any) with every given flag replacing its field in each; validated."""
    changes = {field: getattr(args, arg) for arg, field in _FIELDS.items() if getattr(args, arg) is not None}
    if args.grid is None:
        if "tasks" not in changes:
            raise ValueError("give --grid PRESET or --tasks (e.g. --tasks ucr:GunPoint)")
    if getattr(args, "device", None) is not None:
        return tuple(dataclasses.replace(g, train_options={**g.train_options, "device": args.device})
                     for g in _grids(args, changes))
    return _grids(args, changes)


def _grids(args: argparse.Namespace, changes: dict) -> tuple[StudyGrid, ...]:
    if args.grid is None:
        return (StudyGrid(**changes),)
    grids = []
    for base in grid_preset(args.grid):
        own = dict(changes)
        if "tasks" in own:  # options of tasks that are no longer in the grid do not apply
            own["task_options"] = {k: v for k, v in base.task_options.items() if k in own["tasks"]}
        grids.append(dataclasses.replace(base, **own))
    return tuple(grids)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        grids = build_grids(args)
        if args.dry_run:
            for spec in all_trials(grids):
                print(spec.key(), spec.task, spec.tree_select, spec.memory_size, spec.init, spec.d_model, spec.seed)
            return 0
        if args.num_cpus is not None and args.num_cpus < 1:
            raise ValueError(f"--num-cpus must be >= 1, got {args.num_cpus}")
        for task in dict.fromkeys(t for grid in grids for t in grid.tasks):  # before any trial runs
            check_task_name(task)
        check_writable_dir(args.out, "--out directory")
        if args.address is not None:
            if args.backend == "local":
                raise ValueError("--address needs --backend ray (the local backend runs on this machine)")
            runner.check_ray_address(args.address)
        table = runner.run_study(grids, args.out, address=args.address, num_cpus=args.num_cpus, verbose=args.verbose,
                                 backend=args.backend)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    wanted = {spec.key() for spec in all_trials(grids)}
    ok = set(table.loc[table["status"] == "ok", "key"]) & wanted if not table.empty else set()
    print(f"{len(ok)}/{len(wanted)} trials of this grid finished; results in {args.out}/results.csv and results.parquet")
    if ok:
        print(f"charts (score vs budget with the Pareto front, filter init): {write_charts(table, args.out)}")
    return 0 if len(ok) == len(wanted) else 1


if __name__ == "__main__":
    sys.exit(main())
