"""Instruction counts: the counted operations, the counted process, callgrind's output and
the culprit search over a range of commits.

May import: verdict, data, workloads.
"""
