"""``studies/summarise_results.py`` writes a readable headline from the reproduced tables' ``runs.csv``."""

from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLASSICAL = ("isolation-forest", "ocsvm", "pca", "knn")


def _load_script(name: str) -> ModuleType:
    """A study of ``studies/`` by its module name."""
    return importlib.import_module(f"studies.{name}")


summarise = _load_script("summarise_results")


def _write_table1(folder: Path, aurocs: dict[str, list[float]], seed: int = 0) -> None:
    """A table1-noisy folder with one seed: ``aurocs[method][digit]``, and the config the script reads."""
    folder.mkdir(parents=True)
    fields = ["table", "noise", "digit", "known_anomaly", "seed", "method", "auroc", "train_seconds"]
    with open(folder / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for method, values in aurocs.items():
            for digit, auroc in enumerate(values):
                row = {**dict.fromkeys(fields, "0"), "method": method, "digit": digit, "seed": seed, "auroc": auroc}
                writer.writerow(row)
    machine = {"processor": "x86_64", "cpu_count": 2, "gpus": [], "tensorflow": "2.21.0"}
    config = {"preset": {"seeds": [0], "epochs": 1}, "data_source_used": "bundled", "machine": machine}
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("digits", "text"), [([], ""), ([3], " (digit 3)"), ([0, 3, 7], " (digits 0, 3, 7)")], ids=["none", "one", "three"]
)
def test_named_digits(digits: list[int], text: str) -> None:
    assert summarise.named_digits(digits) == text


def test_the_headline_names_the_digits_and_never_prints_an_empty_list(tmp_path: Path) -> None:
    table = tmp_path / "quick" / "table1-noisy"
    _write_table1(table, {"ada": [0.9, 0.5, 0.8], "anovaegan": [0.8, 0.6, 0.7], **dict.fromkeys(CLASSICAL, [0.7] * 3)})
    summarise.main(["--preset", "quick", "--results", str(tmp_path)])
    summary = (tmp_path / "quick" / "summary.md").read_text()
    assert "beats AnoVAEGAN on 2 of 3 digits (digits 0, 2); by at least" in summary
    assert "mean margin of +0.033 on 2 (digits 0, 2)." in summary
    assert "[]" not in summary and "[0, 2]" not in summary


def test_no_win_reads_as_a_plain_count(tmp_path: Path) -> None:
    table = tmp_path / "quick" / "table1-noisy"
    _write_table1(table, {"ada": [0.5, 0.5], "anovaegan": [0.9, 0.9], **dict.fromkeys(CLASSICAL, [0.7] * 2)})
    summarise.main(["--preset", "quick", "--results", str(tmp_path)])
    summary = (tmp_path / "quick" / "summary.md").read_text()
    assert "beats AnoVAEGAN on 0 of 2 digits; by at least the paper's mean margin of +0.033 on 0." in summary
    assert "([])" not in summary


def test_targets_seeds_and_robustness_are_reported(tmp_path: Path) -> None:
    quick = tmp_path / "quick"
    _write_table1(quick / "table1-noisy", {"ada": [0.9, 0.8], "anovaegan": [0.8, 0.85], "knn": [0.95, 0.9]})
    _write_table1(quick / "table1-clean", {"ada": [0.91, 0.85], "anovaegan": [0.9, 0.9], "knn": [0.97, 0.95]})
    _write_table1(quick / "table1-noisy-s2", {"ada": [0.7, 0.7], "anovaegan": [0.6, 0.65], "knn": [0.8, 0.8]})
    _write_table1(tmp_path / "seeds" / "quick" / "table1-noisy", {"ada": [0.88, 0.82], "anovaegan": [0.8, 0.8]}, seed=1)
    summarise.main(["--preset", "quick", "--results", str(tmp_path)])
    summary = (quick / "summary.md").read_text()
    # digit 1: ADA 0.80 < AnoVAEGAN 0.85 - 0.01, so the floor is not met; clean - noisy = +0.030 > 0.02
    assert "| ADA ≥ AnoVAEGAN − 0.01 on every digit | below on 1 (digit 1) | **not met** |" in summary
    assert "| ADA clean − noisy ≤ 0.02 | +0.030 | **not met** |" in summary
    assert "| ADA − AnoVAEGAN ≥ +0.033 on the mean | +0.025 | **not met** |" in summary
    assert "| ADA ≥ kNN on pixels on the mean | 0.850 vs 0.925 | **not met** |" in summary
    # seed 0 from the main run, seed 1 from the extra folder; ADA wins 1 of 2 digits of seed 0 and both of seed 1
    assert "Noisy Table 1 over seeds" in summary
    assert "| ADA, CAM + D | [0, 1] | 0.850, 0.850 | 0.850 ± 0.000 |" in summary
    assert "ADA is ahead of AnoVAEGAN on 3 of 4 (digit, seed) pairs." in summary
    assert "| noise strength 2 | 0.625 | 0.700 | 0.800 | +0.075 | 2 of 2 |" in summary
    assert "| noise strength 0.5 | not run" in summary


