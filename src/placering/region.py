"""Municipalities, the roads between them and the road distances placement rules use."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import attrs
import networkx as nx
import numpy as np

from placering import _fields as f
from placering.exceptions import InvalidInputError

__all__ = ["Municipality", "Region", "Road", "decimal_scale"]

#: Road lengths and costs are scaled to integers by the smallest power of ten that makes every
#: value whole, so that sums (paths, totals) are exact. Past this many decimals we round.
MAX_DECIMALS = 6


def decimal_scale(values: Any) -> int:
    """The smallest ``10**d`` (``d <= 6``) that turns every value into an integer."""
    decimals = 0
    for value in values:
        if value is None:
            continue
        exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            decimals = max(decimals, -exponent)
    return 10 ** min(decimals, MAX_DECIMALS)


@attrs.frozen(kw_only=True)
class Municipality:
    """A municipality (kommun), named by its SCB code in scenarios.

    ``population`` is optional; synthetic scenarios spread children by it. Only shipped
    regions carry it.
    """

    __entity__ = "municipality"

    code: str = attrs.field(validator=f.identifier())
    name: str = attrs.field(validator=f.identifier())
    lat: float = attrs.field(validator=f.number())
    lon: float = attrs.field(validator=f.number())
    # Synthesis metadata, not part of the placement rules, so two regions that differ only
    # in it are the same region; scenario files never carry it (design.md section 3).
    population: int | None = attrs.field(
        default=None, eq=False, validator=f.int_between(0, None, optional=True)
    )

    def __attrs_post_init__(self) -> None:
        if not -90 <= self.lat <= 90:
            raise f.fail(self, "lat", f"must be within -90 and 90, got {self.lat!r}")
        if not -180 <= self.lon <= 180:
            raise f.fail(self, "lon", f"must be within -180 and 180, got {self.lon!r}")


@attrs.frozen(kw_only=True)
class Road:
    """A road link between two municipalities' seats, in km."""

    __entity__ = "road"

    a: str = attrs.field(validator=f.identifier())
    b: str = attrs.field(validator=f.identifier())
    km: float = attrs.field(validator=f.non_negative_number(high=f.MAX_KM))


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(kw_only=True)
class Region:
    """Municipalities and roads; ``km(a, b)`` is the shortest road distance between two seats.

    Distances are computed once, on construction, as exact shortest paths over integer-scaled
    road lengths (see :func:`decimal_scale`), so ``km`` never carries float round-off.
    """

    __entity__ = "region"

    name: str = attrs.field(validator=f.identifier())
    municipalities: tuple[Municipality, ...] = attrs.field(converter=_as_tuple)
    roads: tuple[Road, ...] = attrs.field(converter=_as_tuple)

    km_scale: int = attrs.field(init=False, eq=False, repr=False)
    _units: dict[str, dict[str, int]] = attrs.field(init=False, eq=False, repr=False)
    _by_code: dict[str, Municipality] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_code: dict[str, Municipality] = {}
        for i, m in enumerate(self.municipalities):
            if not isinstance(m, Municipality):
                raise InvalidInputError(
                    f"must be a Municipality, got {m!r}", entity=f"region municipalities[{i}]"
                )
            if m.code in by_code:
                raise InvalidInputError(
                    f"code {m.code!r} is used twice", entity=f"region municipalities[{i}]", field="code"
                )
            by_code[m.code] = m
        if not by_code:
            raise InvalidInputError("municipalities must not be empty", entity="region", field="municipalities")
        for i, r in enumerate(self.roads):
            if not isinstance(r, Road):
                raise InvalidInputError(f"must be a Road, got {r!r}", entity=f"region roads[{i}]")
            for end, code in (("from", r.a), ("to", r.b)):
                if code not in by_code:
                    raise InvalidInputError(
                        f"{end} names unknown municipality {code!r}", entity=f"region roads[{i}]", field=end
                    )
        scale = decimal_scale(r.km for r in self.roads)
        graph = nx.Graph()
        graph.add_nodes_from(by_code)
        for r in self.roads:
            units = round(r.km * scale)
            # Parallel links: the shorter road is the one anybody drives.
            if r.a != r.b and (not graph.has_edge(r.a, r.b) or graph[r.a][r.b]["units"] > units):
                graph.add_edge(r.a, r.b, units=units)
        if not nx.is_connected(graph):
            parts = sorted(sorted(c) for c in nx.connected_components(graph))
            raise InvalidInputError(
                f"the road graph must be connected, but {parts[1][0]!r} cannot be reached from {parts[0][0]!r}",
                entity="region",
                field="roads",
            )
        paths = {a: dict(d) for a, d in nx.all_pairs_dijkstra_path_length(graph, weight="units")}
        object.__setattr__(self, "km_scale", scale)
        object.__setattr__(self, "_units", paths)
        object.__setattr__(self, "_by_code", by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def municipality(self, code: str) -> Municipality:
        """The municipality with SCB code ``code``."""
        return self._by_code[code]

    def name_of(self, code: str) -> str:
        return self._by_code[code].name

    def km(self, a: str, b: str) -> float:
        """Shortest road distance between the seats of ``a`` and ``b`` (0 when ``a == b``)."""
        return self._units[a][b] / self.km_scale

    def km_units(self, a: str, b: str) -> int:
        """``km(a, b) * km_scale`` as an exact integer."""
        return self._units[a][b]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Each municipality's row and column in :attr:`km_units_matrix`: its place in :attr:`codes`."""
        return {code: i for i, code in enumerate(self._by_code)}

    @functools.cached_property
    def km_units_matrix(self) -> np.ndarray:
        """``km_units(a, b)`` for every pair, rows and columns in :attr:`codes` order (int64, read-only).

        Built on first use and kept, so that eligibility, explanations and the solver share one
        copy instead of each filling its own from ``km_units``.
        """
        codes = self.codes
        matrix = np.array([[self._units[a][b] for b in codes] for a in codes], dtype=np.int64)
        matrix.setflags(write=False)
        return matrix

    @functools.cached_property
    def km_matrix(self) -> np.ndarray:
        """``km(a, b)`` for every pair as :attr:`km_units_matrix` divided by ``km_scale``: the very
        floats :meth:`km` gives (float64, read-only)."""
        matrix = self.km_units_matrix / self.km_scale
        matrix.setflags(write=False)
        return matrix

    def graph(self) -> nx.Graph:
        """The road network as a networkx graph with ``km`` on each edge (shortest parallel link)."""
        graph = nx.Graph()
        for m in self.municipalities:
            graph.add_node(m.code, name=m.name, lat=m.lat, lon=m.lon)
        for r in self.roads:
            if r.a != r.b and (not graph.has_edge(r.a, r.b) or graph[r.a][r.b]["km"] > r.km):
                graph.add_edge(r.a, r.b, km=r.km)
        return graph
