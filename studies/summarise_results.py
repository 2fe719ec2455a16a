"""Headline summary of the reproduced tables: means per method, noisy vs clean, beside the paper.

Reads ``results/<preset>/table1-noisy``, ``table1-clean``, ``table3-noisy``,
the robustness runs ``table1-noisy-s0.5``, ``table1-noisy-s2``,
``table1-noisy-nseed7`` and the extra seeds in ``results/seeds/<preset>/``
(whatever exists) and writes ``results/<preset>/summary.md``: Table 1 mean
AUROC per method on noisy and clean MNIST, the drop from clean to noisy, the
number of digits on which ADA beats AnoVAEGAN and by how much, the paper's
means, the attention issue's targets as met / not met, the three-seed and
robustness tables, Table 3's means and those of the ten-digit Table 3
(``table3-ten-digits``). With ``--readme README.md`` the
same text (without its title) replaces the README's block between
:data:`README_BEGIN` and :data:`README_END`, so that the README and the
results never disagree.

    python -m studies.summarise_results [--preset quick] [--results results] [--readme README.md]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from adda_keras.experiments.reproduce import (
    LABELS,
    PAPER_TABLE1_MEAN,
    PAPER_TABLE3_MEAN,
    ROBUSTNESS_RUNS,
    TABLE1_METHODS,
    TABLE3_METHODS,
)
from adda_keras.experiments.semi_supervised import LABELS as SEMI_LABELS
from adda_keras.experiments.semi_supervised import METHODS as SEMI_METHODS


def load(folder: Path) -> list[dict[str, str]]:
    """Rows of ``runs.csv`` in ``folder`` (empty if the table was not run)."""
    path = folder / "runs.csv"
    if not path.exists():
        return []
    with open(path) as handle:
        return list(csv.DictReader(handle))


def per_digit(rows: list[dict[str, str]], method: str, key: str) -> dict[int, float]:
    """Mean AUROC over seeds for each digit (or known anomaly)."""
    digits = sorted({int(r[key]) for r in rows if r["method"] == method})
    return {
        d: float(np.mean([float(r["auroc"]) for r in rows if r["method"] == method and int(r[key]) == d]))
        for d in digits
    }


def mean(values: dict[int, float]) -> float:
    """Mean over digits, NaN when empty."""
    return float(np.mean(list(values.values()))) if values else float("nan")


def named_digits(digits: list[int]) -> str:
    """`` (digits 0, 3)`` naming ``digits``, `` (digit 3)`` for one, and nothing when there are none."""
    if not digits:
        return ""
    return f" ({'digit' if len(digits) == 1 else 'digits'} {', '.join(str(d) for d in digits)})"


#: the detectors of the three-seed and robustness tables
FOCUS = ("anovaegan", "ada", "knn")


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def targets(noisy: list[dict[str, str]], clean: list[dict[str, str]]) -> list[str]:
    """The attention issue's targets on the quick preset, each with its number and met / not met."""
    ada, base, knn = (per_digit(noisy, m, "digit") for m in ("ada", "anovaegan", "knn"))
    share = {
        d: float(np.mean([float(r["attention_share"]) for r in noisy if r["method"] == "ada" and int(r["digit"]) == d]))
        for d in ada
        if any(r.get("attention_share") for r in noisy if r["method"] == "ada" and int(r["digit"]) == d)
    }
    clean_ada = per_digit(clean, "ada", "digit")
    floor = [d for d in ada if ada[d] < base[d] - 0.01]
    low_share = [d for d in share if share[d] < 1.5]
    ahead = [d for d in ada if ada[d] > base[d]]
    lines = ["Targets of the attention issue (this run):", "", "| target | measured | |", "|---|---|---|"]
    lines.append(
        f"| ADA ≥ AnoVAEGAN − 0.01 on every digit | below on {len(floor)}{named_digits(floor)} | {_met(not floor)} |"
    )
    if share:
        lines.append(
            f"| attention share on the digit ≥ 1.5 on every digit | min {min(share.values()):.2f}, mean "
            f"{mean(share):.2f}; below on {len(low_share)}{named_digits(low_share)} | {_met(not low_share)} |"
        )
    if clean_ada:
        drop = mean(clean_ada) - mean({d: v for d, v in ada.items() if d in clean_ada})
        lines.append(f"| ADA clean − noisy ≤ 0.02 | {drop:+.3f} | {_met(drop <= 0.02)} |")
    gap = mean(ada) - mean(base)
    lines.append(f"| ADA − AnoVAEGAN ≥ +0.033 on the mean | {gap:+.3f} | {_met(gap >= 0.033)} |")
    lines.append(
        f"| ADA ahead of AnoVAEGAN on ≥ 8 of 10 digits | {len(ahead)} of {len(ada)} | {_met(len(ahead) >= 8)} |"
    )
    if knn:
        lines.append(
            f"| ADA ≥ kNN on pixels on the mean | {mean(ada):.3f} vs {mean(knn):.3f} | {_met(mean(ada) >= mean(knn))} |"
        )
    return [*lines, ""]


