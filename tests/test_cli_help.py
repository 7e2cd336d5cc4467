"""``funnelkit --help`` shows each command's whole line; ``--notebook`` and ``--branch`` name
the valid choices."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from funnelkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_line_is_whole_in_a_narrow_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    shown = " ".join(CliRunner().invoke(main, ["--help"], terminal_width=60).output.split())
    for command in main.commands.values():
        first_line = " ".join(command.help.strip().split("\n\n")[0].split())
        assert first_line in shown
    assert "..." not in shown.split("Commands:")[1]  # click ends a cut line with "..."


def test_notebook_and_branch_options_list_the_valid_names(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setenv("FUNNELKIT_HOME", str(tmp_path))
    help_text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    assert "[funnel|lost|ltv|tiers]" in help_text
    assert "Branches in params/: hangzhou, jiaxing, ningbo, shaoxing, wenzhou." in help_text
    wrong = CliRunner().invoke(main, ["batch", "--notebook", "funnels"])
    assert wrong.exit_code == 2 and "'funnels' is not one of 'funnel', 'lost', 'ltv', 'tiers'" in wrong.output
    assert "--keep" in help_text and "--lang [zh|en]" in help_text
