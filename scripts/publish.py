#!/usr/bin/env python3
"""Publish the benchmark history site in one step (:func:`perfkit.site.publish`): ``asv publish``,
the regressions page rewritten from the history's change points, the libraries vendored.

Usage: scripts/publish.py [--repo PATH] [-o HTML_DIR]   (default: html_dir of asv.conf.json)
Exit status: 0 done, 1 a step failed, a library could not be fetched or a page still refers to
the network.
"""

import sys

from perfkit.site import publish_main

if __name__ == "__main__":
    sys.exit(publish_main(sys.argv[1:]))
