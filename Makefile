# Substrate Labs: two commands do all the set-up on a fresh machine (Python 3.10+ with venv and pip).
#   make demo   build a demo course in build/demo, simulate a class, grade it, write grades and feedback
#   make test   every test (CI runs exactly this)
#   make hub    a classroom on this machine: JupyterHub + nbgrader on 127.0.0.1 (HUB_ARGS="--help" for options)
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# The demo's own workspace: never a real class's (build/classroom). The demo replaces only what it created.
DEMO_WORKSPACE ?= build/demo
# Reproducible numerics and timings: one BLAS/OpenMP thread, fixed hash seed (set order in printed output).
TEST_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 PATH="$(BIN):$$PATH"

# The hub's proxy (npm, pinned in deploy/hub/package-lock.json) and Debian's Chromium for the browser test
# (Playwright drives it; no browser is ever downloaded). Both install once; root installs with apt directly.
PROXY := deploy/hub/node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
HUB_ARGS ?=

.PHONY: demo test test-arm64 lab lint check-labs bench bench-grading sandbox clean hub

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) sandbox
	$(TEST_ENV) $(BIN)/substrate-labs demo --workspace $(DEMO_WORKSPACE) --replace-demo

$(PROXY): deploy/hub/package.json deploy/hub/package-lock.json
	command -v npm >/dev/null || { $(APT) update -qq && $(APT) install -y -qq nodejs npm; }
	npm ci --prefix deploy/hub --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM):
	$(APT) update -qq && $(APT) install -y -qq chromium

# The grading sandbox (bubblewrap, Debian package). Installs it when missing and apt can (root); says what to do
# when it cannot. Tests of the sandbox fail without it: CI must test the real thing.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap >/dev/null; }; }; } || \
		{ echo "make sandbox: bubblewrap is missing and cannot be installed here; as root: apt-get install bubblewrap" >&2; exit 1; }
	@bwrap --unshare-net --unshare-pid --ro-bind / / --dev /dev --proc /proc true || \
		{ echo "make sandbox: bwrap is installed but cannot create namespaces here (container without privileges?)" >&2; exit 1; }

test: $(STAMP) sandbox $(PROXY) $(CHROMIUM)
	$(BIN)/ruff check .
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests labs

lab: $(STAMP)  # JupyterLab on the labs, for students and authors (local only; root only in containers)
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir labs $(if $(filter 0,$(shell id -u)),--allow-root)

hub: $(STAMP) $(PROXY)  # Ctrl-C stops it; accounts and course persist in build/hub
	$(BIN)/python -m deploy.hub.launch $(HUB_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/substrate-labs lint

check-labs: $(STAMP)
	$(TEST_ENV) $(BIN)/substrate-labs check-lab

bench: $(STAMP)
	$(TEST_ENV) $(BIN)/python benchmarks/lab_costs.py

bench-grading: $(STAMP) sandbox  # nbgrader vs the engine (1, 2 workers) vs Dask on a class of real labs
	$(TEST_ENV) $(BIN)/python benchmarks/grading.py --rounds 3

# Removes the demo workspace (only if the demo created it), the arm64 root and caches; never a real class.
clean:
	if [ -f $(DEMO_WORKSPACE)/.substrate-labs-demo ]; then rm -rf $(DEMO_WORKSPACE); fi
	rm -rf build/arm64 .pytest_cache

# Every lab on aarch64 under qemu, compared with x86-64 (docs/maintainers.md). Slow: not part of make test.
# Sets up build/arm64/ once (root: apt packages, debootstrap, binfmt_misc); ARM64_QEMU=explicit runs without binfmt.
ARM64_QEMU ?= auto
test-arm64: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m autograder.arm64 --qemu $(ARM64_QEMU) $(ARM64_ARGS)
