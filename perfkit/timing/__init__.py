"""Timing two commits: trials on fresh processes (one sampling schedule), the A/A calibration
of the timing verdict and the timings the nightly job weighs.

May import: counts, verdict, data, kit.
"""
