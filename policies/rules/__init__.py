"""One rule per module, as `RULE`; policies/packs.py finds them and derives the packs."""
