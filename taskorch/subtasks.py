"""A plan's subtasks as the caller gives them, checked and resolved for the store: the fields of
each spec, their dependencies as indices (:func:`taskorch.graph.build` orders them), and which
text of a plan the driver could not encode."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from . import checks, graph
from .errors import InvalidSubtaskError
from .store import NewSubtask

__all__ = ["REQUIRED_FIELDS", "SUBTASK_FIELDS", "parse_subtasks", "unencodable_plan"]

SUBTASK_FIELDS = {"key", "title", "specialist", "description", "depends_on"}
REQUIRED_FIELDS = ("key", "title", "specialist")


def _bad_spec(i: int, spec: object) -> InvalidSubtaskError:
    """Say precisely what is wrong with subtask ``i`` (only called once it is known to be)."""
    where = f"subtask {i}"
    if not isinstance(spec, Mapping):
        return InvalidSubtaskError(f"{where}: expected a mapping, got {type(spec).__name__}")
    unknown = sorted(set(spec) - SUBTASK_FIELDS)
    if unknown:
        return InvalidSubtaskError(
            f"{where}: unknown field(s) {unknown}; allowed: {sorted(SUBTASK_FIELDS)}"
        )
    for field in REQUIRED_FIELDS:
        if field not in spec:
            return InvalidSubtaskError(f"{where}: missing required field {field!r}")
    for field in (*REQUIRED_FIELDS, "description"):
        value = spec.get(field, "")
        if not isinstance(value, str) or (field != "description" and not value):
            what = "a string" if field == "description" else "a non-empty string"
            return InvalidSubtaskError(f"{where}: {field!r} must be {what}, got {value!r}")
        if "\x00" in value:  # PostgreSQL cannot store it; refused on both backends alike
            return InvalidSubtaskError(f"{where}: {field!r} must not contain a NUL character")
    return InvalidSubtaskError(
        f"{where}: 'depends_on' must be a list of keys (strings), got {spec['depends_on']!r}"
    )


_new_subtask = functools.partial(tuple.__new__, NewSubtask)
_first = operator.itemgetter(0)


def parse_subtasks(subtasks: Sequence[Mapping[str, Any]]) -> list[NewSubtask]:
    """Check the subtask specs and resolve their dependencies to indices (see graph.build).

    The happy path does as little as possible per subtask: plans of 100k subtasks go through it.
    """
    if isinstance(subtasks, (str, bytes)) or not isinstance(subtasks, Sequence):
        raise InvalidSubtaskError("subtasks must be a list of mappings")
    texts: list[tuple[str, str, str, str]] = []  # key, title, specialist, description
    depends: list[Sequence[str]] = []
    fields = SUBTASK_FIELDS
    for i, spec in enumerate(subtasks):
        try:
            if type(spec) is not dict and not isinstance(spec, Mapping):
                raise TypeError
            if not fields.issuperset(spec):
                raise KeyError
            key, title, specialist = spec["key"], spec["title"], spec["specialist"]
        except (TypeError, KeyError):
            raise _bad_spec(i, spec) from None
        description = spec.get("description", "")
        if not (
            isinstance(key, str) and key and isinstance(title, str) and title
            and isinstance(specialist, str) and specialist and isinstance(description, str)
        ) or (
            "\x00" in key or "\x00" in title or "\x00" in specialist or "\x00" in description
        ):  # fmt: skip
            raise _bad_spec(i, spec)
        deps = spec.get("depends_on")
        if deps:
            if type(deps) is not list and not isinstance(deps, (list, tuple)):
                raise _bad_spec(i, spec)  # only a list or tuple of keys
            for d in deps:
                if not isinstance(d, str):
                    raise _bad_spec(i, spec)
        elif deps is None:
            deps = ()
        elif not isinstance(deps, (list, tuple)):
            # 0, False, "" or an empty mapping is a mistake, not "none".
            raise _bad_spec(i, spec)
        texts.append((key, title, specialist, description))
        depends.append(deps)
    dag = graph.build(list(map(_first, texts)), depends)
    # Built in C, without a Python call per subtask.
    links = zip(dag.needs, dag.released, strict=True)
    return list(map(_new_subtask, map(tuple.__add__, texts, links)))


def unencodable_plan(
    error: UnicodeEncodeError, goal: str, context: str | None, rows: Sequence[NewSubtask]
) -> Exception:
    """Which text of a plan UTF-8 could not encode (see :func:`checks.unencodable`)."""
    found = checks.unencodable(error, {"goal": goal, "context": context})
    if found is not error:
        return found
    for i, row in enumerate(rows):
        for field in ("key", "title", "specialist", "description"):
            why = checks.lone_surrogate(getattr(row, field))
            if why is not None:
                return InvalidSubtaskError(f"subtask {i}: {field!r} {why}")
    return error
