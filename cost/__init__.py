"""What it costs: a monthly on-demand estimate of an environment's synthesized stacks
from a price sheet kept in the repository (`python -m cost`), and the change between
two outputs for a pull request (`python -m cost diff`). Works offline."""
