"""The options' own checks: files and folders a command writes, checked before it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from perfkit.commands.count_cli import defined
from perfkit.kit.options import UsageError, output_file, output_folder, plain


def test_an_output_file_needs_a_writable_folder_and_is_no_folder(tmp_path: Path) -> None:
    assert output_file(str(tmp_path / "out.json")) == tmp_path / "out.json"
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder"):
        output_file(str(tmp_path))
    with pytest.raises(argparse.ArgumentTypeError, match="does not exist"):
        output_file(str(tmp_path / "missing" / "out.json"))


def test_an_output_folder_may_be_new_but_not_inside_a_file(tmp_path: Path) -> None:
    assert output_folder(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checked, not made: the command makes it
    (tmp_path / "a-file").write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="is not a folder"):
        output_folder(str(tmp_path / "a-file" / "sub"))


@pytest.mark.parametrize(
    ("spec", "params", "said"),
    [
        ("plan:n=abc", [], "n=abc is not a value n takes"),
        ("plan:n", [], "a parameter is k=v, got 'n'"),
        ("plan:=3", [], "a parameter is k=v"),
        ("get", ["n=many"], "n=many is not a value n takes"),
    ],
)
def test_a_counted_workloads_parameters_are_checked_before_valgrind_runs(
    spec: str, params: list[str], said: str
) -> None:
    with pytest.raises(UsageError, match=said):
        defined([spec], params, (2, 4))
    assert defined(["plan:n=10"], [], (2, 4))["plan:n=10"].params == {"n": 10}


def test_plain_reads_sphinx_markup_out() -> None:
    said = ("The gate (:mod:`perfkit.jobs.nightly`), :class:`~perfkit.kit.exits.Exit` and"
            " ``asv run`` or `asv publish`; :meth:`a.B.c` stays a name.")  # fmt: skip
    assert plain(said) == ("The gate (perfkit.jobs.nightly), Exit and asv run or asv publish;"
                           " a.B.c stays a name.")  # fmt: skip
    assert plain(None) is None and plain("") == ""
