"""The nightly job's report as Markdown, for a CI job summary or a pull-request comment.

Made from the report's JSON form (``.asv/nightly.json``), so it can be rendered again from a kept
file: the verdict, then each regression with its ratio, the commit that moved it and the
functions that grew, then what broke, what was expected and what improved.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from ..kit.exits import Exit
from ..kit.numbers import amount
from ..verdict.regression import DEFAULT_THRESHOLD

__all__ = ["markdown"]

VERDICTS = {
    Exit.OK: "✅ OK",
    Exit.FAILED: "❌ REGRESSED",
    Exit.BROKE: "❌ A BENCHMARK BROKE",
    Exit.FAILED | Exit.BROKE: "❌ REGRESSED AND A BENCHMARK BROKE",
    Exit.CANNOT_RUN: "⚠️ COULD NOT RUN",
    Exit.USAGE: "⚠️ COULD NOT RUN: BAD ARGUMENTS",
}
# The most characters of text from elsewhere (a process's output) one cell shows.
_CELL = 300


def verdict(status: int) -> str:
    """The headline of an exit status."""
    if status in VERDICTS:
        return VERDICTS[status]
    # Exit status 8, alone or beside 1 and 2: something asked for judged nothing.
    said = VERDICTS[status & ~Exit.NOT_JUDGED]
    if status & ~Exit.NOT_JUDGED == 0:
        return "⚠️ JUDGED NOTHING OF WHAT WAS ASKED"
    return f"{said}, AND JUDGED NOTHING OF SOME OF WHAT WAS ASKED"


def cell(text: Any) -> str:
    """Text the suite did not write (a process's output, a benchmark's error) made safe for one
    Markdown table cell: HTML escaped, one line, no pipe, code span or link, at most a few
    hundred characters."""
    line = " ".join(str(text).split())
    if len(line) > _CELL:
        line = line[: _CELL - 1] + "…"
    line = html.escape(line)
    for mark, entity in (("|", "&#124;"), ("`", "&#96;"), ("[", "&#91;"), ("]", "&#93;")):
        line = line.replace(mark, entity)
    return line


def _ratio(change: Mapping[str, Any]) -> str:
    ratio = change.get("ratio")
    return "—" if ratio is None else f"x{ratio:.4f}" if abs(ratio - 1) < 0.1 else f"x{ratio:.2f}"


def _direction(change: Mapping[str, Any]) -> str:
    ratio = change.get("ratio")
    moved = "" if ratio is None else "grew" if ratio > 1 else "shrank"
    return f"{moved} ({change.get('better', 'lower')} is better)".strip()


def _table(changes: Sequence[Mapping[str, Any]], culprits: Mapping[str, str]) -> list[str]:
    lines = [
        "| benchmark | before | after | ratio | direction | culprit | evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in changes:
        unit = str(c.get("unit") or "")
        evidence = cell(c.get("reason") or "—")
        lines.append(
            f"| `{c['benchmark']}` | {amount(c.get('before'), unit)} |"
            f" {amount(c.get('after'), unit)} | {_ratio(c)} | {_direction(c)} |"
            f" {culprits.get(c['benchmark'], '—')} | {evidence} |"
        )
    return lines


def _evidence(finding: Mapping[str, Any]) -> list[str]:
    if not finding.get("operation"):  # a timing: its trial is the evidence, in the table
        return []
    lines = [f"**`{finding['benchmark']}`**: counted again, {amount(finding.get('before'), '')}"
             f" → {amount(finding.get('after'), '')} instructions per call."]  # fmt: skip
    for key, title, unit in (("py_functions", "Python functions", "bytecodes"),
                             ("c_functions", "C functions", "instructions")):  # fmt: skip
        rows = finding.get(key) or []
        if not rows:
            continue
        head = f"| {title}, grew most (inclusive {unit} per call) | before | after | growth |"
        lines += ["", head, "|---|---|---|---|"]
        for row in rows:
            before, after = float(row["before"]), float(row["after"])
            lines.append(f"| `{row['function']}` | {before:,.0f} | {after:,.0f} |"
                         f" {after - before:+,.0f} |")  # fmt: skip
    return [*lines, ""]


def markdown(report: Mapping[str, Any]) -> str:
    """The report (:meth:`perfkit.jobs.nightly.Report.as_dict`) as Markdown."""
    status = int(report.get("status", 4))
    findings = list(report.get("findings") or [])
    culprits = {
        f["benchmark"]: f"`{f['culprit'][:8]}`"
        if f.get("culprit")
        else f"unknown: {cell(f.get('reason'))}"
        for f in findings
    }
    headline = f"## {cell(report.get('title') or 'Nightly benchmarks')}: {verdict(status)}"
    unknown = len(report.get("inconclusive") or [])
    if unknown:  # judged neither way: the headline must not read as "no change" for them
        headline += f" ({unknown} timing{'s' if unknown > 1 else ''} inconclusive, not judged)"
    lines = [headline, ""]
    if report.get("could_not_run"):
        lines += [f"**Could not run**: {cell(report['could_not_run'])}. Exit status {status}.", ""]
    if not report.get("baseline"):  # stopped before it knew what to compare
        return "\n".join(lines)
    lines += [
        f"`{cell(report.get('baseline'))}` → `{cell(report.get('target'))}`"
        f" ({report.get('commits', 0)} new commits"
        # Entities are not decoded inside a code span: the pattern is plain, escaped text.
        + (f", benchmarks matching {cell(report['bench'])}" if report.get("bench") else "")
        + f"). Instruction counts fail beyond {float(report.get('count_threshold', 0)):.1%};"
        " timings are weighed over fresh processes of both commits (a trimmed t-test, and a"
        " change beyond the benchmark's threshold, calibrated on the machine, else"
        f" {DEFAULT_THRESHOLD:.0%}); sizes beyond"
        f" x{report.get('factor')}. Exit status {status}.",
        "",
        *_account(report),
    ]
    sections = (
        ("Regressed", "regressed"),
        ("Broke", "broke"),
        ("Expected (declared)", "expected"),
        ("The machine (moved with the raw sqlite3 references)", "machine"),
        ("Inconclusive (the most processes, no answer)", "inconclusive"),
        ("Improved", "improved"),
    )
    for title, key in sections:
        changes = list(report.get(key) or [])
        if not changes:
            continue
        lines += [f"### {title}", ""]
        if key == "broke":
            lines += [f"- `{c['benchmark']}`: {cell(c.get('reason', ''))}" for c in changes]
        else:
            lines += _table(changes, culprits if key == "regressed" else {})
        lines.append("")
        grew = [line for f in findings for line in _evidence(f)]
        if key == "regressed" and grew:
            lines += ["#### What grew", "", *grew]
    left = dict(report.get("history_only") or {})
    if left:  # not judged, and said so: never read as "the same"
        lines += ["### Left to the history (a night cannot judge them at 10 % here)", ""]
        lines += [f"- `{name}`: {cell(why)}" for name, why in sorted(left.items())]
        lines.append("")
    lines += [
        f"Leak check: {cell(report.get('leakcheck'))}. Site published: {report.get('published')}.",
        "",
    ]
    if report.get("postgres"):
        lines += [f"PostgreSQL: {cell(report['postgres'])}.", ""]
    return "\n".join(lines)


def _account(report: Mapping[str, Any]) -> list[str]:
    """What was judged: a row a family, and why a family asked for judged nothing."""
    if report.get("nothing_new"):
        return ["Nothing new to benchmark: the target is the baseline.", ""]
    lines = [f"- **Judged nothing**: {cell(p)}" for p in report.get("problems") or []]
    lines += [
        "| family | asked | compared on both sides | inconclusive | broke | skipped |",
        "|---|---|---|---|---|---|",
    ]
    for t in report.get("account") or []:
        skipped = "; ".join(f"{len(names)}: {cell(reason)}"
                            for reason, names in (t.get("skipped") or {}).items())  # fmt: skip
        asked = "yes" if t.get("asked") else f"no: {cell(t.get('not_asked'))}"
        counts = f"{t.get('compared', 0)} | {t.get('inconclusive', 0)} | {t.get('broke', 0)}"
        lines.append(f"| {t['family']} | {asked} | {counts} | {skipped or '—'} |")
    lines.append("")
    lines += [f"- **{t['family']} judged nothing**: {cell(t.get('reason'))}"
              for t in report.get("account") or [] if t.get("judged_nothing")]  # fmt: skip
    return lines
