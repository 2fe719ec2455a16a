"""The validation-only study of how D_ano is trained: real tiny trainings, resumable records, no test image read."""

from __future__ import annotations

from pathlib import Path

import pytest

from studies import semi_variants
from studies.semi_variants import run_variants, variants_markdown


def test_variants_train_on_validation_only_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = run_variants(tmp_path, digits=(3,), variants=("baseline", "known+made"), preset="tiny")
    assert [r["variant"] for r in records] == ["baseline", "known+made"]
    for record in records:
        assert set(record["validation"]) == {"ada", "ada-semi", "ada-cam-ano"}
        assert all(0 <= v <= 1 for scores in record["validation"].values() for v in scores.values())
        assert set(record["validation"]["ada"]) == {"val_known", "val_made"}  # validation sets only
    # both variants share one self-supervised D_G: its validation AUROCs are the same
    assert records[0]["validation"]["ada"] == records[1]["validation"]["ada"]
    table = variants_markdown(records, "command")
    assert "| known+made | ada-semi |" in table and "| 3: known | 3: made |" in table

    def fail(*args, **kwargs):
        raise AssertionError("a stored variant was retrained")

    monkeypatch.setattr(semi_variants, "make_detector", fail)
    assert run_variants(tmp_path, digits=(3,), variants=("baseline", "known+made"), preset="tiny") == records
    with pytest.raises(ValueError, match="unknown variants"):
        run_variants(tmp_path, variants=("bigger",))
