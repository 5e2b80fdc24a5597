# framework/util: the ground floor (errors, buffers, clocks, units). No deps.
SL_UTIL_SRCS := $(wildcard framework/util/*.c)

$(eval $(call sl_unit_test,test_json,tests/unit/test_json.c framework/util/json.c framework/util/buf.c framework/util/err.c,))
