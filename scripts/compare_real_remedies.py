"""Compare remedies for ADA on real images on validation images only; writes results/real_images/remedies/.

    python scripts/compare_real_remedies.py                 # the default units (digits 2, 5; brick, grass)
    python scripts/compare_real_remedies.py --units photo-digits:2 textures:brick
    python scripts/compare_real_remedies.py --units photo-digits:5 --variants synthetic-all synthetic-patches
    python scripts/compare_real_remedies.py --table-only    # rewrite table.md from the stored units

Resumable: each unit's variants are stored as they finish (``units/*.json``) and skipped on the next run.
What is compared and why: :mod:`adda_keras.experiments.real_remedies`.
"""

from __future__ import annotations

import argparse
import logging

from adda_keras.experiments.real_remedies import DEFAULT_UNITS, VARIANTS, run_remedies, write_remedies_table


def _unit(text: str) -> tuple[str, str]:
    benchmark, _, subject = text.partition(":")
    if benchmark not in ("photo-digits", "textures") or not subject:
        raise argparse.ArgumentTypeError(f"a unit is photo-digits:<digit> or textures:<texture>; got {text!r}")
    return benchmark, subject


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", nargs="+", type=_unit, default=list(DEFAULT_UNITS), metavar="BENCHMARK:SUBJECT")
    parser.add_argument("--output", default="results/real_images/remedies")
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick"))
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, help="run only these variants (default all)")
    parser.add_argument("--table-only", action="store_true", help="only rewrite table.md from the stored units")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.table_only:
        print(write_remedies_table(args.output))
        return
    print(run_remedies(args.output, args.units, preset=args.preset, variants=args.variants).read_text())


if __name__ == "__main__":
    main()
