"""One figure style for the whole companion (colour-blind-safe palette, labelled axes)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

PALETTE = sns.color_palette("colorblind")
METHOD_COLORS = {"sjko": PALETTE[0], "sf-uotm": PALETTE[1], "uotm": PALETTE[2],
                 "otm": PALETTE[4], "jko-naive": PALETTE[3], "exact": "black",
                 "sjko-textbook": PALETTE[5], "sjko-seed1": PALETTE[9]}


def setup() -> None:
    """Apply the companion's style (call once per notebook)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "tight",
                         "axes.titlesize": 11, "axes.labelsize": 10})


def save(fig: plt.Figure, path: Path | str) -> None:
    """Save a figure as PNG next to the run it shows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def scatter_grid(panels: Mapping[str, np.ndarray], ncols: int, target: Optional[np.ndarray] = None,
                 lim: Optional[float] = None, size: float = 2.4, point: float = 1.5) -> plt.Figure:
    """2-D sample clouds, one panel each (title = key); the target in light grey behind them."""
    n = len(panels)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax, (title, x) in zip(axes.flat, panels.items()):
        if target is not None:
            ax.scatter(target[:, 0], target[:, 1], s=point, c="0.8", lw=0)
        ax.scatter(x[:, 0], x[:, 1], s=point, color=PALETTE[0], lw=0)
        ax.set_title(title, fontsize=9)
        if lim is not None:
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$", fontsize=8)
        ax.set_ylabel("$x_2$", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def errorbar_lines(x: Sequence[float], series: Mapping[str, tuple[np.ndarray, np.ndarray]],
                   xlabel: str, ylabel: str, title: str = "", logx: bool = False,
                   ax: Optional[plt.Axes] = None) -> plt.Figure:
    """Mean +- std lines, one per series name."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.4))
    else:
        fig = ax.figure
    for i, (name, (mean, std)) in enumerate(series.items()):
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=name,
                    color=METHOD_COLORS.get(name, PALETTE[i % len(PALETTE)]))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def trajectories(curves: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
                 xlabel: str, references: Optional[Mapping[str, float]] = None) -> plt.Figure:
    """One panel per quantity (``curves[quantity][series] = (x, y)``), one line per series, each
    with its own x values; ``references[quantity]`` draws a dashed line (e.g. the target's value).
    A series keeps its colour across panels; one legend lists every series of every panel.
    """
    names = list(dict.fromkeys(name for series in curves.values() for name in series))
    spare = iter([c for c in PALETTE if c not in METHOD_COLORS.values()] * len(names))
    colors = {n: METHOD_COLORS[n] if n in METHOD_COLORS else next(spare) for n in names}
    fig, axes = plt.subplots(1, len(curves), figsize=(3.6 * len(curves), 3.2), squeeze=False)
    legend = {}
    for ax, (quantity, series) in zip(axes[0], curves.items()):
        for name, (x, y) in series.items():
            legend[name], = ax.plot(x, y, marker="o", ms=4, label=name, color=colors[name])
        if references and quantity in references:
            legend["target"] = ax.axhline(references[quantity], ls="--", color="grey", lw=1,
                                          label="target")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(quantity)
    axes[0][-1].legend(legend.values(), legend.keys(), fontsize=8, loc="center left",
                       bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, nrow: int = 8, title: str = "", ax: Optional[plt.Axes] = None
               ) -> plt.Figure:
    """A grid of images [n, C, H, W] with values in [-1, 1] or uint8."""
    x = np.asarray(images, dtype=np.float32)
    if x.max() > 1.5:
        x = x / 127.5 - 1
    n, c, h, w = x.shape
    ncol = int(np.ceil(n / nrow))
    canvas = np.ones((ncol * (h + 1) + 1, nrow * (w + 1) + 1, c), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + q * (w + 1):1 + q * (w + 1) + w] = \
            (x[i].transpose(1, 2, 0) + 1) / 2
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.35 * nrow + 0.5, 0.35 * ncol + 0.5))
    else:
        fig = ax.figure
    ax.imshow(canvas.squeeze(-1) if c == 1 else canvas, cmap="gray" if c == 1 else None,
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def gif_html(frames: Iterable[plt.Figure], path: Path | str, fps: float = 2.0,
             width: int = 420) -> str:
    """Write the figures as an animated GIF (one frame each, closed afterwards) and return an
    ``<img>`` tag that embeds it (base64: plays offline from the built book, no CDN)."""
    import base64
    import io

    from PIL import Image

    images = []
    for fig in frames:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        buf.seek(0)
        images.append(Image.open(buf).convert("RGB"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps),
                   loop=0)
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<img class="sjko-animation" data-frames="{len(images)}" width="{width}" '
            f'alt="animation, {len(images)} frames" src="data:image/gif;base64,{data}"/>')


def scatter_frames(steps: Mapping[str, np.ndarray], target: Optional[np.ndarray] = None,
                   lim: Optional[float] = None) -> Iterator[plt.Figure]:
    """One single-panel scatter figure per entry (the frames of a flow animation), made one at
    a time so that :func:`gif_html` closes each before the next is drawn."""
    for title, x in steps.items():
        yield scatter_grid({title: x}, ncols=1, target=target, lim=lim, size=3.6, point=2.0)
