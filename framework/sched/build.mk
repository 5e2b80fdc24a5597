# framework/sched: placement, leases, retries, joins (the controller's brain).
SL_SCHED_SRCS := $(wildcard framework/sched/*.c)
