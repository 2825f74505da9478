"""What may import what: the engine stands alone, and the other packages keep their direction.

No module under ``taskorch/`` imports the measuring toolkit (``perfkit``), the leak checker or
the benchmarks, and importing the engine loads none of them. The toolkit reaches the engine the
other way: it uses the engine's public API, and the ``taskorch`` command finds ``taskorch fleet``
and ``taskorch perf`` through the ``taskorch.commands`` entry points, which load only when the
command line parser is built. leakcheck imports nothing of taskorch or the toolkit (its suite
names its default registry, ``perfkit.workloads``, as a string); no package imports the
benchmarks (asv loads them). No module of ``taskorch/`` or ``perfkit/`` is part of an import
cycle, counting every import: at the top, inside functions and for type checking alone. Within
the toolkit, each room (a subpackage with one job) imports only the rooms :data:`ROOMS` allows it,
and the rooms form no cycle. See docs/architecture.md.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import perfkit
from tests.support import ROOT

OUTSIDE_THE_ENGINE = frozenset({"perfkit", "leakcheck", "benchmarks"})

#: Each package, and the top-level packages of this repository its modules must not import.
FORBIDDEN = {
    "taskorch": OUTSIDE_THE_ENGINE,
    "leakcheck": frozenset({"taskorch", "perfkit", "benchmarks"}),
    "perfkit": frozenset({"benchmarks"}),
}


def _is_dynamic_import(func: ast.expr) -> bool:
    """``importlib.import_module(...)``, ``import_module(...)`` or ``__import__(...)``."""
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``: import statements and the
    dynamic imports of a literal name. Relative imports stay inside their package."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                yield node.lineno, name.value


def outside_imports(
    source: str, forbidden: frozenset[str] = OUTSIDE_THE_ENGINE
) -> list[tuple[int, str]]:
    return [
        (line, name)
        for line, name in imported_modules(source)
        if name.partition(".")[0] in forbidden
    ]


def test_the_scan_finds_every_form_of_import() -> None:
    source = "\n".join(
        [
            "import os, perfkit",
            "import leakcheck.report as report",
            "from benchmarks._support import WorkloadBenchmark",
            "from . import sibling",
            "from .perfkit import local_module_of_the_same_name",
            "import importlib",
            "importlib.import_module('perfkit.workloads')",
            "__import__('leakcheck')",
            "def later():",
            "    from perfkit import demo",
        ]
    )
    assert outside_imports(source) == [
        (1, "perfkit"),
        (2, "leakcheck.report"),
        (3, "benchmarks._support"),
        (7, "perfkit.workloads"),
        (8, "leakcheck"),
        (10, "perfkit"),
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_against_the_direction(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert len(modules) > 5, f"the scan must see the modules of {package}"
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in modules
        for line, name in outside_imports(path.read_text(encoding="utf-8"), FORBIDDEN[package])
    ]
    assert found == [], f"{package} must not import these:\n" + "\n".join(found)


PROBE = """
import sys
{imports}
print(" ".join(sorted(m for m in sys.modules if m.partition(".")[0] in {outside!r})))
"""


def loaded_after(imports: str) -> list[str]:
    """The toolkit modules loaded in a fresh interpreter after ``imports``."""
    code = PROBE.format(imports=imports, outside=set(OUTSIDE_THE_ENGINE))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_engine_loads_no_toolkit_module() -> None:
    assert loaded_after("import taskorch, taskorch.agents, taskorch.cli") == []


def test_the_probe_sees_a_toolkit_module_once_one_is_imported() -> None:
    assert "perfkit.workloads" in loaded_after("import taskorch, perfkit.workloads")


def module_names(package: str) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def module_imports(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """The modules of ``known`` that the module ``name`` imports, by any statement anywhere in
    it; a package it lies in is not counted (Python has imported it already)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, is_package)
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {t for t in targets if t in known and t != name and t not in ancestors}


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_resolve_to_the_modules_they_name(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    source = "from . import sibling\nfrom .sub import leaf\nfrom .. import top\n"
    (tmp_path / "pkg" / "sub" / "mod.py").write_text(source)
    known = {name: tmp_path for name in ("pkg", "pkg.sub", "pkg.sub.sibling", "pkg.sub.sub",
                                         "pkg.sub.sub.leaf", "pkg.top")}  # fmt: skip
    found = module_imports("pkg.sub.mod", tmp_path / "pkg" / "sub" / "mod.py", known)
    assert found == {"pkg.sub.sibling", "pkg.sub.sub", "pkg.sub.sub.leaf", "pkg.top"}


@pytest.mark.parametrize("package", ["taskorch", "perfkit"])
def test_no_import_cycle(package: str) -> None:
    known = module_names(package)
    assert len(known) > 10, f"the scan must see the modules of {package}"
    graph = {name: module_imports(name, path, known) for name, path in known.items()}
    assert import_cycles(graph) == [], f"{package} has import cycles"


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _section(heading: str, end: str) -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index(heading)
    return text[start : text.index(end, start)]


#: The toolkit's rooms, each a subpackage of ``perfkit/`` with one job, and the rooms its modules
#: may import besides their own; declared here once, and in docs/architecture.md for readers.
#: ``perfkit/__init__.py`` and ``perfkit/__main__.py`` stand above the rooms and import any.
ROOMS: dict[str, frozenset[str]] = {
    "kit": frozenset(),
    "harness": frozenset(),
    "data": frozenset(),
    "workloads": frozenset({"harness"}),
    "verdict": frozenset({"data", "workloads", "kit"}),
    "counts": frozenset({"verdict", "data", "workloads"}),
    "timing": frozenset({"counts", "verdict", "data", "kit"}),
    "validation": frozenset({"workloads", "harness"}),
    "reports": frozenset({"verdict", "data", "validation", "kit"}),
    "jobs": frozenset({"timing", "counts", "verdict", "data", "reports", "harness", "kit"}),
    "stress": frozenset({"workloads", "harness", "kit"}),
}
ROOMS["commands"] = frozenset(ROOMS)  # every command's entry: any room

ABOVE_THE_ROOMS = frozenset({"perfkit", "perfkit.__main__"})


def room_of(module: str) -> str:
    """The room of a toolkit module: the subpackage of ``perfkit`` it lies in."""
    return module.split(".")[1]


def room_imports() -> dict[str, set[str]]:
    """Each room and the other rooms its modules import, by any statement anywhere."""
    known = module_names("perfkit")
    found: dict[str, set[str]] = {room: set() for room in ROOMS}
    for name, path in known.items():
        if name in ABOVE_THE_ROOMS:
            continue
        room = room_of(name)
        targets = module_imports(name, path, known) - ABOVE_THE_ROOMS
        found.setdefault(room, set()).update(room_of(t) for t in targets if room_of(t) != room)
    return found


def test_every_toolkit_module_lies_in_a_declared_room() -> None:
    modules = sorted(set(module_names("perfkit")) - ABOVE_THE_ROOMS)
    loose = [name for name in modules if name.count(".") < 1 or room_of(name) not in ROOMS]
    assert len(modules) > 50, "the scan must see the modules of perfkit"
    assert loose == [], "these lie in no room of ROOMS"
    packages = {p.parent.name for p in (ROOT / "perfkit").glob("*/__init__.py")}
    assert packages == set(ROOMS), "ROOMS must name exactly the subpackages of perfkit/"


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_a_room_imports_only_the_rooms_it_may(room: str) -> None:
    known = module_names("perfkit")
    found = []
    for name, path in known.items():
        if name in ABOVE_THE_ROOMS or room_of(name) != room:
            continue
        for target in sorted(module_imports(name, path, known) - ABOVE_THE_ROOMS):
            if room_of(target) != room and room_of(target) not in ROOMS[room]:
                found.append(f"{path.relative_to(ROOT)}: {target}")
    assert found == [], f"perfkit/{room}/ may import only {sorted(ROOMS[room])}:\n" + "\n".join(
        found
    )


def test_the_rooms_form_no_cycle() -> None:
    declared = {room: set(allowed) for room, allowed in ROOMS.items()}
    assert import_cycles(declared) == [], "the rooms ROOMS allows must form no cycle"
    assert import_cycles(room_imports()) == [], "the rooms' imports must form no cycle"


def test_the_room_check_sees_an_import_between_rooms() -> None:
    assert "workloads" in room_imports()["counts"]  # perfkit/counts/_countrun.py runs workloads
    assert "harness" in room_imports()["workloads"]


def _room_rows() -> dict[str, tuple[set[str], set[str]]]:
    """docs/architecture.md's room table: each room, its modules listed, the rooms it may import."""
    table = _section("## The measuring toolkit (`perfkit/`)", "\n## ")
    rows = {}
    for match in re.finditer(r"^\| `([a-z_]+)/` \|[^|]*\|([^|]*)\|([^|]*)\|$", table, re.M):
        room, modules, may = match.groups()
        listed = set(re.findall(r"`([A-Za-z_0-9]+\.py)`", modules))
        rows[room] = listed, {word.strip() for word in may.split(",")}
    return rows


def test_the_architecture_lists_every_room_with_its_modules_and_imports() -> None:
    rows = _room_rows()
    assert set(rows) == set(ROOMS), "docs/architecture.md's room table must list every room"
    for room, (listed, may) in rows.items():
        files = {p.name for p in (ROOT / "perfkit" / room).glob("*.py")}
        # a room's __init__.py is listed when it holds more than the room's docstring
        assert listed | {"__init__.py"} == files | {"__init__.py"}, f"the row of {room}/"
        assert listed <= files, f"the row of {room}/ names a module that does not exist"
        expected = {"any room"} if room == "commands" else set(ROOMS[room]) or {"nothing"}
        assert may == expected, f"the row of {room}/ must say what ROOMS allows it"


def test_the_architecture_lists_every_module_of_the_engine() -> None:
    tree = _section("## The engine (`taskorch/`)", "The layers, each importing")
    listed = re.findall(r"[A-Za-z_0-9*]+\.py", tree)
    files = sorted(p.name for p in (ROOT / "taskorch").rglob("*.py"))
    unlisted = [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in listed)]
    assert unlisted == [], "docs/architecture.md's engine tree lacks these"


@pytest.mark.parametrize(
    "module",
    [
        "perfkit.counts.instructions",
        "perfkit.workloads.pg_fleet",
        "perfkit.commands.peer",
        "perfkit.harness.pg_server",
        "perfkit.stress.pool_exhaustion",
    ],
)
def test_the_repository_root_a_module_hands_to_its_processes_is_the_repositorys(
    module: str,
) -> None:
    # Processes started outside this one (under valgrind, in asv's environment, as workers)
    # import perfkit through this path alone: one folder too deep, and they find nothing.
    root = importlib.import_module(module).ROOT
    assert (root / "perfkit" / "__init__.py").is_file() and (root / "taskorch").is_dir()


def test_the_counted_process_leaves_all_of_perfkit_out_of_its_functions() -> None:
    from perfkit.counts import _countrun

    assert Path(_countrun.HARNESS) == Path(perfkit.__file__).resolve().parent
