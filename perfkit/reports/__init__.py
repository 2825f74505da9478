"""Reports and what they are made of: the report model and its renderers, the summary, the
plots and figures, and the benchmark history site.

May import: verdict, data, validation, kit.
"""
