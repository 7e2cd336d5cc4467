"""The message catalogue: every entry well formed, in both languages."""

from __future__ import annotations

import re
import string

import pytest
import yaml

from funnelkit.i18n import catalogue, label, message_files, t


@pytest.mark.parametrize("path", message_files().values(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_entry_is_text_in_both_languages(path):
    text = path.read_text(encoding="utf-8")
    keys = [line.split(":", 1)[0] for line in text.splitlines() if line and not line[0].isspace() and line[0] != "#"]
    assert len(keys) == len(set(keys)), f"{path.name}: a key is defined twice (YAML keeps the last silently)"
    entries = yaml.safe_load(text)
    for key, texts in entries.items():
        # YAML 1.1 reads keys like `yes` as booleans, and `{en: a, b}` as two keys.
        assert isinstance(key, str), f"{path.name}: key {key!r} is not text (quote it)"
        assert isinstance(texts, dict) and set(texts) == {"zh", "en"}, f"{path.name}: {key} needs exactly zh and en"
        assert all(isinstance(v, str) and v.strip() for v in texts.values()), f"{path.name}: {key} has an empty text"
        fields = [{f for _, f, _, _ in string.Formatter().parse(v) if f} for v in texts.values()]
        assert fields[0] == fields[1], f"{path.name}: {key} has different placeholders in zh and en"


#: Labels are names; the hints on data problems quote the Chinese spellings the data may use (是/否).
QUOTING_CHINESE = ("labels.", "problems.hint_")


def test_english_texts_carry_no_chinese_except_names():
    leaking = [
        key
        for key, texts in catalogue().items()
        if re.search(r"[\u4e00-\u9fff]", texts["en"]) and not key.startswith(QUOTING_CHINESE)
    ]
    assert leaking == []


def test_lookup_and_labels():
    assert t("common.summary") == "小结" and t("common.summary", "en") == "Summary"
    assert t("data.gap_table", "en", table="leads", what="x").startswith("This section needs the leads")
    assert label("won", "en") == "Won" and label("no-such-code") == "no-such-code"
    with pytest.raises(KeyError):
        t("common.nope")
    with pytest.raises(ValueError, match="lang must be one of"):
        t("common.summary", "fr")


# -- every key used exists, every key that exists is used ---------------------------------------
ROOT = message_files()["common"].parents[2]
AREAS = "|".join(message_files())
LITERAL = re.compile(rf"""["']((?:{AREAS})\.[a-z0-9_]*[a-z0-9])["']""")  # a prefix ("tiers.col_") is no key
FAMILY = re.compile(rf"""f["']((?:{AREAS})\.[a-z0-9_]*)\{{""")
#: Keys read through a name built from the notebook (``f"{notebook}.title"``) or a data code.
BY_NOTEBOOK = re.compile(r"^(funnel|tiers|lost|ltv)\.(title|intro)$")
NOT_KEYS = {"index.html"}  # a file name that reads like a key
#: Translations of the fixed rule and hint texts of data problems, looked up by their English text.
BY_TEXT = re.compile(r"^problems\.(rule|hint)_")


def _sources() -> dict[str, str]:
    files = [
        *(ROOT / "funnelkit").rglob("*.py"),
        *(ROOT / "funnelkit").rglob("*.j2"),
        *(ROOT / "notebooks").glob("*.ipynb"),
    ]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def test_every_key_used_exists():
    known = set(catalogue())
    missing = sorted(
        {
            (key, name)
            for name, text in _sources().items()
            for key in LITERAL.findall(text)
            if key not in known | NOT_KEYS and not key.startswith(tuple(FAMILY.findall(text)))
        }
    )
    assert missing == []


def test_built_keys_name_their_family():
    """A key built from a value (``f"lost.status_{status}"``) carries a family prefix that says
    what it is, so the catalogue can be checked; ``f"ltv.{name}"`` could be anything."""
    vague = sorted(
        {
            (prefix, name)
            for name, text in _sources().items()
            for prefix in FAMILY.findall(text)
            if prefix.endswith(".") and not prefix.startswith("labels.")
        }
    )
    assert vague == []


def test_every_key_that_exists_is_used():
    texts = _sources()
    literal = {key for text in texts.values() for key in LITERAL.findall(text)}
    families = tuple({prefix for text in texts.values() for prefix in FAMILY.findall(text)})
    built = (BY_NOTEBOOK, BY_TEXT)
    unused = sorted(
        key
        for key in catalogue()
        if key not in literal and not key.startswith(families) and not any(p.match(key) for p in built)
    )
    assert unused == []
