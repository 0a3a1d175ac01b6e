"""Hypothesis profiles and shared fixtures.

Profiles (choose with ``HYPOTHESIS_PROFILE=dev|ci|thorough``):

* ``ci`` — derandomized, bounded examples, no deadline.  With ``CI=true`` Hypothesis loads its own ``ci``
  profile by itself; ours extends it, so CI keeps derandomization and the printed ``@reproduce_failure``.
* ``dev`` (default locally) — random, few examples, no deadline (torch timings vary).
* ``thorough`` — many examples (20x ``ci``), for a nightly or pre-release run.

The profile governs every property test's example count: no test hard-codes ``max_examples``.  The few tests
whose examples cost ~0.5 s scale the profile's count instead (``settings.default.max_examples // 3``), so
``thorough`` multiplies them too.  ``tests/test_profiles.py`` checks this.
"""

from __future__ import annotations

import os

import torch
from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=15, deadline=None,
                          derandomize=True, suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=_SUPPRESS)
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=_SUPPRESS)

_profile = os.environ.get("HYPOTHESIS_PROFILE")
if _profile:
    settings.load_profile(_profile)
elif os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")
else:
    settings.load_profile("dev")

# One torch thread per test process (override with ICL_VERIFY_TORCH_THREADS): the models are small, the
# suite runs as two pytest-xdist workers on CI's two cores, and intra-op threads on busy cores were measured
# 2-3x slower on the trained claims.
torch.set_num_threads(int(os.environ.get("ICL_VERIFY_TORCH_THREADS", "1")))
