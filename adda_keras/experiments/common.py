"""What every experiment shares: the machine record written beside each result, and the output-folder check.

Every runnable experiment (:mod:`~adda_keras.experiments.demo`,
:mod:`~adda_keras.experiments.reproduce`,
:mod:`~adda_keras.experiments.localise`,
:mod:`~adda_keras.experiments.own_images`) records :func:`machine_info`
with its numbers and calls :func:`check_output_dir` before any training,
so that a bad output folder fails in a second rather than after an hour.
Experiments that reuse finished units compare settings fingerprints through
:func:`fill_added_parameters`, so that a detector option added later, at
the value that reproduces the old behaviour, does not make every stored
result stale.
"""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def cpu_model() -> str:
    """The CPU's model name, as ``lscpu`` prints it (Linux); ``platform.processor()`` elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """Facts about the machine and library versions, recorded beside every result."""
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder ``path`` if needed and check that files can be written into it.

    Raises ``ValueError`` naming the folder when it is a file, lies under a
    file, or is not writable, so that a run fails before training rather than
    when it saves its results.
    """
    folder = Path(path)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ValueError(f"the output folder must be a folder; {blocker} is a file (choose another output folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"the output folder {folder} is not writable ({error.strerror or error}); choose another output folder"
        ) from error
    return folder


#: detector parameters added after results were first stored, each with the value that reproduces the behaviour
#: from before it existed (checked by a regression test); a stored fingerprint without one reads as having it
ADDED_PARAMETERS: dict[str, Any] = {"diff_augment": False, "equilibrium": False, "beta_switch_se": 0.0}


def fill_added_parameters(stored: Any, current: Any) -> Any:
    """``stored`` (a settings fingerprint) with every :data:`ADDED_PARAMETERS` entry it lacks but ``current`` has.

    Only keys missing from a stored dictionary are filled, with the neutral
    value (not the current one), so a run that *uses* a new option still
    differs from results stored without it.
    """
    if not isinstance(stored, dict) or not isinstance(current, dict):
        return stored
    filled = {key: fill_added_parameters(value, current.get(key)) for key, value in stored.items()}
    for key, neutral in ADDED_PARAMETERS.items():
        if key in current and key not in filled:
            filled[key] = neutral
    return filled
