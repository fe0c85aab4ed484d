"""Governance rules run over synthesized Terraform JSON (`cdktf.out/stacks/*/cdk.tf.json`)."""
