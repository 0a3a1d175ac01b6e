"""The one place that picks a torch device and floating dtype.

A run resolves its device once (the CLI's ``--device``, :func:`resolve_device`) and hands it down.  Code that
runs inside a task and was not given a device explicitly (``device=None`` or ``"auto"`` deep in ``numerics``)
gets the device of the enclosing :func:`use_device` block, which the task engine opens around every task with
the run's device; outside any block, ``None``/``"auto"`` means CUDA when torch sees one, else the CPU.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from typing import Iterator

import torch

from theory.arguments import ArgumentError, instance, one_of

DTYPES = {"float64": torch.float64, "float32": torch.float32}
DEVICE_TYPES: tuple[str, ...] = ("cpu", "cuda")
_DEVICE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
_RUN_DEVICE: contextvars.ContextVar[torch.device | None] = contextvars.ContextVar("run_device", default=None)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device a run computes on.

    Parameters
    ----------
    device : str, torch.device or None
        ``None`` or ``"auto"``: the device of the enclosing :func:`use_device` block, else CUDA if torch sees
        one, else the CPU.  ``"cpu"``, ``"cuda"`` or ``"cuda:N"``: that device.

    Returns
    -------
    torch.device

    Raises
    ------
    theory.arguments.ArgumentError
        For anything else (``"tpu"``, ``""``, ``"cuda:x"``), for CUDA where torch sees none, and for a CUDA
        index beyond the visible devices.
    """
    if device is None or device == "auto":
        chosen = _RUN_DEVICE.get()
        if chosen is not None:
            return chosen
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        one_of("device type", device.type, DEVICE_TYPES)
        text = str(device)
    elif isinstance(device, str):
        text = device.strip().lower()
    else:
        raise ArgumentError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    match = _DEVICE.match(text)
    if match is None:
        raise ArgumentError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    dev = torch.device(text)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ArgumentError(f"device={device!r} was asked for, but torch sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ArgumentError(f"device={device!r}: torch sees only {torch.cuda.device_count()} CUDA device(s)")
    return dev


@contextlib.contextmanager
def use_device(device: str | torch.device | None) -> Iterator[torch.device]:
    """Within the block, ``resolve_device(None)`` and ``resolve_device("auto")`` give ``device`` (resolved once)."""
    token = _RUN_DEVICE.set(resolve_device(device))
    try:
        yield _RUN_DEVICE.get()
    finally:
        _RUN_DEVICE.reset(token)


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """float64 or float32 (the only dtypes the suite computes in); anything else raises ``ArgumentError``."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ArgumentError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
        return dtype
    one_of("dtype", dtype, tuple(DTYPES))
    return DTYPES[dtype]


def describe(device: torch.device) -> str:
    """A human-readable device string for reports (GPU name when CUDA)."""
    instance("device", device, torch.device)
    if device.type == "cuda":
        return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def check_device_name(device: str) -> str:
    """Check the *spelling* of a device (``auto``, ``cpu``, ``cuda``, ``cuda:N``) without asking torch whether it
    exists here: for a run whose tasks execute on other machines, which resolve it (:func:`use_device`)."""
    text = device.strip().lower() if isinstance(device, str) else device
    if text != "auto" and (not isinstance(text, str) or _DEVICE.match(text) is None):
        raise ArgumentError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return text
