"""Screenshot pages of the built documentation site with headless Chromium.

Builds nothing: point it at a site built by ``make docs`` (``site/``). It
serves the folder on 127.0.0.1 (a free port, in a thread) and saves PNGs of
the home page and of one tutorial notebook page (the data page, with the
noise figure, while there is no notebook) into ``outputs/screenshots/``::

    make screenshots                                   # make docs, then this script
    .venv/bin/python scripts/screenshot_docs.py --page method/ --page api/scoring/

Chromium comes from the system (Debian: ``apt-get install chromium``).

Formulas are typeset by MathJax from a CDN, so offline they show as raw TeX.
``--mathjax DIR`` serves a local MathJax 3 ``es5`` folder instead (for
example ``node_modules/mathjax/es5`` after ``npm install mathjax@3``; or set
``$MATHJAX_DIR``): the server rewrites the CDN address in every page it serves.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MATHJAX_PREFIX = "/__mathjax__/"
_MATHJAX_URL = re.compile(rb"https?://[^\"'\s]+/(tex-[a-z-]+\.js)")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the site quietly; optionally serve a local MathJax instead of the CDN's."""

    mathjax_dir: Path | None = None

    def log_message(self, format: str, *args: object) -> None:
        pass

    def translate_path(self, path: str) -> str:
        if self.mathjax_dir is not None and path.startswith(MATHJAX_PREFIX):
            relative = path[len(MATHJAX_PREFIX) :].split("?", 1)[0].split("#", 1)[0]
            target = (self.mathjax_dir / relative).resolve()
            if self.mathjax_dir.resolve() in target.parents:
                return str(target)
        return super().translate_path(path)

    def send_head(self):
        """Like the base class, but HTML pages get the local MathJax address."""
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if self.mathjax_dir is None or path.suffix != ".html" or not path.is_file():
            return super().send_head()
        if not self.path.split("?", 1)[0].endswith(("/", ".html")):
            return super().send_head()  # let the base class redirect "dir" to "dir/"
        body = _MATHJAX_URL.sub(lambda m: MATHJAX_PREFIX.encode() + m.group(1), path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve(site: Path, mathjax_dir: Path | None) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port; yield the base URL."""
    handler = type("Handler", (SiteHandler,), {"mathjax_dir": mathjax_dir})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def find_chromium(explicit: str | None) -> str:
    """Path of the Chromium executable, or exit with an instruction to install it."""
    candidates = [explicit] if explicit else ["/usr/bin/chromium", *CHROMIUM_NAMES]
    for candidate in candidates:
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
    hint = f"{explicit!r} is not an executable" if explicit else "no chromium executable on PATH"
    sys.exit(f"error: {hint}. Install Chromium (Debian/Ubuntu: `apt-get install chromium`) or pass --chromium PATH.")


def default_pages(site: Path) -> dict[str, str]:
    """Name -> page path: the home page and the first notebook page (else the data page)."""
    pages = {"home": ""}
    notebooks = sorted(p.parent for p in (site / "notebooks").glob("*/index.html"))
    if notebooks:
        pages[f"notebook-{notebooks[0].name}"] = f"notebooks/{notebooks[0].name}/"
    else:
        pages["data"] = "data/"
    return pages


def screenshot(chromium: str, url: str, out: Path, width: int, height: int, wait_ms: int) -> None:
    """One PNG of ``url`` by headless Chromium (fresh profile, no network services)."""
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
            f"--screenshot={out}",
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not out.is_file():
        sys.exit(f"error: chromium failed on {url} (exit {result.returncode}):\n{result.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
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
        help="page to capture, relative to the site root (e.g. method/); repeatable; default: home + a notebook",
    )
    parser.add_argument("--chromium", help="Chromium executable (default: chromium on PATH)")
    parser.add_argument(
        "--mathjax",
        type=Path,
        default=os.environ.get("MATHJAX_DIR") or None,
        help="local MathJax 3 es5/ folder to use instead of the CDN (default: $MATHJAX_DIR if set)",
    )
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument("--wait-ms", type=int, default=8000, help="virtual time given to scripts (MathJax)")
    args = parser.parse_args(argv)

    if not (args.site / "index.html").is_file():
        sys.exit(f"error: {args.site} holds no built site (no index.html); run `make docs` first")
    if args.mathjax is not None and not (args.mathjax / "tex-mml-chtml.js").is_file():
        sys.exit(f"error: --mathjax {args.mathjax} must be a MathJax 3 es5/ folder (with tex-mml-chtml.js)")
    chromium = find_chromium(args.chromium)
    if args.page:
        pages = {re.sub(r"[^A-Za-z0-9_]+", "-", p).strip("-") or "home": p.lstrip("/") for p in args.page}
    else:
        pages = default_pages(args.site)
    args.out.mkdir(parents=True, exist_ok=True)

    with serve(args.site, args.mathjax) as base:
        for name, page in pages.items():
            out = args.out / f"{name}.png"
            screenshot(chromium, base + page, out, args.width, args.height, args.wait_ms)
            print(f"{base + page} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
