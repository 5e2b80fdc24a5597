# framework/runtime: how an agent runs a task (process, noop; containers later).
SL_RUNTIME_SRCS := $(wildcard framework/runtime/*.c)
