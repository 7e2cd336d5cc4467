"""``funnelkit`` command line: parses options and calls one library function each."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from funnelkit.exceptions import FunnelkitError
from funnelkit.paths import project_root
from funnelkit.privacy import mask_text

console = Console(stderr=True)
CONTEXT = {"max_content_width": 100}


class Command(click.Command):
    """A command whose one-line summary in ``funnelkit --help`` is the docstring's whole
    first line (click cuts it at about 45 characters otherwise)."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return (self.short_help or (self.help or "").strip().split("\n\n")[0]).replace("\n", " ").strip()


class Notebook(click.Choice):
    """The notebooks of the project (``notebooks/*.ipynb``), read when needed, so the help and
    the error for a wrong name list the real ones."""

    name = "notebook"

    def __init__(self) -> None:
        super().__init__([], case_sensitive=True)

    @property
    def choices(self):
        from funnelkit.batch.runner import discover_notebooks

        return tuple(discover_notebooks(project_root() / "notebooks"))

    @choices.setter
    def choices(self, value) -> None:  # click.Choice sets it in __init__
        pass


def _branch_help(text: str) -> str:
    """``text`` followed by the branches of the project's ``params/`` folder."""
    from funnelkit.batch.params import branch_files

    try:
        names = [f.stem for f in branch_files(project_root() / "params")]
    except (OSError, FunnelkitError):
        names = []
    return f"{text} Branches in params/: {', '.join(names)}." if names else text


class BranchOption(click.Option):
    """``--branch``: its help lists the branches of ``params/`` when the help is shown."""

    def get_help_record(self, ctx):
        self.help = _branch_help(self.help_text)
        return super().get_help_record(ctx)

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, help=help_text, **kwargs)
        self.help_text = help_text


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="funnelkit")
def main() -> None:
    """funnelkit: sales-funnel and customer analysis notebooks for every branch."""


@main.command(cls=Command)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file to write (default: data/demo.duckdb).",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Multiply lead volume (200 gives about 10 million leads).",
)
@click.option("--seed", type=int, default=20061231, show_default=True)
def demo(out: Path | None, scale: float, seed: int) -> None:
    """Write the deterministic demo database."""
    from funnelkit.demo import write_demo_db
    from funnelkit.paths import demo_db

    target = out or demo_db()
    target.parent.mkdir(parents=True, exist_ok=True)
    counts = write_demo_db(target, scale=scale, seed=seed)
    console.print(f"demo database written: {target}")
    for table, rows in counts.items():
        console.print(f"  {table:<14}{rows:>12,} rows")


def _counts_text(counts: dict) -> str:
    """reused · running · done · failed (and skipped, when any) for the progress bar."""
    shown = ["reused", "running", "done", "failed"] + (["skipped"] if counts.get("skipped") else [])
    return " · ".join(f"{name} {counts.get(name, 0)}" for name in shown)


def _run(branches, notebooks, workers, timeout, force=False, keep=None, lang=None, scheduler=None) -> None:
    from funnelkit.batch.runner import run_batch
    from funnelkit.exceptions import BatchInterrupted, OutputError

    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("notebooks", total=None)

            def planned(total: int) -> None:
                progress.update(task, total=total)

            def finished(result) -> None:
                if result.seconds or result.ok:
                    progress.advance(task)

            def counted(counts: dict) -> None:
                progress.update(task, description=_counts_text(counts))

            batch = run_batch(
                project_root=project_root(),
                branches=branches,
                notebooks=notebooks,
                workers=workers,
                scheduler=scheduler,
                notebook_timeout=timeout,
                keep=keep,
                lang=lang,
                on_plan=planned,
                on_result=finished,
                on_progress=counted,
                force=force,
            )
    except BatchInterrupted as interrupted:
        console.print(str(interrupted), markup=False, highlight=False, soft_wrap=True)
        sys.exit(130)  # the shell's code for "ended by Ctrl-C"
    except KeyboardInterrupt:  # before the run folder existed
        console.print("interrupted before any notebook ran; nothing was written", highlight=False)
        sys.exit(130)
    except OutputError as error:  # the notebooks ran: show what they did before the error
        if error.batch is not None:
            _summary(error.batch)
        raise
    _summary(batch)
    print(batch.index)
    if batch.failed:
        console.print(f"[red]{len(batch.failed)} of {len(batch.results)} notebook runs failed[/red]")
        sys.exit(1)


