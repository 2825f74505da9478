"""What may import what: the engine stands alone, and the other packages keep their direction.

No module under ``taskorch/`` imports the measuring toolkit (``perfkit``), the leak checker or
the benchmarks, and importing the engine loads none of them. The toolkit reaches the engine the
other way: it uses the engine's public API, and the ``taskorch`` command finds ``taskorch fleet``
and ``taskorch perf`` through the ``taskorch.commands`` entry points, which load only when the
command line parser is built. leakcheck imports nothing of taskorch or the toolkit (its suite
names its default registry, ``perfkit.workloads``, as a string); no package imports the
benchmarks (asv loads them).
See docs/architecture.md.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator

import pytest

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
