# framework/agent: the per-host agent daemon.
SL_AGENT_SRCS := $(wildcard framework/agent/*.c)
