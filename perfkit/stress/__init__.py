"""The stress runs, ``python -m perfkit stress NAME``: each a command of its own, run on the
engine from outside (fleets, a large graph, several processes, a killed agent, pool exhaustion,
before/after and design comparisons).

May import: workloads, harness, kit.
"""
