"""The one unit store (``adda_keras.experiments.units``): fingerprints, resuming, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adda_keras.experiments import common
from adda_keras.experiments.units import (
    fingerprint_of,
    read_unit,
    save_npz_atomically,
    stored_unit,
    write_csv_atomically,
    write_unit,
)

ROOT = Path(__file__).resolve().parents[1]


def test_a_unit_is_reused_only_with_its_own_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fingerprint = fingerprint_of({"digit": 3, "seeds": (0, 1), "preset": {"epochs": 2}})
    assert fingerprint == {"digit": 3, "seeds": [0, 1], "preset": {"epochs": 2}}  # as JSON reads it back
    path = tmp_path / "units" / "digit3-seed0.json"
    path.parent.mkdir()
    assert stored_unit(path, fingerprint) is None
    write_unit(path, {"fingerprint": fingerprint, "rows": [{"auroc": 0.5}]})
    assert path.read_text() == json.dumps({"fingerprint": fingerprint, "rows": [{"auroc": 0.5}]}, indent=1)
    assert stored_unit(path, fingerprint)["rows"] == [{"auroc": 0.5}]
    assert stored_unit(path, {**fingerprint, "digit": 4}) is None
    # a setting added to the library since the unit was stored counts with its neutral value only
    monkeypatch.setattr(common, "ADDED_PARAMETERS", {"new_option": None})
    assert stored_unit(path, {**fingerprint, "new_option": None}) is not None
    assert stored_unit(path, {**fingerprint, "new_option": 2}) is None
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"


def test_tables_and_scores_are_written_whole(tmp_path: Path) -> None:
    rows = [{"a": 1, "b": 2}, {"a": 3, "c": 4}]
    write_csv_atomically(tmp_path / "runs.csv", rows)
    assert (tmp_path / "runs.csv").read_text().splitlines() == ["a,b,c", "1,2,", "3,,4"]
    write_csv_atomically(tmp_path / "fixed.csv", rows[:1], ["b", "a"])
    assert (tmp_path / "fixed.csv").read_text().splitlines() == ["b,a", "2,1"]
    save_npz_atomically(tmp_path / "scores.npz", {"ada": np.arange(3.0)})
    with np.load(tmp_path / "scores.npz") as stored:
        np.testing.assert_array_equal(stored["ada"], np.arange(3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixed.csv", "runs.csv", "scores.npz"]


def test_every_committed_unit_still_reads() -> None:
    units = sorted(ROOT.glob("results/**/units/*.json"))
    assert units, "no committed unit found"
    for path in units:
        record = read_unit(path)
        assert isinstance(record, dict), path
