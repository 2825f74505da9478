"""What is on disk and in git, read and written in one place each.

asv's results and benchmark descriptions (:mod:`~perfkit.data.asvdata`), the repository
(:mod:`~perfkit.data.gitrepo`), the ``Expected-Change:`` trailers (:mod:`~perfkit.data.expected`),
files written whole or not at all (:mod:`~perfkit.data.files`), the nightly's own file
(:mod:`~perfkit.data.nightly_file`) and the leftovers of killed runs
(:mod:`~perfkit.data.leftovers`).

May import: nothing of perfkit.
"""
