"""Optional dependencies: import them where used, with one clear line when an extra is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from placering.exceptions import PlaceringError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(PlaceringError):
    """A feature needs an optional dependency that is not installed."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise one sentence naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{feature} needs {module.split('.', maxsplit=1)[0]}, which the '{extra}' extra installs: "
            f"pip install 'placering[{extra}]'"
        ) from None
