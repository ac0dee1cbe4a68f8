"""A required reference to the master record; deleting the master deletes its details."""

from __future__ import annotations

from metabiz.objects.fields.base import register
from metabiz.objects.fields.lookup import Lookup
from metabiz.platform.metadata.model import FieldDef


@register
class MasterDetail(Lookup):
    name = "master_detail"
    converts_to = frozenset()

    def ondelete(self, f: FieldDef) -> str:
        return "CASCADE"
