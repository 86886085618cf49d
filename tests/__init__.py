"""ganbench's tests.

Under pytest-xdist (``-n N``, as the README's test command runs them), worker ``gwK`` is pinned to one core
(K modulo the cores this process may use) before anything imports torch: each worker's runs then share out one
core, as ganbench shares out a machine (``ganbench.threads``), instead of every worker's torch threads spinning
against the others' on the same cores.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit() and hasattr(os, "sched_setaffinity"):
    _cores = sorted(os.sched_getaffinity(0))
    if len(_cores) > 1:
        os.sched_setaffinity(0, {_cores[int(_worker[2:]) % len(_cores)]})
