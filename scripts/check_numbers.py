"""Check that every number the prose quotes comes from a result table, a stored output or a recorded timing.

The prose is README.md, every page under docs/, the reading pages of
results/ (``README.md`` files) and the markdown cells of the notebooks. In it
this script finds

* every number with three or more decimals (an AUROC ``0.927``, a margin
  ``+0.047``, a threshold ``-0.0059425``), and every number that follows the
  word "threshold";
* every run time (``17.8 min``, ``51.7 s``, ``0.47 ms``);

and looks each one up in the sources:

* every text file under results/ (tables, CSVs, JSON, notes) except the
  reading pages (``README.md``, prose themselves), with longer decimals rounded
  to the prose's precision;
* the text outputs that the notebooks store (printed lines, displayed tables);
* the run times of the notebooks' stored runs (from the cells' execution
  times, as ``scripts/sync_notebooks.py`` writes them into the headers);
* for a notebook's prose, also its own code cells (a toy example's values).

A run time matches a recorded one of the same quantity rounded to the prose's
precision (``52 s`` matches a recorded ``51.7 s``), or a decimal of a table
whose header gives the unit (``0.47 ms`` and a ``ms / image`` column's ``0.469``). Commands and transcripts in
fenced code blocks are not prose and are not checked; numbers that a sentence
attributes to the paper (the word "paper" just before them) are the paper's, not
this project's, and are skipped too. Signs are ignored (``−0.027`` is the
``+0.027`` of a clean − noisy column).

Usage::

    python scripts/check_numbers.py        # list every number not found; exit 1 if there is one

``tests/test_numbers.py`` runs it in ``make test``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: suffixes of the files under results/ whose text is a source
SOURCE_SUFFIXES = (".md", ".csv", ".json", ".txt", ".tsv")
#: a number with at least three decimals; group 1 the digits, without sign
DECIMAL = re.compile(r"(?<![\w.,/])[-+−±]?(\d+\.\d{3,})(?![\d.]*\d)")
#: a number that follows the word "threshold" (within a few words)
THRESHOLD = re.compile(r"threshold\w*(?:\s+(?:of|at|is|=|:|\w+)){0,3}\s+[-+−]?(\d+\.\d+)", re.IGNORECASE)
#: a run time: a number and a unit of time
TIME = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(ms|s|sec|seconds?|min|minutes?|h|hours?)\b")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60, "minutes": 60}
UNIT_SECONDS.update({"h": 3600, "hour": 3600, "hours": 3600})
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
PAPER = re.compile(r"paper'?s?\W{0,3}(?:\w+\W{1,3}){0,3}$", re.IGNORECASE)


@dataclass(frozen=True)
class Quote:
    """A number quoted in the prose: where, what kind, its text."""

    where: str
    kind: str  # "decimal", "threshold" or "time"
    text: str
    context: str


def _notebook_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_prose(path: Path) -> str:
    """The markdown cells of a notebook (``.ipynb``)."""
    cells = _notebook_json(path).get("cells", [])
    return "\n\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell.get("cell_type") == "markdown"
    )


def notebook_code(path: Path) -> str:
    """The code cells of a notebook (the inputs it defines, such as a toy example's values)."""
    cells = _notebook_json(path).get("cells", [])
    return "\n\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell.get("cell_type") == "code"
    )


def notebook_outputs(path: Path) -> str:
    """The text of every stored output of a notebook (streams, text/plain, text/markdown, text/html)."""
    texts = []
    for cell in _notebook_json(path).get("cells", []):
        for output in cell.get("outputs", []):
            parts = [output.get("text", "")]
            parts += [value for kind, value in output.get("data", {}).items() if kind.startswith("text/")]
            texts += ["".join(part) if isinstance(part, list) else part for part in parts]
    return "\n".join(texts)


def stored_run_seconds(path: Path) -> float | None:
    """Seconds of the run whose outputs the notebook stores, from its cells' execution times (as sync_notebooks)."""
    timings = [cell.get("metadata", {}).get("execution", {}) for cell in _notebook_json(path).get("cells", [])]
    starts = [t.get("iopub.execute_input") or t.get("shell.execute_reply.started") for t in timings]
    ends = [t.get("shell.execute_reply") for t in timings]
    starts, ends = [s for s in starts if s], [e for e in ends if e]
    if not starts or not ends:
        return None
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(ends[-1]) - parse(starts[0])).total_seconds()


