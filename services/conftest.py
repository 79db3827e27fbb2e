"""Make the shared library and each service package importable for pytest (any import mode)."""

from __future__ import annotations

import sys
from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parent
for sub in ("shared", "users", "orders", "products", "payments", "gateway", "workers"):
    path = str(SERVICES_DIR / sub)
    if path not in sys.path:
        sys.path.insert(0, path)
# run_local.py and run_platform.py (the end-to-end test starts the platform with them), last
# so that nothing in services/ shadows a package.
if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))
