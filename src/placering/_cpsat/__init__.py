"""The solver layer: the only code in placering that imports OR-Tools."""

from placering._cpsat.lexicographic import minimise_lexicographically, ortools_version

__all__ = ["minimise_lexicographically", "ortools_version"]
