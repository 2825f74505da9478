"""Judging numbers: the one regression rule, its weighing, the change points of a history,
the raw references as controls, the account of a run and the calibrated thresholds.

May import: data, workloads (the raw references' names), kit.
"""
