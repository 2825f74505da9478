"""Pure dependency-graph logic: validation, topological order, ready sets. No I/O.

Nodes are the indices ``0..n-1`` of a plan's subtasks; an edge ``(d, t)`` means task ``t`` depends
on task ``d``. Everything here is O(nodes + edges).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import partial
from itertools import compress
from operator import itemgetter, lt
from typing import NamedTuple

from .errors import CycleError, InvalidSubtaskError, UnknownDependencyError


class Graph(NamedTuple):
    """A validated DAG. Node ``t`` depends on ``counts[t]`` nodes, each once, in the order given.
    Its edges are listed node after node (those of node 0 first): edge ``i`` makes
    ``targets[i]`` depend on ``sources[i]``. When no node depends on more than one, ``single[t]``
    is the one node ``t`` depends on (-1 for none); otherwise ``single`` is None. (Flat lists
    rather than a list per node: a plan of 100k subtasks would build 100k of them; and a named
    tuple, as a frozen dataclass costs more to build than a plan of one subtask.)"""

    counts: Sequence[int]
    sources: Sequence[int]
    targets: Sequence[int]
    single: Sequence[int] | None = None

    @property
    def needs(self) -> list[list[int]]:
        """What each node depends on."""
        out: list[list[int]] = [[] for _ in self.counts]
        for d, t in zip(self.sources, self.targets, strict=True):
            out[t].append(d)
        return out

    @property
    def released(self) -> list[list[int]]:
        """The nodes that depend on each node, in index order."""
        out: list[list[int]] = [[] for _ in self.counts]
        for d, t in zip(self.sources, self.targets, strict=True):
            out[d].append(t)
        return out

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """(dependency, dependent) index pairs, each listed once."""
        return tuple(zip(self.sources, self.targets, strict=True))


_graph = partial(tuple.__new__, Graph)  # in C, without the named tuple's __new__


def build(keys: Sequence[str], depends_on: Sequence[Collection[str]]) -> Graph:
    """Validate a plan's dependency graph and return it with indices in place of keys.

    Raises :class:`InvalidSubtaskError` for a repeated key, :class:`UnknownDependencyError` for a
    dependency outside the plan and :class:`CycleError` (with the keys around one cycle) for a
    cycle.
    A dependency listed twice counts once.
    """
    n = len(keys)
    index = dict(zip(keys, range(n), strict=True))
    if len(index) < n:
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise InvalidSubtaskError(f"subtask key {key!r} is used more than once in the plan")
            seen.add(key)
    get = index.get
    counts: list[int] = []
    sources: list[int] = []
    targets: list[int] = []
    ordered = True
    for t, deps in enumerate(depends_on):
        if len(deps) > 1:
            deps = dict.fromkeys(deps)  # a dependency listed twice counts once
        counts.append(len(deps))
        for dep in deps:
            d = get(dep)
            if d is None:
                raise UnknownDependencyError(keys[t], dep)
            if d >= t:
                ordered = False
            sources.append(d)
            targets.append(t)
    dag = _graph((counts, sources, targets, None))
    # A plan whose every dependency comes earlier in the list than its dependent (the usual way
    # to write one) is acyclic by construction; only other plans are ordered to look for a cycle.
    if not ordered and len(_kahn(counts, dag.released)) < n:
        raise CycleError([keys[i] for i in find_cycle(n, list(dag.edges))])
    return dag


def build_usual(
    keys: Sequence[str], depends_on: Sequence[Sequence[str]], counts: Sequence[int]
) -> Graph | None:
    """:func:`build` of a plan whose every node depends on one node or none (a chain, a tree,
    a fan-out), quickly: in passes over whole lists rather than node by node. ``counts[t]`` is
    ``len(depends_on[t])``.

    Returns None for any other plan, and for one it does not settle, which :func:`build` then
    validates and refuses with the precise error if it is wrong: a key used twice or empty, a
    dependency that is not a string or not a key, a cycle.
    """
    n = len(keys)
    targets = list(compress(range(n), counts))  # each node that depends on one
    if sum(counts) != len(targets):  # some depend on several
        return None
    index = dict(zip(keys, range(n), strict=True))
    if len(index) < n or "" in index:
        return None
    index[""] = -1
    try:
        # "".join of a list of at most one string is that string, or "" (TypeError for
        # anything but strings).
        single = _lookup(index, list(map("".join, depends_on)))
    except (TypeError, KeyError):
        return None
    sources = list(compress(single, counts))
    dag = _graph((counts, sources, targets, single))
    if not all(map(lt, sources, targets)) and len(_kahn(counts, dag.released)) < n:
        return None
    return dag


def _lookup(table: Mapping[str, int], keys: list[str]) -> Sequence[int]:
    """``table[k]`` for each key: one call for them all (KeyError at the first missing)."""
    if len(keys) > 1:
        found: Sequence[int] = itemgetter(*keys)(table)
        return found
    return [table[k] for k in keys]  # itemgetter of one key returns the bare value


def _kahn(counts: Sequence[int], released: Sequence[Sequence[int]]) -> list[int]:
    """Kahn's order from in-degrees and adjacency lists; shorter than the graph exactly when it
    has a cycle."""
    counts = list(counts)
    order = [i for i, c in enumerate(counts) if not c]
    for node in order:  # the list grows while we walk it: a queue without a deque
        for t in released[node]:
            counts[t] -= 1
            if not counts[t]:
                order.append(t)
    return order


def successors(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Adjacency lists: for each node, the nodes that depend on it."""
    out: list[list[int]] = [[] for _ in range(n)]
    for d, t in edges:
        out[d].append(t)
    return out


def topological_order(
    n: int, edges: Sequence[tuple[int, int]], indegree: Sequence[int] | None = None
) -> list[int]:
    """Kahn's order of the nodes; shorter than ``n`` exactly when the graph has a cycle."""
    if indegree is None:
        counts = [0] * n
        for _, t in edges:
            counts[t] += 1
    else:
        counts = list(indegree)
    out = successors(n, edges)
    order = [i for i in range(n) if counts[i] == 0]
    for node in order:  # the list grows while we walk it: a queue without a deque
        for t in out[node]:
            counts[t] -= 1
            if counts[t] == 0:
                order.append(t)
    return order


def find_cycle(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """One cycle of the graph, as nodes in dependency order; empty if there is none."""
    out = successors(n, edges)
    state = [0] * n  # 0 unseen, 1 on the current path, 2 finished
    for start in range(n):
        if state[start]:
            continue
        path: list[int] = []
        stack: list[tuple[int, int]] = [(start, 0)]
        state[start] = 1
        path.append(start)
        while stack:
            node, i = stack[-1]
            if i < len(out[node]):
                stack[-1] = (node, i + 1)
                nxt = out[node][i]
                if state[nxt] == 1:
                    return path[path.index(nxt) :]
                if state[nxt] == 0:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return []


def is_topological(order: Sequence[int], edges: Iterable[tuple[int, int]]) -> bool:
    """Whether every dependency comes before its dependent in ``order``."""
    position = {node: i for i, node in enumerate(order)}
    return all(d in position and t in position and position[d] < position[t] for d, t in edges)
