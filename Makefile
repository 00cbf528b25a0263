# clipkit: `make demo` runs the whole chain on the bundled sample; `make test` runs the tests.
# Both install what is missing first (a venv with the package and its extras).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLIPKIT := $(VENV)/bin/clipkit
STAMP := $(VENV)/.clipkit-installed
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# openai-whisper is installed without its `triton` requirement (GPU only, 286 MB) and after a
# CPU torch pinned to the file on this kind of machine; a bare `torch` pulls a CUDA build.
TORCH ?= torch==2.13.0
OPENAI_WHISPER ?= openai-whisper==20250625
OPENAI_WHISPER_DEPS := numba numpy tiktoken tqdm more-itertools
EXTRAS := faster-whisper,models,fetch,youtube,dev
DEMO_OUT ?= demo-output

# Tests and the demo never reach a model hub: models come from PyPI packages.
export HF_HUB_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test lint format bench clean fonts

install: $(STAMP) fonts

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q --no-deps $(OPENAI_WHISPER)
	$(PY) -m pip install -q $(OPENAI_WHISPER_DEPS) "$(TORCH)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]" "$(TORCH)"
	@touch $@

# clipkit bundles DejaVu Sans for burnt-in subtitles; the system copy serves other programs.
fonts:
	@if [ -f $(FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1) || \
		echo "note: could not install fonts-dejavu-core; clipkit uses its bundled DejaVu Sans"; \
	else echo "hint: sudo apt-get install fonts-dejavu-core (optional: clipkit bundles DejaVu Sans)"; fi

demo: install
	$(CLIPKIT) transcribe samples/conversation.mp4 -o $(DEMO_OUT)
	$(CLIPKIT) subs check $(DEMO_OUT)/conversation.srt
	$(CLIPKIT) cut --plan samples/plan.csv --subs $(DEMO_OUT)/conversation.srt -o $(DEMO_OUT)/extracts
	@echo
	@echo "Demo outputs in $(DEMO_OUT)/:"
	@ls -1 $(DEMO_OUT) $(DEMO_OUT)/extracts

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check clipkit tests bench samples
	$(VENV)/bin/ruff format --check clipkit tests bench samples

format: install
	$(VENV)/bin/ruff format clipkit tests bench samples
	$(VENV)/bin/ruff check --fix clipkit tests bench samples

bench: install
	$(PY) bench/bench_transcribe.py
	$(PY) bench/bench_cut.py
	$(PY) bench/bench_publish.py

clean:
	rm -rf $(DEMO_OUT) .pytest_cache .ruff_cache
