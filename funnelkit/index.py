"""The run's ``index.html``: every branch report and every failure, in one page."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import __version__
from .paths import TEMPLATES_DIR
from .privacy import mask_text


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]))


def write_index(run_dir: Path, results) -> Path:
    """Write ``run_dir/index.html`` (atomically) and return its path."""
    notebooks = sorted({r.notebook for r in results})
    rows = []
    for slug in sorted({r.slug for r in results}):
        mine = {r.notebook: r for r in results if r.slug == slug}
        branch = next(iter(mine.values())).branch
        cells = [None if n not in mine else {
            "ok": mine[n].ok, "notebook": n, "href": f"{quote(slug)}/{quote(n)}.html"} for n in notebooks]
        rows.append({"branch": branch, "cells": cells})
    failures = [{"branch": r.branch, "notebook": r.notebook, "error": mask_text(r.error)}
                for r in results if not r.ok]
    html = _environment().get_template("index.html.j2").render(
        run_id=run_dir.name, generated=datetime.now().strftime("%Y-%m-%d %H:%M"), version=__version__,
        notebooks=notebooks, rows=rows, failures=failures)
    target = run_dir / "index.html"
    temporary = run_dir / ".index.html.tmp"
    temporary.write_text(html, encoding="utf-8")
    os.replace(temporary, target)
    return target
