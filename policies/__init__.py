"""The platform's CrossGuard pack: `__main__.py` serves it, everything else is importable."""
