"""Numbers beyond what a currency field holds are a 422 naming the field, not a database
error, on SQLite and PostgreSQL; within it PostgreSQL keeps all 18 digits."""

from __future__ import annotations

import pytest
from test_reference_rules import desk, unit  # noqa: F401 - the desk app's fixtures

from metabiz.errors import ValidationError
from metabiz.objects import records


@pytest.mark.parametrize("amount", [1e30, "1e30", "12345678901234567", -1e16])
def test_a_number_too_large_for_the_field_is_refused(unit, amount):  # noqa: F811
    with pytest.raises(ValidationError) as caught, unit() as ctx:
        records.create(ctx, "incident", {"subject": "x", "amount": amount})
    assert caught.value.fields == {
        "amount": ["too large: at most 16 digits before the decimal point"]}


def test_the_largest_amount_is_kept(unit, db_url):  # noqa: F811
    with unit() as ctx:
        made = records.create(ctx, "incident", {"subject": "x", "amount": "9999999999999999"})
        assert records.get(ctx, "incident", made["id"])["amount"] == 9999999999999999
