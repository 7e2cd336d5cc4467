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


@click.group()
@click.version_option(package_name="funnelkit")
def main() -> None:
    """funnelkit: sales-funnel and customer analysis notebooks for every branch."""


@main.command()
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


def _run(branches, notebooks, workers, timeout, scheduler=None) -> None:
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
                progress.update(task, description=f"{result.slug}/{result.notebook} {result.status}")

            batch = run_batch(
                project_root=project_root(),
                branches=branches,
                notebooks=notebooks,
                workers=workers,
                scheduler=scheduler,
                notebook_timeout=timeout,
                on_plan=planned,
                on_result=finished,
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
    for column in ("branch", "notebook", "status", "seconds", "first error line or reason"):
        table.add_column(column)
    styles = {"ok": "green", "failed": "red", "skipped": "dim"}
    for r in batch.results:
        status = Text(r.status, style=styles.get(r.status, ""))
        table.add_row(Text(r.slug), Text(r.notebook), status, f"{r.seconds:.1f}", Text(mask_text(r.error)))
    console.print(table)
    for r in batch.failed:
        console.print(Text(f"{r.slug} / {r.notebook}", style="red"))
        console.print(mask_text(r.detail or r.error), markup=False, highlight=False)
    for warning in batch.warnings:
        console.print(Text("warning: ", style="yellow") + Text(mask_text(warning)), highlight=False, soft_wrap=True)


@main.command()
@click.option("--branch", "branches", multiple=True, help="Only this branch (slug or name); repeatable.")
@click.option("--notebook", "notebooks", multiple=True, help="Only this notebook; repeatable.")
@click.option("--workers", type=int, default=None, help="Worker processes (default: number of cores).")
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=900,
    show_default=True,
    help="Seconds allowed per notebook (at least 1).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run the notebooks on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786; the"
    " project and outputs/ shared at the same path on every machine). Default: scheduler: in"
    " params/defaults.yaml, else local worker processes; 'local' for local workers.",
)
def batch(branches, notebooks, workers, timeout, scheduler) -> None:
    """Run every notebook for every branch in params/ and print the index page."""
    _run(list(branches) or None, list(notebooks) or None, workers, timeout, scheduler)


@main.command()
@click.option("--branch", required=True, help="Branch slug (params file name) or name.")
@click.option("--notebook", "notebooks", multiple=True, help="Only this notebook; repeatable.")
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=900,
    show_default=True,
    help="Seconds allowed per notebook (at least 1).",
)
def run(branch, notebooks, timeout) -> None:
    """Run the notebooks of one branch."""
    _run([branch], list(notebooks) or None, None, timeout)


@main.command("sync-notebooks")
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
