# tests/fuzz: libFuzzer harnesses, one per input format sluice reads from
# outside (see tests/fuzz/README.md). Each harness is tests/fuzz/fuzz_NAME.c
# with its seed corpus in tests/fuzz/corpus/fuzz_NAME/. Other *.mk files in
# this folder (module harnesses) are read too.

$(eval $(call sl_fuzzer,fuzz_task_key,tests/fuzz/fuzz_task_key.c framework/pipeline/template.c framework/util/err.c framework/util/buf.c framework/util/json.c,))

include $(filter-out tests/fuzz/build.mk,$(wildcard tests/fuzz/*.mk))
