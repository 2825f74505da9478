"""Serialization of contexts, results and artifacts, and the cache of encoded contexts.

Values are stored as compact JSON text. Every specialist context carries ``"format":
FORMAT_VERSION`` so a reader can tell which layout it holds; a database records the codec format
it was written with (the ``codec_format`` row of its ``meta`` table). orjson is used when
installed (``pip install taskorch[fast]``): the text it writes is plain JSON that the standard
library reads back.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

FORMAT_VERSION = 1

V = TypeVar("V")

_dumps: Callable[[Any], str]
_loads: Callable[[str | bytes], Any]
try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    _encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    _dumps = _encoder.encode
    _loads = json.loads
    BACKEND = "json"
else:

    def _dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    _loads = orjson.loads
    BACKEND = "orjson"


def dumps(value: Any) -> str:
    """Encode a JSON-serializable value; a clear TypeError names what cannot be encoded."""
    try:
        return _dumps(value)
    except TypeError as exc:
        raise TypeError(f"value is not JSON-serializable: {exc}") from exc


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
