"""The kernel's Alembic revisions (branch `platform`): one file per change of a `sys_*` table.

Alembic loads these files by path; the package marker only ships them in the wheel.
"""
