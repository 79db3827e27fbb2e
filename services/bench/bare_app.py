"""Bare FastAPI endpoints: the floor the services are compared against.

`POST /orders` validates a small body and inserts one row into SQLite through the same
engine set-up the services use (WAL, busy timeout), in a threadpool handler like theirs:
no identity, catalog, risk check, lock row or outbox. `GET /ping` touches nothing.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI, status
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, MetaData, Numeric, String, Table, insert

from platform_common.db import build_engine
from platform_common.settings import ServiceSettings

metadata = MetaData()
rows = Table(
    "bare_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("isin", String(12), nullable=False),
    Column("quantity", Numeric(18, 6), nullable=False),
    Column("limit_price", Numeric(18, 8), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class BareOrder(BaseModel):
    isin: str
    side: str
    order_type: str
    quantity: Decimal
    limit_price: Decimal | None = None


def create_app() -> FastAPI:
    engine = build_engine(
        ServiceSettings(database_url=os.environ.get("DATABASE_URL", "sqlite:///./bare.db"))
    )
    metadata.create_all(engine)
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/orders", status_code=status.HTTP_201_CREATED)
    def create(body: BareOrder) -> dict[str, str]:
        order_id = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(
                insert(rows).values(
                    id=order_id,
                    isin=body.isin,
                    quantity=body.quantity,
                    limit_price=body.limit_price,
                    created_at=datetime.now(UTC),
                )
            )
        return {"id": order_id}

    return app
