"""The catalogue of equivalent mutants: mutant ids with the reason each makes no observable change.

A mutant listed here is reported as *equivalent* and not run; it leaves the score's denominator.  A reason must say
why no input the function accepts can tell the mutant from the original (e.g. "validation two lines above forbids
the only branch where the constant matters").  Ids are those of :mod:`proofs_check.mutation.operators`.

An entry whose id differs from a generated mutant's only in the line number (code above it was edited) still
applies and is reported as *moved*, with the new id to write here; an entry that matches no mutant even so is
*stale*: the code changed and the equivalence must be re-checked.
"""

from __future__ import annotations

import re
from typing import Iterable

_LINE = re.compile(r":L\d+:")

#: ``{mutant id: why it is equivalent}``.
EQUIVALENT: dict[str, str] = {
    "theory.sander.augmented:symbolic_sequence:L490:arith:re[k] + sp.I * im[k] → re[k] - sp.I * im[k]":
        "re and im are free real symbols, so re - i*im is the substitution im -> -im of the same generic complex "
        "state; an identity in them (what the callers prove) holds for one form exactly when it holds for the other",
    "theory.sander.augmented:attention_output_sym:L578:const:0 → -1":
        "e_i^* W_KQ e_t is a 1x1 sympy Matrix, so entry [-1, 0] is entry [0, 0]",
    "theory.sander.augmented:attention_output_sym:L578:const:0 → -1#2":
        "e_i^* W_KQ e_t is a 1x1 sympy Matrix, so entry [0, -1] is entry [0, 0]",
    "theory.sander.pe_only:moment:L57:arith:1.0 + 0j → 1.0 - 0j":
        "1.0 - 0j is the same complex number as 1.0 + 0j, (1+0j), with the same +0.0 imaginary part (Python "
        "promotes 1.0 to 1+0j and 0.0 - 0.0 = +0.0); checked: repr and np.angle agree",
    "theory.sander.pe_only:moment:L57:drop-term:1.0 + 0j → 1.0":
        "np.where promotes the scalar 1.0 to complex128 because the other branch is complex, so the m == 0 "
        "entries are 1+0j either way",
    "theory.sander.pe_only:moment:L57:const:1.0 → 2.0#2":
        "this 1.0 only guards the division x/1.0 at the entries m == 0, whose quotient the outer "
        "np.where(m == 0, 1+0j, ...) discards; every other entry divides by x unchanged",
    "theory.sander.pe_only:moment:L57:const:1.0 → 0.0#2":
        "this 1.0 only guards the division at the entries m == 0 (0/0 is nan under errstate ignore), whose "
        "quotient the outer np.where(m == 0, 1+0j, ...) discards; every other entry is unchanged",
    "theory.vladymyrov.baselines:log_evidence:L243:const:0.0 → -1.0":
        "r = ||y||^2 - sum_k u_k^2 is the squared residual of y off the column space of X, >= 0 in exact "
        "arithmetic; the clip at 0.0 only removes round-off negatives of size ~n eps ||y||^2, which a clip at "
        "-1.0 lets through, changing the log evidence by at most that over sigma^2 (round-off, never observable)",
    "theory.vladymyrov.model:omega_forward:L247:const:0 → -1":
        "the last axis of (xs @ alpha[..., None]) has length 1, so index 0 and index -1 are the same element",
    # --- theory.sander.non_augmented, theory.sander.pe_only, theory.sander.softmax_pe ---
    # --- theory.sander.augmented, theory.sander.haar, theory.laurent ---
    # --- theory.vladymyrov.* ---
}


def resolve(catalogue: dict[str, str], mutant_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Match ``catalogue`` against the generated ``mutant_ids``.

    Returns ``(equivalent, moved, stale)``: ``{mutant id: reason}`` for every mutant the catalogue covers,
    ``{catalogue id: current id}`` for entries found only at another line, and the catalogue ids that match no
    mutant.  A line-free match must be unique, else the entry is stale.
    """
    ids = list(mutant_ids)
    by_shape: dict[str, list[str]] = {}
    for mid in ids:
        by_shape.setdefault(_LINE.sub(":L:", mid, count=1), []).append(mid)
    known = set(ids)
    equivalent: dict[str, str] = {}
    moved: dict[str, str] = {}
    stale: list[str] = []
    for entry, reason in catalogue.items():
        if entry in known:
            equivalent[entry] = reason
            continue
        candidates = by_shape.get(_LINE.sub(":L:", entry, count=1), [])
        if len(candidates) == 1:
            equivalent[candidates[0]] = reason
            moved[entry] = candidates[0]
        else:
            stale.append(entry)
    return equivalent, moved, stale
