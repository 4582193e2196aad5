"""Write placering's matching model as plain numpy arrays (.npz) for the peer solvers.

The peers (``peers.py``) run in processes that must not import placering (it imports
OR-Tools, which cannot share a process with highspy: google/or-tools#5246), so they read the
model from this file. Every array is int64 except the two arrays of term names.

Arrays, for ``U`` units, ``H`` homes, ``A`` unit-home arcs and the objective terms ``t`` in
order:

- ``unit_size[U]``: children in each unit (a child, or a sibling group placed as one);
- ``home_free[H]``: free places per home (capacity minus the children kept there);
- ``arc_unit[A]``, ``arc_home[A]``: the arcs, exactly placering's ``build_matching`` arcs;
- ``arc_<t>[A]``, ``unplaced_<t>[U]``: term ``t``'s coefficient on each arc and on each
  unit's "unplaced" variable, already multiplied by the unit's size and scaled to integers;
- ``objective[T]``: the term names in lexicographic order (``policy.effective_objective()``);
- ``stage_weights[T]``: the weight of each term in placering's first merged stage
  (``stages_of``), 0 for the terms outside it. The min-cost-flow floor minimises this;
- ``term_scale[T]``, ``term_offset[T]``: a term's plan total is
  ``(term_offset + value) / term_scale``, where ``value`` is the term over the arcs and
  ``term_offset`` is what the children kept in their current home contribute (rule 9).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["export_arcs", "model_arrays"]


def _dense(vars_: Sequence[int], coeffs: Sequence[int], n_arcs: int, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """One term's sparse (var, coeff) lists as dense arc and unplaced coefficient vectors."""
    v = np.fromiter(vars_, dtype=np.int64, count=len(vars_))
    c = np.fromiter(coeffs, dtype=np.int64, count=len(coeffs))
    if v.size and (v.min() < 0 or v.max() >= n_arcs + n_units):
        raise ValueError("a term has a variable beyond the arcs and unplaced variables (split_siblings?)")
    dense = np.zeros(n_arcs + n_units, dtype=np.int64)
    np.add.at(dense, v, c)
    return dense[:n_arcs], dense[n_arcs:]


def _kept_offsets(scenario: Any, objective: Sequence[str], scales: dict[str, int]) -> dict[str, int]:
    """What the children kept in their current home add to each term, in the term's integer units."""
    from placering.region import decimal_scale

    region = scenario.region
    cost_scale = decimal_scale(scenario.cost_of(h) for h in scenario.homes)
    if cost_scale != scales.get("cost", cost_scale):
        raise AssertionError(f"cost scale {cost_scale} differs from the model's {scales['cost']}")
    offset = dict.fromkeys(objective, 0)
    for child in scenario.children:
        if not scenario.is_kept(child):
            continue
        home = scenario.home(child.current_home)
        values = {
            "unplaced": 0,
            "hvb": int(home.kind == "hvb"),
            "consultant": int(home.kind == "consultant"),
            "cost": round(scenario.cost_of(home) * cost_scale),
            "km": region.km_units(child.municipality, home.municipality),
        }
        for t in objective:
            offset[t] += values[t]
    return offset


def model_arrays(scenario: Any, model: Any = None) -> dict[str, np.ndarray]:
    """The arrays ``export_arcs`` writes, built from ``build_matching(scenario)`` (or ``model``)."""
    from placering.matching import build_matching, stages_of

    if model is None:
        model = build_matching(scenario)
    objective = tuple(t for t in scenario.policy.effective_objective() if t != "split_siblings")
    if "split_siblings" in scenario.policy.effective_objective():
        # Only with siblings="prefer": its extra variables are not arcs, and the peers do not model them.
        raise ValueError("the peers do not model split_siblings (policy siblings='prefer'); export refused")
    n_arcs, n_units = model.n_arcs, len(model.units)
    arrays: dict[str, np.ndarray] = {
        "unit_size": np.fromiter((u.size for u in model.units), dtype=np.int64, count=n_units),
        "home_free": np.asarray(model.free_places, dtype=np.int64),
        "arc_unit": np.fromiter(model.arc_unit, dtype=np.int64, count=n_arcs),
        "arc_home": np.fromiter(model.arc_home, dtype=np.int64, count=n_arcs),
    }
    for t in objective:
        term = model.terms[t]
        arrays[f"arc_{t}"], arrays[f"unplaced_{t}"] = _dense(term.vars, term.coeffs, n_arcs, n_units)
    first = dict(stages_of(model, scenario.policy.effective_objective())[0])
    scales = {t: int(model.scales.get(t, 1)) for t in objective}
    offsets = _kept_offsets(scenario, objective, model.scales)
    arrays["objective"] = np.asarray(objective, dtype=np.str_)
    arrays["stage_weights"] = np.asarray([first.get(t, 0) for t in objective], dtype=np.int64)
    arrays["term_scale"] = np.asarray([scales[t] for t in objective], dtype=np.int64)
    arrays["term_offset"] = np.asarray([offsets[t] for t in objective], dtype=np.int64)
    return arrays


def export_arcs(scenario: Any, path: str | os.PathLike[str], *, model: Any = None) -> dict[str, Any]:
    """Write the matching of ``scenario`` as an .npz at ``path`` (atomically); return its summary.

    The summary holds the sizes and, per term, the scale and kept-children offset that turn
    the peers' integer totals into plan totals.
    """
    arrays = model_arrays(scenario, model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    objective = [str(t) for t in arrays["objective"]]
    return {
        "units": int(arrays["unit_size"].size),
        "homes": int(arrays["home_free"].size),
        "arcs": int(arrays["arc_unit"].size),
        "objective": objective,
        "stage_weights": [int(w) for w in arrays["stage_weights"]],
        "term_scale": dict(zip(objective, (int(s) for s in arrays["term_scale"]), strict=True)),
        "term_offset": dict(zip(objective, (int(o) for o in arrays["term_offset"]), strict=True)),
    }
