"""The drift check: a read-only plan of every stack, sorted into in sync, drifted or error.

Run `python -m drift` (or `make drift`); README section "Drift". Modules: `outdir` (the
stacks an environment output dir holds, in deploy order), `terraform` (init, a plan
without the state lock, the plan as JSON), `lifecycle` (what a stack tells Terraform
to ignore), `attributes` (before/after of one object, sensitive values hidden),
`classify` (a plan's JSON -> the stack's status), `report` (the table and the Markdown).

Drift is read from the plan JSON's `resource_drift`, not from a refresh-only plan: one
normal plan per stack (`plan -refresh=true -lock=false -out`, then `show -json`) gives
both what changed outside Terraform (`resource_drift`: the refreshed objects against the
state, every drifted resource, not only those the human plan output calls relevant) and
what an apply would do (`resource_changes`), so a change that is only unapplied code is
told apart from drift without a second plan. A refresh-only plan would show the same
drift but not the code changes, and Atlantis runs normal plans, so the check sees what
the next PR's plan would see. Drift on an attribute the stack's `lifecycle.ignore_changes`
names is counted, not reported: the code says the attribute is managed elsewhere.

Nothing here writes to the state: no apply, no `-refresh-only` apply, no lock taken
(`-lock=false`: a plan only reads the state), no state push; the plan file goes to a
temporary directory and is deleted after `terraform show`.
"""
