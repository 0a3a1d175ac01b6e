"""Claims of Vladymyrov, von Oswald, Sandler, Ge (NeurIPS 2024, arXiv:2402.14180): ids ``vladymyrov.*``.

Identities (Theorem 4.1 / Lemma 4.3, Lemma 4.4, the DIAG ω form, GD++ = preconditioned GD), baselines
(oracle = posterior mean, Table 1 baselines, one-layer optimum) and trained models at CPU scale (the paper
trains 200k Adam steps on an H100; we train hundreds to thousands of steps — stated in every trained claim).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np

from numerics.models import vladymyrov as vm
from numerics.regression import PAPER_D, PAPER_N, NoiseLaw, RegressionBatch, sample_regression
from numerics.statistics import mean_estimate, paired_difference, ratio_estimate
from numerics.vladymyrov_training import SCALES, baseline_losses, train_scaled
from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.figures import Series, compare_figure, paper_vs_ours_figure, pyplot
from proofs_check.papers import VLADYMYROV, VLADYMYROV_BASELINES, VLADYMYROV_NOISE_LAWS, VLADYMYROV_TABLE1
from proofs_check.registry import register
from theory.vladymyrov import baselines as bl
from theory.vladymyrov.model import context_gram, diag_matrices, forward, gdpp_matrices, head_sum, omega, omega_forward, tokens
from theory.vladymyrov.recursion import (ImplicitState, implicit_states, initial_state, lemma43_step, lemma44_alpha, lemma44_step,
                                         lemma44_step_printed, ols_data, symbolic_theorem41_residual,
                                         theorem41_relative_error, gdpp_preconditioned_gd)

FLOAT64 = Tolerance(1e-10, "float64 round-off: a few (d+1)x(d+1) products per layer at L <= 4 give ~1e-15 relative; "
                           "1e-10 leaves 5 orders of headroom and is far below any structural error (>= 1e-4 here)", origin="round-off")
# Table 1 (adjusted evaluation loss, best of 5 seeds, 1e5 evaluation sequences), read from the paper's text copy.
# (The one copy of the table lives in proofs_check.papers; these are the slices the claims below compare with.)
TABLE1_BASELINES = {law: {name: VLADYMYROV_BASELINES[name][law] for name in ("constrr", "adarr", "tunedrr")}
                    for law in ("U1", "U3", "U5", "S1,3")}
TABLE1_ONE_LAYER = {law: VLADYMYROV_TABLE1[1, "gdpp"][law] for law in ("U1", "U3", "U5", "U7", "S1,3")}
TABLE1_DIAG, TABLE1_GDPP, TABLE1_FULL = ({"U5": [VLADYMYROV_TABLE1[L, kind]["U5"] for L in range(1, 8)]}
                                         for kind in ("diag", "gdpp", "full"))


def _prompts(rng: np.random.Generator, batch: int, n: int = PAPER_N, d: int = PAPER_D) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = sample_regression(batch, NoiseLaw.uniform(1.0), rng=rng, n=n, d=d)
    return b.x, b.y, b.x_query


# ------------------------------------------------------------------------------------------------ Theorem 4.1


def _full_weights(rng: np.random.Generator, L: int, H: int, d: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    scale = 0.1 / n
    return scale * rng.standard_normal((L, H, d + 1, d + 1)), scale * rng.standard_normal((L, H, d + 1, d + 1))


def _drop_bw(x: np.ndarray, y: np.ndarray, P: np.ndarray, Q: np.ndarray) -> list[ImplicitState]:
    """A wrong recursion: Lemma 4.3 without the ``−b^l w^{lT}`` term in the ``M`` update (negative control)."""
    E0 = context_gram(tokens(x, y, np.zeros(x.shape[:-2] + (x.shape[-1],))))
    out = [initial_state(x.shape[:-2], x.shape[-1])]
    for layer in range(P.shape[0]):
        st = out[-1]
        T = st.token_map()
        B = head_sum(P[layer], T @ E0 @ np.swapaxes(T, -1, -2), Q[layer])
        new = lemma43_step(st, B)
        out.append(ImplicitState(new.M + B[..., :-1, -1][..., :, None] * st.w[..., None, :], new.u, new.a, new.w))
    return out


def _thm41_float64(ctx: RunContext, wrong: bool) -> Measurement:
    rng = ctx.rng(0)
    n, d = PAPER_N, PAPER_D
    rows, worst = [], 0.0
    for L in range(1, 5):
        for H in (1, 2):
            x, y, xq = _prompts(rng, 16 if ctx.quick else 256)
            P, Q = _full_weights(rng, L, H, d, n)
            states = _drop_bw(x, y, P, Q) if wrong else None
            err = theorem41_relative_error(x, y, xq, P, Q, states)
            rows.append({"L": L, "H": H, **err})
            worst = max(worst, err["tokens"], err["prediction"])
    return Measurement(error=worst, expected=0.0, observed=worst,
                       compared="max relative error, over L=1..4, H in {1,2}, all tokens and layers, between the FULL "
                                "forward pass and Theorem 4.1's tokens (M x + y u, a y - <w, x>) and y_hat = <w^L, x_t>",
                       details={"n": n, "d": d, "weight_scale": "0.1/n", "per_setting": rows})


register(Claim(
    id="vladymyrov.thm41.float64", paper=VLADYMYROV, reference="Theorem 4.1 and Lemma 4.3 (Sec. 4)",
    statement="After l layers, x_i^l = M^l x_i + y_i u^l and y_i^l = a^l y_i - <w^l, x_i> for every token, the query "
              "with y = 0, where (M, u, a, w) follow M' = (I+A)M - b w^T, u' = (I+A)u + a b, a' = (1+d)a + <c, u>, "
              "w' = (1+d)w - M^T c; hence y_hat = <w^L, x_t>.",
    kind="identity", check=lambda ctx: _thm41_float64(ctx, False), control=lambda ctx: _thm41_float64(ctx, True),
    control_description="the recursion without the -b^l w^{lT} term in the M update", tolerance=FLOAT64, seed=41001,
    route="the FULL attention forward pass (theory.vladymyrov.model.forward) against the Lemma 4.3 recursion",
))


def _rational_weights(rng: np.random.Generator, L: int, H: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    def draw() -> np.ndarray:
        return np.array([[[[Fraction(int(v), 7) for v in row] for row in rng.integers(-3, 4, (d + 1, d + 1))]
                          for _ in range(H)] for _ in range(L)], dtype=object)
    return draw(), draw()


def _thm41_sympy(ctx: RunContext, include_query: bool) -> Measurement:
    rng = ctx.rng(0)
    sizes = [(3, 2, 1, 2), (2, 1, 2, 1)] + ([] if ctx.quick else [(2, 2, 2, 1), (2, 1, 3, 1)])
    rows, nonzero = [], 0
    for n, d, L, H in sizes:
        P, Q = _rational_weights(rng, L, H, d)
        res = symbolic_theorem41_residual(n, d, P, Q, include_query=include_query)
        bad = sum(1 for r in res if r != 0)
        rows.append({"n": n, "d": d, "L": L, "H": H, "entries": len(res), "nonzero": bad})
        nonzero += bad
    return Measurement(error=nonzero, expected=0, observed=nonzero,
                       compared="number of token entries whose exact polynomial residual (forward pass minus Theorem "
                                "4.1's tokens; symbolic data, rational weights) is not the zero polynomial",
                       details={"sizes": rows})


register(Claim(
    id="vladymyrov.thm41.sympy", paper=VLADYMYROV, reference="Theorem 4.1 and Lemma 4.3 (Sec. 4), exact",
    statement="Theorem 4.1 holds as a polynomial identity in the data for rational weights (n, d, L, H small).",
    kind="symbolic", check=lambda ctx: _thm41_sympy(ctx, False), control=lambda ctx: _thm41_sympy(ctx, True),
    control_description="the forward pass with the query token inside E (unmasked query), against the same recursion",
    tolerance=Tolerance(0.0, "exact polynomial arithmetic over QQ: the residual must be the zero polynomial", origin="exact"), seed=41002,
    route="exact polynomial forward pass over QQ(data) against the recursion",
))


# ------------------------------------------------------------------------------------------------ Lemma 4.4


def _lemma44(ctx: RunContext, printed: bool) -> Measurement:
    rng = ctx.rng(0)
    n, d, L = PAPER_N, PAPER_D, 4
    x, y, xq = _prompts(rng, 32)
    # single-head DIAG weights with omega ~ O(1/n); q_y, p_y sizeable so that a^l moves away from 1
    px, qx = rng.uniform(-0.3, 0.3, (L, 1)), rng.uniform(-0.3, 0.3, (L, 1))
    py, qy = rng.uniform(-0.3, 0.3, (L, 1)), rng.uniform(-0.3, 0.3, (L, 1))
    P, Q = diag_matrices(px / math.sqrt(n), py / math.sqrt(n), qx / math.sqrt(n), qy / math.sqrt(n), d)
    om = omega(px, py, qx, qy) / n
    states = implicit_states(x, y, P, Q)
    data = ols_data(x, y)
    step = lemma44_step_printed if printed else lemma44_step
    worst, rows = 0.0, []
    for layer in range(L):
        st, nxt = states[layer], states[layer + 1]
        u_new, w_new = step(st, data, om[layer], x, y)
        alpha_true = context_gram(st.apply(x, y, xq))[..., :-1, -1]
        err_alpha = float(np.max(np.abs(lemma44_alpha(st, data) - alpha_true)) / np.max(np.abs(alpha_true)))
        err_u = float(np.max(np.abs(u_new - nxt.u)) / max(np.max(np.abs(nxt.u)), 1e-300))
        err_w = float(np.max(np.abs(w_new - nxt.w)) / np.max(np.abs(nxt.w)))
        rows.append({"layer": layer, "a_range": [float(st.a.min()), float(st.a.max())], "alpha": err_alpha, "u": err_u, "w": err_w})
        worst = max(worst, err_alpha, err_u, err_w)
    return Measurement(error=worst, expected=0.0, observed=worst,
                       compared="max relative error of Lemma 4.4's alpha^l, u^{l+1}, w^{l+1} against Lemma 4.3 "
                                "(one-head DIAG, L=4, n=20, d=10, a^l != 1)", details={"per_layer": rows})


register(Claim(
    id="vladymyrov.lemma44.diag-form", paper=VLADYMYROV, reference="Lemma 4.4 (Sec. 4) / Lemma A.1",
    statement="For one-head DIAG attention, u^{l+1} = (I - Lambda)u + Gamma Sigma(a w* - w) and w^{l+1} = (1+s)w - "
              "Pi Sigma(a w* - w) - Phi u with Gamma = a w_xy (M + u w*^T), Pi = w_yx M^T (M + u w*^T), "
              "Lambda = -w_xy a^2 rho I - w_xx Sigma^l, s = w_yy lambda^l, Phi = a rho w_yx M^T.",
    kind="identity", check=lambda ctx: _lemma44(ctx, False), control=lambda ctx: _lemma44(ctx, True),
    control_description="the printed Lemma 4.4 (text copy): a^l u^l w*^T inside Gamma and Pi",
    tolerance=FLOAT64, seed=44001,
    finding="Lemma 4.4 as printed (text copy of the NeurIPS paper) has a^l u^l w*^T inside Gamma^l and Pi^l; "
            "substituting alpha^l = (M + u w*^T) Sigma (a w* - w) + a rho u into Lemma 4.3 gives u^l w*^T without "
            "the factor a^l. The printed form is off by ~1e-3..1e-2 relative as soon as a^l != 1 (from layer 2 "
            "when w_yy or w_yx != 0); the corrected form holds to 1e-15. (Could be an extraction artefact.)",
    rests_on=("UNCONFIRMED: the display equations of Lemma 4.4 are reconstructed from the text copy (it lost them)",),
    route="Lemma 4.3 recursion driven by the DIAG forward pass",
))


# ------------------------------------------------------------------------------------------------ DIAG ω form


def _omega_form(ctx: RunContext, swap_names: bool) -> Measurement:
    rng = ctx.rng(0)
    n, d, L, H = PAPER_N, PAPER_D, 4, 2
    x, y, xq = _prompts(rng, 32)
    px, py, qx, qy = (rng.uniform(-0.3, 0.3, (L, H)) / math.sqrt(n) for _ in range(4))
    P, Q = diag_matrices(px, py, qx, qy, d)
    om = omega(px, py, qx, qy)
    if swap_names:
        om = om[:, [0, 2, 1, 3]]
    a, b = forward(x, y, xq, P, Q), omega_forward(x, y, xq, om)
    err = max(float(np.max(np.abs(za - zb)) / np.max(np.abs(za))) for za, zb in zip(a.tokens, b.tokens))
    return Measurement(error=err, expected=0.0, observed=err,
                       compared="max relative token difference between the DIAG matrix forward pass (2 heads, L=4) and "
                                "the four omega update equations of Sec. 5")


register(Claim(
    id="vladymyrov.diag.omega-form", paper=VLADYMYROV, reference="Sec. 5, DIAG re-parametrisation (omega_xx, omega_xy, omega_yx, omega_yy)",
    statement="With diagonal P_k = diag(p_x I, p_y), Q_k = diag(q_x I, q_y), a layer acts as x <- x + w_xx Sigma x + "
              "w_xy y alpha and y <- y + w_yx <alpha, x> + w_yy lambda y, with w_ab = sum_k p_a,k q_b,k.",
    kind="identity", check=lambda ctx: _omega_form(ctx, False), control=lambda ctx: _omega_form(ctx, True),
    control_description="omega_xy and omega_yx exchanged (the opposite naming convention)", tolerance=FLOAT64, seed=50001,
    route="the DIAG matrix forward pass against the omega update equations",
))


# ------------------------------------------------------------------------------------------------ GD++


def _gdpp(ctx: RunContext, precondition: bool) -> Measurement:
    rng = ctx.rng(0)
    d, L = PAPER_D, 5
    x, y, xq = _prompts(rng, 64)
    oxx, oyx = -rng.uniform(0.0, 0.02, L), -rng.uniform(0.01, 0.05, L)
    P, Q = gdpp_matrices(np.ones((L, 1)), (oyx / oxx)[:, None], oxx[:, None], d)  # omega_yx = p_y q_x
    model = np.stack(forward(x, y, xq, P, Q).readouts)
    gd = gdpp_preconditioned_gd(x, y, xq, oxx, oyx, precondition=precondition)
    err = float(np.max(np.abs(model - gd)) / np.max(np.abs(model)))
    return Measurement(error=err, expected=0.0, observed=err,
                       compared="max relative difference, all read-outs K=1..5, between GD++ (DIAG with q_y=0) and "
                                "w^{l+1} = w^l - w_yx (M^l)^2 (alpha - Sigma w^l), M^{l+1} = (I + w_xx M Sigma M) M")


register(Claim(
    id="vladymyrov.gdpp.preconditioned-gd", paper=VLADYMYROV, reference="Sec. 5.1 (GD++ updates) and Theorem 5.1's setting",
    statement="GD++ performs preconditioned gradient descent on the in-context least squares: its implicit w^l follows "
              "w^{l+1} = w^l + eta_l (M^l)^2 Sigma (w* - w^l) with eta_l = -omega_yx^l and M^l a polynomial in Sigma.",
    kind="identity", check=lambda ctx: _gdpp(ctx, True), control=lambda ctx: _gdpp(ctx, False),
    control_description="the same steps without the (M^l)^2 preconditioner (plain GD)", tolerance=FLOAT64, seed=51001,
    route="the GD++ forward pass against the preconditioned-GD recursion",
))


# ------------------------------------------------------------------------------------------------ baselines


def _oracle_posterior(ctx: RunContext, lam_is_sigma: bool) -> Measurement:
    """Posterior mean of w by Monte Carlo: E[w | y] = C_wy C_yy^{-1} y for the jointly Gaussian (w, y) given X."""
    rng = ctx.rng(0)
    n, d, sigma, draws, batches = 8, 4, 2.0, 400_000 if ctx.quick else 4_000_000, 20
    X = rng.standard_normal((n, d))
    y_obs = X @ rng.standard_normal(d) + sigma * rng.standard_normal(n)
    ests = []
    for _ in range(batches):
        w = rng.standard_normal((draws // batches, d))
        yy = w @ X.T + sigma * rng.standard_normal((draws // batches, n))
        c_wy, c_yy = w.T @ yy / len(w), yy.T @ yy / len(w)
        ests.append(c_wy @ np.linalg.solve(c_yy, y_obs))
    ests = np.array(ests)
    mc, se = ests.mean(0), ests.std(0, ddof=1) / math.sqrt(batches)
    ridge = bl.ridge_weights(X, y_obs, sigma if lam_is_sigma else sigma**2)
    z = np.abs(mc - ridge) / se
    return Measurement(error=float(z.max()), expected=ridge.tolist(), observed=mc.tolist(),
                       compared="max over coordinates of |MC posterior mean - ridge(lambda)| in standard errors "
                                f"(n={n}, d={d}, sigma={sigma})", details={"se": se.tolist(), "draws": draws})


register(Claim(
    id="vladymyrov.baselines.oracle-posterior-mean", paper=VLADYMYROV, reference="Sec. 6, oracle of the adjusted loss (eq. (5))",
    statement="With w ~ N(0, I) and known noise sigma, ridge regression with lambda = sigma^2 is the Bayes posterior "
              "mean of w, so it is the oracle the adjusted loss subtracts.",
    kind="monte-carlo", check=lambda ctx: _oracle_posterior(ctx, False), control=lambda ctx: _oracle_posterior(ctx, True),
    control_description="ridge with lambda = sigma (std read as variance) at sigma = 2",
    tolerance=Tolerance(6.0, "6 standard errors from 20 batch means (t with 19 dof: false alarm ~1e-5 per coordinate, "
                             "~5e-5 over the 4 coordinates)", origin="standard-errors"), seed=60001,
    route="Monte-Carlo joint (w, y) draws: the regression of w on y, independent of the ridge formula",
))


BASELINE_SEED = 60002


@functools.lru_cache(maxsize=None)
def _baselines(label: str, quick: bool) -> dict[str, Any]:
    """Baselines tuned on one set of prompts and evaluated on another (shared by several claims, one fixed seed)."""
    return baseline_losses(NoiseLaw.parse(label), tune_sequences=10000 if quick else 100000,
                           eval_sequences=20000 if quick else 200000, seed=BASELINE_SEED)


TABLE1_Z = 4.0
TABLE1_ROUNDING = 0.0005  # the table prints three decimals
TABLE1_PAPER_PROMPTS = 100_000
TABLE1_QUICK_LAWS = ("U3", "U5", "S1,3")


def _table1_losses(law: NoiseLaw, ev: RegressionBatch, rss_over_n: bool, grid: int) -> dict[str, np.ndarray]:
    """Per-prompt adjusted ½-MSE of ConstRR, AdaRR and TunedRR, tuned on the evaluation prompts themselves (the
    paper's protocol) over the grids of :func:`numerics.vladymyrov_training.baseline_losses` thinned by ``grid``
    (1: as there); ``rss_over_n``: AdaRR with the biased noise estimate RSS/n (λ scaled by (n − d)/n) alone."""
    sp = bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    sq_oracle = (bl.oracle_prediction(sp, ev.sigma) - ev.y_query) ** 2 / 2
    if rss_over_n:
        biased = sp.predict(sp.residual_variance() * (PAPER_N - PAPER_D) / PAPER_N)
        return {"adarr": (biased - ev.y_query) ** 2 / 2 - sq_oracle}
    scale = max(law.mean_variance, 1e-2)
    c, _ = bl.tune_constant(sp, ev.y_query, np.concatenate([[0.0], scale * np.geomspace(1e-2, 10.0, 121)]))
    k, cap, _ = bl.tune_tuned(sp, ev.y_query, np.linspace(0.5, 2.5, 20 // grid + 1),
                              np.concatenate([scale * np.geomspace(0.1, 10.0, 24 // grid + 1), [np.inf]]))
    preds = {"constrr": sp.predict(c), "adarr": bl.adaptive_prediction(sp), "tunedrr": bl.tuned_prediction(sp, k, cap)}
    return {name: (p - ev.y_query) ** 2 / 2 - sq_oracle for name, p in preds.items()}


def _table1_figure(ctx: RunContext, laws: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    """Table 1's baselines per noise law: the paper's numbers against ours with their allowance."""
    names = ("constrr", "adarr", "tunedrr")
    cell = {(r["baseline"], r["law"]): r for r in rows}
    grid = {k: np.array([[cell[n, law][k] for law in laws] for n in names]) for k in ("paper", "ours", "allowance")}
    fig = paper_vs_ours_figure(laws, ("ConstRR", "AdaRR", "TunedRR"), grid["paper"], grid["ours"], grid["allowance"],
                               ylabel="adjusted loss (½ MSE − oracle)",
                               title="Table 1 baselines per noise law: paper (×) and ours (● ± allowance)")
    path = ctx.save_figure(fig, "vladymyrov-table1-baselines")
    return [path] if path else []


def _table1(ctx: RunContext, rss_over_n: bool) -> Measurement:
    """|ours − Table 1| over its allowance: 4 combined standard errors (ours, and the paper's 1e5-prompt mean with
    our per-prompt spread) plus the table's rounding, 5e-4.  Tuning on the evaluation prompts, as the paper does,
    leaves no tuning-set gap to allow for."""
    rows, worst = [], 0.0
    laws = TABLE1_QUICK_LAWS if ctx.quick else VLADYMYROV_NOISE_LAWS
    n_eval, grid = (30_000, 2) if ctx.quick else (200_000, 1)
    for i, label in enumerate(laws):
        law = NoiseLaw.parse(label)
        ev = sample_regression(n_eval, law, rng=ctx.rng(10 + i))
        for name, losses in _table1_losses(law, ev, rss_over_n, grid).items():
            est = mean_estimate(losses)
            paper = VLADYMYROV_BASELINES[name][label]
            se_paper = est.se * math.sqrt(n_eval / TABLE1_PAPER_PROMPTS)
            allow = TABLE1_Z * math.hypot(est.se, se_paper) + TABLE1_ROUNDING
            dev = abs(est.value - paper) / allow
            rows.append({"law": label, "baseline": name, "ours": est.value, "se": est.se, "paper": paper,
                         "allowance": allow, "normalised_deviation": dev})
            worst = max(worst, dev)
    return Measurement(figures=[] if rss_over_n else _table1_figure(ctx, laws, rows),
                       error=worst, expected={r["law"] + ":" + r["baseline"]: r["paper"] for r in rows},
                       observed={r["law"] + ":" + r["baseline"]: round(r["ours"], 4) for r in rows},
                       compared=(f"max |ours − Table 1| / allowance over {'AdaRR with RSS/n' if rss_over_n else 'ConstRR, AdaRR, TunedRR'} "
                                 f"at {laws} ({n_eval} evaluation prompts per law, tuned on them); allowance = 4 combined "
                                 "SE (ours and the paper's 1e5 prompts) + 5e-4 rounding"),
                       details={"rows": rows})


register(Claim(
    id="vladymyrov.baselines.table1", paper=VLADYMYROV, reference="Table 1, rows ConstRR, AdaRR, TunedRR",
    statement="Ridge baselines with a constant tuned lambda (ConstRR), lambda = RSS/(n-d) (AdaRR) and lambda = "
              "min(k RSS/(n-d), cap) tuned (TunedRR) reach the adjusted losses of Table 1.",
    kind="monte-carlo", check=lambda ctx: _table1(ctx, False), control=lambda ctx: _table1(ctx, True),
    control_description="AdaRR with the biased noise estimate RSS/n instead of RSS/(n-d)",
    tolerance=Tolerance(1.0, ("normalised deviation <= 1: the allowance is 4 combined standard errors of the two "
                              "Monte-Carlo means (two-sided false alarm 6e-5 per entry, 6e-4 over the 9 quick entries) plus the table's rounding to "
                              "three decimals"), origin="standard-errors"),
    seed=60002,
    rests_on=("UNCONFIRMED: TunedRR applies min(k*sigma_hat^2, cap) (order of the two adjustments not stated)",
              "UNCONFIRMED: the paper tunes ConstRR and TunedRR on its evaluation prompts (grids not stated)",
              "UNCONFIRMED: categorical noise levels equally likely"),
    route="the paper's published Table 1 numbers against our tuned baselines evaluated on fresh prompts",
))


def _one_layer(ctx: RunContext, variance_reading: bool) -> Measurement:
    rng = ctx.rng(0)
    rows, worst = [], 0.0
    for label in ("U1", "U3", "U5", "U7", "S1,3"):
        law = NoiseLaw.parse(label)
        b = sample_regression(40000 if ctx.quick else 200000, law, rng=rng)
        s2 = law.mean_variance if not variance_reading else (law.values[0] / 2 if law.kind == "uniform" else float(np.mean(law.values)))
        eta, closed = bl.one_layer_optimal_loss(PAPER_N, PAPER_D, s2)
        eta_true, _ = bl.one_layer_optimal_loss(PAPER_N, PAPER_D, law.mean_variance)
        alpha = (b.y[..., None] * b.x).sum(-2)
        sq = 0.5 * (eta_true * (alpha * b.x_query).sum(-1) - b.y_query) ** 2
        # the same loss with the query integrated out exactly (E_{x_t} ½(⟨ηα − w, x_t⟩)² = ½‖ηα − w‖²): same mean,
        # a fraction of the variance, so a 3 % slip in the closed form is many standard errors away
        est = mean_estimate(0.5 * ((eta_true * alpha - b.w) ** 2).sum(-1))
        z = est.z(closed)
        oracle = 0.5 * ((bl.ridge_weights(b.x, b.y, b.sigma**2) * b.x_query).sum(-1) - b.y_query) ** 2
        rows.append({"law": label, "closed_form": closed, "mc": est.value, "se": est.se, "z": float(z),
                     "mc_with_sampled_query": float(sq.mean()),
                     "adjusted_mc": float((sq - oracle).mean()), "table1_L1": TABLE1_ONE_LAYER[label]})
        worst = max(worst, z)
    return Measurement(error=worst, expected={r["law"]: r["closed_form"] for r in rows}, observed={r["law"]: r["mc"] for r in rows},
                       compared="|MC loss of eta* <alpha, x_t> (x_t integrated out exactly: 1/2 |eta* alpha - w|^2) - closed "
                                "form 1/2 d(d+1+E s2)/(n+d+1+E s2)| in SE, 5 laws",
                       details={"rows": rows})


register(Claim(
    id="vladymyrov.one-layer.optimum", paper=VLADYMYROV, reference="Table 1, L = 1 row (our closed form)",
    statement="The best one-layer model is y_hat = eta <alpha, x_t> with eta = 1/(n+d+1+E sigma^2), with 1/2-MSE "
              "1/2 d(d+1+E sigma^2)/(n+d+1+E sigma^2); minus the oracle it gives Table 1's L = 1 row.",
    kind="monte-carlo", check=lambda ctx: _one_layer(ctx, False), control=lambda ctx: _one_layer(ctx, True),
    control_description="the closed form with the noise law read as a law of the variance (E sigma^2 = sigma_max/2)",
    tolerance=Tolerance(5.0, "5 standard errors of the MC mean (4e4 prompts quick, 2e5 full): false alarm ~6e-7 per law", origin="standard-errors"), seed=60003,
    route="Monte Carlo over sampled prompts (X, w, sigma, noise) of the one-layer loss, the query integrated out exactly",
))


# ------------------------------------------------------------------------------------------------ trained models


@functools.lru_cache(maxsize=None)
def _trained(kind: str, layers: int, label: str, seed: int, scale: str, device: str) -> dict[str, Any]:
    res, cfg = train_scaled(kind, layers, NoiseLaw.parse(label), seed, scale, device=device)
    return {"params": {k: v.detach().double().cpu() for k, v in res.params.items()}, "seconds": res.seconds,
            "history": res.history, "config": cfg}


def _scale(ctx: RunContext) -> str:
    return "quick" if ctx.quick else "cpu"


def _eval_batch(label: str, seed: int, quick: bool) -> RegressionBatch:
    return sample_regression(20000 if quick else 100000, NoiseLaw.parse(label), rng=np.random.default_rng([seed, 99]))


def _one_layer_trained(ctx: RunContext, mse: bool) -> Measurement:
    """Relative gap between the trained 1-layer DIAG loss and the loss of ``η* ⟨α, x_t⟩`` on the same prompts (½-MSE,
    the paper's convention), or (``mse``, the control) the same optimum read as a plain MSE (twice the ½-MSE)."""
    label = "U3"
    t = _trained("diag", 1, label, ctx.seed, _scale(ctx), ctx.device)
    params, seconds, config = t["params"], t["seconds"], t["config"]
    ev = _eval_batch(label, ctx.seed, ctx.quick)
    m = vm.evaluate("diag", params, ev)
    eta, closed = bl.one_layer_optimal_loss(PAPER_N, PAPER_D, NoiseLaw.parse(label).mean_variance)
    alpha = (ev.y[..., None] * ev.x).sum(-2)
    a = (alpha * ev.x_query).sum(-1)
    best = 0.5 * (eta * a - ev.y_query) ** 2
    opt = (2.0 if mse else 1.0) * best
    gap = paired_difference(0.5 * (m["predictions"] - ev.y_query) ** 2, opt)
    # allowance: the loss excess of a step 4 standard errors of the training data's own minimiser away from eta*
    # (SE of the empirical minimiser over steps x batch training prompts: sd of the per-prompt eta-derivative
    # a (eta* a - y) over the curvature E a^2, sqrt(N)), plus 4 SE of the paired evaluation gap
    curvature, n_train = float(np.mean(a * a)), config["steps"] * config["batch"]
    se_eta = float(np.std(a * (eta * a - ev.y_query), ddof=1)) / (curvature * math.sqrt(n_train))
    level = float(best.mean())
    allowed = (0.5 * curvature * (ONE_LAYER_Z * se_eta) ** 2 + ONE_LAYER_Z * gap.se) / level
    om = vm.omegas("diag", params).numpy()[0]
    return Measurement(error=abs(gap.value) / level / allowed, expected=float(opt.mean()), observed=m["loss"],
                       compared="|trained 1-layer DIAG loss - loss of eta* <alpha, x_t>| on the same 2e4 prompts (U(0,3)), "
                                "relative, over the allowance (excess of a step 4 training-sample SE off eta*, plus 4 SE "
                                "of the paired gap)" + ("; the optimum's loss taken as a plain MSE" if mse else "; both as ½-MSE"),
                       details={"train_seconds": seconds, "omega": om.tolist(), "eta_star": eta,
                                "trained_step_minus_eta*_in_training_SE": float((-om[2] - eta) / se_eta),
                                "relative_gap": gap.value / level, "relative_gap_se": gap.se / level,
                                "relative_allowance": allowed, "training_prompts": n_train,
                                "closed_form_population": closed, "scale": _scale(ctx), "config": config})


register(Claim(
    id="vladymyrov.train.one-layer", paper=VLADYMYROV, reference="Table 1, L = 1 row; Sec. 6 training",
    statement="A trained one-layer DIAG model reaches the one-layer optimum eta* <alpha, x_t> (FULL, DIAG and GD++ "
              "coincide at L = 1).",
    kind="trained", check=lambda ctx: _one_layer_trained(ctx, False), control=lambda ctx: _one_layer_trained(ctx, True),
    control_description=("the same trained model against the optimum read as a plain MSE instead of the paper's ½-MSE "
                         "(the loss-convention slip that doubles every Table 1 entry)"),
    tolerance=Tolerance(1.0, ("normalised: the relative loss gap over its allowance, the excess (E a^2/2)(4 SE_eta)^2 of a "
                              "step 4 standard errors of the empirical minimiser of the training data (steps x batch "
                              "prompts; SE_eta = sd(a (eta* a - y))/(E a^2 sqrt(N)), a = <alpha, x_t>) away from eta*, plus "
                              "4 SE of the paired evaluation gap: a trained model can resolve eta* no better than its "
                              "data (quick: allowance 2.7e-4 relative, measured gap 0.07 of it; trained step 0.6 SE off)"),
                        origin="standard-errors"), seed=70001,
    route="Adam through the torch DIAG forward pass; its loss measured on fresh prompts through the forward pass, paired with the closed-form predictor",
))


ONE_LAYER_Z = 4.0


ADAPTIVE_LAYERS = 2  # at CPU scale 3-layer models have heavy-tailed evaluation errors (see docs/vladymyrov.md)


ADAPTIVE_Z = 5.0


def _noise_profile_figure(ctx: RunContext, kind: str, layers: int, sigma: np.ndarray, model_adj: np.ndarray,
                          const_adj: np.ndarray, bins: int = 10) -> list[str]:
    """Adjusted loss of the trained model and of ConstRR against the prompt's noise level σ (equal-count bins of
    the evaluation prompts; mean ± 2 SE per bin): where the noise-adaptive model gains on the constant λ."""
    edges = np.quantile(sigma, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, sigma, side="right") - 1, 0, bins - 1)
    centre = [float(np.median(sigma[which == b])) for b in range(bins)]
    name = {"diag": "DIAG", "gdpp": "GD++"}.get(kind, kind.upper())
    series = []
    for label, losses in ((f"trained {name}, L = {layers}", model_adj), ("ConstRR (tuned constant λ)", const_adj)):
        est = [mean_estimate(losses[which == b]) for b in range(bins)]
        series.append(Series(label, centre, [e.value for e in est], kind="points", yerr=[2 * e.se for e in est]))
    fig = compare_figure([("U(0, 5) evaluation prompts", series)], xlabel="noise level σ of the prompt",
                         ylabel="adjusted loss (½ SE − oracle)",
                         title=f"Trained {name} against the noise level (bins of equal count, ± 2 SE)")
    path = ctx.save_figure(fig, f"vladymyrov-{kind}-loss-vs-noise")
    return [path] if path else []


def _sign_flipped(params: dict[str, Any]) -> dict[str, Any]:
    """The trained DIAG weights with ``q_y`` negated: ``ω_xy = p_x q_y`` and ``ω_yy = p_y q_y`` change sign, ``ω_xx``,
    ``ω_yx`` stay — the reading of Sec. 5.2-5.3 in which more label energy gives a larger step and less shrinkage."""
    return {**params, "q_y": -params["q_y"]}


def _adaptive(ctx: RunContext, kind: str, *, flipped: bool = False) -> Measurement:
    """Upper ``ADAPTIVE_Z``-SE confidence bound of (model adjusted loss)/(ConstRR adjusted loss) on paired prompts
    (``flipped``: the same trained weights with ``ω_xy``, ``ω_yy`` sign-flipped)."""
    label, layers = "U5", ADAPTIVE_LAYERS
    t = _trained(kind, layers, label, ctx.seed, _scale(ctx), ctx.device)
    ev = _eval_batch(label, ctx.seed, ctx.quick)
    m = vm.evaluate(kind, _sign_flipped(t["params"]) if flipped else t["params"], ev)
    base = _baselines(label, ctx.quick)
    sp = bl.ridge_spectrum(ev.x, ev.y, ev.x_query)
    sq_oracle = (bl.oracle_prediction(sp, ev.sigma) - ev.y_query) ** 2 / 2
    model_adj = (m["predictions"] - ev.y_query) ** 2 / 2 - sq_oracle
    const_adj = (sp.predict(base["tuned"]["constrr_c"]) - ev.y_query) ** 2 / 2 - sq_oracle
    ratio = ratio_estimate(model_adj, const_adj)
    upper = ratio.value + ADAPTIVE_Z * ratio.se
    return Measurement(figures=_noise_profile_figure(ctx, kind, layers, ev.sigma, model_adj, const_adj),
                       error=upper, expected="ratio + 5 SE <= 1 (beats ConstRR)", observed=f"{ratio.value:.3f} ± {ratio.se:.3f}",
                       compared=f"upper 5-SE bound of adjusted loss of the trained {layers}-layer {kind.upper()} model "
                                + ("with omega_xy, omega_yy sign-flipped " if flipped else "") + "/ "
                                "adjusted loss of ConstRR (tuned constant lambda), paired on the same 2e4 prompts, U(0,5) "
                                "(delta-method SE)",
                       details={"ratio": ratio.value, "ratio_se": ratio.se, "model_adjusted": m["adjusted"],
                                "model_se": m["adjusted_se"], "constrr_adjusted": float(const_adj.mean()),
                                "per_readout": m["adjusted_per_readout"], "train_seconds": t["seconds"],
                                "baselines": {k: base[k] for k in ("constrr", "adarr", "tunedrr", "gd", "bayes", "one_layer")},
                                "table1_U5": {"diag": TABLE1_DIAG["U5"], "gdpp": TABLE1_GDPP["U5"]},
                                "scale": _scale(ctx), "config": t["config"]})


register(Claim(
    id="vladymyrov.train.noise-adaptive", paper=VLADYMYROV, reference="Sec. 6, Fig. 1, Fig. 2 (bottom) and Table 1 (U(0,5), L = 2)",
    statement="Trained DIAG linear transformers adapt to the noise level: at L = 2 under U(0,5) they beat the best "
              "constant-lambda ridge (ConstRR) clearly, through the noise-adaptive channels omega_xy, omega_yy (with "
              "their signs flipped the same weights lose to ConstRR).",
    kind="trained", check=lambda ctx: _adaptive(ctx, "diag"), control=lambda ctx: _adaptive(ctx, "diag", flipped=True),
    control_description=("the same trained DIAG weights with omega_xy and omega_yy sign-flipped (q_y -> -q_y): the reading "
                         "of Sec. 5.2-5.3 in which higher noise gives a larger step and less shrinkage; GD++ against ConstRR "
                         "is vladymyrov.table1.gdpp-plateau"),
    tolerance=Tolerance(1.0, ("the statement itself: the trained model beats ConstRR, i.e. the upper 5-standard-error "
                              "bound (delta method, paired prompts; one-sided false alarm 3e-7) of the loss ratio is below 1 "
                              "(paper, Table 1 L = 2: DIAG/ConstRR = 0.66); quick: 0.65 +- 0.02 -> 0.75, the sign-flipped "
                              "control 15.0 +- 0.5 -> 17.6"), origin="standard-errors"),
    seed=70002, rests_on=("UNCONFIRMED: DIAG trains the tied (p_x, p_y, q_x, q_y) per head; init N(0, 0.02^2)",),
    route="Adam through the torch DIAG forward pass; adjusted loss measured on fresh prompts through the forward pass, paired with ConstRR",
))


def _shrinkage(ctx: RunContext, *, flipped: bool) -> Measurement:
    """Upper 5-SE bound of E[s(c=2)]/E[s(c=1/2)] for the trained DIAG model (``flipped``: with ω_xy, ω_yy sign-flipped)."""
    plt = pyplot()

    kind, label, layers = "diag", "U5", ADAPTIVE_LAYERS
    t = _trained(kind, layers, label, ctx.seed, _scale(ctx), ctx.device)
    ev = sample_regression(2000, NoiseLaw.parse(label), rng=ctx.rng(5))
    p = {k: v.numpy() for k, v in t["params"].items()}
    qy = (-1.0 if flipped else 1.0) * p["q_y"]  # flipped: omega_xy, omega_yy sign-flipped (see _sign_flipped)
    P, Q = diag_matrices(p["p_x"], p["p_y"], p["q_x"], qy, PAPER_D)
    data = ols_data(ev.x, ev.y)
    fit = (ev.x @ data.w_star[..., None])[..., 0]
    resid = ev.y - fit

    def shrinkage(c: float) -> np.ndarray:
        """<w^L, w*>/|w*|^2 on prompts with the same X and w* but residual energy rho scaled by c^2."""
        w_L = implicit_states(ev.x, fit + c * resid, P, Q)[-1].w
        return (w_L * data.w_star).sum(-1) / (data.w_star**2).sum(-1)

    low, mid, high = shrinkage(0.5), shrinkage(1.0), shrinkage(2.0)
    ratio = ratio_estimate(high, low)
    upper = ratio.value + ADAPTIVE_Z * ratio.se
    frac_not = float(1.0 - ((high - low) < -1e-6 * np.abs(mid)).mean())
    om = omega(p["p_x"], p["p_y"], p["q_x"], qy)
    s2 = data.rho / (PAPER_N - PAPER_D)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    axes[0].scatter(s2, mid, s=3, alpha=0.4)
    axes[0].set_xlabel("sigma_hat^2 = rho/(n-d)")
    axes[0].set_ylabel("<w^L, w*>/|w*|^2")
    axes[0].set_title(f"{kind.upper()} L={layers}, U(0,5)")
    mean_lambda = PAPER_N * (PAPER_D + NoiseLaw.parse(label).mean_variance)  # E[lambda] = n (d + E sigma^2)
    for i, (name, scale, sym) in enumerate((("xx", PAPER_N, "n"), ("xy", mean_lambda, "E[lambda]"),
                                            ("yx", PAPER_N, "n"), ("yy", mean_lambda, "E[lambda]"))):
        axes[1].plot(range(1, layers + 1), om[:, i] * scale, marker="o", label=f"{sym} * omega_{name}")
    axes[1].axhline(0, color="k", lw=0.5)
    axes[1].set_xlabel("layer")
    axes[1].set_title("omega per layer (scaled to O(1))")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    if flipped:
        plt.close(fig)
    figs = [] if flipped else [f for f in [ctx.save_figure(fig, f"vladymyrov-{kind}-shrinkage-omega")] if f]
    which = "E[s(2)]/E[s(1/2)]" + (" with omega_xy, omega_yy sign-flipped" if flipped else "")
    return Measurement(error=upper, expected="ratio + 5 SE <= 1", observed=f"{ratio.value:.3f} ± {ratio.se:.3f}",
                       compared=f"upper 5-SE bound (delta method, paired prompts) of {which}, s(c) = <w^L, w*>/|w*|^2 of "
                                f"the trained {kind.upper()} model (Lemma 4.3) on 2000 U(0,5) prompts whose residual "
                                "energy rho is scaled by c^2 (X and w* fixed)",
                       details={"omega_per_layer(xx,xy,yx,yy)": om.tolist(),
                                "paper_reading(sign per layer)": {
                                    "omega_xx<0 (preconditioning, Sec. 5.1)": (om[:, 0] < 0).tolist(),
                                    "omega_yx<0 (GD step under y_hat = -y_t)": (om[:, 2] < 0).tolist(),
                                    "omega_yy<0 (shrink more at high noise, Sec. 5.2)": (om[:, 3] < 0).tolist(),
                                    "omega_xy<0 (smaller step at high noise, Sec. 5.3)": (om[:, 1] < 0).tolist()},
                                "fraction_of_prompts_not_shrinking_more": frac_not,
                                "mean_shrinkage(c=0.5,1,2)":
                                [float(low.mean()), float(mid.mean()), float(high.mean())],
                                "corr(shrinkage, sigma_hat^2)": float(np.corrcoef(mid, s2)[0, 1]), "scale": _scale(ctx)},
                       figures=figs)


register(Claim(
    id="vladymyrov.train.implicit-shrinkage", paper=VLADYMYROV, reference="Lemma 4.4 and Sec. 5.2-5.3 (omega_yy rescaling, omega_xy step size)",
    statement="The algorithm read off a trained DIAG model is noise-adaptive: with X and the OLS solution w* fixed, "
              "its implicit weight vector w^L shrinks w* more, on average, when the residual energy rho (the noise "
              "estimate) grows, like ridge (Sec. 5.2: omega_yy < 0 rescales by 1 + omega_yy lambda).",
    kind="measured", check=lambda ctx: _shrinkage(ctx, flipped=False), control=lambda ctx: _shrinkage(ctx, flipped=True),
    control_description=("the same trained weights with omega_xy and omega_yy sign-flipped (q_y -> -q_y), the reading of "
                         "Sec. 5.2-5.3 in which more label energy gives less shrinkage, measured the same way"),
    tolerance=Tolerance(1.0, ("the statement itself: E[s(2)]/E[s(1/2)] < 1, tested by its upper 5-standard-error bound "
                              "(delta method over 2000 paired prompts; one-sided false alarm 3e-7); quick: 0.762 +- 0.005 "
                              "-> 0.79, sign-flipped control 1.48 +- 0.015 -> 1.55 (weak: the flipped weights shrink "
                              "less at high noise, but only by a factor ~1.5)"), origin="standard-errors"),
    seed=70002,
    route="the Lemma 4.3 implicit weights of the trained model on prompts with rescaled residuals",
))


def _layers_table(ctx: RunContext, kind: str) -> Measurement:
    plt = pyplot()

    label, max_layers = "U5", 4
    ev = _eval_batch(label, ctx.seed, ctx.quick)
    base = _baselines(label, ctx.quick)
    curves: dict[str, list[float]] = {}
    for k in ("diag", "gdpp", "full"):
        curves[k] = [vm.evaluate(k, _trained(k, L, label, ctx.seed, "cpu", ctx.device)["params"], ev)["adjusted"]
                     for L in range(1, max_layers + 1)]
    c = curves[kind]
    const = base["constrr"]["adjusted"]
    # criterion: loss decreases with L and the deepest model is below 0.5 x ConstRR
    worst = max(max(c[i + 1] / c[i] for i in range(len(c) - 1)), c[-1] / (0.5 * const))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for k, v in curves.items():
        ax.semilogy(range(1, max_layers + 1), v, marker="o", label=k.upper())
    for k in ("constrr", "adarr", "tunedrr", "bayes"):
        ax.axhline(base[k]["adjusted"], ls="--", lw=0.8, label=k)
    ax.set_xlabel("layers")
    ax.set_ylabel("adjusted loss")
    ax.set_title("U(0,5), CPU scale")
    ax.legend(fontsize=7)
    figs = [f for f in [ctx.save_figure(fig, f"vladymyrov-layers-{kind}")] if f]
    return Measurement(error=worst, expected="each extra layer lowers the loss; L=4 < 0.5 ConstRR", observed=c,
                       compared=f"max of successive ratios loss(L+1)/loss(L) (L=1..4) and loss(4)/(0.5 ConstRR) for {kind.upper()}",
                       details={"curves": curves, "baselines": {k: base[k] for k in ("constrr", "adarr", "tunedrr", "gd", "bayes")},
                                "table1": {"diag": TABLE1_DIAG["U5"], "gdpp": TABLE1_GDPP["U5"], "full": TABLE1_FULL["U5"]},
                                "config": SCALES["cpu"]}, figures=figs)


register(Claim(
    id="vladymyrov.train.layers", paper=VLADYMYROV, reference="Table 1 and Fig. 1 (U(0,5), L = 1..4), Fig. 5",
    statement="Under U(0,5), the adjusted loss of DIAG decreases with every added layer and falls well below ConstRR "
              "by L = 4; GD++ plateaus near ConstRR.",
    kind="trained", check=lambda ctx: _layers_table(ctx, "diag"), control=lambda ctx: _layers_table(ctx, "gdpp"),
    control_description="GD++ trained the same way (plateau near ConstRR)",
    tolerance=Tolerance(1.0, "ratios < 1 mean strict improvement with L (evaluation on the same 1e5 prompts, SE ~1%)", origin="theorem-bound"),
    seed=70003, profiles=("full",),
    route="Adam through the torch forward pass for L = 1..4; adjusted loss measured on fresh prompts",
))
