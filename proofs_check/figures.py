"""Writing report figures: one place for the file name, resolution and reproducible metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (reports are drawn without a display); imported
    on first use, so loading the claims does not import matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out_dir: Path | str | None, name: str) -> str | None:
    """Save a matplotlib figure as ``figures/<name>.png`` under ``out_dir``; return that relative path.

    The figure is closed either way; with ``out_dir=None`` (a run that writes no report) nothing is written and
    ``None`` is returned.  No software/date metadata is embedded, so the same figure gives the same bytes.
    """
    import matplotlib.pyplot as plt

    try:
        if out_dir is None:
            return None
        rel = Path("figures") / f"{name}.png"
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        return rel.as_posix()
    finally:
        plt.close(fig)
