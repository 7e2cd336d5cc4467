"""One message catalogue for every report text, in Chinese (default) and English.

Messages live beside the code that uses them: each analysis's in
``funnelkit/<analysis>/messages.yaml``, the shared ones in ``funnelkit/messages/<area>.yaml``
(``common``, ``labels``, ``index``), as ``key: {zh: ..., en: ...}``; a key is addressed as
``"<area>.<key>"`` (``"common.summary"``, ``"funnel.title"``). Placeholders use
``str.format`` names: ``t("common.rows_shown", "zh", shown=60, total="1,234")``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGS = ("zh", "en")
_PACKAGE = Path(__file__).resolve().parent
# libyaml's safe loader where PyYAML was built with it: the same objects as ``safe_load``,
# ten times faster (every kernel reads the catalogue once)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def message_files() -> dict[str, Path]:
    """Area → its messages file: ``funnel`` → ``funnelkit/funnel/messages.yaml`` …"""
    files = {path.stem: path for path in sorted((_PACKAGE / "messages").glob("*.yaml"))}
    files.update({path.parent.name: path for path in sorted(_PACKAGE.glob("*/messages.yaml"))})
    return files


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every message, keyed ``area.key``."""
    messages: dict[str, dict[str, str]] = {}
    for area, path in message_files().items():
        for key, texts in (yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}).items():
            messages[f"{area}.{key}"] = texts
    return messages


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def t(key: str, lang: str = "zh", /, **values) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in.

    Examples
    --------
    >>> t("common.summary", "en")
    'Summary'
    """
    texts = catalogue().get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in funnelkit/messages")
    text = texts.get(check_lang(lang)) or texts["zh"]
    return text.format(**values) if values else text


def label(code: str, lang: str = "zh") -> str:
    """Display label of a data code (``won`` → 成交 / Won) from ``messages/labels.yaml``;
    unknown codes come back unchanged."""
    texts = catalogue().get(f"labels.{code}")
    return code if texts is None else (texts.get(lang) or texts["zh"])
