"""The scoring of detected change points against annotated ones (a margin, each annotation
matched once) and the loading of the public series, on hand-made cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfkit.commands import run
from perfkit.kit.exits import Exit
from perfkit.verdict.changepoint_eval import (
    DETECTORS,
    Score,
    Series,
    evaluate,
    load,
    main,
    score,
)
from tests.asvfiles import noisy, step


def test_exact_detections_score_one() -> None:
    found = score([10, 50], [50, 10])
    assert found == Score(2, 2, 2) and found.precision == found.recall == found.f1 == 1.0


def test_a_detection_counts_within_the_margin_and_not_beyond() -> None:
    assert score([10], [15]).hits == 1
    assert score([10], [5]).hits == 1
    assert score([10], [16]).hits == 0
    assert score([10], [13], margin=2).hits == 0


def test_an_annotation_is_matched_once() -> None:
    found = score([10], [9, 11])
    assert found == Score(1, 1, 2) and found.precision == 0.5 and found.recall == 1.0
    assert found.f1 == pytest.approx(2 / 3)


def test_a_detection_finds_one_annotation_only() -> None:
    found = score([10, 12], [11])
    assert found == Score(1, 2, 1) and found.recall == 0.5


def test_each_annotation_takes_its_nearest_free_detection() -> None:
    assert score([10, 16], [12, 15]).hits == 2
    assert score([10, 14], [13, 19]).hits == 2


def test_nothing_to_find_and_nothing_found() -> None:
    assert score([], []).f1 == 1.0
    missed = score([10, 20, 30], [])
    assert missed.precision == 1.0 and missed.recall == 0.0 and missed.f1 == 0.0
    assert score([], [7]).precision == 0.0


def test_scores_add_up_over_series() -> None:
    assert score([10], [10]) + score([5, 40], [90]) == Score(1, 3, 2)


def test_a_generated_suite_is_read_from_its_manifest(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("index,value,is_change_point\n0,1.5,False\n1,2.5,True\n")
    manifest = [{"filename": "a.csv", "change_point_indices": [1]}]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert load(tmp_path) == [Series("a.csv", (1.5, 2.5), (1,))]


def test_the_tigerbeetle_series_is_read_with_the_marks_of_its_axis(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "tigerbeetle_test.py").write_text(
        'def _get_series():\n    """A sketch.\n\n    +---->\n      2  5\n    """\n'
        "    return [3, 3, 1, 3, 3, 9, 9]\n"
    )
    [found] = load(tmp_path)
    assert found.annotations == (2, 5) and found.values == (3, 3, 1, 3, 3, 9, 9)


def test_a_path_without_data_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pip download"):
        load(tmp_path)


def test_the_detectors_find_a_clean_step() -> None:
    values = tuple(step(noisy(24, 1), 12, 1.3))
    for name, detector in DETECTORS.items():
        assert evaluate([Series("s", values, (12,))], detector) == Score(1, 1, 1), name


def test_a_suite_with_no_usable_series_scores_nothing_not_a_perfect_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.csv").write_text("index,value,is_change_point\n0,0,False\n1,-2,True\n")
    manifest = [{"filename": "a.csv", "change_point_indices": [1]}]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert main([str(tmp_path)]) == Exit.NOT_JUDGED
    out, err = capsys.readouterr()
    assert f"| {tmp_path.name} | 0 | — |" in out and "1.00" not in out
    assert "no usable series" in err and "nothing scored" in err


@pytest.mark.parametrize(
    "manifest", [[{"name": "a.csv"}], [{"filename": "a.csv"}], {"filename": "a.csv"}, [3]]
)
def test_a_malformed_manifest_is_named_before_anything_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: object
) -> None:
    (tmp_path / "a.csv").write_text("index,value,is_change_point\n0,1.5,False\n")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert run("evaluate-changepoints", [str(tmp_path)]) == Exit.USAGE
    out, err = capsys.readouterr()
    assert out == "" and f"{tmp_path / 'manifest.json'}: not a manifest" in err
    assert "Traceback" not in err
