"""The folder example of ``make example-folder``: write texture image folders, then read the scores' AUROC.

``write`` writes scikit-image's brick photo as image folders in the MVTec AD
layout plus a validation folder (``train/good``, ``validation/good``,
``test/good``, ``test/<defect>``, ``ground_truth/<defect>``, and with
``--n-val-defects`` labelled validation anomalies in ``validation/defects``; see
:mod:`adda_keras.data.textures`). ``auroc``
reads score CSVs written by ``adda-keras score`` on ``test/`` and prints
each one's image-level AUROC (an image is normal when its folder is
``good``), per defect kind too, and what the model's threshold (fitted on
normal validation images) flags of the test images::

    python scripts/texture_example.py write --output outputs/example-folder/data
    python scripts/texture_example.py auroc outputs/example-folder/ada.csv outputs/example-folder/knn.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from adda_keras.data.textures import NORMAL_FOLDER, write_texture_folders
from adda_keras.evaluation import auroc
from adda_keras.experiments.own_images import read_scores_csv


def auroc_table(csv_files: list[str]) -> str:
    """A Markdown table: one row per CSV (named by its file name), AUROC overall and per defect, threshold rates."""
    tables = {Path(f).stem: read_scores_csv(f) for f in csv_files}
    kinds = sorted({Path(p).parent.name for t in tables.values() for p in t["paths"]} - {NORMAL_FOLDER})
    header = ["method", "AUROC", *[f"AUROC {k}" for k in kinds], "test FPR at threshold", "test recall at threshold"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, table in tables.items():
        folders = np.array([Path(p).parent.name for p in table["paths"]])
        labels = (folders != NORMAL_FOLDER).astype(int)
        row = [name, f"{auroc(labels, table['scores']):.3f}"]
        for kind in kinds:
            keep = (folders == NORMAL_FOLDER) | (folders == kind)
            row.append(f"{auroc(labels[keep], table['scores'][keep]):.3f}")
        if table["labels"] is None:
            row += ["—", "—"]
        else:
            row += [f"{table['labels'][labels == 0].mean():.1%}", f"{table['labels'][labels == 1].mean():.1%}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse the subcommand and run it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the texture image folders")
    write.add_argument("--output", required=True, help="folder to write")
    write.add_argument("--normal", default="brick", help="texture of the normal images (default brick)")
    write.add_argument("--foreign", default="gravel", help="texture of the patch defects (default gravel)")
    write.add_argument("--n-train", type=int, default=240, help="normal training images (default 240)")
    write.add_argument("--n-val", type=int, default=40, help="normal validation images (default 40)")
    write.add_argument("--n-test", type=int, default=160, help="test images, a quarter of them normal (default 160)")
    write.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    write.add_argument(
        "--n-val-defects", type=int, default=0, help="defective validation images, validation/defects (default 0)"
    )
    write.add_argument("--seed", type=int, default=0)
    write.add_argument("--overwrite", action="store_true", help="replace the folders of an earlier run")
    read = commands.add_parser("auroc", help="image-level AUROC of score CSVs of test/")
    read.add_argument("csv", nargs="+", help="CSV files written by adda-keras score")
    args = parser.parse_args()
    if args.command == "write":
        counts = write_texture_folders(
            args.output,
            args.normal,
            args.foreign,
            args.n_train,
            args.n_val,
            args.n_test,
            args.size,
            args.seed,
            args.overwrite,
            args.n_val_defects,
        )
        print(", ".join(f"{folder}: {n}" for folder, n in counts.items()), f"images written to {args.output}")
    else:
        print(auroc_table(args.csv))


if __name__ == "__main__":
    main()