def _summary(batch) -> None:
    """The results table, each failure's message and any warning about the run."""
    table = Table(title=f"run {batch.run_id}")
    for column in ("branch", "notebook", "status", "seconds", "peak MB", "first error line or reason"):
        table.add_column(column)
    styles = {"ok": "green", "reused": "cyan", "failed": "red", "skipped": "dim"}
    for r in batch.results:
        status = Text(r.status, style=styles.get(r.status, ""))
        note = f"unchanged since run {r.reused_from}" if r.status == "reused" else mask_text(r.error)
        memory = f"{r.peak_mb:.0f}" if r.peak_mb else ""
        table.add_row(Text(r.slug), Text(r.notebook), status, f"{r.seconds:.1f}", memory, Text(note))
    console.print(table)
    for r in batch.failed:
        console.print(Text(f"{r.slug} / {r.notebook}", style="red"))
        console.print(mask_text(r.detail or r.error), markup=False, highlight=False)
    for warning in batch.warnings:
        console.print(Text("warning: ", style="yellow") + Text(mask_text(warning)), highlight=False, soft_wrap=True)


KEEP = click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Run folders kept in outputs/ (older ones are removed; never one outputs/latest shows).",
)
LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the index page (default: lang in params/defaults.yaml).",
)
TIMEOUT = click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=900,
    show_default=True,
    help="Seconds allowed per notebook (at least 1).",
)
NOTEBOOKS = click.option(
    "--notebook", "notebooks", type=Notebook(), multiple=True, help="Only this notebook; repeatable."
)


@main.command(cls=Command)
@click.option(
    "--branch", "branches", cls=BranchOption, multiple=True, help_text="Only this branch (slug or name); repeatable."
)
@NOTEBOOKS
@click.option("--workers", type=int, default=None, help="Worker processes (default: number of cores).")
@TIMEOUT
@KEEP
@LANG
@click.option("--force", is_flag=True, help="Run every notebook, even those whose inputs have not changed.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run the notebooks on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786; the"
    " project and outputs/ shared at the same path on every machine). Default: scheduler: in"
    " params/defaults.yaml, else local worker processes; 'local' for local workers.",
)
def batch(branches, notebooks, workers, timeout, keep, lang, force, scheduler) -> None:
    """Run every notebook for every branch in params/ and print the index page.

    A notebook whose notebook file, parameters, branch data and kit are unchanged since a
    published run is not run again: its report is reused (status ``reused``)."""
    _run(list(branches) or None, list(notebooks) or None, workers, timeout, force, keep, lang, scheduler)


@main.command(cls=Command)
@click.option("--branch", cls=BranchOption, required=True, help_text="Branch slug (params file name) or name.")
@NOTEBOOKS
@TIMEOUT
@KEEP
@LANG
@click.option("--force", is_flag=True, help="Run the notebooks even if their inputs have not changed.")
def run(branch, notebooks, timeout, keep, lang, force) -> None:
    """Run the notebooks of one branch; outputs/latest keeps every other branch's reports."""
    _run([branch], list(notebooks) or None, None, timeout, force, keep, lang)


@main.command("sync-notebooks", cls=Command)
@click.option("--check", is_flag=True, help="Only report notebooks whose parameters cell is out of date (exit 1).")
def sync_notebooks(check: bool) -> None:
    """Regenerate each notebook's parameters cell from its analysis's declaration."""
    from .batch.runner import discover_notebooks
    from .parameters import sync_notebook

    stale = [
        name
        for name, path in discover_notebooks(project_root() / "notebooks").items()
        if sync_notebook(path, write=not check)
    ]
    for name in stale:
        console.print(f"{'out of date' if check else 'rewritten'}: notebooks/{name}.ipynb")
    if check and stale:
        sys.exit(1)


def entry() -> None:
    try:
        main(standalone_mode=True)
    except FunnelkitError as error:
        # Not wrapped by rich: paths in the message stay whole, to copy and to search for.
        console.print(Text("error: ", style="red") + Text(mask_text(str(error))), highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # python -m funnelkit.cli
    entry()
