"""The one place that owns every path funnelkit reads or writes.

Paths are relative to the project root, which is the current directory unless
``FUNNELKIT_HOME`` names another one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "batch" / "templates"

SAFE_NAME = re.compile(r"^[\w][\w-]{0,63}$")  # letters (any script), digits, _ and -
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$", re.I)  # device names on Windows


def project_root() -> Path:
    """The project folder: ``$FUNNELKIT_HOME``, else the nearest folder at or above the
    current one holding ``params/defaults.yaml`` (JupyterLab starts kernels in
    ``notebooks/``), else the current directory."""
    if os.environ.get("FUNNELKIT_HOME"):
        return Path(os.environ["FUNNELKIT_HOME"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "defaults.yaml").is_file():
            return folder
    return here


def shown(path: Path | str, root: Path | None = None) -> str:
    """``path`` as messages show it: relative to the project (``root``) when inside it."""
    try:
        return Path(path).resolve().relative_to((root or project_root()).resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def params_dir() -> Path:
    return project_root() / "params"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def outputs_dir() -> Path:
    return project_root() / "outputs"


def demo_db(root: Path | None = None) -> Path:
    """Where ``funnelkit demo`` writes the demo database and where branches without a source
    read (in the project ``root``, default :func:`project_root`)."""
    return Path(os.environ.get("FUNNELKIT_DEMO_DB", (root or project_root()) / "data" / "demo.duckdb")).resolve()


def is_safe_name(name: str) -> bool:
    """True when ``name`` can be a single file or folder name on every platform, and carries
    no phone or ID number (a folder name is written everywhere a run goes)."""
    from .privacy import mask_text

    return bool(SAFE_NAME.match(name)) and not _RESERVED.match(name) and mask_text(name) == name


def inside(base: Path, *parts: str) -> Path:
    """``base / parts``, refusing anything that would land outside ``base``."""
    base = base.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"path {target} escapes {base}")
    return target
