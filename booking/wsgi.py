"""WSGI entry point of an installed wheel: ``gunicorn booking.wsgi:app`` (``wsgi:app`` in a
checkout does the same)."""

import gc

from booking import create_app

app = create_app()

# Everything loaded so far (modules, templates, the app) lives as long as the process: move it
# out of the garbage collector's sight, so a full collection during a request only walks what
# requests allocate. Measured on the benchmark's city dataset (300 API searches in a row): the
# slowest 1% took 68 ms without this (full collections), 18-21 ms with it.
gc.freeze()
