"""Secrets Manager rotation function for generated secrets (see handler.py)."""
