"""The workload registry: a :class:`Workload` is a named operation with its setup, registered in
:data:`WORKLOADS` by the :func:`workload` decorator; :func:`require` lets a session refuse an
engine that lacks what it needs (asv records that as skipped on that commit, not failed).

Imported by :mod:`perfkit.workloads`, which re-exports every name here; the SQLite workloads, their
raw references and the PostgreSQL workloads all register through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import taskorch

__all__ = ["WORKLOADS", "Step", "Workload", "require", "workload"]

Step = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Workload:
    """A named operation with its setup. ``params`` lists the values harnesses sweep over;
    ``reference`` names the bare-sqlite3 workload that does the same physical work with the same
    parameters (its time is the floor this operation is compared with), if there is one;
    ``requires`` the engine names the session needs (see :func:`require`)."""

    name: str
    description: str
    session: Callable[..., AbstractContextManager[Step]]
    params: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    reference: str | None = None
    requires: tuple[str, ...] = ()


WORKLOADS: dict[str, Workload] = {}


def require(*names: str) -> None:
    """Raise ``NotImplementedError`` unless the engine has every dotted name, e.g.
    ``"Orchestrator.batch"``, ``"EventBus"`` or ``"agents.Fleet"`` (a first part that is no
    attribute is tried as a submodule). asv records a benchmark whose setup raises it as skipped
    on that commit, not failed."""
    for name in names:
        head, *rest = name.split(".")
        obj: object
        try:
            obj = getattr(taskorch, head) if hasattr(taskorch, head) else _submodule(head)
        except ImportError as exc:
            raise NotImplementedError(f"taskorch.{name} does not exist in this engine") from exc
        for part in rest:
            if not hasattr(obj, part):
                raise NotImplementedError(f"taskorch.{name} does not exist in this engine")
            obj = getattr(obj, part)


def _submodule(name: str) -> object:
    import importlib

    return importlib.import_module(f"taskorch.{name}")


def workload(
    name: str,
    description: str,
    *,
    reference: str | None = None,
    requires: tuple[str, ...] = (),
    registry: dict[str, Workload] | None = None,
    **params: tuple[Any, ...],
) -> Callable[[Callable[..., Iterator[Step]]], Callable[..., AbstractContextManager[Step]]]:
    """Register a generator function as a workload session in ``registry`` (default
    :data:`WORKLOADS`); opening the session raises ``NotImplementedError`` when the engine lacks
    one of ``requires``."""

    def register(fn: Callable[..., Iterator[Step]]) -> Callable[..., AbstractContextManager[Step]]:
        opened = contextmanager(fn)

        def session(directory: Path, **kwargs: Any) -> AbstractContextManager[Step]:
            require(*requires)
            return opened(directory, **kwargs)

        session.__doc__ = fn.__doc__
        (WORKLOADS if registry is None else registry)[name] = Workload(
            name, description, session, params, reference, requires
        )
        return session

    return register
