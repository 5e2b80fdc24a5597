# framework/pipeline: the pipeline YAML model, parser, validator and key
# templates. Programs that read pipeline files link
#   $(SL_PIPELINE_SRCS) $(SL_UTIL_SRCS)   with   $(SL_PIPELINE_LDLIBS)
# (SL_UTIL_SRCS already holds units.c). SL_UNITS_SRCS is the minimal set for
# programs that only parse durations and sizes.
SL_PIPELINE_SRCS := $(sort $(wildcard framework/pipeline/*.c))
SL_PIPELINE_LDLIBS := -lyaml
SL_UNITS_SRCS := framework/util/units.c framework/util/err.c

# This file is read before framework/util/build.mk (alphabetical), so the
# util sources the tests need are named here rather than via SL_UTIL_SRCS.
SL_PIPELINE_TEST_UTIL := framework/util/err.c framework/util/buf.c framework/util/units.c \
    framework/util/json.c

$(eval $(call sl_unit_test,test_units,tests/unit/test_units.c $(SL_UNITS_SRCS),))
$(eval $(call sl_unit_test,test_template,tests/unit/test_template.c framework/pipeline/template.c framework/util/err.c framework/util/buf.c framework/util/json.c,))
$(eval $(call sl_unit_test,test_pipeline,tests/unit/test_pipeline.c $(SL_PIPELINE_SRCS) $(SL_PIPELINE_TEST_UTIL),-lyaml))
