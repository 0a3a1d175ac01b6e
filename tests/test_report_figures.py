"""Figure conventions of the report (proofs_check.figures): colormaps, colorbars, integer ticks, file names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proofs_check.figures import Series, compare_figure, heatmap, paper_vs_ours_figure, pyplot, save_figure


def test_heatmap_sequential_for_non_negative_diverging_for_signed() -> None:
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2)
    im_pos = heatmap(fig, a, np.abs(np.arange(9.0).reshape(3, 3)))
    im_sgn = heatmap(fig, b, np.arange(9.0).reshape(3, 3) - 4)
    fig.canvas.draw()
    assert im_pos.get_cmap().name == "viridis" and im_pos.get_clim() == (0.0, 8.0)
    assert im_sgn.get_cmap().name == "RdBu_r" and im_sgn.get_clim() == (-4.0, 4.0)
    assert len(fig.axes) == 4  # one colorbar per panel
    for ax in (a, b):  # a 3x3 matrix: integer tick labels only (no 0.5, 1.5)
        assert all(float(t).is_integer() for t in ax.get_xticks() if -0.5 <= t <= 2.5)
        assert all(float(t).is_integer() for t in ax.get_yticks() if -0.5 <= t <= 2.5)
    plt.close(fig)


def test_compare_and_paper_figures_save(tmp_path: Path) -> None:
    fig = compare_figure([("panel", [Series("closed form", [1, 2, 3], [1.0, 0.5, 0.3]),
                                     Series("MC", [1, 3], [1.01, 0.29], kind="points", yerr=[0.02, 0.02])])],
                         xlabel="t", ylabel="η", title="t", integer_x=True)
    assert save_figure(fig, tmp_path, "sander-test-compare") == "figures/sander-test-compare.png"
    fig = paper_vs_ours_figure(["U1", "U3"], ["A", "B"], np.ones((2, 2)), np.ones((2, 2)), 0.1 * np.ones((2, 2)),
                               ylabel="loss", title="t")
    assert save_figure(fig, None, "x") is None
    first = (tmp_path / "figures" / "sander-test-compare.png").read_bytes()
    fig = compare_figure([("panel", [Series("closed form", [1, 2, 3], [1.0, 0.5, 0.3]),
                                     Series("MC", [1, 3], [1.01, 0.29], kind="points", yerr=[0.02, 0.02])])],
                         xlabel="t", ylabel="η", title="t", integer_x=True)
    save_figure(fig, tmp_path, "sander-test-compare")
    assert (tmp_path / "figures" / "sander-test-compare.png").read_bytes() == first  # same figure, same bytes


def test_figure_names_follow_one_scheme(tmp_path) -> None:
    """One naming scheme for every figure file (claims and sweeps): ``<paper>-<topic>``, hyphens, lower case."""
    import matplotlib.pyplot as plt

    from theory.arguments import ArgumentError

    for bad in ("sander_heads", "Sander-x", "a--b", "", "x.png"):
        with pytest.raises(ArgumentError, match="hyphens"):
            save_figure(plt.figure(), tmp_path, bad)
    assert not list(tmp_path.rglob("*.png"))
