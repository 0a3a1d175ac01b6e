"""The catalogue of equivalent mutants: mutant ids with the reason each makes no observable change.

A mutant listed here is reported as *equivalent* and not run; it leaves the score's denominator.  A reason must say
why no input the function accepts can tell the mutant from the original (e.g. "validation two lines above forbids
the only branch where the constant matters").  An entry whose id matches no generated mutant (the code moved or
changed) is reported as *stale* and must be re-checked.  Ids are those of :mod:`proofs_check.mutation.operators`.
"""

from __future__ import annotations

#: ``{mutant id: why it is equivalent}``.
EQUIVALENT: dict[str, str] = {
    "theory.vladymyrov.model:omega_forward:L247:const:0 → -1":
        "the last axis of (xs @ alpha[..., None]) has length 1, so index 0 and index -1 are the same element",
}
