"""Pure dependency-graph logic: validation, topological order, ready sets. No I/O.

Nodes are the indices ``0..n-1`` of a plan's subtasks; an edge ``(d, t)`` means task ``t`` depends
on task ``d``. Everything here is O(nodes + edges).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from .errors import CycleError, InvalidSubtaskError, UnknownDependencyError


@dataclass(frozen=True, slots=True)
class Graph:
    """A validated DAG: ``needs[t]`` lists the tasks ``t`` depends on (each once, in the order
    given), ``released[d]`` the tasks that depend on ``d`` (in index order)."""

    needs: Sequence[Sequence[int]]
    released: Sequence[Sequence[int]]

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """(dependency, dependent) index pairs, each listed once."""
        return tuple((d, t) for t, ds in enumerate(self.needs) for d in ds)


_NONE: tuple[int, ...] = ()


def build(keys: Sequence[str], depends_on: Sequence[Collection[str]]) -> Graph:
    """Validate a plan's dependency graph and return it with indices in place of keys.

    Raises :class:`InvalidSubtaskError` for a repeated key, :class:`UnknownDependencyError` for a
    dependency outside the plan and :class:`CycleError` (with the keys around one cycle) for a
    cycle.
    A dependency listed twice counts once.

    A plan whose every dependency comes earlier in the list than its dependent (the usual way to
    write one) is acyclic by construction; only other plans are ordered to look for a cycle.
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
    needs: list[tuple[int, ...]] = []
    released: list[list[int]] = [[] for _ in range(n)]
    ordered = True
    for t, deps in enumerate(depends_on):
        if not deps:
            needs.append(_NONE)
            continue
        if len(deps) > 1:
            deps = dict.fromkeys(deps)  # a dependency listed twice counts once
        resolved = []
        for dep in deps:
            d = get(dep)
            if d is None:
                raise UnknownDependencyError(keys[t], dep)
            if d >= t:
                ordered = False
            resolved.append(d)
            released[d].append(t)
        needs.append(tuple(resolved))
    # released[d] is in index order: t only grows.
    if not ordered and len(_kahn(needs, released)) < n:
        edges = [(d, t) for t, ds in enumerate(needs) for d in ds]
        raise CycleError([keys[i] for i in find_cycle(n, edges)])
    # Tuples of ints, not lists: the garbage collector stops tracking them (and the subtasks that
    # hold them) at its first pass, so a large plan does not fill its older generations.
    return Graph(needs, list(map(tuple, released)))


def _kahn(needs: Sequence[Sequence[int]], released: Sequence[Sequence[int]]) -> list[int]:
    """Kahn's order from adjacency lists; shorter than the graph exactly when it has a cycle."""
    counts = [len(ds) for ds in needs]
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
