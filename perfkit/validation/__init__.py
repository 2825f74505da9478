"""The validation run: specs, their runners, the session, the success criteria (SLO), the
resource monitor, the capacity search and what the other harnesses left behind (sources).

May import: workloads, harness.
"""
