"""The series helpers (gate/report/series.py): downsampling that keeps spikes and gaps, the
sparkline, the choice of a log scale."""

from __future__ import annotations

import itertools

from gate.report.series import envelope, pick_indices, sparkline, use_log
from tests.report.samples import curve


def test_pick_indices_spacing() -> None:
    idx = pick_indices(100_000, 100)
    assert len(idx) == 100 and idx[0] == 0 and idx[-1] == 99_999
    gaps = {b - a for a, b in itertools.pairwise(idx)}
    assert max(gaps) - min(gaps) <= 1
    assert pick_indices(5, 100) == [0, 1, 2, 3, 4] and pick_indices(0, 10) == []


def test_envelope_keeps_spikes_and_gaps() -> None:
    values: list[float | None] = [1.0] * 10_000
    values[4321] = 99.0
    values[7000] = None
    xs, ys = envelope(values, 100)
    assert len(xs) <= 300
    assert 99.0 in ys and 4321 in xs
    assert ys[xs.index(7000)] is None
    assert xs == sorted(xs)


def test_sparkline_and_log_choice() -> None:
    assert sparkline([3.0, 2.0, 1.0], log=False) == "█▅▁"
    assert sparkline([1.0, None]) == "▅✕"
    assert len(sparkline(curve(1000))) == 40
    assert use_log(curve(200)) and not use_log([1.0, 0.5]) and not use_log([1.0, -1.0, 1e-5])
