# clipkit: `make demo` runs the whole chain on the bundled sample; `make test` runs the tests.
# Both install what is missing first (a venv with the package and its extras).
#
# Batch jobs over a project folder (default: the bundled sample project):
#   make transcribe PROJECT=DIR   transcripts for every recording (one rule per recording)
#   make extracts PROJECT=DIR     every plan row's extract (one rule per row)
#   make all PROJECT=DIR          both; incremental, and safe with -j
#   make publish PROJECT=DIR      dry run of the YouTube upload; PUBLISH=1 uploads
#   make status PROJECT=DIR       what is done, stale or failed
#   make film PROJECT=DIR         the films described in films/*.toml
#   make report PROJECT=DIR       the findings report (report/index.html, report/findings.docx)
# The project folder's own path must not contain spaces (make cannot name such files);
# recordings, titles and everything inside the project may.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLIPKIT := $(abspath $(VENV))/bin/clipkit
STAMP := $(VENV)/.clipkit-installed
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# openai-whisper is installed without its `triton` requirement (GPU only, 286 MB) and after a
# CPU torch pinned to the file on this kind of machine; a bare `torch` pulls a CUDA build.
# (--no-warn-conflicts: pip would otherwise report the triton left out as an error.)
TORCH ?= torch==2.13.0
OPENAI_WHISPER ?= openai-whisper==20250625
OPENAI_WHISPER_DEPS := numba numpy tiktoken tqdm more-itertools
EXTRAS := faster-whisper,models,multilingual,fetch,youtube,export,report,diarize,cluster,dev
DEMO_OUT ?= demo-output
AXE := .test-tools/node_modules/axe-core/axe.min.js
PROJECT ?= samples/project
RULES := $(PROJECT)/.clipkit/rules.mk

# Tests and the demo never reach a model hub: models come from PyPI packages.
export HF_HUB_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test lint format bench clean fonts browser system-ffmpeg transcribe extracts all publish status film report

install: $(STAMP) fonts

# Two makes starting at once (two `make all` on one project) install once: the second waits on
# the lock, then finds the stamp fresh.
$(STAMP): pyproject.toml Makefile
	@flock $(VENV).lock sh -c 'test $@ -nt pyproject.toml && test $@ -nt Makefile || { \
	  set -e; test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install -q --disable-pip-version-check --upgrade pip; \
	  $(PY) -m pip install -q $(TORCH); \
	  $(PY) -m pip install -q --no-deps $(OPENAI_WHISPER); \
	  $(PY) -m pip install -q --no-warn-conflicts $(OPENAI_WHISPER_DEPS) "$(TORCH)"; \
	  $(PY) -m pip install -q --no-warn-conflicts -e ".[$(EXTRAS)]" "$(TORCH)"; \
	  touch $@; }'

# clipkit bundles DejaVu Sans for burnt-in subtitles; the system copy serves other programs.
fonts:
	@if [ -f $(FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1) || \
		echo "note: could not install fonts-dejavu-core; clipkit uses its bundled DejaVu Sans"; \
	else echo "hint: sudo apt-get install fonts-dejavu-core (optional: clipkit bundles DejaVu Sans)"; fi

# Most Linux users have their distribution's ffmpeg (4.4-7.x) on PATH: the media tests run with
# it and with the bundled one, so CI installs Debian's. clipkit itself checks whichever it finds
# and falls back to the bundled one when the PATH one lacks something.
# espeak-ng speaks the tests' generated voices (vocabulary, speakers).
system-ffmpeg:
	@if command -v ffmpeg >/dev/null && command -v espeak-ng >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq ffmpeg espeak-ng >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq ffmpeg espeak-ng >/dev/null 2>&1) || \
		echo "note: could not install Debian's ffmpeg and espeak-ng; tests needing them are skipped"; \
	else echo "hint: sudo apt-get install ffmpeg espeak-ng (the media tests then run with it too)"; fi

# The archive's tests open it in Debian's headless Chromium through chromedriver.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1) || \
		echo "note: could not install chromium; the archive's browser tests will be skipped"; \
	else echo "hint: sudo apt-get install chromium chromium-driver (for the archive's browser tests)"; fi
	@# axe-core checks the archive's accessibility in the browser tests
	@test -f $(AXE) || { command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq npm >/dev/null 2>&1; }; \
		npm install --silent --no-audit --no-fund --prefix .test-tools axe-core@4 >/dev/null 2>&1 || \
		echo "note: could not install axe-core; the accessibility check will be skipped"; }

# --- batch jobs over a project ---------------------------------------------------------------

CLIPKIT_PROJECT := $(abspath $(PROJECT))

ifneq ($(filter transcribe extracts all publish status,$(MAKECMDGOALS)),)
include $(RULES)
endif

# the per-recording and per-row rules, regenerated when the plan, recordings, settings or
# transcripts change (a row's rule names its subtitles by content: a corrected SRT remakes it)
$(RULES): $(CLIPKIT_PROJECT)/plan.csv $(CLIPKIT_PROJECT)/recordings $(CLIPKIT_PROJECT)/clipkit.toml $(wildcard $(CLIPKIT_PROJECT)/transcripts) | $(STAMP)
	@$(CLIPKIT) batch-rules $(PROJECT) --clipkit $(CLIPKIT) >/dev/null
	@touch $@

transcribe: $(CLIPKIT_TRANSCRIPTS)

extracts: $(CLIPKIT_EXTRACTS)

all: transcribe extracts

publish: $(CLIPKIT_EXTRACTS)
	$(CLIPKIT) --project $(PROJECT) publish $(if $(PUBLISH),,--dry-run)

status: | $(STAMP)
	@$(CLIPKIT) status $(PROJECT)

# the films of films/*.toml (each re-rendered only when it or its moments changed), and the
# findings report, from the extracts
film: $(CLIPKIT_EXTRACTS)
	$(CLIPKIT) --project $(PROJECT) film

report: $(CLIPKIT_EXTRACTS)
	$(CLIPKIT) report $(PROJECT)

# --- the two fresh-machine commands ----------------------------------------------------------

demo: install
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@cp -RL samples/project $(DEMO_OUT)/project
	$(MAKE) --no-print-directory all PROJECT=$(DEMO_OUT)/project
	$(CLIPKIT) subs check $(DEMO_OUT)/project/transcripts/conversation.srt
	$(MAKE) --no-print-directory publish PROJECT=$(DEMO_OUT)/project
	$(CLIPKIT) archive $(DEMO_OUT)/project
	@echo
	@echo "Demo outputs in $(DEMO_OUT)/project:"
	@cd $(DEMO_OUT)/project && ls -1 transcripts/* extracts/* site/index.html

test: install browser system-ffmpeg
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check clipkit tests bench samples
	$(VENV)/bin/ruff format --check clipkit tests bench samples

format: install
	$(VENV)/bin/ruff format clipkit tests bench samples
	$(VENV)/bin/ruff check --fix clipkit tests bench samples

bench: install
	@$(PY) -c "import pywhispercpp" 2>/dev/null || $(VENV)/bin/pip install -q pywhispercpp  # whisper.cpp, for comparison
	$(PY) bench/bench_transcribe.py
	$(PY) bench/bench_long.py
	$(PY) bench/bench_realspeech.py
	$(PY) bench/bench_diarize.py
	$(PY) bench/bench_cut.py
	$(PY) bench/bench_film.py
	$(PY) bench/bench_publish.py
	$(PY) bench/bench_make.py
	$(PY) bench/bench_cluster.py

clean:
	rm -rf $(DEMO_OUT) .pytest_cache .ruff_cache samples/project/transcripts samples/project/extracts samples/project/.clipkit
