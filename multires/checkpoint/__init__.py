"""Checkpoints: a safetensors file with the model config and metrics in its header.

``io`` (save and load), ``format`` (the header read and validated as untrusted input, without
torch), ``metrics`` (the typed record of a run's metrics), ``safejson`` (bounded JSON) and ``jsonconfig``
(configs as JSON). Names are imported on first use, so reading a header never imports PyTorch.
"""

from __future__ import annotations

from .._lazy import attach

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["FORMAT", "FORMAT_VERSION", "MAX_HEADER_BYTES", "MAX_CHECKPOINT_BYTES", "CheckpointError",
                     "read_metadata"], "format"),
    **dict.fromkeys(["OutputDirError", "check_writable_dir", "checkpoint_bytes", "save_checkpoint", "save_run",
                     "load_checkpoint"], "io"),
    **dict.fromkeys(["RunMetrics", "SchemaError", "validate_metrics"], "metrics"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
