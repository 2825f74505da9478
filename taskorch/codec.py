"""Serialization of contexts, results and artifacts, and the cache of encoded contexts.

Values are stored as compact JSON text. Every specialist context carries ``"format":
FORMAT_VERSION`` so a reader can tell which layout it holds; a database records the codec format
it was written with (the ``codec_format`` row of its ``meta`` table). orjson is used when
installed (``pip install taskorch[fast]``): the text it writes is plain JSON that the standard
library reads back. Both backends refuse, alike, what would not read back as written
(:func:`check`): JSON has no NaN, no dates, no UUIDs, and orjson would otherwise write some of
them as null or text without a word.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from itertools import islice
from operator import itemgetter, mul, sub
from typing import Any, Generic, TypeVar

from .errors import InvalidArgumentError

FORMAT_VERSION = 1

V = TypeVar("V")

_dumps: Callable[[Any], str]
_loads: Callable[[str | bytes], Any]
try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    _encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    _dumps = _encoder.encode
    _loads = json.loads
    BACKEND = "json"
else:

    def _dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    _loads = orjson.loads
    BACKEND = "orjson"


def int_lists_by(groups: Sequence[int], values: Sequence[int], n: int) -> list[str]:
    """The JSON text of ``n`` lists of ints (``[]`` for an empty one): list ``k`` holds, in their
    order, the ``values[i]`` whose ``groups[i]`` is ``k``. What a plan stores for each subtask's
    dependencies and dependents: one text for them all, cut apart, without a Python call per
    value."""
    lists: list[list[int]] = [[] for _ in range(n)]
    deque(map(list.append, map(lists.__getitem__, groups), values), 0)
    if not lists:
        return []
    # "[[0],[],[1,2]]" -> "[0]|[]|[1,2]": the text holds only digits, commas and brackets.
    return _dumps(lists)[1:-1].replace("],[", "]|[").split("|")


def int_runs(groups: Sequence[int], values: Sequence[int], n: int) -> list[str] | None:
    """:func:`int_lists_by` when ``groups`` runs through consecutive lists (no empty list
    between two others: a chain's or a tree's dependents) and no value is 0, without a list per
    group: a plan may hold 100k of them, and a list each wakes the garbage collector over and
    over. None for other groups and values."""
    if not values:
        return ["[]"] * n
    steps = list(map(sub, islice(groups, 1, None), groups))
    if not set(steps) <= _NEXT or 0 in values:
        return None
    # Each value that starts a list is written negative, "[2,-3,4]", and its "," then becomes
    # "]|[": "[2]|[3,4]". (A 0 that started a list could not be told apart.)
    signs = map(_SIGNS.__getitem__, steps) if len(steps) < 2 else itemgetter(*steps)(_SIGNS)
    text = _dumps([values[0], *map(mul, islice(values, 1, None), signs)])[1:-1]
    head = "[" + "]|[" * groups[0]  # the lists before the first value's are empty
    tail = "]|[" * (n - 1 - groups[-1]) + "]"  # and so are those after the last's
    return (head + text.replace(",-", "]|[") + tail).split("|")


_NEXT = frozenset({0, 1})  # steps between groups: the same one, the next one
_SIGNS = [1, -1]  # by step (a list: its __getitem__ is cheaper to call than a tuple's)


def int_singles(values: Sequence[int]) -> list[str]:
    """``[v]`` for each int ``v`` of ``values``, ``[]`` for each -1: :func:`int_lists_by` of lists
    of at most one int (a chain's or a tree's dependencies), without a list per value."""
    if not values:
        return []
    # "[-1,0,0]" -> "[-1]|[0]|[0]" -> "[]|[0]|[0]"; the text holds no other "-".
    text = _dumps(values)[1:-1].replace(",", "]|[")
    return f"[{text}]".replace("[-1]", "[]").split("|")


# The integers orjson can write; the json backend is held to the same range so that what one
# backend stores the other could have stored too.
_INT_LOW, _INT_HIGH = -(2**63), 2**64 - 1


class _Refused(Exception):
    """Raised inside :func:`check` at the first value that would not read back as written."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _walk(value: Any) -> None:
    t = type(value)
    if t is str or value is None or t is bool:
        return
    if t is int:
        if not _INT_LOW <= value <= _INT_HIGH:
            raise _Refused(f"the integer {value} is outside -2**63..2**64-1")
        return
    if t is float:
        if value - value != 0.0:  # NaN and the infinities; JSON has neither
            raise _Refused(f"{value!r} has no JSON form (it would read back as null)")
        return
    if t is dict or isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Refused(f"the key {key!r} is not a string (it would read back as text)")
            _walk(item)
        return
    if t is list or t is tuple or isinstance(value, list):
        for item in value:
            _walk(item)
        return
    if isinstance(value, str):
        return
    if isinstance(value, int) and not isinstance(value, bool):
        _walk(int(value))
        return
    raise _Refused(
        f"a {t.__module__}.{t.__qualname__} is not a JSON value (str, int, finite float, bool,"
        " None, list, tuple or dict with string keys); convert it first, e.g. to a string"
    )


def check(value: Any, argument: str = "value") -> None:
    """Refuse what would not read back as written: NaN and infinities, dates, UUIDs, sets, bytes,
    objects, non-string keys, integers beyond 64 bits, circular or too deeply nested values.

    Raises :class:`~taskorch.InvalidArgumentError` naming ``argument``.
    """
    try:
        _walk(value)
    except _Refused as exc:
        raise InvalidArgumentError(argument, f"cannot be stored: {exc.reason}") from None
    except RecursionError:
        raise InvalidArgumentError(argument, "is circular or nested too deeply") from None


def dumps(value: Any, argument: str = "value") -> str:
    """Encode a JSON value after :func:`check`; :class:`~taskorch.InvalidArgumentError` (a
    ValueError) names ``argument`` when it cannot be stored as it is."""
    check(value, argument)
    try:
        return _dumps(value)
    except (TypeError, ValueError) as exc:  # orjson's own limits, e.g. nesting beyond 254
        raise InvalidArgumentError(argument, f"cannot be stored: {exc}") from None


def encode(value: Any) -> str:
    """Encode a value known to be JSON already (the engine's own contexts, built from values it
    read back), without walking it first."""
    return _dumps(value)


def loads(text: str | bytes) -> Any:
    """Decode text written by :func:`dumps`."""
    return _loads(text)


class ContextCache(Generic[V]):
    """A bounded LRU keyed by task id: encoded contexts, and each plan's goal and context.

    Only what cannot change is cached (a context once the task's dependencies have all completed;
    a plan's goal and context always), so no invalidation is needed across processes.
    """

    __slots__ = ("_data", "capacity")

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._data: OrderedDict[int, V] = OrderedDict()

    def get(self, task_id: int) -> V | None:
        text = self._data.get(task_id)
        if text is None:
            return None
        # Threads may share an orchestrator without a lock (a thread-safe store): another thread
        # may have evicted the entry meanwhile, which only means it is not recent any more.
        try:  # not contextlib.suppress: this is every cached context read
            self._data.move_to_end(task_id)
        except KeyError:
            return text
        return text

    def put(self, task_id: int, text: V) -> None:
        if self.capacity <= 0:
            return
        self._data[task_id] = text
        try:
            self._data.move_to_end(task_id)
            if len(self._data) > self.capacity:
                self._data.popitem(last=False)
        except KeyError:  # another thread evicted or emptied it first
            return

    def __len__(self) -> int:
        return len(self._data)
