"""Entry point of the cdktf app (`cdktf.json` runs it; `make synth` wraps it).

CDKTF_ENVIRONMENT picks the settings (default prod); CDKTF_OUTDIR the output
directory (the cdktf CLI sets it); CDKTF_BOOTSTRAP_BACKEND=local synthesizes
bootstrap with a local backend for its first apply.
"""

import os
import sys

# Node 20 is past its end of life for jsii; the banner would bury real output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from synth.synth import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
