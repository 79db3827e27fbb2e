"""Payments API: settlement instructions for filled orders."""
