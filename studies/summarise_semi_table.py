"""Write the ten-digit Table 3's tables from its finished units (an interrupted run), training nothing.

    python -m studies.summarise_semi_table                # results/quick/table3-ten-digits/table.md
    python -m studies.summarise_semi_table --preset tiny --output /tmp/results

The run itself, which resumes where it stopped: ``python -m adda_keras reproduce --table 3 --protocol ten-digits``.
"""

from __future__ import annotations

import argparse

from adda_keras.experiments.semi_supervised import make_semi_config, write_finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick", "paper"))
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    config = make_semi_config(args.preset, output_dir=args.output)
    write_finished(config)
    print((config.folder / "table.md").read_text())


if __name__ == "__main__":
    main()
