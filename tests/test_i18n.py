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


def test_english_texts_carry_no_chinese_except_names():
    leaking = [k for k, v in catalogue().items()
               if re.search(r"[\u4e00-\u9fff]", v["en"]) and not k.startswith("labels.")]
    assert leaking == []


def test_lookup_and_labels():
    assert t("common.summary") == "小结" and t("common.summary", "en") == "Summary"
    assert t("common.no_data", "en", table="leads").startswith("This branch has no leads")
    assert label("won", "en") == "Won" and label("no-such-code") == "no-such-code"
    with pytest.raises(KeyError):
        t("common.nope")
    with pytest.raises(ValueError, match="lang must be one of"):
        t("common.summary", "fr")
