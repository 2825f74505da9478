"""The command kit: what every command shares, whichever room its ``main`` lives in.

:mod:`~perfkit.kit.options` (the option kit: ``--repo``, ``--machine`` and the like, parsed
alike everywhere), :mod:`~perfkit.kit.exits` (the exit table, one for every command),
:mod:`~perfkit.kit.command` (a command run: user errors as one line, SIGTERM as Ctrl-C) and
:mod:`~perfkit.kit.numbers` (how every report writes a measured value).

May import: nothing of perfkit (every other room may import it).
"""