def _per_seed_means(rows: list[dict[str, str]], method: str) -> dict[int, float]:
    seeds = sorted({int(r["seed"]) for r in rows if r["method"] == method})
    return {
        s: float(np.mean([float(r["auroc"]) for r in rows if r["method"] == method and int(r["seed"]) == s]))
        for s in seeds
    }


def seeds_table(noisy: list[dict[str, str]], extra: list[dict[str, str]]) -> list[str]:
    """Noisy Table 1 means over seeds 0 (the main run) and the extra seeds, mean ± std."""
    if not extra:
        return []
    rows = noisy + extra
    digits = sorted({int(r["digit"]) for r in extra})
    rows = [r for r in rows if int(r["digit"]) in digits]
    lines = [
        f"Noisy Table 1 over seeds (mean over digits {digits} per seed, then mean ± std over seeds; seed 0 from the "
        "main run, the others from `results/seeds/`):",
        "",
        "| method | seeds | per seed | mean ± std |",
        "|---|---|---|---|",
    ]
    for method in FOCUS:
        values = _per_seed_means(rows, method)
        if values:
            per_seed = ", ".join(f"{v:.3f}" for v in values.values())
            lines.append(
                f"| {LABELS[method]} | {list(values)} | {per_seed} | "
                f"{np.mean(list(values.values())):.3f} ± {np.std(list(values.values())):.3f} |"
            )
    ada, base = _per_seed_means(rows, "ada"), _per_seed_means(rows, "anovaegan")
    gaps = [ada[s] - base[s] for s in ada if s in base]
    if gaps:
        auroc = {(int(r["seed"]), int(r["digit"]), r["method"]): float(r["auroc"]) for r in rows}
        pairs = [(s, d) for s, d, m in auroc if m == "ada" and (s, d, "anovaegan") in auroc]
        ahead = sum(auroc[(s, d, "ada")] > auroc[(s, d, "anovaegan")] for s, d in pairs)
        lines += [
            "",
            f"ADA − AnoVAEGAN per seed: {', '.join(f'{g:+.3f}' for g in gaps)}; mean {np.mean(gaps):+.3f}. "
            f"ADA is ahead of AnoVAEGAN on {ahead} of {len(pairs)} (digit, seed) pairs.",
        ]
    return [*lines, ""]


def robustness_table(root: Path, noisy: list[dict[str, str]]) -> list[str]:
    """The chosen setting, unchanged, at other noise strengths and an unseen noise seed."""
    runs = {suffix: (noisy if not suffix else load(root / f"table1-noisy{suffix}")) for suffix in ROBUSTNESS_RUNS}
    if not any(runs[s] for s in ROBUSTNESS_RUNS if s):
        return []
    lines = [
        "Robustness of the chosen setting (unchanged), mean AUROC over digits:",
        "",
        "| noise | " + " | ".join(LABELS[m] for m in FOCUS) + " | ADA − AnoVAEGAN | ADA ahead on |",
        "|---|" + "---|" * (len(FOCUS) + 2),
    ]
    for suffix, label in ROBUSTNESS_RUNS.items():
        rows = runs[suffix]
        if not rows:
            lines.append(f"| {label} | " + " | ".join("not run" for _ in FOCUS) + " | | |")
            continue
        means = {m: per_digit(rows, m, "digit") for m in FOCUS}
        ahead = [d for d in means["ada"] if means["ada"][d] > means["anovaegan"][d]]
        cells = " | ".join(f"{mean(means[m]):.3f}" for m in FOCUS)
        gap = mean(means["ada"]) - mean(means["anovaegan"])
        lines.append(f"| {label} | {cells} | {gap:+.3f} | {len(ahead)} of {len(means['ada'])} |")
    return [*lines, ""]


#: the markers of the README block that holds the summary
README_BEGIN, README_END = "<!-- summary: begin -->", "<!-- summary: end -->"


