"""Exact decimals and UTC instants survive SQLite; values that will not fit are refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects.mssql.base import MSDialect
from sqlalchemy.exc import StatementError
from sqlalchemy.schema import CreateTable

from platform_common.columns import ExactDecimal, UtcDateTime, fixed_point
from platform_common.testing import alembic_config
from platform_common.types import (
    AMOUNT,
    AmountOut,
    PriceIn,
    PriceOut,
    QuantityIn,
    UtcTimestamp,
    amount_of,
)

from .apps import SERVICES_DIR

metadata = MetaData()
numbers = Table(
    "numbers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("quantity", ExactDecimal(18, 6)),
    Column("amount", ExactDecimal(*AMOUNT)),
    Column("at", UtcDateTime()),
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'n.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_seventeen_significant_digits_round_trip_on_sqlite(engine: Engine) -> None:
    quantity = Decimal("123456789012.123456")
    amount = amount_of(Decimal("999999999999.999999"), Decimal("9999999999.99999999"))
    with engine.begin() as conn:
        conn.execute(insert(numbers).values(id=1, quantity=quantity, amount=amount))
        row = conn.execute(select(numbers.c.quantity, numbers.c.amount)).one()
    assert row.quantity == quantity
    # (10^12 - 10^-6) x (10^10 - 10^-8) = 10^22 - 2 x 10^4 + 10^-14, all 36 digits kept
    assert row.amount == amount == Decimal("9999999999999999980000.00000000000001")


def test_values_that_do_not_fit_are_refused_not_rounded(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(StatementError, match="more than 6 decimal places"):
        conn.execute(insert(numbers).values(id=2, quantity=Decimal("1.0000001")))
    with engine.begin() as conn, pytest.raises(StatementError, match="significant digits"):
        conn.execute(insert(numbers).values(id=3, quantity=Decimal("1234567890123.5")))


def test_instants_come_back_in_utc_with_an_offset(engine: Engine) -> None:
    paris = datetime(2026, 12, 1, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as conn:
        conn.execute(insert(numbers).values(id=4, at=paris))
        at = conn.execute(select(numbers.c.at)).scalar_one()
    assert at == paris
    assert at.tzinfo is UTC
    assert at.isoformat() == "2026-12-01T09:30:00.123456+00:00"
    with engine.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
        conn.execute(insert(numbers).values(id=5, at=datetime(2026, 1, 1)))


def test_azure_sql_gets_decimal_and_datetimeoffset() -> None:
    dialect = MSDialect()  # type: ignore[no-untyped-call]
    ddl = str(CreateTable(numbers).compile(dialect=dialect))
    assert "quantity NUMERIC(18, 6)" in ddl
    assert "amount NUMERIC(36, 14)" in ddl
    assert "at DATETIMEOFFSET" in ddl


class Out(BaseModel):
    price: PriceOut
    amount: AmountOut
    at: UtcTimestamp


class In(BaseModel):
    quantity: QuantityIn
    price: PriceIn


def test_output_is_fixed_point_with_the_column_scale() -> None:
    out = Out(
        price=Decimal("1E-8"),
        amount=amount_of(Decimal("999999999999.999999"), Decimal("9999999999.99999999")),
        at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    assert out.model_dump(mode="json") == {
        "price": "0.00000001",
        "amount": "9999999999999999980000.00000000000001",
        "at": "2026-12-01T09:00:00Z",
    }
    assert fixed_point(Decimal("1E+3"), 2) == "1000.00"


def test_output_refuses_naive_timestamps() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Out(price=Decimal(1), amount=Decimal(1), at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        ("1.0000001", "1"),
        ("1", "1.000000001"),
        ("1234567890123", "1"),
        ("1", "12345678901"),
        ("1e3", "1"),
        ("0", "1"),
        ("1", 0.5),
        (True, "1"),
    ],
)
def test_input_refuses_what_the_column_cannot_hold(quantity: object, price: object) -> None:
    with pytest.raises(ValidationError):
        In.model_validate({"quantity": quantity, "price": price})


def test_input_takes_decimal_strings_and_integers() -> None:
    parsed = In.model_validate({"quantity": "123456789012.123456", "price": 7})
    assert (parsed.quantity, parsed.price) == (Decimal("123456789012.123456"), Decimal(7))


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("payments", "ALTER TABLE settlements ALTER COLUMN amount NUMERIC(36, 14) NOT NULL"),
        ("products", "ALTER TABLE instruments ALTER COLUMN reference_price NUMERIC(18, 8) NULL"),
    ],
)
def test_azure_sql_migration_widens_the_changed_columns_only(
    service: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = alembic_config(SERVICES_DIR / service, None)
    cfg.cmd_opts = None
    cfg.set_main_option("sqlalchemy.url", "")
    command.upgrade(cfg, "0001:head", sql=True)
    sql = capsys.readouterr().out
    assert expected in sql
    assert sql.count("ALTER COLUMN") == 1  # SQLite-only rewrites are not rendered for mssql
