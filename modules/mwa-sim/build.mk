# modules/mwa-sim: the synthetic-observation simulator (see README.md).
MWA_SIM_SRCS := modules/mwa-sim/sim.c modules/lib/vcs.c modules/lib/metafits.c \
	modules/lib/calib.c modules/lib/astrometry.c
MWA_SIM_LIBS = $(call pc,cfitsio erfa)
$(eval $(call sl_program,mwa-sim,modules/mwa-sim/main.c $(MWA_SIM_SRCS),$(MWA_SIM_LIBS)))
