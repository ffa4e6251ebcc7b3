"""Lazy package faces (PEP 562): a name is imported from its defining module on first use.

``multires``, ``multires.training`` and ``multires.checkpoint`` hand on names this way so that
importing a package (or one of its light modules, such as ``multires.training.threads``) never
imports PyTorch: the app draws its first page without waiting for torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(package: str, exports: Mapping[str, str], submodules: Mapping[str, str] | None = None,
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping
        Public name -> the module (relative to ``package``) that defines it.
    submodules : mapping, optional
        Attribute name -> module (relative to ``package``) handed on whole.
    """
    submodules = dict(submodules or {})
    names = [*exports, *submodules]

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(f".{exports[name]}", package), name)
        elif name in submodules:
            value = importlib.import_module(f".{submodules[name]}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        vars(sys.modules[package])[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__, names
