"""The small exception hierarchy of placering.

Every message is one sentence. An :class:`InvalidInputError` names where the bad value sits
(the file, the entity and the field) so that the CLI can print it on one line.
"""

from __future__ import annotations

__all__ = ["InvalidInputError", "PlaceringError", "SolverError"]


class PlaceringError(Exception):
    """Base class of every error placering raises on purpose."""


class InvalidInputError(PlaceringError, ValueError):
    """A scenario, plan or parameter breaks the file format or a validation rule.

    Args:
        message: what is wrong, e.g. ``"capacity must be >= 0, got -1"``.
        entity: where, e.g. ``"homes[3] 'H4'"``; empty for the file as a whole.
        field: the offending field, e.g. ``"capacity"``; empty when no single field is at fault.
        file: the file the entity was read from, if any.
    """

    def __init__(self, message: str, *, entity: str = "", field: str = "", file: str = "") -> None:
        self.message = message
        self.entity = entity
        self.field = field
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.entity, self.message) if part)

    def located(self, *, entity: str | None = None, file: str | None = None) -> InvalidInputError:
        """Return the same error placed at another entity or in a file."""
        return InvalidInputError(
            self.message,
            entity=self.entity if entity is None else entity,
            field=self.field,
            file=self.file if file is None else file,
        )


class SolverError(PlaceringError):
    """The solver failed in a way that is not a property of the scenario."""
