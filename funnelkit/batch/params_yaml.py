"""Params YAML read as data, never as code: text, numbers, true/false, null, lists and
mappings with text keys, nothing else.

``yaml.safe_load`` is not enough for files papermill turns into Python source: it builds
``bytes`` (``!!binary``), sets, ordered maps and timestamps, which papermill writes into the
injected cell as code, and it expands anchors and aliases (a few hundred bytes of aliases
become gigabytes). So the file is read as a stream of parser events and every anchor, alias
and explicit tag is refused before anything is built; plain scalars are resolved by a small
YAML 1.1 table that turns the surprising readings (``NO`` → False, ``0123`` → 83, ``1:20`` → 80)
into problems, and reads dates as text as YAML 1.2 does. Every key's line is kept, so a
problem found later points at the line the key is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from funnelkit.exceptions import ParamsProblem, shorten

MAX_BYTES = 16 * 2**20  # far above any real params file, low enough to check in seconds
MAX_DEPTH = 32  # the defaults nest five levels deep
MAX_PROBLEMS = 1000  # then reading stops: the file is not a params file gone slightly wrong
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_TAG = "tag:yaml.org,2002:"
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~30x faster
_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NO_KEY, _BAD_KEY = object(), object()
_KINDS = {_TAG + "null": "null", _TAG + "bool": "a boolean", _TAG + "int": "a number", _TAG + "float": "a number"}
_HINT_DATA = "params hold text, numbers, true/false, null, lists and mappings only"

KeyPath = tuple  # ("funnel", "controllability"), ("stages", 0)


class _StopReading(Exception):
    """Raised once reading on is pointless (see MAX_DEPTH, MAX_PROBLEMS)."""


@dataclass
class YamlData:
    """One params file read as data: its ``values``, the 1-based line of every key path
    (``lines[("funnel", "min_group")]``) and every problem found while reading it."""

    file: str
    values: object = None
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[ParamsProblem] = field(default_factory=list)

    def problem(self, line: int | None, value, rule: str, hint: str = "", key: str | None = None) -> None:
        self.problems.append(ParamsProblem(self.file, line, key, value, rule, hint))
        if len(self.problems) == MAX_PROBLEMS:
            self.problems.append(
                ParamsProblem(
                    self.file, line, None, None, f"{MAX_PROBLEMS} problems: reading stopped here", "fix these first"
                )
            )
            raise _StopReading


def read_data(path: Path, file: str) -> YamlData:
    """Read ``path`` as data; ``file`` is how messages name it. Never raises: every
    problem (unreadable, not UTF-8, too large, bad YAML, code-like content) is in ``problems``."""
    data = YamlData(file)
    try:
        if not path.is_file():  # a folder, or a pipe or device that would block or never end
            data.problem(None, None, "not a regular file", "a params file is a YAML text file")
            return data
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            data.problem(
                None, None, f"the file is larger than {MAX_BYTES // 2**20} MB", "params hold settings, not data"
            )
            return data
    except OSError as error:
        data.problem(None, None, f"cannot read the file: {error.strerror or error}")
        return data
    try:
        text = raw.decode("utf-8-sig")  # Notepad on older Windows writes a BOM
    except UnicodeDecodeError as error:
        data.problem(
            raw[: error.start].count(b"\n") + 1,
            None,
            "the file is not UTF-8 text",
            "save it as UTF-8 (in Notepad: Save as → Encoding UTF-8)",
        )
        return data
    return parse_data(text, file)


def parse_data(text: str, file: str) -> YamlData:
    """Read YAML ``text`` as data (see the module docstring); never raises."""
    data = YamlData(file)
    parser = None
    try:
        parser = _PARSER(text)  # the pure-Python reader checks the characters right here
        _Builder(data).run(parser)
    except _StopReading:
        pass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        position = getattr(error, "position", None)  # a character YAML refuses (a control character)
        line = mark.line + 1 if mark else text.count("\n", 0, position) + 1 if position is not None else None
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        data.problem(
            line, None, f"not valid YAML: {shorten(reason)}", "check indentation (spaces, not tabs) and quoting"
        )
    finally:
        if parser is not None:
            parser.dispose()
    return data


@dataclass
class _Open:
    """A mapping or list still being read."""

    path: KeyPath
    container: dict | list
    line: int
    key: object = _NO_KEY
    dropped: bool = False  # part of a key that is a list or mapping: reported, then thrown away


class _Builder:
    """Builds values from parser events, refusing anything that is not plain data."""

    def __init__(self, data: YamlData):
        self.data = data
        self.stack: list[_Open] = []
        self.documents = 0
        self.reuse_lines: set[int] = set()

    def run(self, parser) -> None:
        while True:
            event = parser.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents == 2:
                    self.data.problem(
                        line, None, "more than one YAML document (a second '---')", "keep one document per params file"
                    )
            elif isinstance(event, yaml.AliasEvent):
                self.refuse_reuse(line, f"*{shorten(event.anchor)}")
                self.add(None, line)
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                tagged = self.refuse_anchor_and_tag(event, line)
                if isinstance(event, yaml.ScalarEvent):
                    self.add(None if tagged else self.scalar(event, line), line, event)
                else:
                    self.open(event, line)
            elif isinstance(event, yaml.CollectionEndEvent):
                done = self.stack.pop()
                self.add(done.container, done.line, collection=True)

    def refuse_anchor_and_tag(self, event, line: int) -> bool:
        if event.anchor is not None:
            self.refuse_reuse(line, f"&{shorten(event.anchor)}")
        if event.tag is None:
            return False
        tag = "!!" + event.tag[len(_TAG) :] if event.tag.startswith(_TAG) else event.tag
        self.data.problem(
            line,
            shorten(tag),
            "explicit tags (!!binary, !!set, !!python/…) are not allowed",
            f"{_HINT_DATA}; quote the value if you mean text",
            key=self.here(),
        )
        return True

    def refuse_reuse(self, line: int, name: str) -> None:
        # One problem a line: a bomb repeats aliases by the dozen on each of its lines.
        if line not in self.reuse_lines:
            self.reuse_lines.add(line)
            self.data.problem(
                line,
                name,
                "anchors (&name) and aliases (*name) are not allowed in params",
                "write each value out in full",
                key=self.here(),
            )

    def here(self) -> str | None:
        """The key path of the value being read, as messages show it (``funnel.min_group``)."""
        top = self.stack[-1] if self.stack else None
        if top is None or top.dropped:
            return None
        if isinstance(top.container, list):
            return ".".join(map(str, top.path + (len(top.container),)))
        return ".".join(map(str, top.path + (() if top.key in (_NO_KEY, _BAD_KEY) else (top.key,)))) or None

    def open(self, event, line: int) -> None:
        top = self.stack[-1] if self.stack else None
        as_key = top is not None and isinstance(top.container, dict) and top.key is _NO_KEY
        if as_key and not top.dropped:
            self.data.problem(
                line,
                None,
                "a key must be plain text, not a list or mapping",
                "write keys as plain words, e.g. min_group: 30",
                key=self.here(),
            )
        if len(self.stack) >= MAX_DEPTH:
            self.data.problem(line, None, f"nested more than {MAX_DEPTH} levels deep; reading stopped here", _HINT_DATA)
            raise _StopReading
        if top is None:
            path = ()
        else:
            path = top.path + ((top.key,) if isinstance(top.container, dict) else (len(top.container),))
        container = {} if isinstance(event, yaml.MappingStartEvent) else []
        dropped = as_key or bool(top and (top.dropped or top.key is _BAD_KEY))
        self.stack.append(_Open(path, container, line, dropped=dropped))

    def add(self, value, line: int, event=None, *, collection: bool = False) -> None:
        if not self.stack:
            self.data.values = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            if not top.dropped:
                self.data.lines.setdefault(top.path + (len(top.container),), line)
            top.container.append(value)
        elif top.key is _NO_KEY:
            top.key = _BAD_KEY if collection else self.key(value, line, event, top)
        else:
            if top.key is not _BAD_KEY:
                top.container[top.key] = value
            top.key = _NO_KEY

    def key(self, value, line: int, event, top: _Open):
        if event is None or event.tag is not None:
            return _BAD_KEY  # an alias or a tagged key: reported already
        if not isinstance(value, str):
            text, kind = shorten(event.value), _KINDS[_resolve(event.value)]
            self.data.problem(
                line,
                event.value,
                f"a key must be text, and YAML reads {text!r} as {kind}",
                f'quote it ("{text}") or use a name',
                key=self.here(),
            )
            return _BAD_KEY
        if event.implicit[0] and _resolve(value) == _TAG + "merge":
            self.data.problem(
                line, value, "merge keys (<<) are not allowed in params", "write the keys out", key=self.here()
            )
            return _BAD_KEY
        if value in top.container:
            self.data.problem(
                line,
                None,
                "key appears twice in one mapping",
                "keep one of them",
                key=None if top.dropped else ".".join(map(str, top.path + (value,))),
            )
            return _BAD_KEY
        if not top.dropped:
            self.data.lines[top.path + (value,)] = line
        return value

    def scalar(self, event, line: int):
        """The value of an untagged scalar: quoted and block scalars are text; plain ones
        are resolved by YAML 1.1 rules, with its surprises reported."""
        text = event.value
        if not event.implicit[0]:
            return text
        tag = _resolve(text)
        top = self.stack[-1] if self.stack else None
        report = not (top and isinstance(top.container, dict) and top.key is _NO_KEY)  # a key: see key()
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if report and text.lower() not in ("true", "false"):
                self.data.problem(
                    line,
                    text,
                    f"YAML 1.1 reads {text!r} as a boolean",
                    f'write true/false, or quote it ("{text}") if you mean text',
                    key=self.here(),
                )
            return _CONSTRUCTOR.bool_values[text.lower()]
        if tag in (_TAG + "int", _TAG + "float"):
            if report and (_LEADING_ZERO.match(text) or _SEXAGESIMAL.match(text)):
                self.data.problem(
                    line,
                    text,
                    f"YAML 1.1 reads {shorten(text)!r} as a number in another base",
                    "quote it if it is a code or a time, or drop the leading zero",
                    key=self.here(),
                )
            try:
                node = yaml.ScalarNode(tag, text)
                return (_CONSTRUCTOR.construct_yaml_int if tag.endswith("int") else _CONSTRUCTOR.construct_yaml_float)(
                    node
                )
            except ValueError:  # too many digits for Python (sys.get_int_max_str_digits), or "0x_"
                if report:
                    self.data.problem(
                        line,
                        text,
                        "YAML reads this as a number, but it is too long or malformed",
                        "quote it if it is a code",
                        key=self.here(),
                    )
                return None
        return text  # str, and timestamps, "=" and "<<" read as the text they are


def _resolve(text: str) -> str:
    for tag, pattern in _RESOLVERS.get(text[:1] if text else "", []) + _RESOLVERS.get(None, []):
        if pattern.match(text):
            return tag
    return _TAG + "str"
