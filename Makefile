# sicorpus: `make shards` and `make test` each set up everything on a fresh machine by themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SOURCE ?= demo
WORKERS ?= 2
SEED ?= 0
SPLIT ?= train
DEMO_DIR ?= data/demo
DEMO_SCENES ?= 3
DEMO_FRAMES ?= 60
ifeq ($(SOURCE),demo)
OUT ?= out/demo
else
OUT ?= out/$(SOURCE)
endif

# Shared libraries Open3D loads, and the Debian packages that provide them.
SYSTEM_LIBS := libusb-1.0.so.0 libGL.so.1 libEGL.so.1 libgomp.so.1 libX11.so.6 libudev.so.1
APT_PACKAGES := libusb-1.0-0 libgl1 libegl1 libgomp1 libx11-6 libudev1

.PHONY: all venv system-deps shards demo test lint format bench bench-device clean

all: venv

venv: system-deps $(STAMP)

system-deps:
	@missing=""; for lib in $(SYSTEM_LIBS); do ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages Open3D needs (missing:$$missing)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(DEMO_DIR)/.complete: | venv
	$(BIN)/sicorpus make-demo $(DEMO_DIR) --scenes $(DEMO_SCENES) --seed $(SEED) --frames $(DEMO_FRAMES)
	touch $@

demo: venv $(DEMO_DIR)/.complete

ifeq ($(SOURCE),demo)
shards: demo
	$(BIN)/sicorpus build --source scannet --root $(DEMO_DIR) --out $(OUT) --workers $(WORKERS) --seed $(SEED) --split $(SPLIT)
	$(BIN)/sicorpus stats $(OUT)
else
# The dataset root of each source, and where it comes from (printed when the root is not set).
ROOT_VAR_scannet := SCANNET_ROOT
ROOT_VAR_scannetpp := SCANNETPP_ROOT
ROOT_VAR_arkitscenes := ARKITSCENES_ROOT
HELP_scannet := the folder holding scans/ and scannetv2-labels.combined.tsv; ScanNet v2 comes from http://www.scan-net.org/ after accepting its terms of use
HELP_scannetpp := the folder holding data/<scene_id>/ and splits/; ScanNet++ comes from https://kaldir.vc.in.tum.de/scannetpp/ after accepting its terms of use
HELP_arkitscenes := the folder holding 3dod/Training, 3dod/Validation and 3dod/metadata.csv; ARKitScenes 3DOD comes from github.com/apple/ARKitScenes (download_data.py 3dod)
ROOT_VAR := $(ROOT_VAR_$(SOURCE))
DATA_ROOT := $($(ROOT_VAR))
shards: venv
	@if [ -z "$(ROOT_VAR)" ]; then \
	  echo "error: unknown SOURCE=$(SOURCE) (one of: demo scannet scannetpp arkitscenes)" >&2; exit 2; fi
	@if [ -z "$(DATA_ROOT)" ]; then \
	  echo "error: set $(ROOT_VAR)=/path/to/$(SOURCE) ($(HELP_$(SOURCE)))" >&2; exit 2; fi
	$(BIN)/sicorpus build --source $(SOURCE) --root $(DATA_ROOT) --out $(OUT) --workers $(WORKERS) --seed $(SEED) --split $(SPLIT) $(if $(LABELS),--labels $(LABELS),)
	$(BIN)/sicorpus stats $(OUT)
endif

test: venv
	$(BIN)/pytest -q -n 2 --dist loadfile  # two processes, a test file stays in one (shared fixtures)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m pipeline.bench

# The geometry stage per device, kernel by kernel, facts compared (the run for a machine with an NVIDIA GPU;
# without one it compares numpy with the CUDA path's code on the CPU). Needs bench/data: run `make bench` first.
bench-device: venv
	$(BIN)/python -m pipeline.bench_device

clean:
	rm -rf out data/demo
