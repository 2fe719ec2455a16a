"""Screenshot and check pages of the built documentation site with headless Chromium.

Builds nothing: point it at a site built by ``make docs`` (``site/``). It
serves the folder on 127.0.0.1 (a free port, in a thread) and saves PNGs of
the home, method and results pages and of the first tutorial notebook page
into ``outputs/screenshots/``::

    make screenshots                                   # make docs, then this script
    .venv/bin/python scripts/screenshot_docs.py --page method/ --page api/scoring/
    .venv/bin/python scripts/screenshot_docs.py --check   # also check each page; exit 1 on a problem

``--check`` loads each page once more with a small probe script added, after
MathJax has typeset it, and reports what a reader would see wrong: TeX left
raw (``\\(``, ``\\[``, ``$$``), formulas MathJax could not typeset, a table or
a printed output that sticks out of its box (clipped, or only visible by
scrolling), printed output styled to break words (numbers) anywhere, and a
notebook page that does not use the window's width. The
docs test (``tests/test_docs.py``) runs the same check. Everything is local:
MathJax ships with the site, so nothing is fetched from the network.

Chromium comes from the system (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PROBE_ID = "site-probe"
#: the least share of the window's width that a notebook page's content gets
NOTEBOOK_MIN_WIDTH = 0.7

# Runs in the page after the load event and MathJax's first typeset; appends its findings to <body> as JSON.
PROBE_SCRIPT = """
window.addEventListener("load", async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (error) {}
  }
  const article = document.querySelector("article") || document.body;
  const view = document.documentElement.clientWidth;
  const visibleBox = (element) => {
    let left = 0, right = view;
    for (let a = element.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") {
        const box = a.getBoundingClientRect();
        left = Math.max(left, box.left);
        right = Math.min(right, box.right);
      }
    }
    return [left, right];
  };
  const describe = (element) => (element.innerText || "").trim().split("\\n")[0].slice(0, 60);
  const overflowing = [];
  for (const element of article.querySelectorAll("table, .jp-OutputArea-output pre")) {
    const box = element.getBoundingClientRect();
    if (!box.width) continue;
    const [left, right] = visibleBox(element);
    if (box.left < left - 1 || box.right > right + 1) {  // cut by a container
      overflowing.push({
        element: element.tagName.toLowerCase(), text: describe(element),
        width: Math.round(box.width), visible: Math.round(Math.max(0, right - Math.max(left, box.left))),
      });
    } else if (element.scrollWidth > element.clientWidth + 1) {  // its own content scrolls
      overflowing.push({
        element: element.tagName.toLowerCase(), text: describe(element),
        width: element.scrollWidth, visible: element.clientWidth,
      });
    }
  }
  const breaking = [...article.querySelectorAll(".jp-OutputArea-output pre")].filter((element) => {
    const style = getComputedStyle(element);
    return style.wordBreak === "break-all" || ["anywhere", "break-word"].includes(style.overflowWrap);
  }).map(describe);
  const rawTex = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest("pre, code, script, style, mjx-container")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const match = node.data.match(/\\\\\\(|\\\\\\[|\\$\\$|\\$\\\\[A-Za-z]/);
    if (match) rawTex.push(node.data.trim().slice(0, 80));
  }
  const report = document.createElement("script");
  report.type = "application/json";
  report.id = "PROBE_ID";
  report.textContent = JSON.stringify({
    viewport: view,
    content_width: Math.round(article.getBoundingClientRect().width),
    notebook: Boolean(article.querySelector(".jupyter-wrapper")),
    formulas: document.querySelectorAll("mjx-container").length,
    solutions: document.querySelectorAll("details.solution:not([open])").length,
    formula_errors: document.querySelectorAll("mjx-merror").length,
    raw_tex: rawTex,
    overflowing: overflowing,
    breaks_words: breaking,
  });
  document.body.appendChild(report);
});
""".replace("PROBE_ID", PROBE_ID)


#: the page that :func:`inspect_pages` loads: it opens every page in turn in an iframe and collects the probe reports
RUNNER_PATH = "/__probe_runner__.html"
RUNNER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>probe runner</title></head><body><script>
const pages = PAGES;
(async () => {
  const results = {};
  for (const page of pages) {
    const frame = document.createElement("iframe");
    frame.style.width = "WIDTHpx";
    frame.style.height = "HEIGHTpx";
    document.body.appendChild(frame);
    results[page] = await new Promise((resolve) => {
      const started = Date.now();
      const poll = () => {
        try {
          const node = frame.contentDocument && frame.contentDocument.getElementById("PROBE_ID");
          if (node) return resolve(JSON.parse(node.textContent));
        } catch (error) {}
        if (Date.now() - started > PAGE_MS) return resolve(null);
        setTimeout(poll, 50);
      };
      frame.src = page;
      poll();
    });
    frame.remove();
  }
  const out = document.createElement("script");
  out.type = "application/json";
  out.id = "probe-results";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
})();
</script></body></html>
"""


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the site quietly; with ``probe`` set, HTML pages carry :data:`PROBE_SCRIPT`.

    With ``runner`` set (the page HTML of :data:`RUNNER_PAGE`), :data:`RUNNER_PATH` serves it.
    """

    probe = False
    runner = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self) -> io.BytesIO | Any:
        """Like the base class, but HTML pages get the probe script when :attr:`probe` is set."""
        if self.runner and self.path.split("?", 1)[0] == RUNNER_PATH:
            body = self.runner.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        serves_page = self.path.split("?", 1)[0].endswith(("/", ".html"))  # else the base class redirects
        if not self.probe or path.suffix != ".html" or not path.is_file() or not serves_page:
            return super().send_head()
        body = path.read_bytes().replace(b"</body>", f"<script>{PROBE_SCRIPT}</script></body>".encode(), 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve(site: Path, probe: bool = False, runner: str = "") -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port (pages with the probe if ``probe``); yield the base URL."""
    handler = type("Handler", (SiteHandler,), {"probe": probe, "runner": runner})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium_path(explicit: str | None = None) -> str | None:
    """Path of the Chromium executable (``explicit``, else the usual names on PATH), or None."""
    candidates = [explicit] if explicit else ["/usr/bin/chromium", *CHROMIUM_NAMES]
    for candidate in candidates:
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
    return None


