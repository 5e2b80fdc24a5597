# framework/slurm: renders the pilot batch script, runs sbatch/squeue/scancel.
SL_SLURM_SRCS := $(wildcard framework/slurm/*.c)
$(eval $(call sl_unit_test,test_slurm,tests/unit/test_slurm.c $(SL_SLURM_SRCS) framework/util/buf.c framework/util/err.c,))
