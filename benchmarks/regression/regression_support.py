"""Helpers shared by the regression benchmarks: the recorded optima in ``benchmarks/best-known``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import placering

BEST_KNOWN = Path(__file__).resolve().parents[1] / "best-known"


def scenario_sha256(scenario: placering.Scenario) -> str:
    """The digest ``bench.py --record-best`` stores beside each best-known result."""
    text = json.dumps(placering.scenario_to_dict(scenario), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def best_known(family: str, seed: int) -> dict[str, Any] | None:
    """The recorded proven optimum of ``family`` and ``seed``, if there is one."""
    path = BEST_KNOWN / f"{family}-seed{seed}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
