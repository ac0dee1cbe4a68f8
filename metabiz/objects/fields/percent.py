"""Percentages stored as the number shown (15 means 15%), scale 2 by default."""

from __future__ import annotations

from metabiz.objects.fields.base import register
from metabiz.objects.fields.number import Number


@register
class Percent(Number):
    name = "percent"
    widget = "percent"
    default_scale = 2
    symbols = "%％"
