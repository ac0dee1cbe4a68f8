"""What the kernel itself registers: its commands (init, upgrade, users, tokens, audit) and
the administration section of the navigation (user admin, for admins).

Called first by the composition roots, like every package's `register`.
"""

from __future__ import annotations

from metabiz.platform import cli, cli_access  # noqa: F401 - cli_access adds to cli's groups
from metabiz.platform.extensions import Extensions, NavSection
from metabiz.platform.web.admin_users import admin_links


def register(ext: Extensions) -> None:
    for command in (cli.init, cli.upgrade, cli.users, cli.tokens, cli.audit):
        ext.add_command(command)
    ext.add_nav(NavSection("admin", admin_links, heading="administration", order=90))
