"""Locations: GEOLOCATION(latitude, longitude) and DISTANCE(a, b, "km"|"mi"), the great-circle
distance (haversine formula, mean Earth radius 6371.0088 km).

A location is a `values.Location` in Python and "latitude,longitude" text in SQL (each
number as the database writes it), so that IF, CASE and BLANKVALUE carry it like any
value; DISTANCE reads the two numbers back, and TEXT writes them as Python does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, String, and_, case, cast, func, literal

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import (
    LOCATION,
    NUM,
    SqlCall,
    expect,
    fixed,
    literal_text,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import bind, number_text
from metabiz.formulas.nodes import Call
from metabiz.formulas.values import Location

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344
UNITS = {"km": EARTH_RADIUS_KM, "mi": EARTH_RADIUS_KM / KM_PER_MILE}


def _geolocation(latitude: Decimal, longitude: Decimal) -> Location:
    if not -90 <= latitude <= 90:
        raise FormulaError(f"GEOLOCATION: latitude {latitude} is not between -90 and 90",
                           kind="eval")
    if not -180 <= longitude <= 180:
        raise FormulaError(f"GEOLOCATION: longitude {longitude} is not between -180 and 180",
                           kind="eval")
    return Location(latitude, longitude)


def _geolocation_sql(c: SqlCall) -> Any:
    latitude, longitude = c.args
    valid = and_(latitude.between(-90, 90), longitude.between(-180, 180))
    text = cast(latitude, String()).concat(literal(",")).concat(cast(longitude, String()))
    return case((valid, text), else_=None)


def location_text(location: Any, dialect: str) -> Any:
    """TEXT(location): both numbers written as TEXT(number) writes them."""
    def write(latitude: Any, longitude: Any) -> Any:
        return number_text(latitude, dialect).concat(literal(",")).concat(
            number_text(longitude, dialect))

    return bind(list(_coordinates(location, dialect)), write)


def _distance_type(types: Sequence[FType], node: Call) -> FType:
    expect(node, types, 0, LOCATION)
    expect(node, types, 1, LOCATION)
    unit = literal_text(node, 2, "the unit")
    if unit.lower() not in UNITS:
        raise node_error(node.args[2], 'the unit of DISTANCE must be "km" or "mi"')
    return FType.NUMBER


def haversine(lat1: float, lon1: float, lat2: float, lon2: float, radius: float) -> float:
    """The great-circle distance; the SQL below is the same computation."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_phi = math.sin((phi2 - phi1) / 2)
    half_lambda = math.sin(math.radians(lon2 - lon1) / 2)
    a = half_phi * half_phi + math.cos(phi1) * math.cos(phi2) * half_lambda * half_lambda
    return 2 * radius * math.asin(min(1.0, math.sqrt(a)))


def _distance(a: Location, b: Location, unit: str) -> Decimal:
    km = haversine(float(a.latitude), float(a.longitude), float(b.latitude),
                   float(b.longitude), UNITS[unit.lower()])
    return Decimal(repr(km))


def _coordinates(text: Any, dialect: str) -> tuple[Any, Any]:
    if dialect == "sqlite":
        comma = func.instr(text, literal(","))
        return (cast(func.substr(text, 1, comma - 1), Float()),
                cast(func.substr(text, comma + 1), Float()))
    return (cast(func.split_part(text, literal(","), 1), Float()),
            cast(func.split_part(text, literal(","), 2), Float()))


def _distance_sql(c: SqlCall) -> Any:
    radius = literal(UNITS[literal_text(c.node, 2, "the unit").lower()], Float())

    def haversine(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
        return _haversine_sql(lat1, lon1, lat2, lon2, radius)

    numbers = [*_coordinates(c.args[0], c.dialect), *_coordinates(c.args[1], c.dialect)]
    return bind(numbers, haversine)


def _haversine_sql(lat1: Any, lon1: Any, lat2: Any, lon2: Any, radius: Any) -> Any:
    """geo.haversine in SQL."""
    phi1, phi2 = func.radians(lat1), func.radians(lat2)
    half_phi = func.sin((phi2 - phi1) / 2)
    half_lambda = func.sin(func.radians(lon2 - lon1) / 2)
    a = half_phi * half_phi + func.cos(phi1) * func.cos(phi2) * half_lambda * half_lambda
    root = func.sqrt(a)  # at most 1, but rounding can pass it
    return 2 * radius * func.asin(case((root > 1.0, literal(1.0, Float())), else_=root))


register("GEOLOCATION", 2, 2, fixed([NUM, NUM], FType.LOCATION), blank_safe(_geolocation),
         _geolocation_sql,
         summary="GEOLOCATION(latitude, longitude): a location, in degrees")
register("DISTANCE", 3, 3, _distance_type, blank_safe(_distance), _distance_sql,
         summary='DISTANCE(location1, location2, "km" or "mi"): the great-circle distance')