def default_pages(site: Path) -> dict[str, str]:
    """Name -> page path: home, method, results (when built) and the first notebook page (else the data page)."""
    pages = {"home": "", "method": "method/"}
    if (site / "results" / "index.html").is_file():
        pages["results"] = "results/"
    notebooks = sorted(p.parent for p in (site / "notebooks").glob("*/index.html"))
    if notebooks:
        pages[f"notebook-{notebooks[0].name}"] = f"notebooks/{notebooks[0].name}/"
    else:
        pages["data"] = "data/"
    return pages


def run_chromium(chromium: str, url: str, width: int, height: int, wait_ms: int, *options: str) -> str:
    """Run headless Chromium on ``url`` (fresh profile, no network services); its standard output."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={wait_ms}",
            *options,
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed on {url} (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout


def screenshot(chromium: str, url: str, out: Path, width: int, height: int, wait_ms: int) -> None:
    """One PNG of ``url``."""
    run_chromium(chromium, url, width, height, wait_ms, f"--screenshot={out}")
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot of {url}")


def inspect_page(chromium: str, url: str, width: int = 1280, height: int = 1600, wait_ms: int = 8000) -> dict:
    """What the probe found on ``url``, a page served by :func:`serve` with ``probe=True``."""
    dom = run_chromium(chromium, url, width, height, wait_ms, "--dump-dom")
    match = re.search(rf'<script type="application/json" id="{PROBE_ID}">(.*?)</script>', dom, re.DOTALL)
    if match is None:
        raise RuntimeError(f"the probe reported nothing on {url}: is it served with probe=True, did the page load?")
    return json.loads(html.unescape(match.group(1)))


def site_pages(site: Path) -> list[str]:
    """Every page of a built site, as paths relative to its root (``""`` for the home page, ``"method/"``, ...)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        pages.append("" if relative == "." else f"{relative}/")
    return pages


