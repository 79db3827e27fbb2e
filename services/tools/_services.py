"""Puts the shared library and service packages on sys.path for the tool scripts."""

from __future__ import annotations

import sys
from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parents[1]
SERVICE_NAMES = ("users", "orders", "products", "payments")


def add_service_paths() -> None:
    for sub in ("shared", *SERVICE_NAMES):
        path = str(SERVICES_DIR / sub)
        if path not in sys.path:
            sys.path.insert(0, path)
