"""A plan's subtasks checked and resolved (taskorch.subtasks), without a database: every plan,
usual or not, gives the columns a plain reading of its specs gives; the JSON of dependency lists
(taskorch.codec) and the quick graph (graph.build_usual) agree with plain references."""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import taskorch
from taskorch import codec, graph
from taskorch.subtasks import parse_subtasks


def as_json(values: Sequence[int]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def expected(specs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The columns of a valid plan, read spec by spec in plain Python."""
    index = {spec["key"]: i for i, spec in enumerate(specs)}
    needs = [list(dict.fromkeys(index[d] for d in spec.get("depends_on") or ())) for spec in specs]
    released: list[list[int]] = [[] for _ in specs]
    for t, ds in enumerate(needs):
        for d in ds:
            released[d].append(t)
    return {
        "keys": [spec["key"] for spec in specs],
        "titles": [spec["title"] for spec in specs],
        "specialists": [spec["specialist"] for spec in specs],
        "descriptions": [spec.get("description", "") for spec in specs],
        "waiting": [len(ds) for ds in needs],
        "deps": [as_json(ds) for ds in needs],
        "dependents": [as_json(ts) for ts in released],
    }


def columns(specs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    parsed = parse_subtasks(specs)
    return {field: list(getattr(parsed, field)) for field in parsed._fields}


@st.composite
def plans(draw: st.DrawFn, max_size: int = 30) -> list[Any]:
    """Valid plans of every shape the specs may take: any order of subtasks whose graph is a
    DAG, fields present or absent, dependencies as lists, tuples, None or absent, listed twice,
    specs as dicts (fields in any order), other mappings."""
    n = draw(st.integers(0, max_size))
    order = draw(st.permutations(range(n)))
    fan_in = draw(st.integers(0, 3))
    keys = [f"k{i}" for i in range(n)]
    specs: list[Any] = []
    for i in range(n):
        pos = order.index(i)
        earlier = [keys[order[p]] for p in range(pos)]
        deps = draw(st.lists(st.sampled_from(earlier), max_size=fan_in)) if earlier else []
        spec: dict[str, Any] = {"key": keys[i], "title": f"t{i}", "specialist": "s"}
        if draw(st.booleans()):
            spec["description"] = draw(st.sampled_from(["", f"d{i}", "é ✓"]))
        form = draw(st.sampled_from(["list", "list", "list", "tuple", "none", "absent"]))
        if form == "list":
            spec["depends_on"] = deps
        elif form == "tuple":
            spec["depends_on"] = tuple(deps)
        elif form == "none" and not deps:
            spec["depends_on"] = None
        elif deps:
            spec["depends_on"] = deps
        items = list(spec.items())
        draw(st.randoms()).shuffle(items)
        kind = draw(st.sampled_from(["dict", "dict", "dict", "ordered", "proxy"]))
        specs.append(
            dict(items)
            if kind == "dict"
            else OrderedDict(items)
            if kind == "ordered"
            else MappingProxyType(dict(items))
        )
    return specs


@settings(max_examples=300, deadline=None)
@given(plans())
def test_every_valid_plan_gives_the_columns_of_its_specs(specs: list[Any]) -> None:
    assert columns(specs) == expected(specs)


@pytest.mark.parametrize(
    "shape", ["chain", "tree", "fan-in", "fan-out", "independent", "bare", "layers"]
)
@pytest.mark.parametrize("n", [5, 6, 50, 1000])
def test_usual_shapes_give_the_columns_of_their_specs(shape: str, n: int) -> None:
    keys = [f"t{i}" for i in range(n)]
    deps: Callable[[int], list[str]] = {
        "chain": lambda i: keys[i - 1 : i],
        "tree": lambda i: [keys[(i - 1) // 2]] if i else [],
        "fan-in": lambda i: sorted({keys[(i - 1) // 2], keys[(i - 2) // 2]}) if i > 1 else [],
        "fan-out": lambda i: [keys[0]] if i else [],
        "independent": lambda i: [],
        "bare": lambda i: [],
        "layers": lambda i: [keys[i - 7], keys[i - 3]] if i >= 7 else [],
    }[shape]
    specs: list[dict[str, Any]] = []
    for i in range(n):
        spec: dict[str, Any] = {"key": keys[i], "title": f"title {i}", "specialist": "s"}
        if shape != "bare":
            spec["description"] = f"do {i}"
            spec["depends_on"] = deps(i)
        specs.append(spec)
    assert columns(specs) == expected(specs)


# -- what is refused: the first bad subtask by name, whatever the size of the plan -----------------

BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("key", "", r"'key' must be a non-empty string"),
    ("key", None, r"'key' must be a non-empty string"),
    ("key", 7, r"'key' must be a non-empty string"),
    ("key", "a\x00b", r"'key' must not contain a NUL"),
    ("title", "", r"'title' must be a non-empty string"),
    ("title", b"t", r"'title' must be a non-empty string"),
    ("title", "a\x00", r"'title' must not contain a NUL"),
    ("specialist", "", r"'specialist' must be a non-empty string"),
    ("specialist", ["s"], r"'specialist' must be a non-empty string"),
    ("specialist", "\x00", r"'specialist' must not contain a NUL"),
    ("description", None, r"'description' must be a string"),
    ("description", 1.5, r"'description' must be a string"),
    ("description", "x\x00", r"'description' must not contain a NUL"),
    ("depends_on", "k0", r"'depends_on' must be a list of keys"),
    ("depends_on", ["k0", 3], r"'depends_on' must be a list of keys"),
    ("depends_on", [None], r"'depends_on' must be a list of keys"),
    ("depends_on", [["k0"]], r"'depends_on' must be a list of keys"),
    ("depends_on", {"k0": 1}, r"'depends_on' must be a list of keys"),
    ("depends_on", {"k0"}, r"'depends_on' must be a list of keys"),
    ("depends_on", 0, r"'depends_on' must be a list of keys"),
    ("depends_on", False, r"'depends_on' must be a list of keys"),
    ("depends_on", "", r"'depends_on' must be a list of keys"),
    ("depends", ["k0"], r"unknown field\(s\) \['depends'\]"),
]


def plan_of(n: int, description: bool = True) -> list[dict[str, Any]]:
    """A tree of n subtasks, every field given (or the description and dependencies left out)."""
    specs: list[dict[str, Any]] = []
    for i in range(n):
        spec: dict[str, Any] = {"key": f"k{i}", "title": f"t{i}", "specialist": "s"}
        if description:
            spec["description"] = f"d{i}"
            spec["depends_on"] = [f"k{(i - 1) // 2}"] if i else []
        specs.append(spec)
    return specs


@pytest.mark.parametrize("description", [True, False], ids=["all fields", "required fields"])
@pytest.mark.parametrize("n", [1, 4, 5, 40])
@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_a_bad_field_is_named_with_its_subtask(
    field: str, value: Any, message: str, n: int, description: bool
) -> None:
    specs = plan_of(n, description)
    at = n - 1
    specs[at][field] = value
    with pytest.raises(taskorch.InvalidSubtaskError, match=rf"^subtask {at}: {message}"):
        parse_subtasks(specs)


@pytest.mark.parametrize("n", [1, 5, 40])
@pytest.mark.parametrize("field", ["key", "title", "specialist"])
def test_a_missing_field_is_named_with_its_subtask(field: str, n: int) -> None:
    specs = plan_of(n)
    del specs[n // 2][field]
    with pytest.raises(
        taskorch.InvalidSubtaskError, match=rf"^subtask {n // 2}: missing required field '{field}'"
    ):
        parse_subtasks(specs)


@pytest.mark.parametrize("n", [1, 5, 40])
@pytest.mark.parametrize("spec", ["k", ["key", "title", "specialist", "description", "x"], 5, None])
def test_a_spec_that_is_no_mapping_is_named(spec: Any, n: int) -> None:
    specs: list[Any] = plan_of(n)
    specs[-1] = spec
    with pytest.raises(
        taskorch.InvalidSubtaskError, match=rf"^subtask {n - 1}: expected a mapping"
    ):
        parse_subtasks(specs)


def test_the_first_bad_subtask_is_named_before_any_graph_error() -> None:
    specs = plan_of(40)
    specs[3]["depends_on"] = ["nowhere"]  # a graph error, found only after every field is checked
    specs[30]["title"] = ""
    specs[9]["specialist"] = None
    with pytest.raises(taskorch.InvalidSubtaskError, match=r"^subtask 9: 'specialist'"):
        parse_subtasks(specs)


@pytest.mark.parametrize("n", [2, 5, 40])
def test_graph_errors_of_large_plans_name_what_is_wrong(n: int) -> None:
    unknown = plan_of(n)
    unknown[-1]["depends_on"] = ["k0", "nowhere"]
    with pytest.raises(taskorch.UnknownDependencyError, match="'nowhere'"):
        parse_subtasks(unknown)
    twice = plan_of(n)
    twice[-1]["key"] = "k0"
    with pytest.raises(taskorch.InvalidSubtaskError, match="'k0' is used more than once"):
        parse_subtasks(twice)
    cycle = plan_of(n)
    cycle[0]["depends_on"] = [f"k{n - 1}"]
    with pytest.raises(taskorch.CycleError) as info:
        parse_subtasks(cycle)
    assert "k0" in info.value.cycle and f"k{n - 1}" in info.value.cycle
    itself = plan_of(n)
    itself[-1]["depends_on"] = [f"k{n - 1}"]
    with pytest.raises(taskorch.CycleError):
        parse_subtasks(itself)


# -- the JSON of dependency lists, and the quick graph -----------------------------------------


def lists_by(groups: Sequence[int], values: Sequence[int], n: int) -> list[str]:
    out: list[list[int]] = [[] for _ in range(n)]
    for g, v in zip(groups, values, strict=True):
        out[g].append(v)
    return [as_json(o) for o in out]


@st.composite
def groupings(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    n = draw(st.integers(1, 12))
    size = draw(st.integers(0, 25))
    groups = draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size))
    if draw(st.booleans()):
        groups.sort()
    values = draw(st.lists(st.integers(0, 10**6), min_size=size, max_size=size))
    return groups, values, n


@pytest.fixture(params=["as installed", "json"])
def either_codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "json":
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        monkeypatch.setattr(codec, "_dumps", encoder.encode)


# The codec fixture patches a module attribute that no example changes: safe to share.
CODEC_SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@settings(CODEC_SETTINGS, max_examples=300)
@given(data=groupings())
def test_int_lists_by_groups_values_in_order(
    data: tuple[list[int], list[int], int], either_codec: None
) -> None:
    groups, values, n = data
    assert codec.int_lists_by(groups, values, n) == lists_by(groups, values, n)
    runs = codec.int_runs(groups, values, n)
    assert runs is None or runs == lists_by(groups, values, n)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1001])
@pytest.mark.parametrize("shape", ["tree", "chain", "fan-out"])
def test_int_runs_writes_the_dependents_of_chains_and_trees(
    shape: str, n: int, either_codec: None
) -> None:
    parent = {"tree": lambda t: (t - 1) // 2, "chain": lambda t: t - 1, "fan-out": lambda t: 0}
    groups = [parent[shape](t) for t in range(1, n)]
    values = list(range(1, n))
    assert codec.int_runs(groups, values, n) == lists_by(groups, values, n)


@settings(CODEC_SETTINGS, max_examples=100)
@given(values=st.lists(st.integers(-1, 10**6)))
def test_int_singles_writes_lists_of_one_or_none(values: list[int], either_codec: None) -> None:
    assert codec.int_singles(values) == [as_json([] if v < 0 else [v]) for v in values]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """Any dependency lists over n keys: DAGs in any order, cycles, repeats, unknown keys."""
    n = draw(st.integers(1, 15))
    keys = [f"n{i}" for i in range(n)]
    if draw(st.integers(0, 9)) == 0:
        keys[-1] = keys[0]
    pool = [*keys, "unknown"] if draw(st.integers(0, 4)) == 0 else keys
    deps = [draw(st.lists(st.sampled_from(pool), max_size=draw(st.integers(0, 3)))) for _ in keys]
    return keys, deps


@settings(max_examples=400, deadline=None)
@given(graphs())
def test_build_usual_settles_a_plan_as_build_does_or_leaves_it(
    dag: tuple[list[str], list[list[str]]],
) -> None:
    keys, deps = dag
    quick = graph.build_usual(keys, deps, [len(d) for d in deps])
    try:
        full = graph.build(keys, deps)
    except taskorch.PlanError:
        assert quick is None
        return
    if quick is not None:
        assert [list(quick.counts), list(quick.sources), list(quick.targets)] == [
            list(full.counts),
            list(full.sources),
            list(full.targets),
        ]


def test_build_usual_settles_ordered_plans_of_one_dependency_each() -> None:
    rng = random.Random(7)
    for n in (1, 2, 10, 200):
        keys = [f"n{i}" for i in range(n)]
        deps = [rng.sample(keys[:i], min(i, rng.randint(0, 1))) for i in range(n)]
        quick = graph.build_usual(keys, deps, [len(d) for d in deps])
        assert quick is not None
        assert quick.edges == graph.build(keys, deps).edges


def test_a_plan_read_in_parts_gives_its_columns_and_names_its_first_bad_field() -> None:
    specs = plan_of(9000)
    assert columns(specs) == expected(specs)
    bare = plan_of(9000, description=False)
    assert columns(bare) == expected(bare)
    specs[8500]["title"] = ""
    specs[5000]["description"] = "a\x00"
    with pytest.raises(taskorch.InvalidSubtaskError, match=r"^subtask 5000: 'description'"):
        parse_subtasks(specs)
    bare[4097]["key"] = 9
    with pytest.raises(taskorch.InvalidSubtaskError, match=r"^subtask 4097: 'key'"):
        parse_subtasks(bare)
