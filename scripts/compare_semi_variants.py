"""Compare ways of training ``D_ano`` on validation images only, and write the table (resumable).

    python scripts/compare_semi_variants.py                       # results/semi_variants/
    python scripts/compare_semi_variants.py --variants baseline known+made --digits 0
    python scripts/compare_semi_variants.py --table-only          # the table of the stored records

See :mod:`adda_keras.experiments.semi_variants` for the variants and what is measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from adda_keras.experiments.semi_variants import D_ANO_VARIANTS, STUDY_DIGITS, run_variants, variants_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="results/semi_variants")
    parser.add_argument("--digits", type=int, nargs="+", default=list(STUDY_DIGITS))
    parser.add_argument("--variants", nargs="+", default=list(D_ANO_VARIANTS), choices=list(D_ANO_VARIANTS))
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick", "paper"))
    parser.add_argument("--table-only", action="store_true", help="write the table of the stored records")
    args = parser.parse_args()
    folder = Path(args.output)
    if args.table_only:
        records = [json.loads(p.read_text()) for p in sorted(folder.glob("normal*-seed*-*.json"))]
        if not records:
            raise SystemExit(f"no stored record in {folder}")
    else:
        records = run_variants(folder, tuple(args.digits), tuple(args.variants), args.preset)
    (folder / "table.md").write_text(variants_markdown(records, "python scripts/compare_semi_variants.py"))
    print((folder / "table.md").read_text())


if __name__ == "__main__":
    main()
