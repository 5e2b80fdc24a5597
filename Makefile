# sluice top-level build. Non-recursive: every component describes itself in a
# build.mk beside its sources (framework/*/build.mk, modules/*/build.mk,
# tests/*/build.mk, bench/build.mk); this file only holds the rules and the
# user-facing targets. Outputs go to build/ (bin/ programs, test/ unit tests
# built with sanitizers, bench/ benchmarks, gen/ generated protobuf code).

CC      ?= gcc
B       := build
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
INC     := -Iframework -Imodules/lib -I$(B)/gen
CFLAGS  ?= -O2 -g
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
DEPFLAGS = -MMD -MP

# pkg-config is evaluated lazily (recursive variables) so that `make deps`
# can run before the libraries exist.
pc = $(shell pkg-config --libs $(1))
pcflags = $(shell pkg-config --cflags $(1))

BINS :=
UNIT_TESTS :=
BENCHES :=

# $(call sl_program,NAME,SOURCES,LDLIBS)   optimised program build/bin/NAME
define sl_program
BINS += $(B)/bin/$(1)
$(B)/bin/$(1): $(patsubst %.c,$(B)/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$^ $(3) -lm -lpthread
endef

# $(call sl_unit_test,NAME,SOURCES,LDLIBS)  sanitized test build/test/NAME
define sl_unit_test
UNIT_TESTS += $(B)/test/$(1)
$(B)/test/$(1): $(patsubst %.c,$(B)/san/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(SANFLAGS) -o $$@ $$^ $(3) -lcmocka -lm -lpthread
endef

# $(call sl_bench,NAME,SOURCES,LDLIBS)  benchmark build/bench/NAME
define sl_bench
BENCHES += $(B)/bench/$(1)
$(B)/bench/$(1): $(patsubst %.c,$(B)/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$^ $(3) -lm -lpthread
endef

# $(call sl_fuzzer,NAME,SOURCES,LDLIBS)  libFuzzer target build/fuzz/bin/NAME,
# built with clang, ASan and UBSan; its seed corpus is tests/fuzz/corpus/NAME/
FUZZ_CC := clang
FUZZFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
    -fno-sanitize-recover=undefined
FUZZERS :=
define sl_fuzzer
FUZZERS += $(B)/fuzz/bin/$(1)
$(B)/fuzz/bin/$(1): $(patsubst %.c,$(B)/fuzz/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZFLAGS) -o $$@ $$^ $(3) -lm -lpthread
endef

.PHONY: all deps test demo bench clean format images check-deps check-test-deps build-tests build-fuzz fuzz python
all: check-deps
	@$(MAKE) --no-print-directory build-all

# Order: the ground floor first (util, rpc's generated code), entry points
# (cli) last, so each build.mk can use the source lists defined before it.
SL_MK_FIRST := framework/util/build.mk framework/rpc/build.mk
SL_MK_LAST := framework/cli/build.mk
include $(SL_MK_FIRST)
include $(filter-out $(SL_MK_FIRST) $(SL_MK_LAST),$(sort $(wildcard framework/*/build.mk modules/*/build.mk tests/*/build.mk bench/build.mk dockerfiles/build.mk)))
include $(SL_MK_LAST)

build-all: $(BINS)
build-tests: $(BINS) $(UNIT_TESTS)
build-bench: $(BINS) $(BENCHES)
build-fuzz: $(FUZZERS)

# the Python client's gRPC stubs (python/, docs/python.md), generated into build/python
python:
	@python/build.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(INC) $(EXTRA_CFLAGS) $(DEPFLAGS) -c $< -o $@

# fuzzer objects: -fsanitize=fuzzer-no-link instruments without a main
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) -Wno-unused-command-line-argument $(subst fuzzer,fuzzer-no-link,$(FUZZFLAGS)) \
	    $(INC) $(EXTRA_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(SANFLAGS) $(INC) $(EXTRA_CFLAGS) $(DEPFLAGS) -c $< -o $@

deps:
	@scripts/install-deps.sh

# Installs only when something is missing; quiet otherwise.
check-deps:
	@scripts/install-deps.sh --check-quiet || scripts/install-deps.sh

# make test and make fuzz also need the test tools (install-deps.sh --test)
check-test-deps:
	@scripts/install-deps.sh --test --check-quiet || scripts/install-deps.sh --test

test: check-test-deps
	@$(MAKE) --no-print-directory build-tests build-fuzz
	@tests/run.sh

demo: check-deps
	@$(MAKE) --no-print-directory build-all
	@scripts/demo.sh

# FUZZ_SECONDS per fuzzer (default 60); FUZZ=NAME runs one
fuzz: check-test-deps
	@$(MAKE) --no-print-directory build-fuzz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run.sh $(FUZZ)

bench: check-deps
	@$(MAKE) --no-print-directory build-bench
	@bench/run.sh

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
