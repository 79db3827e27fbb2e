"""Decimal output types that always carry their column's scale in JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

QuantityOut = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.000001"))), return_type=str)
]
PriceOut = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.00000001"))), return_type=str)
]
AmountOut = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.00000001"))), return_type=str)
]
