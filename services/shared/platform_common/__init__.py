"""Shared building blocks for the platform's FastAPI services."""
