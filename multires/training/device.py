"""Where a run computes: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"`` to a ``torch.device``.

Examples
--------
>>> resolve_device("cpu")
device(type='cpu')
>>> resolve_device("auto").type in ("cpu", "cuda", "mps")
True
"""

from __future__ import annotations

import torch

__all__ = ["DeviceError", "available_devices", "resolve_device"]


class DeviceError(ValueError):
    """The requested device is unknown or not present on this machine."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> tuple[str, ...]:
    """The device names usable here, CPU last."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return tuple(found) + ("cpu",)


def resolve_device(name: str | torch.device) -> torch.device:
    """``auto`` -> CUDA if present, else MPS if present, else CPU; others checked for presence.

    Raises
    ------
    DeviceError
        An unknown name, or an accelerator this machine does not have (the message lists the ones it has).
    """
    if isinstance(name, torch.device):
        name = name.type if name.index is None else f"{name.type}:{name.index}"
    if not isinstance(name, str):
        raise DeviceError(f"device must be a string such as 'auto' or 'cpu', got {name!r}")
    kind = name.split(":", 1)[0]
    if kind == "auto":
        return torch.device(available_devices()[0])
    if kind not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device must be auto, cpu, cuda or mps, got {name!r}")
    if kind != "cpu" and kind not in available_devices():
        raise DeviceError(f"device {name!r} is not available on this machine; available: "
                          f"{', '.join(available_devices())} (or 'auto')")
    return torch.device(name)