def test_readme_block_is_replaced_and_a_readme_without_markers_is_refused_first(tmp_path: Path) -> None:
    quick = tmp_path / "quick"
    _write_table1(quick / "table1-noisy", {"ada": [0.9, 0.8], "anovaegan": [0.8, 0.85], "knn": [0.95, 0.9]})
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{summarise.README_BEGIN}\nold numbers\n{summarise.README_END}\n\nAfter.\n")
    summarise.main(["--preset", "quick", "--results", str(tmp_path), "--readme", str(readme)])
    body = (quick / "summary.md").read_text().split("\n", 2)[2].strip()
    assert readme.read_text() == f"# Title\n\n{summarise.README_BEGIN}\n{body}\n{summarise.README_END}\n\nAfter.\n"
    (quick / "summary.md").unlink()
    readme.write_text("# Title without markers\n")
    with pytest.raises(SystemExit, match="summary: begin"):
        summarise.main(["--preset", "quick", "--results", str(tmp_path), "--readme", str(readme)])
    assert not (quick / "summary.md").exists(), "the summary must not be written when the README cannot be"


def test_the_committed_readme_holds_the_committed_summary() -> None:
    """The README's results block is the generated summary, word for word (rerun with ``--readme README.md``)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    summary = (ROOT / "results" / "quick" / "summary.md").read_text(encoding="utf-8").split("\n", 2)[2].strip()
    block = readme.split(summarise.README_BEGIN)[1].split(summarise.README_END)[0].strip()
    assert block == summary, "README.md's results differ from results/quick/summary.md: run summarise_results.py"


def test_rescore_beta_reads_ada_at_another_beta_from_stored_scores(tmp_path: Path) -> None:
    import numpy as np

    rescore = _load_script("rescore_beta")
    units = tmp_path / "quick" / "table1-noisy" / "units"
    units.mkdir(parents=True)
    labels = np.array([0, 0, 0, 1, 1, 1])
    attention_term = np.array([0.10, 0.20, 0.30, 0.15, 0.25, 0.35])
    d_of_x = np.array([0.9, 0.9, 0.9, 0.1, 0.1, 0.1])  # D separates perfectly, the attention term does not
    for digit in (0, 1):
        fingerprint = {"digit": digit, "seed": 0, "detectors": {"ada": {"beta": 0.2}}}
        (units / f"digit{digit}-seed0.json").write_text(json.dumps({"fingerprint": fingerprint, "rows": []}))
        np.savez(
            units / f"digit{digit}-seed0.npz",
            y_test=labels,
            ada=attention_term - 0.02 * d_of_x,  # β_eff 0.02 at β 0.2
            **{"ada-cam-only": attention_term, "anovaegan": attention_term, "knn": attention_term},
        )
    rescore.main(["--beta", "2", "--results", str(tmp_path)])
    table = (tmp_path / "quick" / "beta2.md").read_text()
    # at β 0.2 the D term is too weak to reorder (AUROC 6/9 = 0.667); at β 2 (β_eff 0.2) it separates fully
    assert "| noise strength 1 (tuned) (`table1-noisy`) | 2 | 0.667 (β 0.2) | 1.000 | 0.667 | 0.667 |" in table
    assert "+0.333 | 2 of 2 |" in table
    with pytest.raises(SystemExit, match="no Table 1 units"):
        rescore.main(["--beta", "0.5", "--results", str(tmp_path / "empty")])
