"""Check that every number the prose quotes comes from the output, table or timing it belongs to.

The prose is README.md, every page under docs/, the reading pages of
results/ (``README.md`` files) and the markdown cells of the notebooks. In it
this script finds

* every number with two or more decimals (an AUROC ``0.36`` or ``0.927``, a
  margin ``+0.047``, a threshold ``-0.0059425``), and every number that
  follows the word "threshold";
* every run time (``17.8 min``, ``51.7 s``, ``0.47 ms``);

and looks each one up where it must come from, at the prose's precision
(``0.36`` matches a stored ``0.3612``, since ``round(0.3612, 2) == 0.36``;
not a stored ``0.3651``):

* a number in a notebook's prose: that notebook's own stored outputs (printed
  lines, displayed tables) and code cells (a toy example's values), or the
  result files that its paragraph cites (a path ``results/...``, a file or a
  folder), or the stored outputs of a notebook the paragraph names
  ("notebook 04");
* a number of a page (README.md, docs/, results/**/README.md): the result
  files that the page links or names (``results/...``, ``repo:results/...``,
  and a reading page's relative links), and the stored outputs of the
  notebooks that it names; a number found only in some other table fails;
* a run time: any recorded one of the same quantity rounded to the prose's
  precision (``52 s`` matches a recorded ``51.7 s``), from the text files
  under results/, the notebooks' outputs and their stored runs' cell timings
  (as ``scripts/sync_notebooks.py`` writes them into the headers), or a
  decimal of a table whose header gives the unit (``0.47 ms`` and a
  ``ms / image`` column's ``0.469``).

A result file is a text file under results/ (tables, CSVs, JSON, notes) other
than a reading page (``README.md``, prose itself). Commands and transcripts in
fenced code blocks are not prose and are not checked; numbers that a sentence
attributes to the paper (the word "paper" just before them) are the paper's,
not this project's, and are skipped too, as are version numbers (``Python
3.10``, ``tensorflow>=2.16``). Signs are ignored (``−0.027`` is the ``+0.027``
of a clean − noisy column).

Usage::

    python scripts/check_numbers.py        # list every number not found; exit 1 if there is one

``tests/test_numbers.py`` runs it in ``make test``.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: suffixes of the files under results/ whose text is a source
SOURCE_SUFFIXES = (".md", ".csv", ".json", ".txt", ".tsv")
#: a number with at least two decimals; group 1 the digits, without sign
DECIMAL = re.compile(r"(?<![\w.,/])[-+−±]?(\d+\.\d{2,})(?![\d.]*\d)")
#: what comes just before a version number (``Python 3.10``, ``tensorflow>=2.16``): not a result
VERSION = re.compile(r"(?:python|tensorflow|keras|jupyter\w*|jupytext|numpy|version|setuptools|[<>=~≥≤]=?)\s*v?$", re.I)
#: a result file or folder that prose cites: ``results/quick/table1-noisy/table.md``, ``repo:results/...``
CITED_PATH = re.compile(r"(?<![\w/-])results/[\w./<>*-]*")
#: a notebook that prose names: "notebook 04", "notebooks 05 and 06" (each number), or its file ``04_ada_...``
NAMED_NOTEBOOKS = re.compile(r"\bnotebooks?\s+((?:\d\d(?:\s*(?:,|and|or|to|–|-)\s*)?)+)|\b(\d\d)_[a-z]\w*", re.I)
#: a relative Markdown link of a reading page: ``[text](quick/table1-noisy/table.md)``
RELATIVE_LINK = re.compile(r"\]\(\s*<?([^)\s>:#]+)")
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
    paragraph: str = ""  # the blank-line separated paragraph that holds it (where a notebook's citations count)


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


def _paragraph_at(prose: str, position: int) -> str:
    """The blank-line separated paragraph of ``prose`` around ``position``."""
    starts = [match.end() for match in re.finditer(r"\n[ \t]*\n", prose[:position])]
    end = re.search(r"\n[ \t]*\n", prose[position:])
    return prose[starts[-1] if starts else 0 : position + end.start() if end else len(prose)]


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
            if PAPER.search(before) or (kind == "decimal" and VERSION.search(before)):
                continue
            context = prose[max(0, match.start() - 50) : match.end() + 20].replace("\n", " ")
            paragraph = _paragraph_at(prose, match.start())
            found.append(Quote(where, kind, match.group(0).strip(), context, paragraph))
    return found


def cited_results(text: str, sources: dict[str, str], page: str = "") -> list[str]:
    """The result files (keys of ``sources``) that ``text`` cites: a path ``results/...``, a file or a folder.

    A reading page under results/ (``page``) cites the files of its relative
    links too. A path with a placeholder (``results/<preset>/...``) cites the
    folder before it; a path that names nothing cites nothing.
    """
    paths = [match.group(0) for match in CITED_PATH.finditer(text)]
    if page.startswith("results/"):
        folder = page.rpartition("/")[0]
        paths += [posixpath.normpath(posixpath.join(folder, match.group(1))) for match in RELATIVE_LINK.finditer(text)]
    cited: list[str] = []
    for path in paths:
        path = re.split(r"[<*]", path)[0].rstrip(".,;:)`'\"").rstrip("/")
        if not path.startswith("results"):
            continue
        cited += [name for name in sources if name == path or name.startswith(f"{path}/")]
    return list(dict.fromkeys(cited))


def named_notebooks(text: str, sources: dict[str, str]) -> list[str]:
    """The stored outputs (keys of ``sources``) of the notebooks that ``text`` names ("notebook 04", ``04_ada_...``)."""
    numbers: set[str] = set()
    for match in NAMED_NOTEBOOKS.finditer(text):
        numbers |= set(re.findall(r"\d\d", match.group(1) or match.group(2)))
    return [name for name in sources if name.startswith("notebooks/") and name[10:12] in numbers]


def _decimals_of(names: list[str], sources: dict[str, str], cache: dict[str, set[str]]) -> set[str]:
    """The decimals (:func:`_decimals`) of the sources ``names``, each computed once."""
    for name in names:
        if name not in cache:
            cache[name] = _decimals(sources[name])
    return set().union(*(cache[name] for name in names))


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
    """One line per quoted number that is not where it must come from; empty if every number is found.

    A notebook's number must be in its own outputs or code, or in what its
    paragraph cites; a page's number in what the page cites (the module's
    docstring says how); a run time in any recorded one.
    """
    documents = prose_documents(root)
    sources = source_texts(root)
    run_times = [
        seconds
        for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        if (seconds := stored_run_seconds(path)) is not None
    ]
    every_decimal = set().union(*(_decimals(body) for body in sources.values()))
    every_time = [t for body in sources.values() for t in _times(body)] + run_times
    cache: dict[str, set[str]] = {}
    missing = []
    for where, text in documents.items():
        notebook = where.endswith(".ipynb")
        if notebook:  # its own outputs, and the values its own code defines (a toy example's)
            sources[f"{where} (code)"] = notebook_code(root / where)
            own = [f"{where} (outputs)", f"{where} (code)"]
        else:  # a page: what it cites, anywhere on it
            own = cited_results(text, sources, where) + named_notebooks(text, sources)
        page_decimals = _decimals_of(own, sources, cache)
        for quote in quotes(where, text):
            if quote.kind == "time":  # a recorded time, or the number in a table whose header gives the unit
                number = TIME.search(quote.text).group(1)
                ok = _time_matches(quote.text, every_time) or ("." in number and number in every_decimal)
                if not ok:
                    missing.append(f"{where}: time {quote.text!r} is in no timing or table: …{quote.context}…")
                continue
            number = re.search(r"\d+\.\d+", quote.text).group(0)
            cited = own
            if notebook:  # and what the quote's own paragraph cites
                cited = own + cited_results(quote.paragraph, sources) + named_notebooks(quote.paragraph, sources)
            if number in (page_decimals if cited is own else _decimals_of(cited, sources, cache)):
                continue
            elsewhere = "; a source it does not cite holds it" if number in every_decimal else ""
            what = "its own outputs or the results its paragraph cites" if notebook else "the results the page cites"
            missing.append(f"{where}: {quote.kind} {quote.text!r} is not in {what}{elsewhere}: …{quote.context}…")
    return missing


def main(argv: list[str] | None = None) -> int:
    missing = check()
    for line in missing:
        print(line)
    print(f"{len(missing)} quoted number(s) not found" if missing else "every quoted number was found in a source")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
