# Two commands for a fresh clone: `make synth` and `make test`.
# Every target sets up what it needs (venv from the pinned files, npm packages).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: synth test lint check check-tags check-encryption check-naming check-tfsec \
        check-protection check-checkov check-fresh cost deploy-local pr-flow drift bench snapshots clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: synthesize all stacks into cdktf.out/, run the governance rules,
## regenerate atlantis.yaml and the README diagram (all or nothing).
synth: $(VENV)/.runtime
	$(PY) main.py --publish

## test: the whole suite (unit, stacks, policies, terraform validate, e2e on moto).
test: $(VENV)/.dev node_modules/.installed
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check .

## snapshots: rewrite the committed stack snapshots (review the diff!); syrupy's
## JSON files in tests/stacks/__snapshots__/. No path argument, but testpaths set:
## with a path syrupy keeps the file of a stack removed from the registry.
snapshots: $(VENV)/.dev
	$(PY) -m pytest -q -o testpaths=tests/stacks --snapshot-update

check: check-tags check-encryption check-naming check-tfsec check-protection check-checkov

check-tags check-encryption check-naming check-tfsec check-protection: $(VENV)/.dev
	$(PY) -m policies cdktf.out --pack $(patsubst check-%,%,$(subst tfsec,security,$@))

check-checkov: $(VENV)/.dev
	$(PY) -m policies.checkov_scan cdktf.out

## check-fresh: fail when committed cdktf.out/atlantis.yaml/README diagram are stale.
check-fresh: $(VENV)/.runtime
	$(PY) -m synth.freshness

## cost: the monthly estimate of cdktf.out/ next to the reference table, every priced
## resource, the assumptions and prices used (`python -m cost diff BASE PR` for a PR).
cost: $(VENV)/.runtime
	$(PY) -m cost

## pr-flow (= deploy-local): every stack on moto, bootstrap by hand and everything
## else as pull requests played through Atlantis' flow, then protection and destroy.
deploy-local pr-flow: $(VENV)/.dev
	$(PY) -m local_deploy.deploy_local

## drift ENVIRONMENT=<env>: a plan of every stack of the environment without the state
## lock, nothing written to the state; prints a table, writes build/drift-<env>.md;
## exit 0 in sync, 2 drift, 1 error. Needs read access to that environment's account
## (README, "Drift"); DRIFT_ARGS="--stacks kms,rds".
drift: $(VENV)/.runtime
	$(PY) -m drift --environment "$(ENVIRONMENT)" --report build/drift-$(ENVIRONMENT).md \
		$(DRIFT_ARGS)

bench: $(VENV)/.dev
	$(PY) -m scripts.bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
