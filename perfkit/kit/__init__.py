"""The command kit: what every command shares, whichever room its ``main`` lives in.

:mod:`~perfkit.kit.options` (the option kit: ``--repo``, ``--machine`` and the like, parsed
alike everywhere), :mod:`~perfkit.kit.exits` (the exit table, one for every command) and
:mod:`~perfkit.kit.command` (a command run: user errors as one line, SIGTERM as Ctrl-C).

May import: nothing of perfkit (every other room may import it).
"""
