"""Paper-scale sweeps on Dask: declarative grids, an executor layer, an on-disk cache and a sweep report.

* :mod:`.grid` — :class:`Sweep`, :class:`Grid`, :class:`Point`, :class:`Aggregate`: what a sweep is.
* :mod:`.executor` — where tasks run: in-process, ``LocalCluster``, a scheduler address, a jobqueue config.
* :mod:`.cache` — completed results on disk, keyed by sweep, parameters, seed and code version.
* :mod:`.run` — :func:`run_sweep`: submit, stream back, retry lost attempts, write ``sweep.json``/``sweep.md``.
* :mod:`.definitions` — the per-paper sweeps (``proofs-check sweep --list``).

Sweep points and claims alike run as tasks of the task engine (:mod:`proofs_check.engine`); claims through
:func:`proofs_check.runner.run_claims`.

``dask.distributed`` is imported only when a cluster route is used, so the in-process route needs no Dask.
"""

from proofs_check.sweeps.grid import Aggregate, Grid, Point, Sweep

__all__ = ["Aggregate", "Grid", "Point", "Sweep"]
