"""Make the shared library and each service package importable for pytest (any import mode)."""

from __future__ import annotations

import sys
from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parent
for sub in ("shared", "users", "orders", "products", "payments", "workers"):
    path = str(SERVICES_DIR / sub)
    if path not in sys.path:
        sys.path.insert(0, path)
