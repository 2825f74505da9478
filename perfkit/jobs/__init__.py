"""The nightly job and the pull-request check: their options, what a run saves, and the
weighing of what is new on main.

May import: timing, counts, verdict, data, reports, kit.
"""
