# framework/runtime: how an agent runs a task (process, noop, podman, docker,
# charliecloud, apptainer/singularity, bwrap) and sluice-init, the static idle
# PID 1 of reusable slot containers (bind-mounted into them, so any image works).
SL_RUNTIME_SRCS := $(wildcard framework/runtime/*.c)
$(eval $(call sl_program,sluice-init,framework/runtime/init/sluice_init.c,-static))