def ten_digit_table(rows: list[dict[str, str]]) -> list[str]:
    """Mean AUROC on the unknown and the known anomalies of the ten-digit Table 3 (empty if it was not run)."""
    if not rows:
        return []
    digits = sorted({int(r["normal"]) for r in rows})
    seeds = sorted({int(r["seed"]) for r in rows})
    n_knowns = sorted({int(r["n_known"]) for r in rows}, reverse=True)
    lines = [
        f"Table 3 for every normal digit (normal digits {', '.join(map(str, digits))}, known anomaly "
        f"(d + 1) mod 10, seeds {seeds}), mean AUROC on the unknown anomaly digits and on the known one:",
        "",
        "| method | " + " | ".join(f"unknown, {n} labelled | known, {n} labelled" for n in n_knowns) + " |",
        "|---|" + "---|---|" * len(n_knowns),
    ]
    for method in SEMI_METHODS:
        cells = []
        for n in n_knowns:
            for part in ("unknown", "known"):
                values = [float(r[f"auroc_{part}"]) for r in rows if r["method"] == method and int(r["n_known"]) == n]
                cells.append(f"{np.mean(values):.3f}")
        lines.append(f"| {SEMI_LABELS[method]} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def readme_parts(readme: Path) -> tuple[str, str]:
    """The text of ``readme`` before and after its summary block; exits naming the file if the markers are wrong."""
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if text.count(README_BEGIN) != 1 or text.count(README_END) != 1 or begin > end:
        raise SystemExit(f"error: {readme} needs one {README_BEGIN!r} line followed by one {README_END!r} line")
    return text[: begin + len(README_BEGIN)], text[end:]


def main(argv: list[str] | None = None) -> None:
    """Write the summary markdown (and, with ``--readme``, the README's copy of it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--results", default="results")
    parser.add_argument("--readme", help="also replace this README's summary block (between the summary markers)")
    args = parser.parse_args(argv)
    readme = readme_parts(Path(args.readme)) if args.readme else None  # checked before anything is written
    root = Path(args.results) / args.preset
    noisy, clean, semi = (load(root / name) for name in ("table1-noisy", "table1-clean", "table3-noisy"))
    lines = [f"# Headline results ({args.preset} preset)", ""]
    if noisy:
        config = json.loads((root / "table1-noisy" / "config.json").read_text())
        machine = config["machine"]
        lines += [
            f"Mean AUROC over normal digits {sorted({int(r['digit']) for r in noisy})}, seeds "
            f"{config['preset']['seeds']}, {config['preset']['epochs']} epochs, data `{config['data_source_used']}`; "
            f"{machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
            f"TensorFlow {machine['tensorflow']}. Made by `python -m studies.summarise_results --preset {args.preset}` "
            f"from the tables in `{root.as_posix()}/`.",
            "",
            "| method | noisy MNIST | clean MNIST | clean − noisy | paper (noisy) |",
            "|---|---|---|---|---|",
        ]
        clean_digits = {int(r["digit"]) for r in clean}
        if clean and clean_digits != {int(r["digit"]) for r in noisy}:
            lines[-3:-3] = [
                f"The clean table holds normal digits {sorted(clean_digits)} only: its column is the mean over "
                "those digits, and clean − noisy compares both tables on them.",
                "",
            ]
        for method in TABLE1_METHODS:
            noisy_digits = per_digit(noisy, method, "digit")
            clean_values = per_digit(clean, method, "digit")
            n, c = mean(noisy_digits), mean(clean_values)
            # the difference compares the two tables on the digits both hold
            drop = c - mean({d: v for d, v in noisy_digits.items() if d in clean_values})
            paper = PAPER_TABLE1_MEAN.get(method)
            lines.append(
                f"| {LABELS[method]} | {n:.3f} | {'—' if np.isnan(c) else f'{c:.3f}'} | "
                f"{'—' if np.isnan(c) else f'{drop:+.3f}'} | {'—' if paper is None else f'{paper:.3f}'} |"
            )
        ada, base = per_digit(noisy, "ada", "digit"), per_digit(noisy, "anovaegan", "digit")
        wins = [d for d in ada if ada[d] > base[d]]
        margin = [d for d in ada if ada[d] - base[d] >= 0.033]
        best_classical = max(
            ("isolation-forest", "ocsvm", "pca", "knn"), key=lambda m: mean(per_digit(noisy, m, "digit"))
        )
        lines += [
            "",
            f"ADA (CAM + D) beats AnoVAEGAN on {len(wins)} of {len(ada)} digits{named_digits(wins)}; by at least "
            f"the paper's mean margin of +0.033 on {len(margin)}{named_digits(margin)}. "
            "Mean difference ADA − AnoVAEGAN: "
            f"{mean(ada) - mean(base):+.3f} (paper: +0.033). Best classical detector on noisy MNIST: "
            f"{LABELS[best_classical]} ({mean(per_digit(noisy, best_classical, 'digit')):.3f}).",
            "",
        ]
        lines += targets(noisy, clean)
    lines += seeds_table(noisy, load(Path(args.results) / "seeds" / args.preset / "table1-noisy"))
    lines += robustness_table(root, noisy)
    if semi:
        lines += [
            "Table 3 (semi-supervised, normal digit 0, known anomaly "
            f"{sorted({int(r['known_anomaly']) for r in semi})}), mean AUROC:",
            "",
            "| method | ours | paper |",
            "|---|---|---|",
        ]
        for method in TABLE3_METHODS:
            paper = PAPER_TABLE3_MEAN.get(method)
            value = mean(per_digit(semi, method, "known_anomaly"))
            lines.append(f"| {LABELS[method]} | {value:.3f} | {'—' if paper is None else f'{paper:.3f}'} |")
        lines.append("")
    lines += ten_digit_table(load(root / "table3-ten-digits"))
    (root / "summary.md").write_text("\n".join(lines))
    if readme is not None:
        head, tail = readme
        Path(args.readme).write_text(f"{head}\n" + "\n".join(lines[2:]).strip() + f"\n{tail}", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
