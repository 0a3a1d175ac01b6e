"""The one place that picks a torch device and floating dtype."""

from __future__ import annotations

import torch

from theory.arguments import one_of

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/"auto" -> CUDA if available else CPU; "cuda" without a GPU raises a clear ``ValueError``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but torch sees no CUDA device")
    one_of("device type", dev.type, ("cpu", "cuda"))
    return dev


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """float64 or float32 (the only dtypes the suite computes in); anything else raises ``ValueError``."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
        return dtype
    one_of("dtype", dtype, tuple(DTYPES))
    return DTYPES[dtype]


def describe(device: torch.device) -> str:
    """A human-readable device string for reports (GPU name when CUDA)."""
    if device.type == "cuda":
        return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"
    return "cpu"
