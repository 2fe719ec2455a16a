"""No lost files: outputs written whole or not at all, never into the commands' inputs, inputs that do not overlap.

The commands on a user's own folders read images and models and write CSVs,
maps and models. Three rules keep a user's files safe, checked before any
training or scoring:

* an output is written to a temporary file beside its target and renamed
  over it only when complete (:func:`atomic_output`), so that a run that
  fails half-way leaves the previous file as it was;
* an output is never one of the inputs (the model, an image) and never lies
  inside a folder being scored (:func:`check_not_an_input`), where a second
  run would score the first run's pictures as images;
* two sets of images that must be different (known anomalies and the normal
  images; validation and training images) share no picture
  (:func:`shared_files`), whatever the files are called and however they
  are encoded (decoded pixels are compared).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from adda_keras.data.folder import pixel_digest

__all__ = ["atomic_output", "check_file_target", "check_not_an_input", "shared_files"]


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); on success rename it to ``target``, else delete it.

    The rename is atomic on one file system, so ``target`` holds either its
    previous content or the complete new one, never a truncated file. The
    temporary name starts with a dot and keeps the suffix, so writers that
    check the suffix (``.keras``, ``.pkl``, ``.csv``) accept it.
    """
    target = Path(target)
    check_file_target(target, "the output")
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        temporary.unlink()  # writers such as Keras' save refuse or prompt for an existing file
        yield temporary
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def check_not_an_input(
    output: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
    what: str,
    replaces_folder: bool = False,
) -> None:
    """Raise ``ValueError`` when ``output`` is one of ``inputs`` or lies inside one of the input folders.

    ``what`` names the output in the message (e.g. ``"--out"``). Paths are
    compared resolved, so ``./m.keras`` and ``m.keras`` are the same file.
    ``replaces_folder``: the output is a folder written as a whole (a
    SavedModel), so it must not *contain* an input either (``export --out .``
    next to the model).
    """
    target = Path(output).expanduser().resolve()
    for given in inputs:
        source = Path(given).expanduser().resolve()
        if target == source:
            raise ValueError(f"{what} {output} is also an input of this command; write to another path")
        if source.is_dir() and source in target.parents:
            raise ValueError(
                f"{what} {output} lies inside the input folder {given}: a later run would read what this one "
                "writes; write outside it"
            )
        if replaces_folder and target in source.parents:
            raise ValueError(
                f"{what} {output} holds the input {given}: the output is a whole folder of its own; "
                "write to a new folder"
            )


def check_file_target(output: str | os.PathLike[str], what: str) -> None:
    """Raise ``ValueError`` when the file output ``output`` names an existing folder (a file cannot replace it)."""
    if Path(output).expanduser().is_dir():
        raise ValueError(f"{what} must be a file name; {output} is an existing folder")


def shared_files(
    first: Sequence[str | os.PathLike[str]], second: Sequence[str | os.PathLike[str]]
) -> list[tuple[Path, Path]]:
    """Pairs ``(a, b)`` of a file of ``first`` and a file of ``second`` with the same picture.

    Copies count, whatever their names, folders and lossless file formats
    (:func:`~adda_keras.data.folder.pixel_digest` compares decoded pixels):
    a known-anomaly folder that holds copies of the normal images, or the
    training images re-saved as BMP in the validation folder, is caught as
    surely as the same folder given twice.
    """
    digests = {pixel_digest(path): Path(path) for path in second}
    return [(Path(path), digests[digest]) for path in first if (digest := pixel_digest(path)) in digests]
