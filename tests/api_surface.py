"""The public API surface of ``theory`` and ``numerics``: every callable a user may call, with a cheap valid call
and the kind of every argument, for the bad-input property tests (``tests/test_bad_inputs.py``).

An :class:`Entry` is one callable (a function, a class, or a method bound to a valid object), a factory of valid
keyword arguments (fresh objects on every call, fixed seeds), and for each argument its *kind*: what the
argument must be.  :data:`BAD` turns a kind and a valid value into bad values of that kind (wrong types,
``None``, NaN/inf, complex where real is required, non-positive sizes, odd ``d``, non-square or non-orthogonal
matrices, negative seeds, ...).

:data:`EXEMPT` lists the public callables deliberately left out, each with its reason; a test checks that every
public module-level function and class of the two packages is either an entry or exempt, so a new public
function must be added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

import numerics.arguments as targ
import theory.arguments as targs
from numerics import (block_family, device, group_cubature, laws, optimize, regression, samplers, statistics,
                      vladymyrov_fit, vladymyrov_training)
from numerics.models import sander_augmented as m_aug
from numerics.models import sander_non_augmented as m_na
from numerics.models import sander_softmax_pe as m_soft
from numerics.models import vladymyrov as m_vlad
from theory.sander import augmented as aug
from theory.sander import haar
from theory.sander import non_augmented as na
from theory.sander import pe_only as pe
from theory.sander import softmax_pe as soft
from theory.vladymyrov import adaptive as ada
from theory.vladymyrov import baselines as bl
from theory.vladymyrov import model as vmodel
from theory.vladymyrov import recursion as rec
from theory.vladymyrov import second_order as so


@dataclass(frozen=True)
class Entry:
    """One public callable: ``call(**valid())`` succeeds; each argument in ``kinds`` has the given kind (a kind
    ending in ``?`` is optional: ``None`` is a valid value for it)."""

    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    kinds: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------------
# Bad values per kind
# ----------------------------------------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


def _planted(value: np.ndarray, bad: float) -> np.ndarray:
    out = np.array(value, dtype=np.result_type(value, float), copy=True)
    out.flat[out.size // 2] = bad
    return out


def _arrays(value: Any, *, real: bool, fixed_ndim: bool) -> list[tuple[str, Any]]:
    arr = np.asarray(value)
    out = [("None", None), ("text", "abc"), ("object", object()), ("NaN entry", _planted(arr, NAN)),
           ("inf entry", _planted(arr, INF))]
    if real:
        out.append(("complex", arr + 1j))
    if fixed_ndim:
        out.append(("extra axis", arr[None]))
    return out


def _tensors(value: torch.Tensor, *, real: bool, fixed_ndim: bool) -> list[tuple[str, Any]]:
    out = [("None", None), ("numpy array", value.detach().numpy()), ("int tensor", torch.ones(value.shape, dtype=torch.int64)),
           ("text", "abc")]
    if real:
        out.append(("complex tensor", value.to(torch.complex128)))
    if fixed_ndim:
        out.append(("extra axis", value[None]))
    return out


def _square(value: Any) -> list[tuple[str, Any]]:
    arr = np.asarray(value)
    return [("non-square", arr[:, :-1]), ("vector", arr[0])]


INTS = [("None", None), ("float", 2.5), ("text", "3"), ("bool", True), ("NaN", NAN)]
FLOATS = [("None", None), ("text", "1"), ("complex", 1j), ("NaN", NAN), ("inf", INF), ("bool", True)]

BAD: dict[str, Callable[[Any], list[tuple[str, Any]]]] = {
    "pos_int": lambda v: INTS + [("zero", 0), ("negative", -1)],
    "nonneg_int": lambda v: INTS + [("negative", -1)],
    "even_int": lambda v: INTS + [("odd", 2 * (v // 2) + 1), ("zero", 0), ("negative", -2)],
    "seed": lambda v: [("None", None), ("float", 2.5), ("text", "0"), ("negative", -1), ("huge", 2**64)],
    "pos_float": lambda v: FLOATS + [("zero", 0.0), ("negative", -1.0)],
    "nonneg_float": lambda v: FLOATS + [("negative", -1.0)],
    "real_float": lambda v: FLOATS,
    "choice": lambda v: [("unknown", "nosuch"), ("None", None), ("int", 3), ("list", [v])],
    "bool": lambda v: [("text", "yes"), ("None", None), ("int 2", 2)],
    "rng": lambda v: [("None", None), ("int", 0), ("text", "rng"), ("legacy RandomState", np.random.RandomState(0))],
    "rng_optional": lambda v: [("int", 0), ("text", "rng"), ("legacy RandomState", np.random.RandomState(0))],
    "torch_generator": lambda v: [("None", None), ("int", 0), ("numpy Generator", np.random.default_rng(0))],
    "torch_generator_optional": lambda v: [("int", 0), ("numpy Generator", np.random.default_rng(0))],
    "real_array": lambda v: _arrays(v, real=True, fixed_ndim=True),
    "batch": lambda v: _arrays(v, real=False, fixed_ndim=False),
    "square_batch": lambda v: _arrays(v, real=False, fixed_ndim=False) + _square(v),
    "real_square_batch": lambda v: _arrays(v, real=True, fixed_ndim=False) + _square(v),
    "real_orthogonal_batch": lambda v: _arrays(v, real=True, fixed_ndim=False) + _square(v)
    + [("not orthogonal", 2 * np.asarray(v)), ("complex unitary", 1j * np.asarray(v))],
    "real_batch": lambda v: _arrays(v, real=True, fixed_ndim=False),
    "array": lambda v: _arrays(v, real=False, fixed_ndim=True),
    "real_square": lambda v: _arrays(v, real=True, fixed_ndim=True) + _square(v),
    "real_orthogonal": lambda v: _arrays(v, real=True, fixed_ndim=True) + _square(v)
    + [("not orthogonal", 2 * np.asarray(v)), ("complex unitary", 1j * np.asarray(v))],
    "orthogonal": lambda v: _arrays(v, real=False, fixed_ndim=False) + [("not orthogonal", 2 * np.asarray(v))],
    "tensor": lambda v: _tensors(v, real=False, fixed_ndim=True),
    "tensor_batch": lambda v: _tensors(v, real=False, fixed_ndim=False),
    "real_tensor": lambda v: _tensors(v, real=True, fixed_ndim=True),
    "real_tensor_batch": lambda v: _tensors(v, real=True, fixed_ndim=False),
    "params": lambda v: [("None", None), ("empty dict", {}), ("list", [v]), ("numpy values", {k: t.detach().numpy() for k, t in v.items()})],
    "callable": lambda v: [("None", None), ("int", 3)],
    "object": lambda v: [("None", None), ("int", 3), ("text", "abc")],
}


# ----------------------------------------------------------------------------------------------------------------
# Valid inputs (small, fixed seeds)
# ----------------------------------------------------------------------------------------------------------------


def bad_values(kind: str, valid: Any) -> list[tuple[str, Any]]:
    """The bad values of ``kind`` (``None`` left out for an optional kind ``"name?"``)."""
    if kind.endswith("?"):
        return [(label, v) for label, v in BAD[kind[:-1]](valid) if label != "None"]
    return BAD[kind](valid)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _mat(d: int, seed: int = 1) -> np.ndarray:
    return _rng(seed).standard_normal((d, d))


def _reg(batch: int = 3, n: int = 6, d: int = 2) -> dict[str, np.ndarray]:
    r = _rng(2)
    return {"x": r.standard_normal((batch, n, d)), "y": r.standard_normal((batch, n)), "x_query": r.standard_normal((batch, d))}


def _reg1(n: int = 6, d: int = 2) -> dict[str, np.ndarray]:
    return {k: v[0] for k, v in _reg(1, n, d).items()}


def _spec() -> bl.RidgeSpectrum:
    return bl.ridge_spectrum(**_reg())


def _na_params(H: int = 2, d: int = 2, T: int = 3) -> dict[str, torch.Tensor]:
    return m_na.init_params(H, d, T, generator=torch.Generator().manual_seed(0))


def _na_seqs(case: str = "orthogonal", n: int = 4, d: int = 2, T: int = 3) -> torch.Tensor:
    return m_na.sample_sequences(case, n, d, T, rng=_rng())


def _aug_params(d: int = 2) -> dict[str, torch.Tensor]:
    return m_aug.init_full(d, scale=0.1, generator=torch.Generator().manual_seed(0))


def _states(n: int = 3, t: int = 3, d: int = 2) -> np.ndarray:
    return _rng(3).standard_normal((n, t + 1, d))


def _vlad_params(kind: str = "diag", layers: int = 2, d: int = 2) -> dict[str, torch.Tensor]:
    return m_vlad.init_params(kind, layers, d=d, generator=torch.Generator().manual_seed(0))


def _vlad_batch() -> regression.RegressionBatch:
    return regression.sample_regression(3, regression.NoiseLaw.uniform(1.0), rng=_rng(), n=6, d=2)


def _weights(L: int = 2, H: int = 1, d: int = 2) -> dict[str, np.ndarray]:
    r = _rng(4)
    return {"P": 0.1 * r.standard_normal((L, H, d + 1, d + 1)), "Q": 0.1 * r.standard_normal((L, H, d + 1, d + 1))}


def _lh(L: int = 2, H: int = 1, seed: int = 5) -> np.ndarray:
    return _rng(seed).standard_normal((L, H))


def _use_device(device: Any) -> torch.device:
    with globals()["device"].use_device(device) as dev:
        return dev


def _prompts(batch: int = 3, n: int = 6, d: int = 2) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v) for k, v in _reg(batch, n, d).items()}


def _fit_data(kind: str) -> dict[str, torch.Tensor]:
    t = _prompts()
    return {**vladymyrov_fit.prepare(kind, t["x"], t["y"], t["x_query"]), "y_query": torch.zeros(3, dtype=torch.float64)}


def E(name: str, call: Callable[..., Any], valid: Callable[[], dict[str, Any]], **kinds: str) -> Entry:
    return Entry(name, call, valid, kinds)


_family = samplers.commuting_family(4)
_law = regression.NoiseLaw.uniform(2.0)
_radial = aug.fixed_radius(1.0)
_rule = haar.haar_rule(2, 8)
_mse = lambda: {"samples": np.arange(5.0)}  # noqa: E731

ENTRIES: list[Entry] = [
    # ---------------------------------------------------------------- numerics.samplers
    E("numerics.samplers.haar_orthogonal", samplers.haar_orthogonal, lambda: {"d": 3, "n": 2, "rng": _rng()},
      d="pos_int", n="pos_int?", rng="rng"),
    # ---------------------------------------------------------------- numerics.group_cubature
    E("numerics.group_cubature.sphere3_rule", group_cubature.sphere3_rule, lambda: {"degree": 2}, degree="nonneg_int"),
    E("numerics.group_cubature.haar_orthogonal_rule", group_cubature.haar_orthogonal_rule,
      lambda: {"d": 3, "degree": 2, "special": False}, d="pos_int", degree="nonneg_int", special="bool"),
    E("numerics.group_cubature.block_rotation_rule", group_cubature.block_rotation_rule,
      lambda: {"d": 2, "degree": 2, "mu": 2.0}, d="even_int", degree="nonneg_int", mu="pos_float"),
    E("numerics.group_cubature.gaussian_rule", group_cubature.gaussian_rule, lambda: {"d": 2, "degree": 2},
      d="pos_int", degree="nonneg_int"),
    E("numerics.samplers.sample_angles", samplers.sample_angles, lambda: {"n": 2, "k": 2, "rng": _rng(), "mu": 2.0},
      n="pos_int", k="pos_int", rng="rng", mu="pos_float"),
    E("numerics.samplers.rotation_blocks", samplers.rotation_blocks, lambda: {"thetas": np.array([[0.3, 1.0]])},
      thetas="real_batch"),
    E("numerics.samplers.CommutingFamily", samplers.CommutingFamily, lambda: {"basis": samplers.haar_orthogonal(4, rng=_rng()), "mu": 1.0},
      basis="real_orthogonal", mu="pos_float"),
    E("numerics.samplers.CommutingFamily.from_angles", _family.from_angles, lambda: {"thetas": np.array([[0.3, 1.0]])},
      thetas="real_batch"),
    E("numerics.samplers.CommutingFamily.sample", _family.sample, lambda: {"n": 2, "rng": _rng()}, n="pos_int", rng="rng"),
    E("numerics.samplers.CommutingFamily.sample_angles", _family.sample_angles, lambda: {"n": 2, "rng": _rng()},
      n="pos_int", rng="rng"),
    E("numerics.samplers.CommutingFamily.trajectories", _family.trajectories,
      lambda: {"thetas": np.array([[0.3, 1.0]]), "s0": np.ones((1, 4)), "t_max": 3},
      thetas="real_array", s0="real_array", t_max="nonneg_int"),
    E("numerics.samplers.commuting_family", samplers.commuting_family, lambda: {"d": 4, "basis": "haar", "mu": 1.0, "rng": _rng()},
      d="even_int", basis="choice", mu="pos_float", rng="rng"),
    E("numerics.samplers.unitary_diagonal", samplers.unitary_diagonal, lambda: {"n": 2, "d": 3, "rng": _rng(), "mu": 1.0},
      n="pos_int", d="pos_int", rng="rng", mu="pos_float"),
    E("numerics.samplers.diagonal_trajectories", samplers.diagonal_trajectories,
      lambda: {"lam": np.exp(1j * np.ones((2, 3))), "s0": np.ones((2, 3)), "t_max": 2},
      lam="array", s0="array", t_max="nonneg_int"),
    E("numerics.samplers.initial_states", samplers.initial_states,
      lambda: {"n": 2, "d": 4, "law": "torus", "rng": _rng(), "complex_valued": False, "block_radius": 1.5},
      n="pos_int", d="even_int", law="choice", rng="rng", complex_valued="bool", block_radius="pos_float"),
    E("numerics.samplers.sequences", samplers.sequences,
      lambda: {"w": samplers.haar_orthogonal(3, 2, rng=_rng()), "s0": np.ones((2, 3)), "t_max": 3, "noise_std": 0.1,
               "rng": _rng(), "check_orthogonal": True},
      w="orthogonal", s0="array", t_max="nonneg_int", noise_std="nonneg_float", rng="rng", check_orthogonal="bool"),
    E("numerics.samplers.to_torch", samplers.to_torch, lambda: {"x": np.eye(2), "dtype": "float32", "device": "cpu"},
      x="batch", dtype="choice", device="choice?"),
    # ---------------------------------------------------------------- numerics.regression
    E("numerics.regression.NoiseLaw", regression.NoiseLaw, lambda: {"kind": "categorical", "values": (1.0, 3.0)},
      kind="choice", values="object"),
    E("numerics.regression.NoiseLaw.uniform", regression.NoiseLaw.uniform, lambda: {"sigma_max": 2.0}, sigma_max="nonneg_float"),
    E("numerics.regression.NoiseLaw.categorical", regression.NoiseLaw.categorical, lambda: {"values": [1.0, 3.0]},
      values="object"),
    E("numerics.regression.NoiseLaw.parse", regression.NoiseLaw.parse, lambda: {"label": "S1,3"}, label="object"),
    E("numerics.regression.NoiseLaw.sample", _law.sample, lambda: {"size": 3, "rng": _rng()}, size="pos_int", rng="rng"),
    E("numerics.regression.NoiseLaw.quadrature", _law.quadrature, lambda: {"nodes": 5}, nodes="pos_int"),
    E("numerics.regression.sample_regression", regression.sample_regression,
      lambda: {"batch": 3, "law": _law, "rng": _rng(), "n": 4, "d": 2, "sigma": np.ones(3)},
      batch="pos_int", law="object", rng="rng", n="pos_int", d="pos_int", sigma="real_array?"),
    # ---------------------------------------------------------------- numerics.statistics
    E("numerics.statistics.mean_estimate", statistics.mean_estimate, _mse, samples="real_batch"),
    E("numerics.statistics.z_score", statistics.z_score, lambda: {"samples": np.arange(5.0), "expected": 2.0},
      samples="real_batch"),
    E("numerics.statistics.paired_difference", statistics.paired_difference, lambda: {"a": np.arange(5.0), "b": np.ones(5)},
      a="real_batch", b="real_batch"),
    E("numerics.statistics.ratio_estimate", statistics.ratio_estimate, lambda: {"num": np.arange(5.0), "den": np.ones(5) + np.arange(5.0)},
      num="real_batch", den="real_batch"),
    # ---------------------------------------------------------------- numerics.device
    E("numerics.device.resolve_device", device.resolve_device, lambda: {"device": "cpu"}, device="choice?"),
    E("numerics.device.resolve_dtype", device.resolve_dtype, lambda: {"dtype": "float64"}, dtype="choice"),
    E("numerics.device.describe", device.describe, lambda: {"device": torch.device("cpu")}, device="object"),
    E("numerics.device.check_device_name", device.check_device_name, lambda: {"device": "cuda:1"}, device="choice"),
    E("numerics.device.use_device", _use_device, lambda: {"device": "cpu"}, device="choice?"),
    # ---------------------------------------------------------------- numerics.models.sander_augmented
    E("numerics.models.sander_augmented.augment", m_aug.augment, lambda: {"states": torch.ones(2, 3, 2, dtype=torch.float64)}, states="tensor"),
    E("numerics.models.sander_augmented.forward", m_aug.forward, lambda: {"params": _aug_params(), "tokens": torch.ones(2, 3, 6, dtype=torch.float64)},
      params="params", tokens="tensor"),
    E("numerics.models.sander_augmented.predict", m_aug.predict, lambda: {"params": _aug_params(), "states": torch.ones(2, 3, 2, dtype=torch.float64)},
      params="params", states="tensor"),
    E("numerics.models.sander_augmented.sequence_loss", m_aug.sequence_loss,
      lambda: {"params": _aug_params(), "states": torch.ones(2, 3, 2, dtype=torch.float64)}, params="params", states="tensor"),
    E("numerics.models.sander_augmented.quadrature_states", m_aug.quadrature_states,
      lambda: {"case": "U", "d": 1, "horizon": 1, "radial_nodes": [1.0], "radial_weights": [1.0]},
      case="choice", d="pos_int", horizon="pos_int"),
    E("numerics.models.sander_augmented.position_losses", m_aug.position_losses,
      lambda: {"params": _aug_params(), "states": torch.ones(2, 3, 2, dtype=torch.float64),
               "weights": torch.ones(2, dtype=torch.float64)},
      params="params", states="tensor", weights="tensor", chunk="pos_int"),
    E("numerics.models.sander_augmented.init_full", m_aug.init_full,
      lambda: {"d": 2, "scale": 0.1, "generator": torch.Generator().manual_seed(0), "complex_valued": True, "dtype": "float64"},
      d="pos_int", scale="pos_float", generator="torch_generator", complex_valued="bool", dtype="choice"),
    E("numerics.models.sander_augmented.embed_blocks", m_aug.embed_blocks, lambda: {"v": torch.eye(2), "m": torch.eye(2)},
      v="tensor", m="tensor"),
    E("numerics.models.sander_augmented.block_products", m_aug.block_products,
      lambda: {"params": m_aug.embed_blocks(torch.eye(2), torch.eye(2))}, params="params"),
    E("numerics.models.sander_augmented.product_norms", m_aug.product_norms, lambda: {"params": _aug_params()}, params="params"),
    E("numerics.models.sander_augmented.train_full_sampled", m_aug.train_full_sampled,
      lambda: {"d": 2, "sample_states": lambda _: torch.ones(2, 3, 2, dtype=torch.float64), "steps": 1, "lr": 1e-3,
               "generator": torch.Generator().manual_seed(0)},
      d="pos_int", sample_states="callable", steps="pos_int", lr="pos_float", generator="torch_generator"),
    E("numerics.models.sander_augmented.train_restricted_population", m_aug.train_restricted_population,
      lambda: {"tensors": aug.restricted_tensors_u(1, [1], s0="ones"), "generator": torch.Generator().manual_seed(0),
               "target": None, "init_scale": 0.3},
      tensors="object", generator="torch_generator", init_scale="pos_float"),
    # ---------------------------------------------------------------- numerics.models.sander_non_augmented
    E("numerics.models.sander_non_augmented.init_params", m_na.init_params,
      lambda: {"H": 2, "d": 2, "T": 3, "scale": 0.1, "generator": torch.Generator().manual_seed(0), "dtype": "float64"},
      H="pos_int", d="pos_int", T="pos_int", scale="pos_float", generator="torch_generator_optional", dtype="choice"),
    E("numerics.models.sander_non_augmented.pad_heads", m_na.pad_heads, lambda: {"params": _na_params(), "H": 3},
      params="params", H="pos_int"),
    E("numerics.models.sander_non_augmented.attention_product", m_na.attention_product, lambda: {"params": _na_params()},
      params="params"),
    E("numerics.models.sander_non_augmented.factor_params", m_na.factor_params, lambda: {"C": _mat(2), "P": _mat(3)},
      C="real_square", P="real_square"),
    E("numerics.models.sander_non_augmented.predict", m_na.predict, lambda: {"params": _na_params(), "seqs": _na_seqs()},
      params="params", seqs="tensor"),
    E("numerics.models.sander_non_augmented.predict_fast", m_na.predict_fast, lambda: {"params": _na_params(), "seqs": _na_seqs()},
      params="params", seqs="tensor"),
    E("numerics.models.sander_non_augmented.sequence_losses", m_na.sequence_losses,
      lambda: {"params": _na_params(), "seqs": _na_seqs()}, params="params", seqs="tensor"),
    E("numerics.models.sander_non_augmented.sampled_loss", m_na.sampled_loss, lambda: {"params": _na_params(), "seqs": _na_seqs()},
      params="params", seqs="tensor"),
    E("numerics.models.sander_non_augmented.exact_loss", m_na.exact_loss,
      lambda: {"params": _na_params(), "case": "orthogonal", "radius_sq": 2.0},
      params="params", case="choice", radius_sq="pos_float"),
    E("numerics.models.sander_non_augmented.sample_sequences", m_na.sample_sequences,
      lambda: {"case": "orthogonal", "n": 2, "d": 2, "T": 3, "rng": _rng(), "mu": 1.0, "s0_law": "gaussian"},
      case="choice", n="pos_int", d="even_int", T="pos_int", rng="rng", mu="pos_float", s0_law="choice?"),
    E("numerics.models.sander_non_augmented.quadrature_sequences", m_na.quadrature_sequences,
      lambda: {"case": "orthogonal", "d": 2, "T": 2, "radius_sq": 2.0},
      case="choice", d="even_int", T="pos_int", radius_sq="pos_float"),
    E("numerics.models.sander_non_augmented.quadrature_loss", m_na.quadrature_loss,
      lambda: {"params": _na_params(T=2), "case": "unitary"}, params="params", case="choice"),
    E("numerics.models.sander_non_augmented.balance_heads", m_na.balance_heads, lambda: {"params": _na_params()},
      params="params"),
    E("numerics.models.sander_non_augmented.fit_exact", m_na.fit_exact,
      lambda: {"case": "unitary", "d": 1, "H": 1, "T": 2, "seed": 0, "max_iter": 5, "starts": 1, "restarts": 0},
      case="choice", d="pos_int", H="pos_int", T="pos_int", seed="seed", max_iter="pos_int", starts="pos_int",
      restarts="nonneg_int", scale="pos_float", gap="pos_float"),
    E("numerics.models.sander_non_augmented.position_solver", m_na.position_solver,
      lambda: {"case": "orthogonal", "T": 3}, case="choice", T="pos_int", radius_sq="pos_float"),
    E("numerics.models.sander_non_augmented.fit_sampled", m_na.fit_sampled,
      lambda: {"case": "orthogonal", "d": 2, "H": 1, "T": 3, "seed": 0, "steps": 1, "batch": 2, "lr": 1e-3, "models": 1},
      case="choice", d="even_int", H="pos_int", T="pos_int", seed="seed", steps="pos_int", batch="pos_int",
      lr="pos_float", models="pos_int", scale="pos_float", mu="pos_float", dtype="choice", s0_law="choice?",
      compile_loss="bool"),
    E("numerics.models.sander_non_augmented.unstack", m_na.unstack,
      lambda: {"params": {k: torch.stack([v, v]) for k, v in _na_params().items()}, "i": 1}, params="params", i="nonneg_int"),
    E("numerics.models.sander_non_augmented.pe_only_params", m_na.pe_only_params, lambda: {"P": torch.zeros(3, 3), "d": 1},
      P="real_tensor", d="pos_int"),
    E("numerics.models.sander_non_augmented.pe_only_predict", m_na.pe_only_predict,
      lambda: {"P": torch.zeros(3, 3, dtype=torch.float64), "seqs": m_na.pe_only_sequences(2, 3, 1.0, rng=_rng())},
      P="real_tensor", seqs="tensor"),
    E("numerics.models.sander_non_augmented.pe_only_loss", m_na.pe_only_loss,
      lambda: {"P": torch.zeros(3, 3, dtype=torch.float64), "seqs": m_na.pe_only_sequences(2, 3, 1.0, rng=_rng())},
      P="real_tensor", seqs="tensor"),
    E("numerics.models.sander_non_augmented.pe_only_sequences", m_na.pe_only_sequences,
      lambda: {"n": 2, "T": 3, "mu": 2.0, "rng": _rng(), "d": 1}, n="pos_int", T="nonneg_int", mu="pos_float", rng="rng",
      d="pos_int", dtype="choice"),
    E("numerics.models.sander_non_augmented.pe_only_gd", m_na.pe_only_gd,
      lambda: {"seqs": m_na.pe_only_sequences(2, 3, 1.0, rng=_rng()), "lr": 0.5, "stop_below": 10.0, "max_steps": 3},
      seqs="tensor", lr="pos_float", stop_below="pos_float", max_steps="pos_int", loss_fn="callable"),
    # ---------------------------------------------------------------- numerics.models.sander_softmax_pe
    E("numerics.models.sander_softmax_pe.softmax_positional", m_soft.softmax_positional, lambda: {"Z": torch.zeros(3, 3)},
      Z="real_tensor"),
    E("numerics.models.sander_softmax_pe.exact_loss", m_soft.exact_loss,
      lambda: {"params": {"A": torch.ones(1, 2, dtype=torch.float64), "B": torch.ones(1, 2, dtype=torch.float64),
                          "Z": torch.zeros(3, 3, dtype=torch.float64)}, "radius_sq": 2.0},
      params="params", radius_sq="pos_float"),
    E("numerics.models.sander_softmax_pe.fit_exact", m_soft.fit_exact,
      lambda: {"d": 2, "H": 1, "T": 2, "seed": 0, "starts": 1, "max_iter": 3},
      d="even_int", H="pos_int", T="pos_int", seed="seed", starts="pos_int", scale="pos_float", max_iter="pos_int"),
    # ---------------------------------------------------------------- numerics.models.vladymyrov (owned by the Table-1 helper)
    E("numerics.models.vladymyrov.init_params", m_vlad.init_params,
      lambda: {"kind": "diag", "layers": 2, "d": 2, "generator": torch.Generator().manual_seed(0)},
      kind="choice", layers="pos_int", d="pos_int", heads="pos_int", scale="pos_float", generator="torch_generator"),
    E("numerics.models.vladymyrov.weight_matrices", m_vlad.weight_matrices,
      lambda: {"kind": "diag", "params": _vlad_params(), "d": 2}, kind="choice", params="params", d="pos_int"),
    E("numerics.models.vladymyrov.omegas", m_vlad.omegas, lambda: {"kind": "diag", "params": _vlad_params()},
      kind="choice", params="params"),
    E("numerics.models.vladymyrov.forward_readouts", m_vlad.forward_readouts,
      lambda: {"kind": "diag", "params": _vlad_params(), **{k: torch.as_tensor(v) for k, v in _reg().items()}},
      kind="choice", params="params", x="real_tensor", y="real_tensor", x_query="real_tensor"),
    E("numerics.models.vladymyrov.half_mse", m_vlad.half_mse,
      lambda: {"prediction": torch.ones(3, dtype=torch.float64), "target": torch.zeros(3, dtype=torch.float64)},
      prediction="real_tensor", target="real_tensor"),
    E("numerics.models.vladymyrov.oracle_predictions", m_vlad.oracle_predictions, lambda: {"batch": _vlad_batch()},
      batch="object"),
    E("numerics.models.vladymyrov.train", m_vlad.train,
      lambda: {"kind": "diag", "layers": 1, "law": _law, "steps": 1, "batch": 2, "lr": 1e-3, "seed": 0, "n": 4, "d": 2},
      kind="choice", layers="pos_int", law="object", steps="pos_int", batch="pos_int", lr="pos_float", seed="seed",
      n="pos_int", d="pos_int"),
    E("numerics.models.vladymyrov.evaluate", m_vlad.evaluate,
      lambda: {"kind": "diag", "params": _vlad_params(), "batch": _vlad_batch()}, kind="choice", params="params",
      batch="object", chunk="pos_int"),
    # ---------------------------------------------------------------- numerics.vladymyrov_training (Table-1 helper)
    E("numerics.vladymyrov_training.train_point", vladymyrov_training.train_point,
      lambda: {"parameterisation": "diag", "layers": 1, "noise_law": "U1", "seed": 0, "scale": "quick",
               "overrides": {"steps": 1, "batch": 2, "eval_sequences": 4}},
      parameterisation="choice", layers="pos_int", seed="seed", scale="choice"),
    E("numerics.vladymyrov_training.baseline_losses", vladymyrov_training.baseline_losses,
      lambda: {"law": _law, "tune_sequences": 20, "eval_sequences": 20, "seed": 0, "n": 6, "d": 2},
      law="object", tune_sequences="pos_int", eval_sequences="pos_int", seed="seed", n="pos_int", d="pos_int"),
    E("numerics.vladymyrov_training.train_column", vladymyrov_training.train_column,
      lambda: {"noise_law": "U1", "scale": "quick", "seed": 0, "device": "cpu", "kinds": ("gdpp",), "baselines": False},
      scale="choice", seed="seed", device="choice?", baselines="bool"),
    E("numerics.vladymyrov_training.train_batched_point", vladymyrov_training.train_batched_point,
      lambda: {"parameterisation": "gdpp", "layers": 1, "noise_laws": ["U1"], "seeds": [0], "scale": "quick",
               "device": "cpu"},
      parameterisation="choice", layers="pos_int", noise_laws="object", seeds="object", scale="choice",
      device="choice?"),
    # ---------------------------------------------------------------- numerics.vladymyrov_fit (Table-1 helper)
    E("numerics.vladymyrov_fit.context_statistics", vladymyrov_fit.context_statistics,
      lambda: {k: v for k, v in _prompts().items() if k != "x_query"}, x="real_tensor", y="real_tensor"),
    E("numerics.vladymyrov_fit.spectral_statistics", vladymyrov_fit.spectral_statistics, _prompts,
      x="real_tensor", y="real_tensor", x_query="real_tensor"),
    E("numerics.vladymyrov_fit.prepare", vladymyrov_fit.prepare, lambda: {"kind": "diag", **_prompts()},
      kind="choice", x="real_tensor", y="real_tensor", x_query="real_tensor"),
    E("numerics.vladymyrov_fit.omega_readout", vladymyrov_fit.omega_readout,
      lambda: {"kind": "diag", "params": _vlad_params(), "stats": vladymyrov_fit.context_statistics(
          _prompts()["x"], _prompts()["y"]), "x_query": _prompts()["x_query"]},
      kind="choice", params="params", stats="params", x_query="real_tensor"),
    E("numerics.vladymyrov_fit.gdpp_spectral_readout", vladymyrov_fit.gdpp_spectral_readout,
      lambda: {"params": _vlad_params("gdpp"), "spec": vladymyrov_fit.spectral_statistics(**_prompts())},
      params="params", spec="params"),
    E("numerics.vladymyrov_fit.readout", vladymyrov_fit.readout,
      lambda: {"kind": "gdpp", "params": _vlad_params("gdpp"), "prepared": _fit_data("gdpp")},
      kind="choice", params="params", prepared="params"),
    E("numerics.vladymyrov_fit.sample_loss", vladymyrov_fit.sample_loss,
      lambda: {"kind": "diag", "params": _vlad_params(), "data": _fit_data("diag")},
      kind="choice", params="params", data="params"),
    E("numerics.vladymyrov_fit.fixed_prompts", vladymyrov_fit.fixed_prompts,
      lambda: {"law": _law, "prompts": 4, "seed": 0, "stream": 21, "n": 4, "d": 2},
      law="object", prompts="pos_int", seed="seed", stream="seed", n="pos_int", d="pos_int"),
    E("numerics.vladymyrov_fit.prepared_sample", vladymyrov_fit.prepared_sample,
      lambda: {"kind": "gdpp", "law": _law, "prompts": 4, "seed": 0}, kind="choice", law="object", prompts="pos_int",
      seed="seed"),
    E("numerics.vladymyrov_fit.fit_column", vladymyrov_fit.fit_column,
      lambda: {"kind": "gdpp", "law": _law, "max_layers": 1, "prompts": 40, "seed": 0, "max_iter": 3,
               "coarse_prompts": 40, "validation": 40},
      kind="choice", law="object", max_layers="pos_int", prompts="pos_int", seed="seed", random_starts="pos_int",
      max_iter="pos_int", init_scale="pos_float", new_layer_scale="pos_float", coarse_prompts="pos_int",
      random_max_layers="pos_int", validation="pos_int"),
    E("numerics.vladymyrov_fit.train_batched", vladymyrov_fit.train_batched,
      lambda: {"kind": "gdpp", "layers": 1, "laws": [_law], "seeds": [0], "steps": 1, "batch": 4, "lr": 1e-3,
               "device": "cpu", "n": 4, "d": 2},
      kind="choice", layers="pos_int", laws="object", seeds="object", steps="pos_int", batch="pos_int", lr="pos_float",
      init_scale="pos_float", clip_norm="pos_float", dtype="choice", device="choice?", n="pos_int", d="pos_int"),
    # ---------------------------------------------------------------- numerics.optimize (Table-1 helper)
    E("numerics.optimize.cosine_lr", optimize.cosine_lr, lambda: {"step": 1, "steps": 10, "lr": 0.1},
      step="nonneg_int", steps="pos_int", lr="pos_float"),
    E("numerics.optimize.minimize_population", optimize.minimize_population,
      lambda: {"loss_fn": lambda p: (p["x"] ** 2).sum(), "init": {"x": torch.ones(2, dtype=torch.float64)}, "max_iter": 3},
      loss_fn="callable", init="params", max_iter="pos_int", restarts="nonneg_int", gap="pos_float",
      newton_steps="nonneg_int"),
    E("numerics.optimize.newton_trust_region", optimize.newton_trust_region,
      lambda: {"loss_fn": lambda p: (p["x"] ** 2).sum(), "init": {"x": torch.ones(2, dtype=torch.float64)}, "steps": 2},
      loss_fn="callable", init="params", steps="pos_int", gap="pos_float", radius="pos_float"),
    E("numerics.optimize.chunked_model_sum", optimize.chunked_model_sum,
      lambda: {"loss_fn": lambda p, b: (p["x"] * b).sum(-1), "params": {"x": torch.ones(3, 2)}, "batch": torch.ones(3, 2),
               "chunk": 2},
      loss_fn="callable", params="params", batch="tensor", chunk="pos_int"),
    E("numerics.optimize.train_sampled", optimize.train_sampled,
      lambda: {"loss_fn": lambda p, b: (p["x"] ** 2).sum(), "init": {"x": torch.ones(2, dtype=torch.float64)},
               "sample_batch": lambda step: None, "steps": 2, "lr": 0.1},
      loss_fn="callable", init="params", sample_batch="callable", steps="pos_int", lr="pos_float"),
    # ---------------------------------------------------------------- numerics.laws (laws-of-W helper)
    E("numerics.laws.Law", laws.Law, lambda: {"kind": "commuting", "d": 4, "mu": 1.0}, kind="choice", d="even_int",
      mu="pos_float"),
    E("numerics.laws.commuting", laws.commuting, lambda: {"d": 4, "mu": 1.0, "basis": "haar", "rng": _rng()},
      d="even_int", mu="pos_float", rng="rng"),
    E("numerics.laws.Law.sample_w", laws.Law("haar", 3).sample_w, lambda: {"n": 2, "rng": _rng()}, n="pos_int", rng="rng"),
    E("numerics.laws.Law.sample_states", laws.Law("haar", 3).sample_states,
      lambda: {"n": 2, "T": 3, "rng": _rng(), "start": "gaussian"}, n="pos_int", T="nonneg_int", rng="rng", start="choice"),
    # ---------------------------------------------------------------- numerics.block_family (laws-of-W helper)
    E("numerics.block_family.block_predictions", block_family.block_predictions,
      lambda: {"v": torch.eye(2, dtype=torch.float64), "m": torch.eye(2, dtype=torch.float64),
               "states": torch.ones(3, 4, 2, dtype=torch.float64)},
      v="real_tensor", m="real_tensor", states="real_tensor"),
    E("numerics.block_family.fit_block_family", block_family.fit_block_family,
      lambda: {"states": _states(80, 2, 2), "seed": 0, "restarts": 1}, states="real_array", seed="seed",
      init_scale="pos_float", restarts="nonneg_int"),
    # ---------------------------------------------------------------- numerics.arguments
    E("numerics.arguments.params", targ.params, lambda: {"name": "p", "value": {"A": torch.ones(2)}, "keys": ("A",)},
      value="params"),
    E("numerics.arguments.generator", targ.generator, lambda: {"name": "g", "value": torch.Generator()},
      value="torch_generator"),
    # ---------------------------------------------------------------- theory.sander.augmented
    E("theory.sander.augmented.RadialMoments", aug.RadialMoments, lambda: {"m2": 1.0, "m4": 2.0, "m6": 6.0},
      m2="pos_float", m4="pos_float", m6="pos_float"),
    E("theory.sander.augmented.fixed_radius", aug.fixed_radius, lambda: {"r": 1.5}, r="pos_float"),
    E("theory.sander.augmented.moment_exprs", aug.moment_exprs, lambda: {"case": "U"}, case="choice"),
    E("theory.sander.augmented.optimal_step_expr", aug.optimal_step_expr, lambda: {"case": "O"}, case="choice"),
    E("theory.sander.augmented.optimal_loss_expr", aug.optimal_loss_expr, lambda: {"case": "O"}, case="choice"),
    E("theory.sander.augmented.moments", aug.moments, lambda: {"case": "O", "d": 4, "t": 2, "law": _radial},
      case="choice", d="even_int", t="nonneg_int", law="object"),
    E("theory.sander.augmented.optimal_step", aug.optimal_step, lambda: {"case": "U", "d": 3, "t": 2, "law": _radial},
      case="choice", d="pos_int", t="nonneg_int", law="object"),
    E("theory.sander.augmented.loss_at_step", aug.loss_at_step,
      lambda: {"case": "U", "d": 3, "t": 2, "law": _radial, "eta": 0.1},
      case="choice", d="pos_int", t="nonneg_int", law="object", eta="real_float"),
    E("theory.sander.augmented.optimal_loss", aug.optimal_loss, lambda: {"case": "U", "d": 3, "t": 2, "law": _radial},
      case="choice", d="pos_int", t="nonneg_int", law="object"),
    E("theory.sander.augmented.shared_optimum", aug.shared_optimum,
      lambda: {"case": "U", "d": 3, "positions": [1, 2], "law": _radial}, case="choice", d="pos_int", positions="object",
      law="object"),
    E("theory.sander.augmented.symbolic_moments", aug.symbolic_moments, lambda: {"case": "U", "d": 1, "t": 1},
      case="choice", d="pos_int", t="nonneg_int"),
    E("theory.sander.augmented.symbolic_sequence", aug.symbolic_sequence, lambda: {"d": 2, "t": 2},
      d="pos_int", t="nonneg_int", complex_valued="bool"),
    E("theory.sander.augmented.context_matrix", aug.context_matrix, lambda: {"states": _states()}, states="batch"),
    E("theory.sander.augmented.inner_objective", aug.inner_objective, lambda: {"w_hat": _mat(2), "states": _states()},
      w_hat="square_batch", states="batch"),
    E("theory.sander.augmented.inner_gradient", aug.inner_gradient, lambda: {"w_hat": _mat(2), "states": _states()},
      w_hat="square_batch", states="batch"),
    E("theory.sander.augmented.one_step_prediction", aug.one_step_prediction, lambda: {"states": _states(), "eta": 0.1},
      states="batch", eta="real_float"),
    E("theory.sander.augmented.restricted_tensors_u", aug.restricted_tensors_u,
      lambda: {"d": 2, "positions": [1, 2], "s0": "ones", "law": _radial}, d="pos_int", positions="object", s0="choice",
      law="object"),
    E("theory.sander.augmented.restricted_loss", aug.restricted_loss,
      lambda: {"v": np.eye(1), "m": np.eye(1), "tensors": aug.restricted_tensors_u(1, [1], s0="ones")},
      v="array", m="array", tensors="object"),
    E("theory.sander.augmented.distance_to_identity", aug.distance_to_identity, lambda: {"mat": _mat(2)}, mat="square_batch"),
    # ---------------------------------------------------------------- theory.sander.haar (laws-of-W helper)
    E("theory.sander.haar.gaussian_start", haar.gaussian_start, lambda: {"d": 3}, d="pos_int"),
    E("theory.sander.haar.haar_rule", haar.haar_rule, lambda: {"d": 2, "max_frequency": 4}, d="pos_int",
      max_frequency="nonneg_int"),
    E("theory.sander.haar.rotation_rule", haar.rotation_rule, lambda: {"d": 2, "max_frequency": 4, "mu": 1.0},
      d="even_int", max_frequency="nonneg_int", mu="pos_float"),
    E("theory.sander.haar.power_sums", haar.power_sums, lambda: {"rule": _rule, "n_max": 3}, rule="object",
      n_max="nonneg_int"),
    E("theory.sander.haar.moments", haar.moments, lambda: {"rule": _rule, "t": 1, "start": haar.gaussian_start(2)},
      rule="object", t="nonneg_int", start="object"),
    E("theory.sander.haar.optimal_step", haar.optimal_step, lambda: {"rule": _rule, "t": 1, "start": haar.gaussian_start(2)},
      rule="object", t="nonneg_int", start="object"),
    E("theory.sander.haar.optimal_loss", haar.optimal_loss, lambda: {"rule": _rule, "t": 1, "start": haar.gaussian_start(2)},
      rule="object", t="nonneg_int", start="object"),
    E("theory.sander.haar.moments_sym", haar.moments_sym, lambda: {"kind": "haar", "d": 2, "t": 1}, kind="choice",
      d="pos_int", t="nonneg_int"),
    # ---------------------------------------------------------------- theory.sander.non_augmented
    E("theory.sander.non_augmented.used_mask", na.used_mask, lambda: {"T": 4}, T="pos_int"),
    E("theory.sander.non_augmented.row_statistics", na.row_statistics, lambda: {"P": _mat(4)}, P="real_square_batch"),
    E("theory.sander.non_augmented.loss_u", na.loss_u, lambda: {"C": _mat(2), "P": _mat(4)}, C="real_square_batch", P="real_square_batch",
      per_row="bool"),
    E("theory.sander.non_augmented.loss_u_reference", na.loss_u_reference, lambda: {"C": _mat(2), "P": _mat(4)},
      C="real_square_batch", P="real_square_batch"),
    E("theory.sander.non_augmented.loss_u_torch", na.loss_u_torch,
      lambda: {"C": torch.as_tensor(_mat(2)), "P": torch.as_tensor(_mat(4))}, C="real_tensor_batch", P="real_tensor_batch"),
    E("theory.sander.non_augmented.loss_u_reference_torch", na.loss_u_reference_torch,
      lambda: {"C": torch.as_tensor(_mat(2)), "P": torch.as_tensor(_mat(4))}, C="real_tensor_batch", P="real_tensor_batch"),
    E("theory.sander.non_augmented.loss_u_row_optimum", na.loss_u_row_optimum, lambda: {"C": _mat(2)}, C="real_square_batch"),
    E("theory.sander.non_augmented.loss_u_minimum", na.loss_u_minimum, lambda: {"d": 2, "H": 1, "T": 3},
      d="pos_int", H="pos_int", T="pos_int"),
    E("theory.sander.non_augmented.loss_u_minimiser", na.loss_u_minimiser, lambda: {"d": 2, "T": 3, "alpha": 2.0, "H": 2},
      d="pos_int", T="pos_int", alpha="real_float", H="pos_int?"),
    E("theory.sander.non_augmented.loss_o_coefficients", na.loss_o_coefficients, lambda: {"C": _mat(2)}, C="real_square_batch"),
    E("theory.sander.non_augmented.loss_o", na.loss_o, lambda: {"C": _mat(2), "P": _mat(4), "radius_sq": 2.0},
      C="real_square_batch", P="real_square_batch", radius_sq="pos_float", per_row="bool"),
    E("theory.sander.non_augmented.loss_o_torch", na.loss_o_torch,
      lambda: {"C": torch.as_tensor(_mat(2)), "P": torch.as_tensor(_mat(4))}, C="real_tensor_batch", P="real_tensor_batch",
      radius_sq="pos_float"),
    E("theory.sander.non_augmented.loss_o_row_gram", na.loss_o_row_gram,
      lambda: {"C": _mat(2), "n_keys": 3, "q": 1, "radius_sq": 2.0}, C="real_square_batch", n_keys="pos_int", q="nonneg_int",
      radius_sq="pos_float"),
    E("theory.sander.non_augmented.best_p_row_o", na.best_p_row_o, lambda: {"C": _mat(2), "n_keys": 3, "q": 1},
      C="real_square_batch", n_keys="pos_int", q="nonneg_int", radius_sq="pos_float"),
    E("theory.sander.non_augmented.loss_o_reference", na.loss_o_reference, lambda: {"C": _mat(2), "P": _mat(4)},
      C="real_square_batch", P="real_square_batch"),
    E("theory.sander.non_augmented.loss_o_reference_torch", na.loss_o_reference_torch,
      lambda: {"C": torch.as_tensor(_mat(2)), "P": torch.as_tensor(_mat(4))}, C="real_tensor_batch", P="real_tensor_batch"),
    E("theory.sander.non_augmented.loss_o_minimum", na.loss_o_minimum, lambda: {"d": 2, "H": 1, "T": 3},
      d="even_int", H="pos_int", T="pos_int"),
    E("theory.sander.non_augmented.loss_o_minimiser", na.loss_o_minimiser,
      lambda: {"d": 4, "T": 3, "alpha": 1.0, "radius_sq": 2.0, "blocks": 1},
      d="even_int", T="pos_int", alpha="real_float", radius_sq="pos_float", blocks="pos_int?"),
    E("theory.sander.non_augmented.structure_u", na.structure_u, lambda: {"C": _mat(2), "P": _mat(4), "H": 2},
      C="real_square_batch", P="real_square_batch", H="pos_int"),
    E("theory.sander.non_augmented.block_pattern", na.block_pattern, lambda: {"d": 4}, d="even_int"),
    E("theory.sander.non_augmented.structure_o", na.structure_o, lambda: {"C": _mat(2), "P": _mat(4), "H": 2},
      C="real_square_batch", P="real_square_batch", H="pos_int", radius_sq="pos_float"),
    E("theory.sander.non_augmented.max_deviation", na.max_deviation, lambda: {"structure": {"a_dev": 0.1, "b_dev": 0.2}},
      structure="object"),
    E("theory.sander.non_augmented.symbolic_C", na.symbolic_C, lambda: {"d": 2}, d="pos_int"),
    E("theory.sander.non_augmented.symbolic_P", na.symbolic_P, lambda: {"T": 3}, T="pos_int"),
    E("theory.sander.non_augmented.heads_factorisation_sympy", na.heads_factorisation_sympy, lambda: {"d": 2, "H": 1},
      d="pos_int", H="pos_int"),
    E("theory.sander.non_augmented.lambdified_loss", na.lambdified_loss, lambda: {"kind": "u", "C": _mat(2), "P": _mat(3)},
      kind="choice", C="real_square_batch", P="real_square_batch"),
    # ---------------------------------------------------------------- theory.sander.pe_only
    E("theory.sander.pe_only.moment", pe.moment, lambda: {"m": np.arange(3), "mu": 2.0}, m="real_batch", mu="pos_float"),
    E("theory.sander.pe_only.row_gram", pe.row_gram, lambda: {"i": 1, "mu": 2.0}, i="nonneg_int", mu="pos_float"),
    E("theory.sander.pe_only.loss_rows", pe.loss_rows, lambda: {"P": _mat(3), "mu": 2.0}, P="real_square", mu="pos_float"),
    E("theory.sander.pe_only.loss", pe.loss, lambda: {"P": _mat(3), "mu": 2.0}, P="real_square", mu="pos_float"),
    E("theory.sander.pe_only.exact_minimiser", pe.exact_minimiser, lambda: {"T": 3}, T="pos_int"),
    E("theory.sander.pe_only.gd_from_zero", pe.gd_from_zero, lambda: {"T": 3, "mu": 1.0, "stop_below": 10.0, "max_steps": 3},
      T="pos_int", mu="pos_float", lr="pos_float", stop_below="pos_float", max_steps="pos_int"),
    E("theory.sander.pe_only.row_features", pe.row_features, lambda: {"row": np.array([1.0, -1.0, 2.0])}, row="real_array"),
    # ---------------------------------------------------------------- theory.sander.softmax_pe
    E("theory.sander.softmax_pe.simplex_quadratic_minimum", soft.simplex_quadratic_minimum,
      lambda: {"G": np.eye(3), "b": np.ones(3), "const": 0.0}, G="real_square", b="real_array", const="real_float"),
    E("theory.sander.softmax_pe.loss_o_simplex_minimum", soft.loss_o_simplex_minimum, lambda: {"C": _mat(2), "T": 3},
      C="real_square", T="pos_int", radius_sq="pos_float"),
    E("theory.sander.softmax_pe.loss_o_softmax_infimum", soft.loss_o_softmax_infimum, lambda: {"d": 2, "H": 1, "T": 3},
      d="even_int", H="pos_int", T="pos_int", radius_sq="pos_float"),
    E("theory.sander.softmax_pe.softmax_minimiser", soft.softmax_minimiser, lambda: {"d": 2, "T": 3},
      d="even_int", T="pos_int", radius_sq="pos_float"),
    # ---------------------------------------------------------------- theory.vladymyrov.baselines
    E("theory.vladymyrov.baselines.ridge_weights", bl.ridge_weights, lambda: {**{k: v for k, v in _reg().items() if k != "x_query"}, "lam": 0.5},
      x="real_batch", y="real_batch", lam="real_batch"),
    E("theory.vladymyrov.baselines.ridge_spectrum", bl.ridge_spectrum, _reg, x="real_batch", y="real_batch",
      x_query="real_batch"),
    E("theory.vladymyrov.baselines.oracle_prediction", bl.oracle_prediction, lambda: {"spec": _spec(), "sigma": np.ones(3)},
      spec="object", sigma="real_batch"),
    E("theory.vladymyrov.baselines.adaptive_prediction", bl.adaptive_prediction, lambda: {"spec": _spec()}, spec="object"),
    E("theory.vladymyrov.baselines.tuned_prediction", bl.tuned_prediction, lambda: {"spec": _spec(), "factor": 1.0, "cap": 2.0},
      spec="object", factor="nonneg_float"),
    E("theory.vladymyrov.baselines.half_mse", bl.half_mse, lambda: {"prediction": np.ones(3), "target": np.zeros(3)},
      prediction="real_batch", target="real_batch"),
    E("theory.vladymyrov.baselines.tune_constant", bl.tune_constant,
      lambda: {"spec": _spec(), "y_query": np.zeros(3), "grid": np.array([0.1, 1.0])},
      spec="object", y_query="real_batch", grid="real_array"),
    E("theory.vladymyrov.baselines.tune_tuned", bl.tune_tuned,
      lambda: {"spec": _spec(), "y_query": np.zeros(3), "factors": np.array([0.5, 1.0]), "caps": np.array([1.0, np.inf])},
      spec="object", y_query="real_batch", factors="real_array"),
    E("theory.vladymyrov.baselines.tune_gd", bl.tune_gd,
      lambda: {"spec": _spec(), "y_query": np.zeros(3), "etas": np.array([0.01]), "max_steps": 3},
      spec="object", y_query="real_batch", etas="real_array", max_steps="pos_int"),
    E("theory.vladymyrov.baselines.uniform_sigma_quadrature", bl.uniform_sigma_quadrature, lambda: {"sigma_max": 2.0, "nodes": 4},
      sigma_max="pos_float", nodes="pos_int"),
    E("theory.vladymyrov.baselines.log_evidence", bl.log_evidence, lambda: {"spec": _spec(), "sigma": np.array([0.5, 1.0])},
      spec="object", sigma="real_array"),
    E("theory.vladymyrov.baselines.posterior_noise_weights", bl.posterior_noise_weights,
      lambda: {"spec": _spec(), "sigma": np.array([0.5, 1.0]), "prior": np.array([0.5, 0.5])},
      spec="object", sigma="real_array", prior="real_array"),
    E("theory.vladymyrov.baselines.bayes_prediction", bl.bayes_prediction,
      lambda: {"spec": _spec(), "sigma": np.array([0.5, 1.0]), "prior": np.array([0.5, 0.5])},
      spec="object", sigma="real_array", prior="real_array"),
    E("theory.vladymyrov.baselines.one_layer_optimal_loss", bl.one_layer_optimal_loss,
      lambda: {"n": 5, "d": 2, "mean_noise_variance": 1.0}, n="pos_int", d="pos_int", mean_noise_variance="nonneg_float"),
    # ---------------------------------------------------------------- theory.vladymyrov.model
    E("theory.vladymyrov.model.check_regression_inputs", vmodel.check_regression_inputs, _reg, x="real_batch",
      y="real_batch", x_query="real_batch"),
    E("theory.vladymyrov.model.check_weights", vmodel.check_weights, lambda: {**_weights(), "d": 2}, P="real_array",
      Q="real_array", d="pos_int"),
    E("theory.vladymyrov.model.tokens", vmodel.tokens, _reg, x="real_batch", y="real_batch", x_query="real_batch"),
    E("theory.vladymyrov.model.context_gram", vmodel.context_gram, lambda: {"Z": vmodel.tokens(**_reg())},
      Z="real_batch", include_query="bool"),
    E("theory.vladymyrov.model.head_sum", vmodel.head_sum,
      lambda: {"P_layer": _weights()["P"][0], "E": _mat(3), "Q_layer": _weights()["Q"][0]},
      P_layer="real_array", E="real_square_batch", Q_layer="real_array"),
    E("theory.vladymyrov.model.forward", vmodel.forward, lambda: {**_reg(), **_weights()},
      x="real_batch", y="real_batch", x_query="real_batch", P="real_array", Q="real_array", include_query="bool"),
    E("theory.vladymyrov.model.diag_matrices", vmodel.diag_matrices,
      lambda: {"p_x": _lh(seed=1), "p_y": _lh(seed=2), "q_x": _lh(seed=3), "q_y": _lh(seed=4), "d": 2},
      p_x="real_array", p_y="real_array", q_x="real_array", q_y="real_array", d="pos_int"),
    E("theory.vladymyrov.model.gdpp_matrices", vmodel.gdpp_matrices,
      lambda: {"p_x": _lh(seed=1), "p_y": _lh(seed=2), "q_x": _lh(seed=3), "d": 2},
      p_x="real_array", p_y="real_array", q_x="real_array", d="pos_int"),
    E("theory.vladymyrov.model.omega", vmodel.omega,
      lambda: {"p_x": _lh(seed=1), "p_y": _lh(seed=2), "q_x": _lh(seed=3), "q_y": _lh(seed=4)},
      p_x="real_array", p_y="real_array", q_x="real_array", q_y="real_array"),
    E("theory.vladymyrov.model.omega_forward", vmodel.omega_forward,
      lambda: {**_reg(), "omegas": 0.1 * np.ones((2, 4))}, x="real_batch", y="real_batch", x_query="real_batch",
      omegas="real_array"),
    # ---------------------------------------------------------------- theory.vladymyrov.recursion
    E("theory.vladymyrov.recursion.initial_state", rec.initial_state, lambda: {"batch_shape": (2,), "d": 2}, d="pos_int"),
    E("theory.vladymyrov.recursion.blocks", rec.blocks, lambda: {"B": _mat(3)}, B="real_square_batch"),
    E("theory.vladymyrov.recursion.implicit_states", rec.implicit_states,
      lambda: {"x": _reg()["x"], "y": _reg()["y"], **_weights()}, x="real_batch", y="real_batch", P="real_array",
      Q="real_array"),
    E("theory.vladymyrov.recursion.theorem41_relative_error", rec.theorem41_relative_error,
      lambda: {**_reg(), **_weights()}, x="real_batch", y="real_batch", x_query="real_batch", P="real_array",
      Q="real_array"),
    E("theory.vladymyrov.recursion.ols_data", rec.ols_data, lambda: {"x": _reg()["x"], "y": _reg()["y"]},
      x="real_batch", y="real_batch"),
    E("theory.vladymyrov.recursion.gdpp_preconditioned_gd", rec.gdpp_preconditioned_gd,
      lambda: {**_reg(), "omega_xx": np.array([-0.01, -0.01]), "omega_yx": np.array([-0.05, -0.05])},
      x="real_batch", y="real_batch", x_query="real_batch", omega_xx="real_array", omega_yx="real_array",
      precondition="bool"),
    # ---------------------------------------------------------------- theory.vladymyrov.second_order
    E("theory.vladymyrov.second_order.eigenvalue_map", so.eigenvalue_map, lambda: {"lam": np.array([0.5, 1.0]), "gamma": 0.3},
      lam="real_batch", gamma="pos_float"),
    E("theory.vladymyrov.second_order.kappa_map", so.kappa_map, lambda: {"kappa": 3.0}, kappa="pos_float",
      gamma_nu="pos_float"),
    E("theory.vladymyrov.second_order.kappa_map_delta", so.kappa_map_delta, lambda: {"delta": 2.0}, delta="nonneg_float"),
    E("theory.vladymyrov.second_order.mapped_condition_number", so.mapped_condition_number,
      lambda: {"eigenvalues": np.array([0.5, 1.0])}, eigenvalues="real_array", gamma_nu="pos_float"),
    E("theory.vladymyrov.second_order.gdpp_kappa_trajectory", so.gdpp_kappa_trajectory, lambda: {"kappa": 10.0, "layers": 3},
      kappa="pos_float", layers="nonneg_int"),
    E("theory.vladymyrov.second_order.gdpp_layers_needed", so.gdpp_layers_needed, lambda: {"kappa": 10.0, "eps": 0.1},
      kappa="pos_float", eps="pos_float"),
    E("theory.vladymyrov.second_order.theorem51_layer_bound", so.theorem51_layer_bound, lambda: {"kappa": 10.0, "eps": 0.1},
      kappa="pos_float", eps="pos_float", paper_target="bool"),
    E("theory.vladymyrov.second_order.plain_gd_rate", so.plain_gd_rate, lambda: {"kappa": 10.0}, kappa="pos_float"),
    E("theory.vladymyrov.second_order.plain_gd_layers_needed", so.plain_gd_layers_needed, lambda: {"kappa": 10.0, "eps": 0.1},
      kappa="pos_float", eps="pos_float"),
    E("theory.vladymyrov.second_order.gdpp_run", so.gdpp_run,
      lambda: {**_reg1(), "omega_xx": np.array([-0.01]), "omega_yx": np.array([-0.05])},
      x="real_array", y="real_array", x_query="real_array", omega_xx="real_array", omega_yx="real_array"),
    E("theory.vladymyrov.second_order.theorem51_construction", so.theorem51_construction, lambda: {**_reg1(), "eps": 0.1},
      x="real_array", y="real_array", x_query="real_array", eps="pos_float"),
    E("theory.vladymyrov.second_order.plain_gd_construction", so.plain_gd_construction, lambda: {**_reg1(), "layers": 2},
      x="real_array", y="real_array", x_query="real_array", layers="pos_int"),
    # ---------------------------------------------------------------- theory.vladymyrov.adaptive
    E("theory.vladymyrov.adaptive.omega_layers", ada.omega_layers, lambda: {"layers": [("xy", 0.1), ("yx", -0.2)]},
      layers="object"),
    E("theory.vladymyrov.adaptive.omega_layer_weights", ada.omega_layer_weights,
      lambda: {"layers": [("xy", 0.1), ("yx", -0.2)], "d": 2}, layers="object", d="pos_int"),
    E("theory.vladymyrov.adaptive.label_energy", ada.label_energy, lambda: {"y_context": _reg()["y"]}, y_context="real_batch"),
    E("theory.vladymyrov.adaptive.inner", ada.inner, lambda: {"a": np.ones((2, 3)), "b": np.ones((2, 3))},
      a="real_batch", b="real_batch"),
    E("theory.vladymyrov.adaptive.thm42_target", ada.thm42_target, lambda: {"x": _reg()["x"]}, x="real_batch"),
    E("theory.vladymyrov.adaptive.sup_cosine", ada.sup_cosine, lambda: {"x": _reg()["x"], "target": _reg()["y"]},
      x="real_batch", target="real_batch"),
    E("theory.vladymyrov.adaptive.label_cosine", ada.label_cosine, lambda: {"labels": _reg()["y"], "target": _reg()["y"] + 1},
      labels="real_batch", target="real_batch"),
    E("theory.vladymyrov.adaptive.thm42_cos2_approximation", ada.thm42_cos2_approximation, lambda: {"n": 5, "d": 2},
      n="pos_int", d="pos_int"),
    E("theory.vladymyrov.adaptive.thm42_cosine_approximation", ada.thm42_cosine_approximation, lambda: {"n": 5, "d": 2},
      n="pos_int", d="pos_int"),
    E("theory.vladymyrov.adaptive.thm42_generic_cos2", ada.thm42_generic_cos2, lambda: {"n": 5, "d": 2},
      n="pos_int", d="pos_int"),
    E("theory.vladymyrov.adaptive.sec52_rescaling_factor", ada.sec52_rescaling_factor,
      lambda: {"y_context": _reg()["y"], "omega_yy": -0.1}, y_context="real_batch", omega_yy="real_float"),
    E("theory.vladymyrov.adaptive.sec52_ridge_shrinkage", ada.sec52_ridge_shrinkage, lambda: {"n": 5, "sigma": 1.0},
      n="pos_int", sigma="nonneg_float"),
    E("theory.vladymyrov.adaptive.sec53_step_exact", ada.sec53_step_exact,
      lambda: {"lam": 2.0, "omega_xy": 0.1, "omega_yx": -0.2}, lam="real_float", omega_xy="real_float", omega_yx="real_float"),
    E("theory.vladymyrov.adaptive.sec53_step_paper", ada.sec53_step_paper,
      lambda: {"rho": 2.0, "omega_xy": 0.1, "omega_yx": -0.2}, rho="real_float", omega_xy="real_float", omega_yx="real_float"),
    E("theory.vladymyrov.adaptive.sec53_prediction", ada.sec53_prediction,
      lambda: {**_reg(), "omega_xy": 0.1, "omega_yx": -0.2}, x="real_batch", y="real_batch", x_query="real_batch",
      omega_xy="real_float", omega_yx="real_float", form="choice"),
    E("theory.vladymyrov.adaptive.thm52_constants", ada.thm52_constants, lambda: {"sigma1": 1.0, "sigma2": 2.0},
      sigma1="nonneg_float", sigma2="nonneg_float"),
    E("theory.vladymyrov.adaptive.thm52_constants_as_printed", ada.thm52_constants_as_printed,
      lambda: {"sigma1": 1.0, "sigma2": 2.0}, sigma1="nonneg_float", sigma2="nonneg_float"),
    E("theory.vladymyrov.adaptive.thm52_two_layer_weights", ada.thm52_two_layer_weights,
      lambda: {"x": _reg()["x"], "y": _reg()["y"], "omega_yx": -0.1, "omega_yy": -0.05},
      x="real_batch", y="real_batch", omega_yx="real_float", omega_yy="real_float"),
    E("theory.vladymyrov.adaptive.thm52_two_layer_prediction", ada.thm52_two_layer_prediction,
      lambda: {**_reg(), "omega_yx": -0.1, "omega_yy": -0.05}, x="real_batch", y="real_batch", x_query="real_batch",
      omega_yx="real_float", omega_yy="real_float"),
    E("theory.vladymyrov.adaptive.two_layer_forward", ada.two_layer_forward,
      lambda: {**_reg(), "layers": [("yy", -0.05), ("yx", -0.1)]}, x="real_batch", y="real_batch", x_query="real_batch",
      layers="object"),
    E("theory.vladymyrov.adaptive.thm52_ridge_weights", ada.thm52_ridge_weights,
      lambda: {"x": _reg()["x"], "y": _reg()["y"], "sigma": 1.0}, x="real_batch", y="real_batch", sigma="nonneg_float"),
    E("theory.vladymyrov.adaptive.thm52_relative_error_scale", ada.thm52_relative_error_scale,
      lambda: {"sigma1": 1.0, "sigma2": 2.0, "sigma": 1.5, "n": 20, "d": 2},
      sigma1="nonneg_float", sigma2="nonneg_float", sigma="nonneg_float", n="pos_int", d="pos_int"),
    E("theory.vladymyrov.adaptive.one_layer_limit_relative_error", ada.one_layer_limit_relative_error,
      lambda: {"sigma_tuned": 1.0, "sigma": 2.0}, sigma_tuned="nonneg_float", sigma="nonneg_float"),
    E("theory.vladymyrov.adaptive.symbolic_sec52_residuals", ada.symbolic_sec52_residuals, lambda: {"n": 2, "d": 1},
      n="pos_int", d="pos_int", include_query="bool"),
    E("theory.vladymyrov.adaptive.symbolic_sec53_residuals", ada.symbolic_sec53_residuals, lambda: {"n": 2, "d": 1},
      n="pos_int", d="pos_int", form="choice"),
    E("theory.vladymyrov.adaptive.symbolic_thm52_residuals", ada.symbolic_thm52_residuals, lambda: {"n": 2, "d": 1},
      n="pos_int", d="pos_int", printed_sign="bool"),
    # ---------------------------------------------------------------- theory.arguments (the checkers themselves)
    E("theory.arguments.finite_array", targs.finite_array, lambda: {"name": "a", "value": np.ones(2)}, value="batch"),
    E("theory.arguments.real_array", targs.real_array, lambda: {"name": "a", "value": np.ones(2)}, value="real_batch"),
    E("theory.arguments.square_matrix", targs.square_matrix, lambda: {"name": "a", "value": np.eye(2), "real": True},
      value="real_square"),
    E("theory.arguments.orthogonal", targs.orthogonal, lambda: {"name": "a", "value": np.eye(2)}, value="orthogonal"),
    E("theory.arguments.real_orthogonal", targs.real_orthogonal, lambda: {"name": "a", "value": np.eye(2)},
      value="real_orthogonal_batch"),
    E("theory.arguments.flag", targs.flag, lambda: {"name": "a", "value": True}, value="bool"),
    E("theory.arguments.instance", targs.instance, lambda: {"name": "a", "value": 1.0, "cls": float}, value="object"),
    E("theory.arguments.int_sequence", targs.int_sequence, lambda: {"name": "a", "value": [1, 2]}, value="object"),
    E("theory.arguments.tensor", targs.tensor, lambda: {"name": "a", "value": torch.ones(2), "ndim": 1}, value="tensor"),
    E("theory.arguments.function", targs.function, lambda: {"name": "f", "value": len}, value="callable"),
    E("theory.arguments.rng", targs.rng, lambda: {"name": "a", "value": _rng()}, value="rng"),
    E("theory.arguments.seed", targs.seed, lambda: {"name": "a", "value": 3}, value="seed"),
    E("theory.arguments.positive_int", targs.positive_int, lambda: {"name": "a", "value": 3}, value="pos_int"),
    E("theory.arguments.nonnegative_int", targs.nonnegative_int, lambda: {"name": "a", "value": 3}, value="nonneg_int"),
    E("theory.arguments.even_int", targs.even_int, lambda: {"name": "a", "value": 4}, value="even_int"),
    E("theory.arguments.positive_float", targs.positive_float, lambda: {"name": "a", "value": 3.0}, value="pos_float"),
    E("theory.arguments.nonnegative_float", targs.nonnegative_float, lambda: {"name": "a", "value": 3.0},
      value="nonneg_float"),
    E("theory.arguments.real_float", targs.real_float, lambda: {"name": "a", "value": 3.0}, value="real_float"),
    E("theory.arguments.one_of", targs.one_of, lambda: {"name": "a", "value": "x", "choices": ("x", "y")}, value="choice"),
]

#: Public callables without an entry, and why.
EXEMPT: dict[str, str] = {
    **{f"theory.laurent.{k}": "takes sympy expressions and generators (symbolic derivation helper)"
       for k in ("laurent_coefficients", "constant_term", "expectation_of_product")},
    **{f"theory.sander.augmented.{k}": "takes sympy matrices (symbolic derivation helper)"
       for k in ("context_matrix_sym", "inner_objective_sym", "inner_gradient_at_zero_sym", "one_step_prediction_sym",
                 "block_parameters_sym", "augmented_tokens_sym", "attention_output_sym")},
    "theory.sander.augmented.restricted_loss_torch": "inner loop of train_restricted_population: tensors from restricted_tensors_u",
    "theory.sander.augmented.RestrictedTensors": "a result type, built by restricted_tensors_u",
    **{f"theory.sander.non_augmented.{k}": "takes sympy matrices (symbolic derivation helper)"
       for k in ("loss_u_closed_sympy", "loss_u_reference_sympy", "loss_o_closed_sympy", "loss_o_reference_sympy")},
    "theory.sander.non_augmented.loss_u_derivation": "symbolic derivation (seconds per call); sizes checked by even_int/positive_int",
    "theory.sander.non_augmented.loss_o_derivation": "symbolic derivation (seconds per call); sizes checked by even_int/positive_int",
    "theory.sander.non_augmented.cayley_hamilton_rotation": "takes no arguments",
    "theory.sander.non_augmented.pe_ratio_from_cayley_hamilton": "takes a sympy radius (symbolic derivation helper)",
    "theory.sander.pe_only.moment_sympy": "takes sympy expressions",
    "theory.sander.haar.SpectralRule": "a result type, built by haar_rule / rotation_rule / mixture_rule",
    "theory.sander.haar.mixture_rule": "combines SpectralRule objects (laws-of-W helper's module)",
    "theory.sander.haar.trace_moment": "takes a SpectralRule (laws-of-W helper's module)",
    "theory.sander.haar.shared_optimum": "takes a SpectralRule (laws-of-W helper's module)",
    "theory.vladymyrov.adaptive.thm42_leading_moments": "symbolic (d may be a sympy symbol)",
    "theory.vladymyrov.adaptive.thm52_constants_symbolic": "takes no arguments",
    "theory.vladymyrov.adaptive.TwoNoiseConstants": "a result type, built by thm52_constants",
    "theory.vladymyrov.baselines.RidgeSpectrum": "a result type, built by ridge_spectrum",
    "theory.vladymyrov.model.ForwardPass": "a result type, built by forward",
    "theory.vladymyrov.recursion.ImplicitState": "a result type, built by initial_state / lemma43_step",
    "theory.vladymyrov.recursion.OLSData": "a result type, built by ols_data",
    "theory.vladymyrov.recursion.lemma43_step": "takes an ImplicitState (internal step of implicit_states)",
    "theory.vladymyrov.recursion.lemma44_alpha": "takes an ImplicitState and OLSData (internal step)",
    "theory.vladymyrov.recursion.lemma44_step": "takes an ImplicitState and OLSData (internal step)",
    "theory.vladymyrov.recursion.lemma44_step_printed": "takes an ImplicitState and OLSData (internal step)",
    "theory.vladymyrov.recursion.implicit_states_torch": "torch twin of implicit_states, called with its validated tensors",
    "theory.vladymyrov.recursion.symbolic_theorem41_residual": "symbolic (object arrays of sympy polynomials)",
    "theory.vladymyrov.second_order.kappa_map_sympy": "symbolic",
    "theory.vladymyrov.second_order.lemma_a3_exact": "symbolic (seconds per call)",
    "theory.vladymyrov.second_order.LemmaA3Exact": "a result type",
    "theory.vladymyrov.second_order.GDPPRun": "a result type, built by gdpp_run",
    "theory.arguments.ArgumentError": "the exception type",
    "numerics.regression.RegressionBatch": "a result type, built by sample_regression",
    "numerics.group_cubature.MatrixRule": "a result type, built by haar_orthogonal_rule / block_rotation_rule",
    "numerics.statistics.Estimate": "a result type, built by mean_estimate and the other estimators",
    "numerics.models.sander_augmented.BlockProducts": "a result type, built by block_products",
    "numerics.optimize.OptResult": "a result type",
    "numerics.vladymyrov_fit.LayerFit": "a result type, built by fit_column",
    "numerics.block_family.BlockFit": "a result type, built by fit_block_family",
    "numerics.block_family.StructureTest": "a result type, built by structure_test",
    "numerics.block_family.structure_test": "takes a BlockFit (laws-of-W helper's module)",
    "numerics.vladymyrov_training.train_scaled": "the training step of train_point (Table-1 helper's module)",
}
