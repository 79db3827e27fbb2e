"""The four services' factories and settings classes, for cross-service tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from orders_service.main import create_app as create_orders
from orders_service.settings import OrdersSettings
from orders_service.settings import get_settings as orders_settings
from payments_service.main import create_app as create_payments
from payments_service.settings import PaymentsSettings
from payments_service.settings import get_settings as payments_settings
from platform_common.settings import ServiceSettings
from products_service.main import create_app as create_products
from products_service.settings import ProductsSettings
from products_service.settings import get_settings as products_settings
from users_service.main import create_app as create_users
from users_service.settings import UsersSettings
from users_service.settings import get_settings as users_settings

SERVICES_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    create_app: Callable[[], FastAPI]
    settings_cls: type[ServiceSettings]
    get_settings: Callable[[], ServiceSettings]

    @property
    def directory(self) -> Path:
        return SERVICES_DIR / self.name


SERVICES = (
    ServiceSpec("users", create_users, UsersSettings, users_settings),
    ServiceSpec("orders", create_orders, OrdersSettings, orders_settings),
    ServiceSpec("products", create_products, ProductsSettings, products_settings),
    ServiceSpec("payments", create_payments, PaymentsSettings, payments_settings),
)
