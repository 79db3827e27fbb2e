"""Users API: accounts, role assignments and the caller's identity."""
