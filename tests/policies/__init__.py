"""Shared builders for the policy pack tests."""
