"""Scripts run by hand (`make bench`, the provider-schema regeneration) or by a workflow in
.github/workflows/ (the drift issue, the cost-diff comment)."""
