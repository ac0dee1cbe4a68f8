"""Schema evolution: applying metadata versions to the database, restoring and purging.

`apply` runs one transaction (validate → compile → check → migrate → new version); `plan`
renders what it did; `preflight` finds what a change breaks; `migration`, `conversions` and
`columns` do the DDL and the data; `restore` brings removed objects and fields back or purges
them; `history` keeps the last definition of everything ever applied.
"""

from metabiz.objects.evolution.apply import app_folders, apply_documents, apply_path
from metabiz.objects.evolution.history import definitions_in_history
from metabiz.objects.evolution.plan import Change, Plan
from metabiz.objects.evolution.restore import purge, restore

__all__ = ["Change", "Plan", "app_folders", "apply_documents", "apply_path", "definitions_in_history",
           "purge", "restore"]
