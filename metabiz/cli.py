"""The composition root of the command line: the `metabiz` group with every package's commands.

Each package registers its commands with the kernel's extensions; `serve` lives here because
it runs the whole web app (and the job worker as a child process).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from metabiz.app import create_app, wiring
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.extensions import Wiring
from metabiz.platform.long_lived import settle_long_lived


class _Group(click.Group):
    """The `metabiz` group: its commands come from the packages' registrations."""

    def __init__(self, wired: Wiring, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wiring = wired
        for cmd in wired.extensions.commands:
            self.add_command(cmd)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.obj = self.wiring  # what every subcommand's CliEnv is built from
        return ctx


@command(name="serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, help="gunicorn worker processes")
@click.option("--no-worker", is_flag=True, help="do not run due jobs in a child process")
def serve(env: CliEnv, host: str, port: int, workers: int, no_worker: bool) -> None:
    """Serve the UI and the API with gunicorn, and run due jobs in a worker process."""
    env.serving_engine().dispose()
    # The job worker runs as its own process: a thread in gunicorn's master would be
    # copied mid-lock into every forked web worker and hang it. Supervised: a worker that
    # dies (out of memory mid-import) is started again and takes its jobs over.
    jobs = None if no_worker else subprocess.Popen(
        [sys.executable, "-m", "metabiz.cli", "worker", "--supervise", "--database-url",
         env.config.database_url])

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            app = create_app(env.config)
            settle_long_lived()  # full collections skip the loaded app from now on
            return app

    try:
        Server().run()
    finally:
        if jobs is not None:
            jobs.terminate()
            jobs.wait(timeout=30)


def build_main(wired: Wiring | None = None) -> click.Group:
    group = _Group(wired or wiring(), name="metabiz",
                   help="metabiz: a metadata-driven business-object platform.",
                   context_settings={"help_option_names": ["-h", "--help"]})
    group.add_command(serve)
    return group


main = build_main()

if __name__ == "__main__":
    main()
