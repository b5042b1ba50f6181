# Thin wrapper over Meson. `make demo` and `make test` are the README's two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=

.PHONY: all deps build demo test test-asan test-release bench install clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The no-key demo: an agent with a scripted model reviews a tiny repository in a sandbox.
demo: build
	@$(BUILD)/bridle run --agent examples/review/agent.yaml \
		"Review the repository in /workspace/repo: run its tests and write out/report.md"
	@echo; echo "--- examples/review/out/report.md, written by the agent inside the sandbox:"
	@cat examples/review/out/report.md
	@echo; echo "The model was scripted (examples/review/script.yaml): no API key was used."
	@echo "With a real model: OPENAI_API_KEY=... $(BUILD)/bridle run --agent examples/review/agent.yaml \\"
	@echo "    --provider openai-responses --model gpt-5.1 \"Review the repository\""
	@echo "Any OpenAI-compatible server: add --provider openai-chat --base-url http://HOST/v1"
	@echo "See the run again: $(BUILD)/bridle runs; the sandbox on its own: $(BUILD)/bridle demo"

# The whole suite; the last line is "N passed, N failed, N skipped".
test: build
	@meson test -C $(BUILD) --print-errorlogs --num-processes 2; rc=$$?; \
	scripts/test-summary $(BUILD)/meson-logs/testlog.json; exit $$rc

# The same suite under ASan + UBSan.
test-asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false
	@ninja -C $(ASAN_BUILD)
	@ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2; rc=$$?; \
	scripts/test-summary $(ASAN_BUILD)/meson-logs/testlog.json; exit $$rc

bench: build
	bench/sandbox-start $(BUILD)/bridle
	BRIDLE_INIT_PATH=$(BUILD)/bridle-init $(BUILD)/bench/living-exec 300
	BRIDLE_INIT_PATH=$(CURDIR)/$(BUILD)/bridle-init bench/sandbox-exec $(BUILD)/bridle
	BRIDLE_INIT_PATH=$(CURDIR)/$(BUILD)/bridle-init $(BUILD)/bench/living-snapshot 1024 5
	bench/harness/run $(BUILD)
	bench/resume-latency $(BUILD)
	bench/checkpoint-cost $(BUILD)
	$(BUILD)/bench/gateway-bench
	$(BUILD)/bench/egress-bench
	bench/mcp-call/run $(BUILD)

install: build
	meson install -C $(BUILD)
	@if [ -d /etc/apparmor.d ] && command -v apparmor_parser >/dev/null 2>&1; then \
		apparmor_parser -r /etc/apparmor.d/bridle || true; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
