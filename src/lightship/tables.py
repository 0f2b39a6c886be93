"""One plug-in mechanism: a table per kind of plug-in (data sources, export formats, runtimes).

A table maps a name to a row. Each row names the code that implements it as ``"package.module:attribute"``,
imported only when that row is used: listing a table (for ``--help``, for the config's allowed values, for
the conformance tests) never imports a heavy or optional dependency. Adding a plug-in is one new module
and one row; everything that lists or checks names reads them from the table.

Written here rather than with entry points (importlib.metadata): the rows ship inside lightship, their
order carries meaning (export formats: the preference of ``runtime="auto"``), and a table stays readable
in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lightship.errors import LightshipError, require_extra


@dataclass(frozen=True, kw_only=True)
class Row:
    """What every row has: the code that implements it, and the optional dependency it needs, if any."""

    target: str
    """``"package.module:attribute"`` of the implementation."""
    extra: str | None = None
    """The pip extra that provides its dependencies (``pip install "lightship[extra]"``); None: core ones."""
    extra_module: str | None = None
    """The module that extra installs, when its name is not the extra's."""

    def check_installed(self) -> None:
        """MissingExtraError with the pip command when the row's optional dependency is missing."""
        if self.extra is not None:
            require_extra(self.extra_module or self.extra, self.extra)


R = TypeVar("R", bound=Row)


def load_target(target: str) -> Any:
    """The object ``"package.module:attribute"`` names, importing its module."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class Table(Generic[R], Mapping[str, R]):
    """Rows of one ``kind`` ("data source", ...) by name, in a meaningful order.

    An unknown name raises ``error`` (a LightshipError subclass) that lists the known names.
    """

    def __init__(
        self, kind: str, rows: Mapping[str, R], error: type[LightshipError] = LightshipError
    ) -> None:
        self.kind = kind
        self._rows = dict(rows)
        self._error = error

    def __getitem__(self, name: str) -> R:
        try:
            return self._rows[name]
        except KeyError:
            raise self._error(
                f"unknown {self.kind} {name!r}; choose one of {', '.join(self._rows)}"
            ) from None

    def get(self, name: str, default: Any = None) -> Any:
        """Row ``name``, or ``default`` for a name the table does not have (no error)."""
        return self._rows.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def names(self) -> tuple[str, ...]:
        return tuple(self._rows)

    def load(self, name: str) -> Any:
        """The implementation of row ``name`` (imported now)."""
        return load_target(self[name].target)
