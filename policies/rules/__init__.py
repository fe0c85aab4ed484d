"""One rule per module; policies/packs.py lists which rules run together."""