def inspect_pages(
    chromium: str, site: Path, pages: list[str], width: int = 1280, height: int = 1600, page_ms: int = 15000
) -> dict[str, dict | None]:
    """What the probe found on each of ``pages`` of ``site``, with one Chromium run (None: the page never reported).

    A runner page loads the pages one after another in an iframe of the given size (the probe measures the
    iframe's window, as it would a browser window of that size) and collects their reports, so checking every page of
    the site costs one browser start rather than one per page.
    """
    runner = (
        RUNNER_PAGE.replace("PAGES", json.dumps(["/" + page for page in pages]))
        .replace("WIDTH", str(width))
        .replace("HEIGHT", str(height))
        .replace("PROBE_ID", PROBE_ID)
        .replace("PAGE_MS", str(page_ms))
    )
    with serve(site, probe=True, runner=runner) as base:
        budget = page_ms * len(pages) + 5000
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            command = [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width + 40},{height}",
                f"--virtual-time-budget={budget}",
                "--dump-dom",
                base + RUNNER_PATH.lstrip("/"),
            ]
            result = subprocess.run(command, capture_output=True, text=True, timeout=60 + 2 * len(pages) * 10)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed on the probe runner (exit {result.returncode}):\n{result.stderr[-2000:]}")
    match = re.search(r'<script type="application/json" id="probe-results">(.*?)</script>', result.stdout, re.DOTALL)
    if match is None:
        raise RuntimeError("the probe runner reported nothing: did Chromium finish the pages within its time budget?")
    reports = json.loads(html.unescape(match.group(1)))
    return {page: reports.get("/" + page) for page in pages}


def problems(report: dict) -> list[str]:
    """What is wrong on a page, in words, from its :func:`inspect_page` report; empty if nothing."""
    found = [f"raw TeX left in the text: {text!r}" for text in report["raw_tex"]]
    if report["formula_errors"]:
        found.append(f"MathJax could not typeset {report['formula_errors']} formula(s)")
    for item in report["overflowing"]:
        found.append(
            f"{item['element']} {item['text']!r} is {item['width']} px wide but only {item['visible']} px are "
            "visible without scrolling"
        )
    found += [f"printed output {text!r} may break a number mid-value (word-break)" for text in report["breaks_words"]]
    if report["notebook"] and report["content_width"] < NOTEBOOK_MIN_WIDTH * report["viewport"]:
        found.append(
            f"the notebook uses {report['content_width']} px of a {report['viewport']} px window "
            f"(less than {NOTEBOOK_MIN_WIDTH:.0%})"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    """Screenshot (and with ``--check``, check) the pages; 1 if a check found a problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site", help="built site folder (default site/)")
    parser.add_argument(
        "--out", type=Path, default=REPO / "outputs" / "screenshots", help="output folder (outputs/screenshots/)"
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="PATH",
        help="page to capture, relative to the site root (e.g. method/); repeatable; "
        "default: home, method, results and a notebook",
    )
    parser.add_argument("--check", action="store_true", help="also check each page (see above); exit 1 on a problem")
    parser.add_argument("--all", action="store_true", help="with --check: check every page (no screenshots)")
    parser.add_argument("--chromium", help="Chromium executable (default: chromium on PATH)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument("--wait-ms", type=int, default=8000, help="virtual time given to scripts (MathJax)")
    args = parser.parse_args(argv)

    if not (args.site / "index.html").is_file():
        sys.exit(f"error: {args.site} holds no built site (no index.html); run `make docs` first")
    chromium = chromium_path(args.chromium)
    if chromium is None:
        hint = f"{args.chromium!r} is not an executable" if args.chromium else "no chromium executable on PATH"
        sys.exit(f"error: {hint}. Install Chromium (Debian/Ubuntu: `apt-get install chromium`) or pass --chromium.")
    if args.all:
        failed = False
        for page, report in inspect_pages(chromium, args.site, site_pages(args.site), args.width, args.height).items():
            found = ["the probe did not report (page failed to load?)"] if report is None else problems(report)
            failed |= bool(found)
            print(f"{page or '(home)'}: {'ok' if not found else ''}")
            for problem in found:
                print(f"  problem: {problem}")
        return 1 if failed else 0
    if args.page:
        pages = {re.sub(r"[^A-Za-z0-9_]+", "-", p).strip("-") or "home": p.lstrip("/") for p in args.page}
    else:
        pages = default_pages(args.site)
    args.out.mkdir(parents=True, exist_ok=True)

    failed = False
    with serve(args.site) as base, serve(args.site, probe=True) as probed:
        for name, page in pages.items():
            out = args.out / f"{name}.png"
            screenshot(chromium, base + page, out, args.width, args.height, args.wait_ms)
            print(f"{base + page} -> {out}")
            if args.check:
                found = problems(inspect_page(chromium, probed + page, args.width, args.height, args.wait_ms))
                failed |= bool(found)
                for problem in found:
                    print(f"  problem: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
