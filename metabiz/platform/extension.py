"""What the kernel itself registers: its commands (init, upgrade, users, tokens, audit).

Called first by the composition roots, like every package's `register`.
"""

from __future__ import annotations

from metabiz.platform import cli, cli_access  # noqa: F401 - cli_access adds to cli's groups
from metabiz.platform.extensions import Extensions


def register(ext: Extensions) -> None:
    for command in (cli.init, cli.upgrade, cli.users, cli.tokens, cli.audit):
        ext.add_command(command)
