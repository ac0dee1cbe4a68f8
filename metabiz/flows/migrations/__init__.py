"""The flow engine's Alembic revisions (branch `flows`): one file per change of a `flow_*` table.

`metabiz.flows.extension.register` hands this folder to the kernel, which runs it with its own.
"""
