# modules/mwa-sim: the synthetic-observation simulator (see README.md).
include modules/lib/vcs.mk modules/lib/metafits.mk modules/lib/calib.mk modules/lib/astrometry.mk
MWA_SIM_SRCS := modules/mwa-sim/sim.c $(MODLIB_METAFITS_SRCS) $(MODLIB_CALIB_SRCS) \
	$(MODLIB_ASTROMETRY_SRCS)
MWA_SIM_LIBS = $(call pc,cfitsio erfa)
$(eval $(call sl_program,mwa-sim,modules/mwa-sim/main.c modules/lib/module_fs.c $(MWA_SIM_SRCS),$(MWA_SIM_LIBS)))
