"""sjko.plotting: figures carry the data they are given, with labelled axes."""
import numpy as np

from sjko import plotting


def test_trajectories_one_panel_per_quantity_one_line_per_series():
    curves = {"modes covered": {"sjko": ([5, 20, 100], [9, 4, 4]), "uotm": ([5, 100], [5, 9])},
              "within 3 std": {"sjko": ([5, 20, 100], [0.7, 0.8, 0.2])}}
    fig = plotting.trajectories(curves, "iterations (thousands)", {"modes covered": 25})
    modes, within = fig.axes
    assert modes.get_ylabel() == "modes covered" and within.get_ylabel() == "within 3 std"
    assert modes.get_xlabel() == within.get_xlabel() == "iterations (thousands)"
    lines = {line.get_label(): line for line in modes.get_lines()}
    assert np.array_equal(lines["uotm"].get_xdata(), [5, 100])
    assert np.array_equal(lines["sjko"].get_ydata(), [9, 4, 4])
    assert list(lines["target"].get_ydata()) == [25, 25]
    assert [line.get_label() for line in within.get_lines()] == ["sjko"]  # no reference given
    assert lines["sjko"].get_color() != lines["uotm"].get_color()
    assert within.get_lines()[0].get_color() == lines["sjko"].get_color()  # same across panels
    legend = [t.get_text() for t in within.get_legend().get_texts()]
    assert legend == ["sjko", "uotm", "target"]  # series of every panel, once each


def test_trajectories_colours_unnamed_series_apart_from_the_methods():
    curves = {"q": {"sjko": ([1], [1]), "run A": ([1], [2]), "run B": ([1], [3])}}
    colors = [line.get_color() for line in plotting.trajectories(curves, "x").axes[0].get_lines()]
    assert len({tuple(np.atleast_1d(c)) for c in colors}) == 3
    assert all(c not in plotting.METHOD_COLORS.values() for c in colors[1:])
