"""Helpers shared by the regression benchmarks: the recorded optima in ``benchmarks/best-known``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BEST_KNOWN = Path(__file__).resolve().parents[1] / "best-known"


def best_known(family: str, seed: int) -> dict[str, Any] | None:
    """The recorded proven optimum of ``family`` and ``seed``, if there is one."""
    path = BEST_KNOWN / f"{family}-seed{seed}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
