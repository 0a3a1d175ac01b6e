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
    "theory.sander.augmented:symbolic_sequence:L533:arith:re[k] + sp.I * im[k] → re[k] - sp.I * im[k]":
        "re and im are free real symbols, so re - i*im is the substitution im -> -im of the same generic complex "
        "state; an identity in them (what the callers prove) holds for one form exactly when it holds for the other",
    "theory.sander.augmented:attention_output_sym:L704:const:0 → -1":
        "e_i^* W_KQ e_t is a 1x1 sympy Matrix, so entry [-1, 0] is entry [0, 0]",
    "theory.sander.augmented:attention_output_sym:L704:const:0 → -1#2":
        "e_i^* W_KQ e_t is a 1x1 sympy Matrix, so entry [0, -1] is entry [0, 0]",
    "theory.sander.pe_only:moment:L56:arith:1.0 + 0j → 1.0 - 0j":
        "1.0 - 0j is the same complex number as 1.0 + 0j, (1+0j), with the same +0.0 imaginary part (Python "
        "promotes 1.0 to 1+0j and 0.0 - 0.0 = +0.0); checked: repr and np.angle agree",
    "theory.sander.pe_only:moment:L56:drop-term:1.0 + 0j → 1.0":
        "np.where promotes the scalar 1.0 to complex128 because the other branch is complex, so the m == 0 "
        "entries are 1+0j either way",
    "theory.sander.pe_only:moment:L56:const:1.0 → 2.0#2":
        "this 1.0 only guards the division x/1.0 at the entries m == 0, whose quotient the outer "
        "np.where(m == 0, 1+0j, ...) discards; every other entry divides by x unchanged",
    "theory.sander.pe_only:moment:L56:const:1.0 → 0.0#2":
        "this 1.0 only guards the division at the entries m == 0 (0/0 is nan under errstate ignore), whose "
        "quotient the outer np.where(m == 0, 1+0j, ...) discards; every other entry is unchanged",
    "theory.vladymyrov.baselines:log_evidence:L243:const:0.0 → -1.0":
        "r = ||y||^2 - sum_k u_k^2 is the squared residual of y off the column space of X, >= 0 in exact "
        "arithmetic; the clip at 0.0 only removes round-off negatives of size ~n eps ||y||^2, which a clip at "
        "-1.0 lets through, changing the log evidence by at most that over sigma^2 (round-off, never observable)",
    "theory.vladymyrov.model:omega_forward:L247:const:0 → -1":
        "the last axis of (xs @ alpha[..., None]) has length 1, so index 0 and index -1 are the same element",
    # --- theory.sander.non_augmented, theory.sander.pe_only, theory.sander.softmax_pe ---
    # --- H1-nonaug ---
    'theory.sander.non_augmented:_row_stats:L123:const:-1 → -2':
        'T = P.shape[-2] instead of P.shape[-1]: P is square wherever this runs (loss_u/loss_o/structure_* validate it in _check_CP, the torch twins in _check_square_pair, row_statistics in its own check), so P.shape[-1] == P.shape[-2] == P.shape[0] == P.shape[1]',
    'theory.sander.non_augmented:_row_stats:L124:drop-term:T - 1 → -1':
        'used_mask(T) has exactly T rows, so used_mask(T)[:T - 1] and used_mask(T)[:-1] are the same rows',
    'theory.sander.non_augmented:_row_stats:L130:drop-term:T - 1 → -1':
        'P[..., :T - 1, :] and P[..., :-1, :] select the same rows because P has T rows: P is square wherever this runs (loss_u/loss_o/structure_* validate it in _check_CP, the torch twins in _check_square_pair, row_statistics in its own check), so P.shape[-1] == P.shape[-2] == P.shape[0] == P.shape[1]',
    'theory.sander.non_augmented:_u_rows:L171:const:-1 → -2':
        'the constant d = C.shape[-2] instead of C.shape[-1]: C is square wherever this runs (_check_CP for numpy, _check_square_pair for the torch twins and the sympy closed forms, loss_o_coefficients/loss_u_row_optimum check it), so C.shape[-1] == C.shape[-2] == C.shape[0] == C.shape[1]',
    'theory.sander.non_augmented:loss_u_row_optimum:L279:const:-1 → -2':
        'd = C.shape[-2]: the check two lines above raises unless C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_u_row_optimum:L283:const:0 → -1':
        'the outer np.where(fro > -1, …): fro = ‖C‖_F² ≥ 0, so only the entries with fro == 0 (C = 0) change branch, and there tr = 0 and the inner where divides by 1.0: d − 0/1.0 = d, the same value as float(d)',
    'theory.sander.non_augmented:loss_u_row_optimum:L283:const:1.0 → 2.0':
        'the inner fallback 1.0 is used only where fro ≤ 0, i.e. fro == 0, and there the outer np.where(fro > 0, …, float(d)) returns float(d) whatever the quotient',
    'theory.sander.non_augmented:loss_u_row_optimum:L283:const:1.0 → 0.0':
        'the inner fallback is used only where fro == 0 (the quotient 0/0 is nan under errstate ignore), and there the outer np.where(fro > 0, …, float(d)) returns float(d): the nan is discarded',
    'theory.sander.non_augmented:loss_u_row_optimum:L283:const:0 → -1#2':
        'the inner np.where(fro > -1, fro, 1.0) is fro everywhere; it differs from the original only where fro == 0, where the quotient tr²/0 = 0/0 is nan (errstate ignore) and the outer np.where(fro > 0, …, float(d)) returns float(d)',
    'theory.sander.non_augmented:_reference_o_rows:L503:const:-1 → -2':
        'the constant d = C.shape[-2] instead of C.shape[-1]: C is square wherever this runs (_check_CP for numpy, '
        '_check_square_pair for the torch twin)',
    'theory.sander.non_augmented:_o_rows:L379:const:-1 → -2':
        'd = C.shape[-2] instead of C.shape[-1]: C is square (_check_CP, _check_square_pair)',
    'theory.sander.non_augmented:loss_o_row_gram:L450:const:0 → 1':
        "C is a 2-D square matrix wherever this runs (real_array(ndim=2) and loss_o_coefficients' square check), so "
        "C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]",
    'theory.sander.non_augmented:loss_o_row_gram:L450:const:0 → -1':
        "C is a 2-D square matrix wherever this runs (real_array(ndim=2) and loss_o_coefficients' square check), so "
        "C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]",
    'theory.sander.non_augmented:_used_except:L605:const:-1 → 0':
        'P is a 2-D square matrix wherever this runs (its only callers structure_u/structure_o pass finite_array(ndim=2) after _check_CP), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:_used_except:L605:const:-1 → -2':
        'P is a 2-D square matrix wherever this runs (its only callers structure_u/structure_o pass finite_array(ndim=2) after _check_CP), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:structure_u:L662:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:structure_u:L662:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:structure_u:L671:const:0 → 1':
        'P is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:structure_u:L671:const:0 → -1':
        'P is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:structure_o:L760:const:0 → 1':
        'P is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:structure_o:L760:const:0 → -1':
        'P is a 2-D square matrix wherever this runs (_check_CP and finite_array(ndim=2) above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:_rows_sym:L840:const:0 → 1':
        'P is a 2-D square matrix wherever this runs (its only callers, the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:_rows_sym:L840:const:0 → -1':
        'P is a 2-D square matrix wherever this runs (its only callers, the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:loss_u_closed_sympy:L855:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_u_closed_sympy:L855:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_u_closed_sympy:L856:swap:C[k, l] → C[l, k]':
        '‖C‖_F² = Σ_k Σ_l C[k,l]² summed over the full square index set {0..d−1}² is the same sum with the indices swapped',
    'theory.sander.non_augmented:loss_u_reference_sympy:L882:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_u_reference_sympy:L882:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_u_reference_sympy:L883:swap:C[k, l] → C[l, k]':
        '‖C‖_F² = Σ_k Σ_l C[k,l]² summed over the full square index set {0..d−1}² is the same sum with the indices swapped',
    'theory.sander.non_augmented:loss_u_reference_sympy:L884:const:0 → 1':
        'P is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:loss_u_reference_sympy:L884:const:0 → -1':
        'P is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:loss_o_closed_sympy:L899:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_o_closed_sympy:L899:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_o_reference_sympy:L944:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_o_reference_sympy:L944:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (the sympy closed forms call _check_square_pair(C, P) first, and a sympy Matrix is 2-D), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:loss_o_reference_sympy:L947:swap:C[k, l] → C[l, k]':
        't2 = ‖C‖_F² = Σ_k Σ_l C[k,l]² over the full square index set {0..d−1}² is the same sum with the indices swapped',
    'theory.sander.non_augmented:lambdified_loss:L1152:const:0 → 1':
        'C is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:lambdified_loss:L1152:const:0 → -1':
        'C is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so C.shape[0] == C.shape[1] == C.shape[-1] == C.shape[-2]',
    'theory.sander.non_augmented:lambdified_loss:L1152:const:0 → 1#2':
        'P is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:lambdified_loss:L1152:const:0 → -1#2':
        'P is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:lambdified_loss:L1153:const:0 → 1':
        'P is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:lambdified_loss:L1153:const:0 → -1':
        'P is a 2-D square matrix wherever this runs (_check_CP and the ndim == 2 check above), so P.shape[0] == P.shape[1] == P.shape[-1] == P.shape[-2]',
    'theory.sander.non_augmented:loss_u_derivation:L989:shift:T → T + 1':
        'the list s of states s_0..s_T is read only at s[j] (j ≤ r + 1 ≤ T − 1) and s[r + 2] (≤ T): building it for t < T + 2 adds a state that is never read',
    'theory.sander.non_augmented:loss_u_derivation:L989:const:1 → 2':
        'the list s of states s_0..s_T is read only at s[j] (j ≤ r + 1 ≤ T − 1) and s[r + 2] (≤ T): building it for t < T + 2 adds a state that is never read',
    'theory.sander.non_augmented:loss_u_derivation:L990:arith:T + 1 → T - 1':
        'sbar (the conjugate states) is read only at sbar[r] with r ≤ T − 2, so building it for t < T − 1, T or T + 2 gives the same entries wherever it is read',
    'theory.sander.non_augmented:loss_u_derivation:L990:drop-term:T + 1 → T':
        'sbar (the conjugate states) is read only at sbar[r] with r ≤ T − 2, so building it for t < T − 1, T or T + 2 gives the same entries wherever it is read',
    'theory.sander.non_augmented:loss_u_derivation:L990:shift:T → T + 1':
        'sbar (the conjugate states) is read only at sbar[r] with r ≤ T − 2, so building it for t < T − 1, T or T + 2 gives the same entries wherever it is read',
    'theory.sander.non_augmented:loss_u_derivation:L990:const:1 → 2#2':
        'sbar (the conjugate states) is read only at sbar[r] with r ≤ T − 2, so building it for t < T − 1, T or T + 2 gives the same entries wherever it is read',
    'theory.sander.non_augmented:loss_u_derivation:L990:const:1 → 0#2':
        'sbar (the conjugate states) is read only at sbar[r] with r ≤ T − 2, so building it for t < T − 1, T or T + 2 gives the same entries wherever it is read',
    'theory.sander.non_augmented:loss_o_derivation:L1024:const:2 → 1':
        'M = d blocks instead of d/2: s[t] gets 2d coordinates of which only the first d (the same d/2 blocks) are read (l, k < d); the extra generators λ_m, u_m (m ≥ d/2) never occur in the squared error, so its constant term is unchanged',
    'theory.sander.non_augmented:loss_o_derivation:L1037:shift:T → T + 1':
        'the list s of states s_0..s_T is read only at s[j] (j ≤ r + 1 ≤ T − 1) and s[r + 2] (≤ T): building it for t < T + 2 adds a state that is never read',
    'theory.sander.non_augmented:loss_o_derivation:L1037:const:1 → 2':
        'the list s of states s_0..s_T is read only at s[j] (j ≤ r + 1 ≤ T − 1) and s[r + 2] (≤ T): building it for t < T + 2 adds a state that is never read',
    'theory.sander.non_augmented:heads_factorisation_sympy:L1071:const:2 → 3':
        'heads − via_c expands to the zero polynomial for every d and H (C = BᵀA is exactly the sum over heads), so every power of it is 0 as well',
    'theory.sander.non_augmented:heads_factorisation_sympy:L1071:const:2 → 1':
        'heads − via_c expands to the zero polynomial for every d and H (C = BᵀA is exactly the sum over heads), so the sum of the differences is 0 as well',
    'theory.sander.non_augmented:heads_factorisation_sympy:L1071:const:2 → 4':
        'heads − via_c expands to the zero polynomial for every d and H (C = BᵀA is exactly the sum over heads), so every power of it is 0 as well',
    'theory.sander.non_augmented:pe_ratio_from_cayley_hamilton:L1114:shift:t → t + 1':
        'every state gets one more factor λ (s_t → s_{t+1}): this is the substitution u → uλ, a bijection of the Laurent monomials λ^a u^b → λ^(a+b) u^b, so the set of coefficient equations (and their number) and the solution are unchanged',
    'theory.sander.non_augmented:pe_ratio_from_cayley_hamilton:L1118:const:0 → -1':
        '(sq.T * sq) is a 1×1 sympy Matrix: entry [-1] is entry [0]',
    'theory.sander.non_augmented:pe_ratio_from_cayley_hamilton:L1118:const:0 → -1#2':
        '(sq.T * sc) is a 1×1 sympy Matrix: entry [-1] is entry [0]',
    'theory.sander.non_augmented:pe_ratio_from_cayley_hamilton:L1125:const:0 → -1':
        'sol has exactly one element (checked just above), so sol[-1] is sol[0]',
    'theory.sander.non_augmented:loss_o_minimiser:L587:const:2 → 1':
        'nb = d instead of d/2 (blocks None): the extra iterations m ≥ d/2 assign to C[2m:2m+2, 2m:2m+2] with 2m ≥ d, an empty slice of the d×d array, so C is unchanged',
    'theory.sander.non_augmented:loss_o_minimiser:L587:const:2 → 1#2':
        'nb = min(blocks, d) instead of min(blocks, d/2): nb differs only when blocks > d/2, and then the extra iterations m ≥ d/2 assign to empty slices C[2m:2m+2, …] (2m ≥ d), so C is unchanged',
    "theory.sander.non_augmented:structure_o:L756:const:0 → -1":
        "fro = ||C||_F is never negative, so fro == -1 is never true; but where the original's fro == 0 holds, "
        "C = 0 and alpha = (C * E).sum() / E.sum() = 0.0 exactly, so the second test alpha == 0 takes the same "
        "branch: every input returns the same dict",
    # --- theory.sander.augmented, theory.sander.haar, theory.laurent ---
    # --- H2-aug ---
    'theory.sander.augmented:restricted_tensors_u:L865:const:-1 → -2':
        "numpy's reshape infers the one negative entry whatever its value (reshape(6, -2) has shape (6, d**6), "
        'checked on numpy 2.4), so idx is unchanged',
    'theory.sander.augmented:restricted_tensors_u:L868:const:-1 → -2':
        "numpy's reshape infers the one negative entry whatever its value (reshape(4, -2) has shape (4, d**4), "
        'checked on numpy 2.4), so lidx is unchanged',
    'theory.sander.augmented:restricted_tensors_u:L880:drop-term:-ol[0] + ol[1] - ol[2] → -ol[2]':
        'the lambda-exponent test applied to every lin entry (expo = -(t+1)[k] + i[a] + (1-i)[b] + t[c] = 0 at '
        'every coordinate, 1 <= i <= t) already forces k = a = c, and b = k unless i = 1 (s_0 carries no lambda);'
        " the s_0-phase balance then only decides b = k in the i = 1 terms, and the mutant's b = c decides the "
        'same (c = k); every lin entry is the same',
    'theory.sander.augmented:restricted_tensors_u:L880:const:1 → 0':
        'the lambda-exponent test applied to every lin entry (expo = -(t+1)[k] + i[a] + (1-i)[b] + t[c] = 0 at '
        'every coordinate, 1 <= i <= t) already forces k = a = c, and b = k unless i = 1 (s_0 carries no lambda);'
        " the mutant's balance -[k] + [k] - [b] + [c] = 0 is b = c, which with c = k decides b = k exactly as the"
        ' original; every lin entry is the same',
    'theory.sander.augmented:restricted_tensors_u:L880:const:0 → 1#3':
        'the lambda-exponent test applied to every lin entry (expo = -(t+1)[k] + i[a] + (1-i)[b] + t[c] = 0 at '
        'every coordinate, 1 <= i <= t) already forces k = a = c, and b = k unless i = 1 (s_0 carries no lambda);'
        " the mutant's balance -[a] + [a] - [b] + [c] = 0 is b = c, which with c = k decides b = k exactly as the"
        ' original; every lin entry is the same',
    'theory.sander.augmented:restricted_tensors_u:L880:const:0 → -1#3':
        'the lambda-exponent test applied to every lin entry (expo = -(t+1)[k] + i[a] + (1-i)[b] + t[c] = 0 at '
        'every coordinate, 1 <= i <= t) already forces k = a = c, and b = k unless i = 1 (s_0 carries no lambda);'
        " the mutant's balance -[c] + [a] - [b] + [c] = 0 is a = b, which with a = k decides b = k exactly as the"
        ' original; every lin entry is the same',
    'theory.sander.augmented:restricted_tensors_u:L881:const:1 → 2':
        'val_l is only added where the original balance and the lambda-exponent test both hold, which forces k = '
        "a = b = c (see the L971 entries); there the mutant's counts [b] + [c] equal the original [a] + [c]",
    'theory.sander.augmented:restricted_tensors_u:L881:const:1 → 0':
        'val_l is only added where the original balance and the lambda-exponent test both hold, which forces k = '
        "a = b = c (see the L971 entries); there the mutant's counts [k] + [c] equal the original [a] + [c]",
    'theory.sander.augmented:restricted_tensors_u:L881:const:3 → 2':
        'val_l is only added where the original balance and the lambda-exponent test both hold, which forces k = '
        "a = b = c (see the L971 entries); there the mutant's counts [a] + [b] equal the original [a] + [c]",
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L64:const:0 → -1':
        'b has been checked to be 1-D two lines above (real_array(..., ndim=1)), so b.shape[-1] is b.shape[0]',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L70:const:1 → 0':
        'the extra k = 0 iteration tries only the empty support: K = [[0]], rhs = [1], lstsq gives sol = [0] and '
        'K @ sol = 0 is not close to 1, so the candidate is always rejected (continue) and nothing changes',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L70:const:1 → 2#2':
        'the extra k = n + 1 iteration enumerates itertools.combinations(range(n), n + 1), which is empty: no '
        'candidate is added',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L73:const:1 → 2#2':
        'the extra last column of K is zero, so the minimum-norm least-squares solution of [K 0] x = rhs is '
        '[pinv(K) rhs; 0]: sol[:k] and K @ sol are those of the original. Only where G_S is singular (several '
        "minimisers) may lstsq's rank cut-off, which depends on the matrix shape, pick another point of the same "
        'face with the same value: the function promises the minimum and a minimiser',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L78:const:1e-09 → 1.000000001':
        'K = [[2 G_S, 1], [1^T, 0]] with G PSD has null space {(x, 0): G_S x = 0, 1^T x = 0} (x^T G_S x = 0 '
        "forces G_S x = 0, then mu = 0), so lstsq's residual lies in the first k rows and every candidate it "
        'returns meets sum(p) = 1 exactly; a candidate accepted only because of the wider atol is therefore a '
        'point of the simplex (after the clip of entries >= -1e-12) whose value is >= the minimum, and it can '
        'replace the current best only when strictly lower: never, beyond float round-off',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L78:const:1e-09 → 2e-09':
        'K = [[2 G_S, 1], [1^T, 0]] with G PSD has null space {(x, 0): G_S x = 0, 1^T x = 0} (x^T G_S x = 0 '
        "forces G_S x = 0, then mu = 0), so lstsq's residual lies in the first k rows and every candidate it "
        'returns meets sum(p) = 1 exactly; a candidate accepted only because of the wider atol is therefore a '
        'point of the simplex (after the clip of entries >= -1e-12) whose value is >= the minimum, and it can '
        'replace the current best only when strictly lower: never, beyond float round-off',
    'theory.sander.softmax_pe:simplex_quadratic_minimum:L78:const:-1e-12 → -2e-12':
        'the mutant also accepts face solutions with entries in [-2e-12, -1e-12): after the clip to 0 they are '
        "within 2e-12 per entry of a simplex point (sum(p) = 1 holds exactly for lstsq's solution, see the atol "
        'entries), so their value exceeds the minimum by at most round-off and they can replace the minimiser '
        'only by round-off',
    'theory.sander.pe_only:loss_rows:L115:const:0 → 1':
        '_check_P one line above rejects any P that is not square (P.shape[0] != P.shape[1] raises), so '
        'P.shape[1] and P.shape[-1] equal P.shape[0]',
    'theory.sander.pe_only:loss_rows:L115:const:0 → -1':
        '_check_P one line above rejects any P that is not square (P.shape[0] != P.shape[1] raises), so '
        'P.shape[1] and P.shape[-1] equal P.shape[0]',
    'theory.sander.augmented:symbolic_moments:L458:const:2 → 1':
        'case O with n_coord = d builds d rotation blocks (2d entries per state) where d/2 are needed, but every '
        'sum below runs over range(d), i.e. reads only the entries of the first d/2 blocks, built from the same '
        'lam[m], om[m], rho[m] (m < d/2); the extra symbols never enter an expression, so constant_term and '
        '_radial_average (exponent 0) return the same (a_t, b_t, c)',
    'theory.sander.augmented:symbolic_moments:L473:shift:t → t + 1':
        'states are built for indices 0..t+2 instead of 0..t+1, but only states[i] (i <= t) and states[t + 1] are'
        ' read',
    'theory.sander.augmented:symbolic_moments:L473:const:2 → 3':
        'states are built for indices 0..t+2 instead of 0..t+1, but only states[i] (i <= t) and states[t + 1] are'
        ' read',
    'theory.sander.augmented:symbolic_moments:L473:const:2 → 4':
        'states are built for indices 0..t+3 instead of 0..t+1, but only states[i] (i <= t) and states[t + 1] are'
        ' read',
    'theory.sander.augmented:symbolic_moments:L476:const:0 → 1':
        'every monomial of vc_k = sum_i conj(s_{i,k}) (s_{i-1} . conj(s_t)) carries the s_0 phases with total '
        'degree -1 (one omega against two conjugates; case O: three real entries, each omega^(+-1), odd total), '
        'and every monomial of v_k and of conj(s_{t+1,k}) degree +1 or odd: their constant terms in omega vanish '
        '(every claim path averages over omega since the option phase_invariant_s0 was removed), so starting v at'
        ' 1 adds CT(sum_k vc_k) = 0 to a_t and CT(sum_k conj(s_{t+1,k})) = 0 to b_t',
    'theory.sander.augmented:symbolic_moments:L476:const:0 → -1':
        'every monomial of vc_k = sum_i conj(s_{i,k}) (s_{i-1} . conj(s_t)) carries the s_0 phases with total '
        'degree -1 (one omega against two conjugates; case O: three real entries, each omega^(+-1), odd total), '
        'and every monomial of v_k and of conj(s_{t+1,k}) degree +1 or odd: their constant terms in omega vanish '
        '(every claim path averages over omega since the option phase_invariant_s0 was removed), so starting v at'
        ' -1 adds -CT(sum_k vc_k) = 0 to a_t and -CT(sum_k conj(s_{t+1,k})) = 0 to b_t',
    'theory.sander.augmented:symbolic_moments:L480:const:0 → 1':
        'every monomial of vc_k = sum_i conj(s_{i,k}) (s_{i-1} . conj(s_t)) carries the s_0 phases with total '
        'degree -1 (one omega against two conjugates; case O: three real entries, each omega^(+-1), odd total), '
        'and every monomial of v_k and of conj(s_{t+1,k}) degree +1 or odd: their constant terms in omega vanish '
        '(every claim path averages over omega since the option phase_invariant_s0 was removed), so starting vc '
        'at 1 adds CT(sum_k v_k) = 0 to a_t (vc enters a_t only)',
    'theory.sander.augmented:symbolic_moments:L480:const:0 → -1':
        'every monomial of vc_k = sum_i conj(s_{i,k}) (s_{i-1} . conj(s_t)) carries the s_0 phases with total '
        'degree -1 (one omega against two conjugates; case O: three real entries, each omega^(+-1), odd total), '
        'and every monomial of v_k and of conj(s_{t+1,k}) degree +1 or odd: their constant terms in omega vanish '
        '(every claim path averages over omega since the option phase_invariant_s0 was removed), so starting vc '
        'at -1 adds -CT(sum_k v_k) = 0 to a_t (vc enters a_t only)',
    'theory.sander.augmented:symbolic_moments:L485:drop-term:list(lam) + list(om) → list(lam)':
        'a_t, b_t and c are free of the s_0 phases before any averaging: case U, s_{a,k} conj(s_{b,k}) = rho_k^2 '
        'lam_k^(a-b) and every product pairs each omega_k with its conjugate (v_k = omega_k * (omega-free), '
        'conj(s_{t+1,k}) = conj(omega_k) * ...); case O, every quantity is a sum of products of within-block dot '
        'products s_a . s_b = r^2 cos((a-b) theta), an algebraic identity in z = omega lam^i (cos^2 + sin^2 = 1) '
        "that sympy's expand cancels; so the constant term in lam alone is the constant term in (lam, omega)",
    'theory.sander.augmented:context_matrix_sym:L554:const:0 → -1#2':
        'every state is a d x 1 column (states come from symbolic_sequence or explicit sequences of one '
        'dimension), so states[-1].shape[0] equals states[0].shape[0] for every non-empty sequence',
    'theory.sander.augmented:inner_objective_sym:L578:const:0 → -1':
        'r.H * r is a 1x1 sympy Matrix (r is the d x 1 residual column), so entry [-1, 0] is entry [0, 0]',
    'theory.sander.augmented:inner_objective_sym:L578:const:0 → -1#2':
        'r.H * r is a 1x1 sympy Matrix (r is the d x 1 residual column), so entry [0, -1] is entry [0, 0]',
    'theory.sander.augmented:inner_gradient_at_zero_sym:L602:const:0 → -1#2':
        'every state is a d x 1 column, so states[-1].shape[0] equals states[0].shape[0] for every non-empty '
        'sequence',
    'theory.sander.augmented:block_parameters_sym:L656:const:0 → 1':
        'V is the d x d block: with a square v, v.shape[1] and v.shape[-1] equal v.shape[0]; a non-square v (d x '
        'e) cannot be assigned to the d x d slice w_v[0:d, d:2d] (original) nor to w_v[0:e, e:2e] (mutant): both '
        'raise',
    'theory.sander.augmented:block_parameters_sym:L656:const:0 → -1':
        'V is the d x d block: with a square v, v.shape[1] and v.shape[-1] equal v.shape[0]; a non-square v (d x '
        'e) cannot be assigned to the d x d slice w_v[0:d, d:2d] (original) nor to w_v[0:e, e:2e] (mutant): both '
        'raise',
    'theory.sander.augmented:block_parameters_sym:L659:const:3 → 4':
        'w_kq has 3d rows, and sympy (like Python) clips a slice past the end: w_kq[2d:4d, d:2d] is the same d x '
        'd block as w_kq[2d:3d, d:2d]',
    'theory.sander.augmented:block_parameters_sym:L659:const:3 → 6':
        'w_kq has 3d rows, and sympy (like Python) clips a slice past the end: w_kq[2d:6d, d:2d] is the same d x '
        'd block as w_kq[2d:3d, d:2d]',
    'theory.sander.augmented:augmented_tokens_sym:L674:const:0 → -1#2':
        'every state is a d x 1 column, so states[-1].shape[0] equals states[0].shape[0] for every non-empty '
        'sequence',
    'theory.sander.augmented:distance_to_identity:L977:const:0 → 1':
        'mat has been checked to be square two lines above (a.shape[0] != a.shape[1] raises), so a.shape[1] and '
        'a.shape[-1] equal a.shape[0]',
    'theory.sander.augmented:distance_to_identity:L977:const:0 → -1':
        'mat has been checked to be square two lines above (a.shape[0] != a.shape[1] raises), so a.shape[1] and '
        'a.shape[-1] equal a.shape[0]',
    'theory.sander.augmented:distance_to_identity:L977:const:0 → 1#2':
        'mat has been checked to be square two lines above (a.shape[0] != a.shape[1] raises), so a.shape[1] and '
        'a.shape[-1] equal a.shape[0]',
    'theory.sander.augmented:distance_to_identity:L977:const:0 → -1#2':
        'mat has been checked to be square two lines above (a.shape[0] != a.shape[1] raises), so a.shape[1] and '
        'a.shape[-1] equal a.shape[0]',
    'theory.sander.pe_only:row_features:L212:const:1e-12 → 2e-12':
        'both 1e-12 and 2e-12 are round-off cuts (the PE entries the features describe are O(1e-4) to O(1); '
        'round-off in the GD rows is ~1e-17): the two thresholds differ only for entries of magnitude in (1e-12, '
        '2e-12], which no computed or stored row holds (float32 stored rows resolve ~1e-8 relative to O(0.1) '
        'entries, GD noise is ~1e-17), so no count changes; observable only by feeding a hand-made row with such '
        'an entry (round-off level)',
    'theory.sander.augmented:shared_optimum:L409:const:1 → 2':
        'the position argument of this call only feeds c = E||s_{t+1}||^2, which moment_exprs gives as d*m2 (case'
        ' U) or (d/2)*m2 (case O), free of t: evaluating it at t = 2 or t = 0 instead of t = 1 returns the same c',
    'theory.sander.augmented:shared_optimum:L409:const:1 → 0':
        'the position argument of this call only feeds c = E||s_{t+1}||^2, which moment_exprs gives as d*m2 (case'
        ' U) or (d/2)*m2 (case O), free of t: evaluating it at t = 2 or t = 0 instead of t = 1 returns the same c',
    # --- theory.vladymyrov.* ---
    # --- H4-vlad ---
    "theory.vladymyrov.baselines:ridge_weights:L84:const:0 → -1":
        "np.linalg.solve(r, M[..., None]) has a last axis of length 1 (the right-hand side was made a column two "
        "tokens earlier), so index 0 and index -1 are the same element",
    "theory.vladymyrov.baselines:ridge_spectrum:L182:const:0 → -1":
        "(_swap(u) @ y[..., None]) has a last axis of length 1 (y made a column by [..., None]), so index 0 and index "
        "-1 are the same element",
    "theory.vladymyrov.baselines:ridge_spectrum:L183:const:0 → -1":
        "(vt @ x_query[..., None]) has a last axis of length 1 (x_query made a column by [..., None]), so index 0 and "
        "index -1 are the same element",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L344:const:1 → 2":
        "plain_gd_layers_needed returns L* = least L >= 1 with rho**L <= eps from ANY integer start L0 >= 1: the first loop only decrements while rho**(L-1) <= eps, i.e. while L-1 >= L* (float pow is monotone in the exponent), so it never ends above L* when started above it and never moves a start below it; the second loop then raises L to L*. max(2, .) only changes the start L0 (to >= 1)",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L344:const:1 → 0":
        "plain_gd_layers_needed returns L* = least L >= 1 with rho**L <= eps from ANY integer start L0 >= 1: the first loop only decrements while rho**(L-1) <= eps, i.e. while L-1 >= L* (float pow is monotone in the exponent), so it never ends above L* when started above it and never moves a start below it; the second loop then raises L to L*. max(0, c) = c here: 0 < eps, rho < 1 make ln(eps)/ln(rho) > 0, so its ceil is >= 1 and L0 is unchanged",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L346:const:1 → 2":
        "plain_gd_layers_needed returns L* = least L >= 1 with rho**L <= eps from ANY integer start L0 >= 1: the first loop only decrements while rho**(L-1) <= eps, i.e. while L-1 >= L* (float pow is monotone in the exponent), so it never ends above L* when started above it and never moves a start below it; the second loop then raises L to L*. Decrementing by 2 while rho**(L-1) <= eps (L-1 >= L*) ends at some L in [L*-1, L*] (or 0 when L* = 1, "
        "which the second loop raises to 1 since rho**0 = 1 > eps): the second loop returns L*",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L345:const:1 → 2":
        "plain_gd_layers_needed returns L* = least L >= 1 with rho**L <= eps from ANY integer start L0 >= 1: the first loop only decrements while rho**(L-1) <= eps, i.e. while L-1 >= L* (float pow is monotone in the exponent), so it never ends above L* when started above it and never moves a start below it; the second loop then raises L to L*. 'L > 2' differs from 'L > 1' only at L = 2, where the original tests rho <= eps, i.e. L* = 1; but L* = 1 "
        "means |ln rho| >= |ln eps| (monotone log), so the float quotient ln(eps)/ln(rho) <= 1 and the start L0 = 1: "
        "the loop never reaches L = 2 with L* = 1",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L345:const:1 → 0":
        "plain_gd_layers_needed returns L* = least L >= 1 with rho**L <= eps from ANY integer start L0 >= 1: the first loop only decrements while rho**(L-1) <= eps, i.e. while L-1 >= L* (float pow is monotone in the exponent), so it never ends above L* when started above it and never moves a start below it; the second loop then raises L to L*. 'L > 0' differs from 'L > 1' only at L = 1, where the condition rho**0 = 1 <= eps is false (eps < 1)",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L345:arith:L - 1 → L + 1":
        "the two loops of plain_gd_layers_needed return L* (least L >= 1 with rho**L <= eps) whenever the first "
        "loop ends at some L <= L* after starting anywhere: the second loop then raises L to L* (float pow monotone"
        " in the exponent). With rho**(L+1) <= eps the first loop decrements while L+1 >= L*, so it ends at max(1, "
        "L*-2) or below its start <= L*",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L345:drop-term:L - 1 → L":
        "the two loops of plain_gd_layers_needed return L* (least L >= 1 with rho**L <= eps) whenever the first "
        "loop ends at some L <= L* after starting anywhere: the second loop then raises L to L* (float pow monotone"
        " in the exponent). With rho**L <= eps the first loop decrements while L >= L*, so it ends at max(1, L*-1) "
        "or at a start below L*",
    "theory.vladymyrov.second_order:plain_gd_layers_needed:L345:const:1 → 0#2":
        "the two loops of plain_gd_layers_needed return L* (least L >= 1 with rho**L <= eps) whenever the first "
        "loop ends at some L <= L* after starting anywhere: the second loop then raises L to L* (float pow monotone"
        " in the exponent). rho**(L - 0) <= eps: the first loop decrements while L >= L*, so it ends at max(1, "
        "L*-1) or at a start below L*",
    "theory.vladymyrov.adaptive:label_cosine:L270:const:0 → -1":
        "the outer condition na > -1 is always true (na is a norm, >= 0); where na = 0 the label vector is 0, so "
        "the computed branch (a * b).sum(-1) / np.where(na > 0, na, 1.0) / nb = 0 / 1.0 / nb = 0.0, the value of "
        "the original's else branch, without any 0/0",
    "theory.vladymyrov.adaptive:label_cosine:L270:const:1.0 → 2.0":
        "the 1.0 only replaces na where na == 0, whose quotient the outer np.where(na > 0, ..., 0.0) discards; a "
        "nonzero 2.0 keeps that division finite (0/2.0/nb), so neither values nor floating-point warnings change",
    'theory.vladymyrov.adaptive:omega_layer_weights:L150:const:0 → -1':
        'p[...] and q[...] are np.zeros((L, 1)): an axis of length 1, so index -1 is index 0',
    'theory.vladymyrov.adaptive:omega_layer_weights:L151:const:0 → -1':
        'p[...] and q[...] are np.zeros((L, 1)): an axis of length 1, so index -1 is index 0',
    'theory.vladymyrov.adaptive:omega_layer_weights:L159:const:0 → -1':
        'm = np.zeros((L, 1, d + 1, d + 1)) has one head (axis 1 of length 1), so m[i, -1, j, j] is m[i, 0, j, j]',
    'theory.vladymyrov.adaptive:omega_layer_weights:L160:const:0 → -1':
        'm = np.zeros((L, 1, d + 1, d + 1)) has one head (axis 1 of length 1), so m[i, -1, j, j] is m[i, 0, j, j]',
    'theory.vladymyrov.adaptive:omega_layer_weights:L159:const:0 → -1#2':
        'a and b are the (L, 1) arrays p[...] / q[...]: axis 1 has length 1, so a[i, -1] is a[i, 0]',
    'theory.vladymyrov.adaptive:omega_layer_weights:L160:const:0 → -1#2':
        'a and b are the (L, 1) arrays p[...] / q[...]: axis 1 has length 1, so a[i, -1] is a[i, 0]',
    'theory.vladymyrov.adaptive:thm52_constants_symbolic:L515:const:0 → -1':
        'the system is linear in (omega_yx, z) with determinant s1 - s2, nonzero for distinct symbols: sympy.solve returns exactly one solution dict, so [-1] is [0]',
    'theory.vladymyrov.adaptive:thm52_two_layer_weights:L540:const:0 → -1':
        '(x @ alpha[..., None]) has a last axis of length 1 (alpha made a column by [..., None]), so index -1 is index 0',
    'theory.vladymyrov.adaptive:_field_solve:L661:const:0 → 1':
        "_field_solve is private with one caller, symbolic_sec53_residuals(form='paper'), which passes Σ = XᵀX of free symbols over the rational-function field: at step k every entry m[i][k], i >= k, is a nonzero, non-constant rational function (a Schur-complement entry of a generic Gram matrix), never the constant 1; so 'first i with m[i][k] != 1' is i = k, the original's first nonzero pivot",
    'theory.vladymyrov.adaptive:_field_solve:L661:const:0 → -1':
        "_field_solve is private with one caller, symbolic_sec53_residuals(form='paper'), which passes Σ = XᵀX of free symbols over the rational-function field: at step k every entry m[i][k], i >= k, is a nonzero, non-constant rational function (a Schur-complement entry of a generic Gram matrix), never the constant -1; so 'first i with m[i][k] != -1' is i = k, the original's first nonzero pivot",
    'theory.vladymyrov.adaptive:_field_solve:L666:const:0 → 1':
        'back substitution runs k = size-1 down to 0 and reads v[j] only for j > k, each written before it is read: the initial values of v are never read, for any input',
    'theory.vladymyrov.adaptive:_field_solve:L666:const:0 → -1':
        'back substitution runs k = size-1 down to 0 and reads v[j] only for j > k, each written before it is read: the initial values of v are never read, for any input',
    'theory.vladymyrov.adaptive:_field_solve:L668:drop-term:k + 1 → k':
        'the extra term j = k is m[k][k] * v[k] with v[k] still its initial 0 (written only by this assignment): adds 0, for any input',
    'theory.vladymyrov.adaptive:_field_solve:L668:const:1 → 0':
        'the extra term j = k is m[k][k] * v[k] with v[k] still its initial 0 (written only by this assignment): adds 0, for any input',
    'theory.vladymyrov.adaptive:_field_solve:L668:drop-term:k + 1 → 1':
        'the sum then runs over j = 1..size-1; the terms j <= k read v[j] still at its initial 0 (back substitution runs k downward, writing v[k] only here), and for k = 0 the range is the original k+1..size-1: adds 0, for any input',
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L721:const:1 → 2':
        'layer 2 is an omega_yx-only layer, which moves labels only (x <- x + 0): the context x after layer 2 is the x after layer 1, for every n, d and form',
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L721:const:1 → 0#2':
        'layer 1 is an omega_xy-only layer, which moves x only (y <- y + 0): the context labels after layer 1 are the labels of layer 0, for every n, d and form',
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L723:drop-term:… (1 + b * lam)) + list(fp.tokens[1][-1, :-1] - t) → … (1 + b * lam))':
        "the query's x after the omega_xy layer is x_t + omega_xy y_t alpha with y_t = 0, i.e. t, and the omega_yx layer leaves x alone: these entries are identically 0 (tokens 0, 1 and 2 alike), and _nonzero drops zeros, so the returned list is the same for every n, d and form",
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L723:const:1 → 2#2':
        "the query's x after the omega_xy layer is x_t + omega_xy y_t alpha with y_t = 0, i.e. t, and the omega_yx layer leaves x alone: these entries are identically 0 (tokens 0, 1 and 2 alike), and _nonzero drops zeros, so the returned list is the same for every n, d and form",
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L723:const:1 → 0#2':
        "the query's x after the omega_xy layer is x_t + omega_xy y_t alpha with y_t = 0, i.e. t, and the omega_yx layer leaves x alone: these entries are identically 0 (tokens 0, 1 and 2 alike), and _nonzero drops zeros, so the returned list is the same for every n, d and form",
    'theory.vladymyrov.adaptive:symbolic_sec53_residuals:L723:drop-term:list(alpha1 - alpha * (1 + b * lam)) + list(fp.tokens[1][-1… → list(fp.tokens[1][-1…':
        'alpha^1 - (1 + omega_xy lambda) alpha is identically 0 in the rational-function field (that identity is what the function proves: it returns only nonzero residuals), so dropping these entries returns the same list for every n, d and form',
    'theory.vladymyrov.second_order:lemma_a3_exact:L237:const:0 → -1':
        '(1 - t)(1 - 3t) has derivative 6t - 4 < 0 for t < 2/3, so it decreases on [-1, 0]: every value there is >= its value at t = 0, which is in [0, c] (c = gamma_nu in (0, 1), kappa_map_sympy refuses others); the minimum over [-1, c] is the minimum over [0, c]',
    'theory.vladymyrov.second_order:lemma_a3_exact:L243:const:4 → 5':
        'only the coefficients of eps^0..eps^3 are read (ser.coeff(eps, i), i < 4); a series to a higher order has the same low coefficients',
    'theory.vladymyrov.second_order:lemma_a3_exact:L243:const:4 → 8':
        'only the coefficients of eps^0..eps^3 are read (ser.coeff(eps, i), i < 4); a series to a higher order has the same low coefficients',
    'theory.vladymyrov.second_order:lemma_a3_exact:L246:const:1 → 2':
        "this branch runs only when the linear coefficient (1 - 3c)/(1 - c) of kappa'(1 + eps) vanishes, i.e. c = 1/3; there (kappa' - 1)/eps^2 = (3 + 4 eps)/(2 + 3 eps)^2, whose derivative -(10 + 12 eps)/(2 + 3 eps)^3 is < 0 for eps > 0: strictly decreasing, so its sup over (0, b] is the limit 3/4 at eps -> 0+ for every b > 0",
    'theory.vladymyrov.second_order:lemma_a3_exact:L246:const:10 → 11':
        "this branch runs only when the linear coefficient (1 - 3c)/(1 - c) of kappa'(1 + eps) vanishes, i.e. c = 1/3; there (kappa' - 1)/eps^2 = (3 + 4 eps)/(2 + 3 eps)^2, whose derivative -(10 + 12 eps)/(2 + 3 eps)^3 is < 0 for eps > 0: strictly decreasing, so its sup over (0, b] is the limit 3/4 at eps -> 0+ for every b > 0",
    'theory.vladymyrov.second_order:lemma_a3_exact:L246:const:10 → 9':
        "this branch runs only when the linear coefficient (1 - 3c)/(1 - c) of kappa'(1 + eps) vanishes, i.e. c = 1/3; there (kappa' - 1)/eps^2 = (3 + 4 eps)/(2 + 3 eps)^2, whose derivative -(10 + 12 eps)/(2 + 3 eps)^3 is < 0 for eps > 0: strictly decreasing, so its sup over (0, b] is the limit 3/4 at eps -> 0+ for every b > 0",
    'theory.vladymyrov.second_order:lemma_a3_exact:L246:const:10 → 20':
        "this branch runs only when the linear coefficient (1 - 3c)/(1 - c) of kappa'(1 + eps) vanishes, i.e. c = 1/3; there (kappa' - 1)/eps^2 = (3 + 4 eps)/(2 + 3 eps)^2, whose derivative -(10 + 12 eps)/(2 + 3 eps)^3 is < 0 for eps > 0: strictly decreasing, so its sup over (0, b] is the limit 3/4 at eps -> 0+ for every b > 0",
    # --- H3-haar-recursion ---
    'theory.sander.haar:_laurent_law:L502:const:1 → 2#2':
        "moments_sym uses a coset's density only through CT(dens·f)/CT(dens), so a constant factor of the density"
        " cancels (the rotations' density 1 → 2)",
    'theory.sander.haar:_laurent_law:L521:const:2 → 3#2':
        "moments_sym uses a coset's density only through CT(dens·f)/CT(dens), so a constant factor of the density"
        ' cancels (each factor -((z - 1/z)/3)^2 is (2/3)^2 times the original)',
    'theory.sander.haar:_laurent_law:L521:const:2 → 1#2':
        "moments_sym uses a coset's density only through CT(dens·f)/CT(dens), so a constant factor of the density"
        ' cancels (each factor -((z - 1/z)/1)^2 is 4 times the original)',
    'theory.sander.haar:_laurent_law:L521:const:2 → 4#2':
        "moments_sym uses a coset's density only through CT(dens·f)/CT(dens), so a constant factor of the density"
        ' cancels (each factor -((z - 1/z)/4)^2 is 1/4 times the original)',
    'theory.sander.haar:_laurent_law:L520:drop-term:n - 1 → -1':
        'z holds the n generators z0..z{n-1}, so z[: n - 1] and z[: -1] are the same slice for every n >= 1 (this'
        ' branch is even d >= 2)',
    'theory.sander.haar:moments_sym:L551:const:1 → 2':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the extra '
        'power sums p_{2t+1} is computed and never read',
    'theory.sander.haar:moments_sym:L551:const:2 → 3':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the extra '
        'power sums p_n, 2t < n <= 3t, are computed and never read',
    'theory.sander.haar:moments_sym:L551:const:2 → 4':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the extra '
        'power sums p_n, 2t < n <= 4t, are computed and never read',
    'theory.sander.haar:moments_sym:L551:shift:t → t + 1':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the extra '
        'power sums p_{2t+1}, p_{2t+2} are computed and never read',
    'theory.sander.haar:_haar_cosets:L151:arith:plus + np.pi → plus - np.pi':
        'the det = -1 coset of O(2n+1) has the angles phi + pi; phi - pi differs by 2 pi, and every consumer '
        'reads the angles only through cos(n phi) (power_sums), so every p_n, moment and trace moment is the same',
    'theory.sander.haar:_haar_rule:L188:arith:max_frequency + d - 1 → max_frequency + d + 1':
        'm equispaced nodes integrate every trigonometric polynomial of frequency < m exactly; integrand x '
        'density has frequency <= max_frequency + d - 2 per angle (the density d - 2, see haar_rule), so '
        'max_frequency + d + 1 nodes are exact as max_frequency + d - 1 are: the expectations change by round-off',
    'theory.sander.haar:_haar_rule:L188:drop-term:max_frequency + d - 1 → max_frequency + d':
        'm equispaced nodes integrate every trigonometric polynomial of frequency < m exactly; integrand x '
        'density has frequency <= max_frequency + d - 2 per angle, so max_frequency + d nodes are exact as '
        'max_frequency + d - 1 are: the expectations change by round-off',
    'theory.sander.haar:_haar_rule:L188:const:1 → 0':
        'm equispaced nodes integrate every trigonometric polynomial of frequency < m exactly; max_frequency + d '
        'nodes (one more than the fewest exact) are exact too: the expectations change by round-off',
    'theory.sander.haar:_rotation_rule:L221:const:1 → 2':
        'm equispaced nodes integrate every trigonometric polynomial of frequency < m exactly; the integrand has '
        'frequency <= max_frequency per angle, so max_frequency + 2 nodes are exact as max_frequency + 1 are: the'
        ' expectations change by round-off',
    'theory.sander.haar:_rotation_rule:L220:const:1.0 → 2.0':
        'mu = 1 takes the Gauss-Legendre branch on [0, 2pi) with n = ceil(F pi) + 20 nodes: Gauss-Legendre with n'
        ' nodes on [0, 2pi/mu) integrates e^{ik theta}, k <= F, X = F pi/mu, with error <= 8 (e X/(4n))^{2n}: the'
        ' Chebyshev coefficients of the tail are Bessel J_m(X) <= (X/2)^m/m!, and (2n)! >= (2n/e)^{2n}, and max '
        'over X of 2n ln(e X/(4n)) with n = ceil(X) + 20 is -86.3 (at X = 17), so the error is <= 8e^-86 '
        'relative, round-off; mu = 2 takes the equispaced grid on [0, 2pi) instead of [0, pi): both give E cos(j '
        'theta) = 0 for every integer j >= 1 and consumers read angles only through cos(n theta), so every '
        'expectation is the same',
    'theory.sander.haar:_rotation_rule:L220:const:1.0 → 0.0':
        'mu > 0 always, so every mu takes the Gauss-Legendre branch; at mu = 1 its error is <= 8e^-86 relative '
        '(see the 1.0 → 2.0 entry): round-off',
    'theory.sander.haar:_rotation_rule:L224:const:20 → 21':
        'one more Gauss-Legendre node: Gauss-Legendre with n nodes on [0, 2pi/mu) integrates e^{ik theta}, k <= '
        'F, X = F pi/mu, with error <= 8 (e X/(4n))^{2n}: the Chebyshev coefficients of the tail are Bessel '
        'J_m(X) <= (X/2)^m/m!, and (2n)! >= (2n/e)^{2n}, which decreases with n; at n = ceil(X) + 20 it is '
        'already <= 8e^-86 (max over X of 2n ln(eX/(4n)) = -86.3): round-off either way',
    'theory.sander.haar:_rotation_rule:L224:const:20 → 40':
        'twenty more Gauss-Legendre nodes: Gauss-Legendre with n nodes on [0, 2pi/mu) integrates e^{ik theta}, k '
        '<= F, X = F pi/mu, with error <= 8 (e X/(4n))^{2n}: the Chebyshev coefficients of the tail are Bessel '
        'J_m(X) <= (X/2)^m/m!, and (2n)! >= (2n/e)^{2n}, which decreases with n; at n = ceil(X) + 20 it is '
        'already <= 8e^-86: round-off either way',
    'theory.sander.haar:_rotation_rule:L224:const:20 → 19':
        'one Gauss-Legendre node fewer: Gauss-Legendre with n nodes on [0, 2pi/mu) integrates e^{ik theta}, k <= '
        'F, X = F pi/mu, with error <= 8 (e X/(4n))^{2n}: the Chebyshev coefficients of the tail are Bessel '
        'J_m(X) <= (X/2)^m/m!, and (2n)! >= (2n/e)^{2n}; with n = ceil(X) + 19 the maximum over X of 2n '
        'ln(eX/(4n)) is -82.0 (at X = 17), so the error is <= 8e^-82 relative: round-off',
    'theory.sander.haar:_rotation_rule:L226:arith:x + 1 → x - 1':
        'Gauss-Legendre nodes are symmetric (x_{m-1-i} = -x_i, equal weights), so (x - 1) pi/mu is the node set '
        "-(x + 1) pi/mu; every node lists its angles as (theta, -theta), so the mutant's nodes carry the same "
        'angle multisets with the same weights',
    'theory.sander.haar:trace_moment:L323:const:0 → 1':
        'the default of max() is used only for empty exponents, where p[:, []] has no columns and the product is '
        '1 whatever n_max is',
    'theory.sander.haar:_integrands:L342:arith:-k + l + m → -k + l - m':
        'the double sum over k, l in 1..t is symmetric under k <-> l (m = |k - l|); for k > l the mutant turns '
        "the pair's terms (p_2(k-l), p_0) into (p_2(k-l), p_2(k-l)) and for the swapped pair (p_0, p_2(k-l)) into"
        ' (p_0, p_0): the pair sums 2 p_2|k-l| + 2 p_0 are the same; k = l (m = 0) is unchanged',
    'theory.sander.haar:_integrands:L342:arith:k - l + m → k - l - m':
        'the double sum over k, l in 1..t is symmetric under k <-> l (m = |k - l|); for k > l the mutant turns '
        "the pair's terms (p_2(k-l), p_0) into (p_0, p_0) and for the swapped pair (p_0, p_2(k-l)) into "
        '(p_2(k-l), p_2(k-l)): the pair sums 2 p_2|k-l| + 2 p_0 are the same; k = l (m = 0) is unchanged',
    'theory.sander.haar:moments:L397:const:2 → 3':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the power '
        'sums 2t < n <= 3t are computed and never read',
    'theory.sander.haar:moments:L397:const:2 → 4':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the power '
        'sums 2t < n <= 4t are computed and never read',
    'theory.sander.haar:moments:L397:shift:t → t + 1#2':
        '_integrands reads p_n only for n <= 2t (k + l + |k - l| = 2 max(k, l) <= 2t, and 2k <= 2t): the power '
        'sums 2t < n <= 2t + 2 are computed and never read',
    'theory.vladymyrov.recursion:_concat:L68:const:0 → 1':
        'every ImplicitState holds four numpy arrays (initial_state, implicit_states, lemma43_step) or four torch'
        ' tensors (implicit_states_torch), and _update maps each kind to itself; token_map concatenates two '
        'fields of one state, so parts[0] and parts[1] are always of one kind',
    'theory.vladymyrov.recursion:_concat:L68:const:0 → -1':
        'every ImplicitState holds four numpy arrays or four torch tensors (see the 0 → 1 entry), so parts[0] and'
        ' parts[-1] are always of one kind',
    'theory.vladymyrov.recursion:_update:L175:const:0 → -1':
        '(A @ u[..., None]): the matrix product with a trailing [..., None] column has a last axis of length 1, '
        'so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_update:L179:const:0 → -1':
        '(M^T @ c[..., None]): the matrix product with a trailing [..., None] column has a last axis of length 1,'
        ' so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:ols_data:L427:const:0 → -1':
        'solve(sigma, alpha[..., None]): the matrix product with a trailing [..., None] column has a last axis of'
        ' length 1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:ols_data:L428:const:0 → -1':
        '(x @ w_star[..., None]): the matrix product with a trailing [..., None] column has a last axis of length'
        ' 1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:lemma44_alpha:L459:const:0 → -1':
        '(sigma @ (a w* - w)[..., None]): the matrix product with a trailing [..., None] column has a last axis '
        'of length 1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:lemma44_alpha:L460:const:0 → -1':
        '(K @ g[..., None]): the matrix product with a trailing [..., None] column has a last axis of length 1, '
        'so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_lemma44_update:L468:const:-1 → -2':
        'M is the (..., d, d) square matrix M^l (initial_state builds I_d and every update keeps the shape), so '
        'M.shape[-2] == M.shape[-1]',
    'theory.vladymyrov.recursion:_lemma44_update:L472:const:0 → -1':
        '(sigma @ (a w* - w)[..., None]): the matrix product with a trailing [..., None] column has a last axis '
        'of length 1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_lemma44_update:L478:const:0 → -1':
        '((I - Lambda) @ u[..., None]): the matrix product with a trailing [..., None] column has a last axis of '
        'length 1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_lemma44_update:L478:const:0 → -1#2':
        '(Gamma @ g[..., None]): the matrix product with a trailing [..., None] column has a last axis of length '
        '1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_lemma44_update:L479:const:0 → -1':
        '(Pi @ g[..., None]): the matrix product with a trailing [..., None] column has a last axis of length 1, '
        'so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:_lemma44_update:L479:const:0 → -1#2':
        '(Phi @ u[..., None]): the matrix product with a trailing [..., None] column has a last axis of length 1,'
        ' so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:gdpp_preconditioned_gd:L563:const:0 → -1':
        '(sigma @ w[..., None]): the matrix product with a trailing [..., None] column has a last axis of length '
        '1, so index 0 and index -1 are the same element',
    'theory.vladymyrov.recursion:gdpp_preconditioned_gd:L565:const:0 → -1':
        '(pre @ grad[..., None]): the matrix product with a trailing [..., None] column has a last axis of length'
        ' 1, so index 0 and index -1 are the same element',
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
