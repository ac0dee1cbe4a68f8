"""Money: an exact decimal (scale 2 by default), never a binary float."""

from __future__ import annotations

from metabiz.objects.fields.base import register
from metabiz.objects.fields.number import Number


@register
class Currency(Number):
    name = "currency"
    widget = "currency"
    default_scale = 2
    symbols = "$¥￥€£"
