"""Instructions per operation of the core operations, counted by valgrind's callgrind.

The command line of :mod:`perfkit.counts.instructions` (which the asv benchmark
``instructions.Instructions`` and the nightly job's culprit search use too)::

    python scripts/count_instructions.py                 # every operation
    python scripts/count_instructions.py claim get plan_1
    git worktree add /tmp/old HEAD~3 && python scripts/count_instructions.py --engine /tmp/old claim
    python scripts/count_instructions.py --functions 10 claim   # and the costliest C functions
    python scripts/count_instructions.py --steps 2 12 plan:n=1000 raw_insert:n=1000   # any workload

Exit status: 0 counted, 2 an operation that could not be counted, 4 the count could not run
(no valgrind: on Debian/Ubuntu, apt-get install valgrind), 64 bad usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..counts.instructions import OPERATIONS, CountError, Operation, count, count_bytecodes
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, integer, output_file
from ..workloads import WORKLOADS

__all__ = ["defined", "main"]


def _value(text: str) -> object:
    return int(text) if text.lstrip("-").isdigit() else text


def defined(specs: list[str], params: list[str], steps: tuple[int, int]) -> dict[str, Operation]:
    """Named operations as defined, and any other ``WORKLOAD[:k=v,...]`` with ``steps``;
    :class:`UsageError` naming a parameter that is not ``k=v``, or whose value is not of the type
    the workload's declared values have (``n=abc`` where ``n`` counts)."""
    out = {}
    for spec in specs:
        if spec in OPERATIONS and not params:
            out[spec] = OPERATIONS[spec]
            continue
        name, _, extra = spec.partition(":")
        given = [*params, *(p for p in extra.split(",") if p)]
        bad = [p for p in given if "=" not in p or not p.partition("=")[0]]
        if bad:
            raise UsageError(f"{spec}: a parameter is k=v, got {', '.join(map(repr, bad))}")
        values = {k: _value(v) for k, v in (p.split("=", 1) for p in given)}
        declared = WORKLOADS[name].params if name in WORKLOADS else {}
        for key, value in values.items():
            kinds = {type(v) for v in declared.get(key, ())}
            if kinds and type(value) not in kinds:
                raise UsageError(f"{spec}: {key}={value} is not a value {key} takes"
                                 f" (its values include {declared[key][0]!r})")  # fmt: skip
        out[spec] = Operation(name, values, warmup=2, steps=steps)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "operations",
        nargs="*",
        help=f"default: all of {', '.join(OPERATIONS)}; or any workload, WORKLOAD:k=v,k=v",
    )
    parser.add_argument("-p", "--param", action="append", default=[], help="k=v for every workload")
    parser.add_argument("--steps", type=integer(0), nargs=2, default=(20, 60), metavar=("N1", "N2"),
                        help="the two loop lengths, for workloads given by name")  # fmt: skip
    parser.add_argument("--engine", type=Path, help="a checkout whose taskorch to count")
    parser.add_argument("--python", help="the interpreter to count under (default: this one)")
    parser.add_argument(
        "--functions", type=integer(0), default=0, help="show the N costliest functions"
    )
    parser.add_argument(
        "--bytecodes", action="store_true", help="count Python bytecodes instead (no valgrind)"
    )
    parser.add_argument("--json", type=output_file, help="also write every count here")
    args = parser.parse_args(argv)
    n1, n2 = args.steps
    if not 0 <= n1 < n2:
        parser.error(f"--steps needs 0 <= N1 < N2, got {n1} {n2}")
    names = defined(args.operations or list(OPERATIONS), args.param, (n1, n2))
    unknown = sorted({op.workload for op in names.values()} - set(WORKLOADS))
    if unknown:
        parser.error(f"no such operation or workload: {', '.join(unknown)}")
    try:
        if args.bytecodes:
            counts = count_bytecodes(names, python=args.python, engine=args.engine)
        else:
            counts = count(names, python=args.python, engine=args.engine)
    except CountError as exc:
        print(exc, file=sys.stderr)
        return Exit.CANNOT_RUN
    unit = "bytecodes" if args.bytecodes else "instructions"
    for name, found in counts.items():
        if found.instructions is None:
            print(f"{name:<20} skipped: {found.skipped}")
            continue
        print(f"{name:<20} {found.instructions:>16,.1f} {unit}/call  ({found.seconds:.1f} s)")
        for fn, value in list(found.functions.items())[: args.functions]:
            print(f"    {value:>16,.1f}  {fn}")
    if args.json:
        args.json.write_text(json.dumps({n: c.as_dict() for n, c in counts.items()}, indent=1))
    return Exit.BROKE if any(c.instructions is None for c in counts.values()) else Exit.OK