def prose_documents(root: Path = ROOT) -> dict[str, str]:
    """Repository path -> prose text: README.md, docs/**/*.md, results/**/README.md, the notebooks' markdown."""
    documents = {"README.md": (root / "README.md").read_text(encoding="utf-8")}
    for folder in ("docs", "results"):
        pattern = "*.md" if folder == "docs" else "README.md"
        for path in sorted((root / folder).rglob(pattern)):
            documents[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        documents[path.relative_to(root).as_posix()] = notebook_prose(path)
    return documents


def source_texts(root: Path = ROOT) -> dict[str, str]:
    """Repository path -> text of every source: the files under results/ and the notebooks' stored outputs."""
    sources = {}
    for path in sorted((root / "results").rglob("*")):
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and path.name != "README.md":  # a reading page is prose
            sources[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        sources[f"{path.relative_to(root).as_posix()} (outputs)"] = notebook_outputs(path)
    return sources


def _strip_code_blocks(text: str) -> str:
    return FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)


def quotes(where: str, text: str) -> list[Quote]:
    """The numbers of ``text`` that must come from a source."""
    found = []
    seen: set[int] = set()  # where each number ends: a threshold of three decimals is one quote, not two
    prose = _strip_code_blocks(text)
    for pattern, kind in ((DECIMAL, "decimal"), (THRESHOLD, "threshold"), (TIME, "time")):
        for match in pattern.finditer(prose):
            end = match.end(1)
            if end in seen:
                continue
            seen.add(end)
            before = prose[max(0, match.start() - 60) : match.start()].split("\n")[-1]
            if PAPER.search(before):
                continue
            context = prose[max(0, match.start() - 50) : match.end() + 20].replace("\n", " ")
            found.append(Quote(where, kind, match.group(0).strip(), context))
    return found


def _decimals(text: str) -> set[str]:
    """Every decimal of ``text`` at its own precision and rounded to every shorter one of at least 2 decimals."""
    found = set()
    for match in re.finditer(r"\d+\.\d+", text):
        value = match.group(0)
        places = len(value.split(".")[1])
        number = float(value)
        found.add(value)
        for shorter in range(2, places):
            found.add(f"{number:.{shorter}f}")
    return found


def _times(text: str) -> list[float]:
    """Every run time of ``text``, in seconds."""
    return [
        float(match.group(1).replace(",", "")) * UNIT_SECONDS[match.group(2).lower()] for match in TIME.finditer(text)
    ]


def _time_matches(quote: str, recorded: list[float]) -> bool:
    match = TIME.search(quote)
    number, unit = match.group(1).replace(",", ""), match.group(2).lower()
    places = len(number.split(".")[1]) if "." in number else 0
    value, scale = float(number), UNIT_SECONDS[unit]
    return any(abs(round(seconds / scale, places) - value) < 10 ** (-places) / 2 for seconds in recorded)


def check(root: Path = ROOT) -> list[str]:
    """One line per quoted number that no source holds; empty if every number is found."""
    documents = prose_documents(root)
    sources = source_texts(root)
    run_times = [
        seconds
        for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        if (seconds := stored_run_seconds(path)) is not None
    ]
    missing = []
    for where, text in documents.items():
        own = {name: body for name, body in sources.items() if name != where}
        if where.endswith(".ipynb"):  # a notebook's prose may also quote the values its own code defines
            own[f"{where} (code)"] = notebook_code(root / where)
        decimals = set().union(*(_decimals(body) for body in own.values()))
        times = [t for body in own.values() for t in _times(body)] + run_times
        for quote in quotes(where, text):
            if quote.kind == "time":  # a recorded time, or the number in a table whose header gives the unit
                number = TIME.search(quote.text).group(1)
                ok = _time_matches(quote.text, times) or ("." in number and number in decimals)
            else:
                number = re.search(r"\d+\.\d+", quote.text).group(0)
                ok = number in decimals
            if not ok:
                missing.append(
                    f"{where}: {quote.kind} {quote.text!r} is in no result table, output or timing: …{quote.context}…"
                )
    return missing


def main(argv: list[str] | None = None) -> int:
    missing = check()
    for line in missing:
        print(line)
    print(f"{len(missing)} quoted number(s) not found" if missing else "every quoted number was found in a source")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
