"""The one store of resumable result units: settings fingerprints, resuming, atomic writes.

A long run (a table, a benchmark, a study) is cut into *units* (one digit and
seed, one texture, one variant ...), each stored as it finishes as a JSON
record in a ``units/`` folder, beside its per-image scores where it keeps
them. A record holds the ``fingerprint`` of every setting that produced it;
a rerun reuses a stored unit whose fingerprint matches its own and
recomputes the others, so an interrupted run resumes where it stopped and a
changed setting never mixes with old numbers.

* :func:`fingerprint_of` — a fingerprint as JSON would store it (tuples as lists), so that equal
  settings compare equal whether just computed or read back;
* :func:`read_unit` / :func:`stored_unit` — a stored record, and the one that matches a fingerprint
  (settings added to the library since the unit was stored count with their neutral value,
  :func:`~adda_keras.experiments.common.fill_added_parameters`);
* :func:`write_unit`, :func:`write_text_atomically`, :func:`write_csv_atomically`,
  :func:`save_npz_atomically` — every write goes through
  :func:`~adda_keras.experiments.files.atomic_output`, so an interrupted run never leaves half a file.

Used by ``reproduce``, ``semi_supervised``, ``real_images``, ``localise`` and
the studies that store units (``studies.semi_variants``, ``studies.real_remedies``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.experiments.common import fill_added_parameters
from adda_keras.experiments.files import atomic_output

__all__ = [
    "fingerprint_of",
    "read_unit",
    "save_npz_atomically",
    "stored_unit",
    "write_csv_atomically",
    "write_text_atomically",
    "write_unit",
]


def fingerprint_of(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as a stored record holds them (a JSON round trip: tuples become lists)."""
    return json.loads(json.dumps(settings))


def read_unit(path: Path) -> Any:
    """The JSON record stored at ``path`` (``OSError`` / ``ValueError`` if it cannot be read)."""
    return json.loads(Path(path).read_text())


def stored_unit(path: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The record at ``path`` if it was made with ``fingerprint``'s settings; None if absent or made otherwise."""
    path = Path(path)
    if not path.exists():
        return None
    stored = read_unit(path)
    if fill_added_parameters(stored.get("fingerprint"), fingerprint) != fingerprint:
        return None
    return stored


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, renamed when complete."""
    with atomic_output(path) as temporary:
        temporary.write_text(text)


def write_unit(path: Path, record: dict[str, Any]) -> None:
    """Store one unit's record as indented JSON, atomically (the format every stored unit has)."""
    write_text_atomically(path, json.dumps(record, indent=1))


def write_csv_atomically(path: Path, rows: Sequence[dict[str, Any]], fields: Iterable[str] | None = None) -> None:
    """``rows`` as CSV at ``path``, atomically; ``fields`` defaults to every key of the rows, in order of appearance."""
    fieldnames = list(fields) if fields is not None else list(dict.fromkeys(k for r in rows for k in r))
    with atomic_output(path) as temporary, open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def save_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` to ``path`` (which ends in ``.npz``), atomically."""
    with atomic_output(path) as temporary:
        np.savez_compressed(temporary, **arrays)
