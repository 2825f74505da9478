"""A labelled corpus of workloads that leak and workloads that only look as if they might.

Each case is a session (see :data:`leakcheck.Session`) so its state is fresh for every run.
In a leaking case the line that keeps the memory carries a ``# leak`` comment: a detector
that names a location is right when it names that line. Cases marked ``beyond_reach`` are
bounded but outgrow half of the default window; no rule that watches a finite window can
tell them from a leak, and they are scored apart.

``python -m leakcheck corpus`` scores leakcheck, pytest-memray's ``limit_leaks`` and a
tracemalloc snapshot diff on these cases (see :mod:`leakcheck.accuracy`).
"""

from __future__ import annotations

import collections
import functools
import inspect
import json
import logging
import queue
import re
import sqlite3
import threading
import typing
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from leakcheck.checking import Step

__all__ = ["CASES", "Case"]

SessionGenerator = Callable[[Path], Iterator[Step]]
SessionFactory = Callable[[Path], AbstractContextManager[Step]]


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled workload."""

    name: str
    leaks: bool
    description: str
    session: Callable[[Path], AbstractContextManager[Step]]
    leak_line: int | None  # the line marked ``# leak``, if any
    beyond_reach: bool = False


_cases: dict[str, Case] = {}
#: Every case by name, in definition order.
CASES: Mapping[str, Case] = _cases


def _case(
    leaks: bool, description: str, *, beyond_reach: bool = False
) -> Callable[[SessionGenerator], SessionFactory]:
    """Register a session generator; the module attribute becomes the session factory.

    That makes every case a target for ``python -m leakcheck run --session
    leakcheck.corpus:NAME``.
    """

    def register(generator: SessionGenerator) -> SessionFactory:
        lines, first = inspect.getsourcelines(generator)
        marked = [first + i for i, text in enumerate(lines) if text.rstrip().endswith("# leak")]
        if leaks != bool(marked):
            raise AssertionError(f"{generator.__name__}: mark exactly the leaking line")
        session = contextmanager(generator)
        name = generator.__name__
        _cases[name] = Case(
            name, leaks, description, session, marked[0] if marked else None, beyond_reach
        )
        return session

    return register


# --- leaking ---------------------------------------------------------------------------


@_case(True, "64 bytes kept every iteration")
def leak_64_bytes(scratch: Path) -> Iterator[Step]:
    kept: list[bytes] = []

    def step() -> None:
        kept.append(bytes(31))  # leak

    yield step


@_case(True, "1 KiB kept every iteration")
def leak_1_kib(scratch: Path) -> Iterator[Step]:
    kept: list[bytes] = []

    def step() -> None:
        kept.append(bytes(991))  # leak

    yield step


@_case(True, "one 50-byte object kept every 100 iterations (0.5 B/iteration)")
def slow_leak(scratch: Path) -> Iterator[Step]:
    kept: list[bytes] = []
    counter = iter(range(1 << 62))

    def step() -> None:
        scratch_list = [n * 2 for n in range(8)]
        if next(counter) % 100 == 0:
            kept.append(bytes(17))  # leak
        del scratch_list

    yield step


@_case(True, "memo dict with a new key per call and no eviction")
def unbounded_memo(scratch: Path) -> Iterator[Step]:
    memo: dict[int, str] = {}
    counter = iter(range(1 << 62))

    def step() -> None:
        key = next(counter)
        memo[key] = f"value-{key:08d}"  # leak

    yield step


@_case(True, "functools.cache (an unbounded lru_cache) called with unique arguments")
def lru_cache_unbounded(scratch: Path) -> Iterator[Step]:
    @functools.cache
    def square(n: int) -> tuple[int, int]:
        return (n, n * n)  # leak

    counter = iter(range(1 << 62))

    def step() -> None:
        square(next(counter) + 10_000)

    yield step


@_case(True, "listener registered on every call and never removed")
def listener_leak(scratch: Path) -> Iterator[Step]:
    listeners: list[Callable[[str], None]] = []
    seen: list[str] = []

    def step() -> None:
        def on_event(event: str) -> None:  # leak
            seen.append(event)

        listeners.append(on_event)

    yield step


@_case(True, "cyclic structures kept in a registry")
def cycle_registry_leak(scratch: Path) -> Iterator[Step]:
    registry: list[object] = []

    class Node:
        def __init__(self) -> None:
            self.peer: Node = self

    def step() -> None:
        registry.append(Node())  # leak

    yield step


@_case(True, "json.dumps output kept (allocated inside the json module)")
def json_output_kept(scratch: Path) -> Iterator[Step]:
    kept: list[str] = []
    document = {"id": 1, "tags": ["a", "b"], "ok": True}

    def step() -> None:
        kept.append(json.dumps(document))  # leak

    yield step


@_case(True, "a worker thread fed by a queue keeps what it receives")
def worker_thread_leak(scratch: Path) -> Iterator[Step]:
    inbox: queue.Queue[int | None] = queue.Queue()
    done = threading.Semaphore(0)
    kept: list[tuple[int, str]] = []

    def worker() -> None:
        while (item := inbox.get()) is not None:
            kept.append((item, "handled"))  # leak
            done.release()

    thread = threading.Thread(target=worker, name="corpus-worker")
    thread.start()
    counter = iter(range(1 << 62))

    def step() -> None:
        inbox.put(next(counter) + 1000)
        done.acquire()

    try:
        yield step
    finally:
        inbox.put(None)
        thread.join()


@_case(True, "a thread-pool task keeps one object in ten")
def thread_pool_leak(scratch: Path) -> Iterator[Step]:
    kept: list[bytes] = []

    def task(n: int) -> None:
        if n % 10 == 0:
            kept.append(bytes(40))  # leak

    counter = iter(range(1 << 62))
    with ThreadPoolExecutor(max_workers=2) as pool:

        def step() -> None:
            pool.submit(task, next(counter)).result()

        yield step


# --- not leaking -----------------------------------------------------------------------


@_case(False, "builds a small object graph and drops it")
def allocate_and_free(scratch: Path) -> Iterator[Step]:
    def step() -> None:
        record = {"id": 7, "tags": [str(n) for n in range(5)], "body": "x" * 200}
        json.dumps(record)

    yield step


@_case(False, "cyclic garbage left to the collector")
def cyclic_garbage(scratch: Path) -> Iterator[Step]:
    class Node:
        def __init__(self) -> None:
            self.peer: Node = self
            self.payload = [0] * 8

    def step() -> None:
        Node()

    yield step


@_case(False, "functools.lru_cache(maxsize=1000), unique arguments")
def lru_cache_bounded(scratch: Path) -> Iterator[Step]:
    @functools.lru_cache(maxsize=1000)
    def square(n: int) -> tuple[int, int]:
        return (n, n * n)

    counter = iter(range(1 << 62))

    def step() -> None:
        square(next(counter) + 10_000)

    yield step


@_case(False, "collections.deque(maxlen=1000)")
def deque_maxlen(scratch: Path) -> Iterator[Step]:
    recent: collections.deque[str] = collections.deque(maxlen=1000)
    counter = iter(range(1 << 62))

    def step() -> None:
        recent.append(f"event-{next(counter)}")

    yield step


@_case(False, "dict cache evicting its oldest entry beyond 1000")
def evicting_dict(scratch: Path) -> Iterator[Step]:
    cache: dict[int, bytes] = {}
    counter = iter(range(1 << 62))

    def step() -> None:
        key = next(counter)
        cache[key] = bytes(40)
        if len(cache) > 1000:
            del cache[next(iter(cache))]

    yield step


@_case(False, "list grows and is cleared every 5000 iterations (sawtooth)")
def sawtooth(scratch: Path) -> Iterator[Step]:
    batch: list[bytes] = []

    def step() -> None:
        batch.append(bytes(40))
        if len(batch) == 5000:
            batch.clear()

    yield step


@_case(False, "re cache warming up: a new pattern every 20 calls, 500 in all")
def re_cache_warmup(scratch: Path) -> Iterator[Step]:
    counter = iter(range(1 << 62))

    def step() -> None:
        n = next(counter) // 20 % 500
        re.match(f"item{n}-(\\d+)", f"item{n}-42")

    yield step


@_case(False, "logging loggers created on first use, 300 names over 3000 calls")
def logging_warmup(scratch: Path) -> Iterator[Step]:
    counter = iter(range(1 << 62))

    def step() -> None:
        logger = logging.getLogger(f"leakcheck.corpus.worker{next(counter) // 10 % 300}")
        logger.debug("not emitted")

    yield step


@_case(False, "isinstance against ABCs and typing aliases over 200 classes")
def type_caches_warmup(scratch: Path) -> Iterator[Step]:
    classes = [type(f"Kind{n}", (), {}) for n in range(200)]
    counter = iter(range(1 << 62))

    def step() -> None:
        cls = classes[next(counter) // 5 % 200]
        isinstance(cls(), collections.abc.Mapping)
        # typing's own cache, which `cls | None` would bypass.
        typing.Optional[cls]  # noqa: UP045

    yield step


@_case(False, "a 64 KiB table built once, lazily, in the middle of the window")
def lazy_table(scratch: Path) -> Iterator[Step]:
    table: list[bytes] = []
    counter = iter(range(1 << 62))

    def step() -> None:
        if next(counter) == 8000:
            table.extend(bytes(60) for _ in range(700))

    yield step


@_case(False, "a cache of 4000 entries still filling when the window opens")
def cache_filling(scratch: Path) -> Iterator[Step]:
    cache: dict[int, str] = {}
    counter = iter(range(1 << 62))

    def step() -> None:
        key = next(counter) % 4000
        if key not in cache:
            cache[key] = f"entry-{key:06d}"

    yield step


@_case(False, "a worker thread fed by a queue, keeping nothing")
def worker_thread_clean(scratch: Path) -> Iterator[Step]:
    inbox: queue.Queue[int | None] = queue.Queue()
    done = threading.Semaphore(0)

    def worker() -> None:
        while (item := inbox.get()) is not None:
            str(item) * 3
            done.release()

    thread = threading.Thread(target=worker, name="corpus-worker")
    thread.start()
    counter = iter(range(1 << 62))

    def step() -> None:
        inbox.put(next(counter) + 1000)
        done.acquire()

    try:
        yield step
    finally:
        inbox.put(None)
        thread.join()


@_case(False, "a thread started and joined every iteration")
def thread_per_call(scratch: Path) -> Iterator[Step]:
    results: list[int] = [0]

    def work() -> None:
        results[0] = sum(range(10))

    def step() -> None:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    yield step


@_case(False, "a 1 MiB buffer allocated and freed every iteration")
def big_temporary(scratch: Path) -> Iterator[Step]:
    def step() -> None:
        buffer = bytearray(1 << 20)
        buffer[-1] = 1

    yield step


@_case(False, "JSON round trip of a nested task document")
def json_roundtrip(scratch: Path) -> Iterator[Step]:
    document = {
        "id": "task-0001",
        "deps": [f"task-{n:04d}" for n in range(8)],
        "context": {"attempt": 1, "agent": "planner", "notes": ["a" * 40, "b" * 40]},
    }

    def step() -> None:
        json.loads(json.dumps(document))

    yield step


@_case(False, "SQLite file database: insert, select and delete a row, commit")
def sqlite_roundtrip(scratch: Path) -> Iterator[Step]:
    connection = sqlite3.connect(scratch / "corpus.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit, as in production WAL
    connection.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, state TEXT, payload TEXT)")
    payload = json.dumps({"deps": list(range(10)), "owner": "agent-1"})

    def step() -> None:
        with connection:
            row_id = connection.execute(
                "INSERT INTO task (state, payload) VALUES ('ready', ?)", (payload,)
            ).lastrowid
            connection.execute("SELECT state, payload FROM task WHERE id = ?", (row_id,)).fetchone()
            connection.execute("DELETE FROM task WHERE id = ?", (row_id,))

    try:
        yield step
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class _Task:
    name: str
    priority: int
    deps: tuple[str, ...]


@_case(False, "builds, sorts and groups small frozen dataclasses")
def object_pipeline(scratch: Path) -> Iterator[Step]:
    def step() -> None:
        tasks = [_Task(f"t{n}", n % 3, (f"t{n - 1}",) if n else ()) for n in range(20)]
        tasks.sort(key=lambda task: (task.priority, task.name))
        groups: dict[int, list[str]] = {}
        for task in tasks:
            groups.setdefault(task.priority, []).append(task.name)
        ", ".join(f"{k}:{len(v)}" for k, v in groups.items())

    yield step


@_case(False, "bounded cache of 50 000 entries: larger than half the window", beyond_reach=True)
def cache_beyond_window(scratch: Path) -> Iterator[Step]:
    cache: collections.OrderedDict[int, bytes] = collections.OrderedDict()
    counter = iter(range(1 << 62))

    def step() -> None:
        cache[next(counter)] = bytes(40)
        if len(cache) > 50_000:
            cache.popitem(last=False)

    yield step
