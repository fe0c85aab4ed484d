"""Regenerate policies/data/aws_taggable_types.json from the hashicorp/aws provider schema.

Run: `.venv/bin/python -m scripts.provider_schema` (needs terraform; uses the local provider
mirror).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from local_deploy.terraform_cli import AWS_PROVIDER_VERSION, cli_config_env

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "policies" / "data" / "aws_taggable_types.json"
COMMAND = "python -m scripts.provider_schema"
PROVIDER = "registry.terraform.io/hashicorp/aws"

# Top-level attributes through which a resource can name a customer-managed key.
KMS_ATTRIBUTE_SUFFIXES = ("kms_key_id", "kms_key_arn", "kms_master_key_id", "kms_key")
KMS_ATTRIBUTE_NAMES = ("key_id",)  # aws_ssm_parameter's SecureString key


def provider_schema(workdir: Path) -> dict:
    """`terraform providers schema -json` for hashicorp/aws at the pinned version."""
    (workdir / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {
            "aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}}},
    }))
    env = {**os.environ, **cli_config_env(workdir / ".cli")}
    subprocess.run(["terraform", "init", "-input=false", "-no-color", "-backend=false"],
                   cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["terraform", "providers", "schema", "-json"],
                         cwd=workdir, env=env, check=True, capture_output=True)
    return json.loads(out.stdout)


def reduce(schema: dict) -> dict:
    """What the policies need: taggable resource types and their key-reference attributes."""
    resources = schema["provider_schemas"][PROVIDER]["resource_schemas"]
    taggable = []
    kms = {}
    for rtype, body in resources.items():
        attributes = body["block"].get("attributes", {})
        tags = attributes.get("tags")
        if tags is not None and tags.get("type") == ["map", "string"]:
            taggable.append(rtype)
        keys = sorted(a for a in attributes
                      if a.endswith(KMS_ATTRIBUTE_SUFFIXES) or a in KMS_ATTRIBUTE_NAMES)
        if keys:
            kms[rtype] = keys
    return {
        "generated_by": COMMAND,
        "provider": f"{PROVIDER} {AWS_PROVIDER_VERSION}",
        "taggable_resource_types": sorted(taggable),
        "kms_key_attributes": dict(sorted(kms.items())),
    }


def render(reduced: dict) -> str:
    return json.dumps(reduced, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the committed file differs from a fresh one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aws-schema-") as tmp:
        text = render(reduce(provider_schema(Path(tmp))))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
