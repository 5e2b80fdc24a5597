# framework/util: the ground floor (errors, buffers, clocks, units). No deps.
SL_UTIL_SRCS := $(wildcard framework/util/*.c)
