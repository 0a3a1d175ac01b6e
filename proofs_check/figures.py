"""Report figures: one place for the file name, resolution and reproducible metadata, and the shared plot types.

Naming scheme: ``figures/<name>.png`` with ``<name>`` lower-case words joined by hyphens, starting with the paper
(``sander-…``, ``vladymyrov-…``), e.g. ``sander-aug-eta-vs-t-u``.

Plot types shared by the claims (so every figure follows the same conventions):

* :func:`heatmap`: a matrix with its colorbar; a *diverging* map centred at 0 only for signed data, a sequential
  map from 0 for non-negative data (moduli, losses), integer tick labels;
* :func:`compare_figure`: closed form (lines) against measured values (points with error bars), one panel per
  setting — η_t* against t, loss against the head count H, a loss profile against the noise level;
* :func:`paper_vs_ours_figure`: our numbers (with their allowance) next to a paper's table, per category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from theory.arguments import ArgumentError


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (reports are drawn without a display); imported
    on first use, so loading the claims does not import matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_FIGURE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def save_figure(fig: Any, out_dir: Path | str | None, name: str) -> str | None:
    """Save a matplotlib figure as ``figures/<name>.png`` under ``out_dir``; return that relative path.

    The figure is closed either way; with ``out_dir=None`` (a run that writes no report) nothing is written and
    ``None`` is returned.  No software/date metadata is embedded, so the same figure gives the same bytes.  ``name``
    follows the one naming scheme of the report's figures, ``<paper>-<topic>[-<variant>]``: lower-case words and
    digits joined by hyphens (anything else is an ``ArgumentError``).
    """
    import matplotlib.pyplot as plt

    try:
        if not isinstance(name, str) or not _FIGURE_NAME.match(name):
            raise ArgumentError(f"figure name must be lower-case words joined by hyphens, e.g. "
                                f"'sander-aug-eta-vs-t-u', got {name!r}")
        if out_dir is None:
            return None
        rel = Path("figures") / f"{name}.png"
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        return rel.as_posix()
    finally:
        plt.close(fig)


def _integer_ticks(axis: Any, bins: int | str = "auto") -> None:
    """Tick labels on integers only (no 0.5 labels on a 3×3 matrix or a head-count axis), at most ``bins``."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=bins, integer=True))


def heatmap(fig: Any, ax: Any, mat: Any, *, title: str = "", signed: bool | None = None,
            limit: float | None = None) -> Any:
    """Draw ``mat`` on ``ax`` with a colorbar and integer ticks; return the image.

    ``signed`` (default: whether ``mat`` has a negative entry) picks a diverging map ``RdBu_r`` on
    ``[−limit, limit]``; otherwise a sequential ``viridis`` on ``[0, limit]``.  ``limit`` defaults to ``max |mat|``
    (pass a common one to compare panels).
    """
    mat = np.asarray(mat, dtype=float)
    signed = bool(np.any(mat < 0)) if signed is None else signed
    top = float(np.max(np.abs(mat))) if limit is None else float(limit)
    top = top if top > 0 else 1.0
    im = ax.imshow(mat, cmap="RdBu_r" if signed else "viridis", vmin=-top if signed else 0.0, vmax=top,
                   interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    _integer_ticks(ax.xaxis, 5)
    _integer_ticks(ax.yaxis, 5)
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    return im


@dataclass(frozen=True)
class Series:
    """One curve of :func:`compare_figure`: a closed form (``kind="line"``) or measurements (``"points"``, with
    optional error bars ``yerr``).  Series with the same ``group`` share a colour."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    kind: Literal["line", "points"] = "line"
    yerr: Sequence[float] | None = None
    group: str = ""


def compare_figure(panels: Sequence[tuple[str, Sequence[Series]]], *, xlabel: str, ylabel: str, title: str,
                   integer_x: bool = False, logy: bool = False) -> Any:
    """One panel per ``(panel title, series)``: closed forms as lines, measurements as points with error bars."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (panel_title, series) in zip(axes[0], panels):
        colours: dict[str, Any] = {}
        for s in series:
            key = s.group or s.label
            colour = colours.setdefault(key, f"C{len(colours) % 10}")
            if s.kind == "line":
                ax.plot(s.x, s.y, "-", color=colour, lw=1.5, label=s.label)
            else:
                ax.errorbar(s.x, s.y, yerr=s.yerr, fmt="o", ms=4, color=colour, capsize=2, label=s.label)
        ax.set_title(panel_title, fontsize=9)
        ax.set_xlabel(xlabel)
        if logy:
            ax.set_yscale("log")
        if integer_x:
            _integer_ticks(ax.xaxis)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def paper_vs_ours_figure(categories: Sequence[str], groups: Sequence[str], paper: np.ndarray, ours: np.ndarray,
                         allowance: np.ndarray, *, ylabel: str, title: str) -> Any:
    """Per category (e.g. noise law) and group (e.g. baseline): the paper's value (cross) and ours (dot, with its
    allowance as an error bar).  Arrays are ``(len(groups), len(categories))``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(categories) * len(groups) / 2), 3.6))
    x = np.arange(len(categories), dtype=float)
    width = 0.8 / len(groups)
    for g, name in enumerate(groups):
        pos = x - 0.4 + width * (g + 0.5)
        ax.errorbar(pos, ours[g], yerr=allowance[g], fmt="o", ms=4, color=f"C{g}", capsize=2,
                    label=f"{name}: ours ± allowance")
        ax.plot(pos, paper[g], "x", ms=8, color=f"C{g}", mew=2, label=f"{name}: paper")
    ax.set_xticks(x, list(categories))
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
