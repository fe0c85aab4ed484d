"""The synth pipeline: `synth.py` (what main.py runs), the address ledger every synth
checks, and the generated files (atlantis.yaml, the README sections) with their
freshness check."""
