"""Read the stored ten-digit Table 3 units (no training): how to combine D_G and D_ano, and β from few anomalies.

    python scripts/analyse_semi_table.py            # results/quick/table3-ten-digits/{combinations,few_anomalies}.*
    python scripts/analyse_semi_table.py --digits 4 5 6

Writes ``combinations.md`` / ``.csv`` (the combinations of the two
discriminators, judged on validation images; test AUROCs beside) and
``few_anomalies.md`` / ``.csv`` (``choose_beta`` on 1-20 labelled anomalies
against the default β) into the table's folder. Units stored before they
kept score terms are skipped with a message. The units come from
``python -m adda_keras reproduce --table 3 --protocol ten-digits``.
"""

from __future__ import annotations

import argparse
import csv
import logging
from pathlib import Path

from adda_keras.experiments.common import machine_info
from adda_keras.experiments.semi_analysis import (
    DRAWS,
    combination_markdown,
    combination_rows,
    few_anomaly_markdown,
    few_anomaly_rows,
    load_terms,
)
from adda_keras.experiments.semi_supervised import make_semi_config


def write_csv(path: Path, rows: list[dict]) -> None:
    """Rows as CSV, every key a column."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick", "paper"))
    parser.add_argument("--output", default="results")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("adda_keras").setLevel(logging.ERROR)  # one beta warning per draw would drown the tables
    config = make_semi_config(args.preset, digits=args.digits, output_dir=args.output)
    units = config.folder / "units"
    digits = []
    for normal in config.digits:
        try:
            load_terms(units, normal, args.seed)
            digits.append(normal)
        except ValueError as error:
            print(f"skipping normal digit {normal}: {error}")
    if not digits:
        raise SystemExit(f"no unit with score terms in {units}")
    machine = machine_info()
    where = f"{machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}"
    command = "python scripts/analyse_semi_table.py"
    command += "" if args.preset == "quick" else f" --preset {args.preset}"
    command += "" if args.output == "results" else f" --output {args.output}"
    command += "" if args.digits == list(range(10)) else " --digits " + " ".join(map(str, args.digits))
    combined = [r for n in config.n_known for r in combination_rows(units, digits, args.seed, n)]
    write_csv(config.folder / "combinations.csv", combined)
    (config.folder / "combinations.md").write_text(combination_markdown(combined, command, where))
    few = few_anomaly_rows(units, digits, args.seed)
    write_csv(config.folder / "few_anomalies.csv", few)
    (config.folder / "few_anomalies.md").write_text(few_anomaly_markdown(few, DRAWS, command, where))
    print((config.folder / "combinations.md").read_text())
    print((config.folder / "few_anomalies.md").read_text())


if __name__ == "__main__":
    main()
