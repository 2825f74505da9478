"""A plan's subtasks as the caller gives them, checked and resolved for the store: the fields of
each spec, their dependencies as indices (:mod:`taskorch.graph` orders them), and which text of a
plan the driver could not encode.

Plans of 100k subtasks go through here, so the usual plan (a list of dicts with well-formed
fields) is checked field by field over the whole plan, in passes that run in C: a spec costs a
few dict lookups and no Python call. Anything those passes do not accept goes through
:func:`_checked`, spec by spec, which names the first bad field, or accepts what is unusual but
valid (any mapping, ``depends_on=None``, a dependency listed twice, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from . import checks, codec, graph
from .errors import InvalidSubtaskError
from .store import NewSubtasks

__all__ = ["REQUIRED_FIELDS", "SUBTASK_FIELDS", "parse_subtasks", "unencodable_plan"]

SUBTASK_FIELDS = {"key", "title", "specialist", "description", "depends_on"}
REQUIRED_FIELDS = ("key", "title", "specialist")
_TEXT_FIELDS = ("key", "title", "specialist", "description")

_key, _title, _specialist, _description, _depends_on = map(
    itemgetter, ("key", "title", "specialist", "description", "depends_on")
)
_get = dict.get
_has = dict.__contains__
_new_subtasks = partial(tuple.__new__, NewSubtasks)  # in C, without the named tuple's __new__
# Plans this small are checked spec by spec: the whole-plan passes cost more than they save.
_FEW = 4
_PART = 4096  # specs read at a time (see _parse_usual)
_NO_DEPENDENCIES: list[str] = []  # shared, never changed
_LISTS = frozenset({list, tuple})

# keys, titles, specialists, descriptions, and each subtask's dependencies (keys)
Columns = tuple[list[str], list[str], list[str], list[str], list[Sequence[str]]]


def parse_subtasks(subtasks: Sequence[Mapping[str, Any]]) -> NewSubtasks:
    """Check the subtask specs and resolve their dependencies to indices (see graph.build).

    Raises :class:`InvalidSubtaskError` naming the first subtask with a bad field, or the
    :class:`~taskorch.PlanError` of :func:`graph.build` for a bad graph.
    """
    if isinstance(subtasks, (str, bytes)) or not isinstance(subtasks, Sequence):
        raise InvalidSubtaskError("subtasks must be a list of mappings")
    if len(subtasks) > _FEW:
        parsed = _parse_usual(subtasks)
        if parsed is not None:
            return parsed
    keys, titles, specialists, descriptions, depends = _checked(subtasks)
    return _resolved(keys, titles, specialists, descriptions, graph.build(keys, depends))


def _parse_usual(subtasks: Sequence[Any]) -> NewSubtasks | None:
    """:func:`parse_subtasks` of the usual plan (see the module's docstring); None for any other
    plan, or at the first doubt."""
    n = len(subtasks)
    keys: list[str] = []
    titles: list[str] = []
    specialists: list[str] = []
    descriptions: list[str] = []
    depends: list[Sequence[str]] = []
    try:
        # A spec with a field of its own adds to its length; every spec has the three required
        # fields (each lookup succeeds), so the sum of the lengths says whether there are others.
        size = sum(map(len, subtasks))
        five = size == 5 * n  # every spec has all five (and so no other), if each lookup succeeds
        if not five:
            if not {dict}.issuperset(map(type, subtasks)):
                return None
            given = 3 * n + sum(map(_has, subtasks, repeat("description")))
            if size != given + sum(map(_has, subtasks, repeat("depends_on"))):
                return None
        # A large plan is read a part at a time, each part's dicts and strings read by every
        # pass while they are still in the processor's cache.
        for part in _parts(subtasks, n):
            start = len(keys)
            keys += map(_key, part)
            titles += map(_title, part)
            specialists += map(_specialist, part)
            if five:
                descriptions += map(_description, part)
                depends += map(_depends_on, part)
            else:
                descriptions += map(_get, part, repeat("description"), repeat(""))
                depends += map(_get, part, repeat("depends_on"), repeat(_NO_DEPENDENCIES))
            for column in (keys, titles, specialists, descriptions):
                # TypeError unless all are strings
                if "\x00" in "".join(column[start:] if start else column):
                    return None
    except (TypeError, KeyError):
        return None
    # Keys are known not to be empty once graph.build_usual has settled the graph.
    if not (all(titles) and all(specialists) and _LISTS.issuperset(map(type, depends))):
        return None
    dag = graph.build_usual(keys, depends, list(map(len, depends)))
    if dag is None:  # some depend on several, or the graph is wrong
        try:
            "".join(chain.from_iterable(depends))  # TypeError unless every dependency is a key
        except TypeError:
            return None
        if not all(keys):
            return None
        dag = graph.build(keys, depends)
    return _resolved(keys, titles, specialists, descriptions, dag)


def _parts(subtasks: Sequence[Any], n: int) -> Sequence[Sequence[Any]]:
    """The specs in consecutive parts of ``_PART`` (all of them at once when they are fewer)."""
    if n <= _PART:
        return (subtasks,)
    return [subtasks[start : start + _PART] for start in range(0, n, _PART)]


def _resolved(
    keys: list[str], titles: list[str], specialists: list[str], descriptions: list[str],
    dag: graph.Graph,
) -> NewSubtasks:  # fmt: skip
    n = len(keys)
    if not dag.sources:  # no dependencies at all: a pool of work
        deps = dependents = ["[]"] * n
    elif dag.single is not None:  # a chain, a tree
        deps = codec.int_singles(dag.single)
        dependents = codec.int_runs(dag.sources, dag.targets, n) or codec.int_lists_by(
            dag.sources, dag.targets, n
        )
    else:
        deps = codec.int_lists_by(dag.targets, dag.sources, n)
        dependents = codec.int_lists_by(dag.sources, dag.targets, n)
    return _new_subtasks((keys, titles, specialists, descriptions, dag.counts, deps, dependents))


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
    for field in _TEXT_FIELDS:
        value = spec.get(field, "")
        if not isinstance(value, str) or (field != "description" and not value):
            what = "a string" if field == "description" else "a non-empty string"
            return InvalidSubtaskError(f"{where}: {field!r} must be {what}, got {value!r}")
        if "\x00" in value:  # PostgreSQL cannot store it; refused on both backends alike
            return InvalidSubtaskError(f"{where}: {field!r} must not contain a NUL character")
    return InvalidSubtaskError(
        f"{where}: 'depends_on' must be a list of keys (strings), got {spec['depends_on']!r}"
    )


def _checked(subtasks: Sequence[Any]) -> Columns:
    """The columns of any plan, checked spec by spec: the first bad field is refused by name."""
    keys: list[str] = []
    titles: list[str] = []
    specialists: list[str] = []
    descriptions: list[str] = []
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
            if not isinstance(deps, (list, tuple)):
                raise _bad_spec(i, spec)  # only a list or tuple of keys
            for d in deps:
                if not isinstance(d, str):
                    raise _bad_spec(i, spec)
        elif deps is None:
            deps = _NO_DEPENDENCIES
        elif not isinstance(deps, (list, tuple)):
            # 0, False, "" or an empty mapping is a mistake, not "none".
            raise _bad_spec(i, spec)
        keys.append(key)
        titles.append(title)
        specialists.append(specialist)
        descriptions.append(description)
        depends.append(deps)
    return keys, titles, specialists, descriptions, depends


def unencodable_plan(
    error: UnicodeEncodeError, goal: str, context: str | None, subtasks: NewSubtasks
) -> Exception:
    """Which text of a plan UTF-8 could not encode (see :func:`checks.unencodable`)."""
    found = checks.unencodable(error, {"goal": goal, "context": context})
    if found is not error:
        return found
    columns = (subtasks.keys, subtasks.titles, subtasks.specialists, subtasks.descriptions)
    for i, fields in enumerate(zip(*columns, strict=True)):
        for field, value in zip(_TEXT_FIELDS, fields, strict=True):
            why = checks.lone_surrogate(value)
            if why is not None:
                return InvalidSubtaskError(f"subtask {i}: {field!r} {why}")
    return error
