# modules/beam-maker: the tied-array beamformer (see README.md), its science
# test helper beam-fold-snr, and bench/beam (build/bench/beam).
include modules/lib/vcs.mk modules/lib/metafits.mk modules/lib/calib.mk \
	modules/lib/astrometry.mk modules/lib/psrfits.mk
# sorted: metafits and psrfits share modules/lib/fits_check.c
BEAM_SRCS := modules/beam-maker/beam.c $(sort $(MODLIB_METAFITS_SRCS) $(MODLIB_CALIB_SRCS) \
	$(MODLIB_ASTROMETRY_SRCS) $(MODLIB_PSRFITS_SRCS))
BEAM_LIBS = $(call pc,cfitsio erfa openblas)
$(B)/obj/modules/beam-maker/%.o $(B)/obj/bench/beam.o: EXTRA_CFLAGS += $(call pcflags,openblas)
$(eval $(call sl_program,beam-maker,modules/beam-maker/main.c modules/lib/module_fs.c $(BEAM_SRCS),$(BEAM_LIBS)))
$(eval $(call sl_program,beam-fold-snr,modules/beam-maker/tests/fold_snr.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS)))
$(eval $(call sl_bench,beam,bench/beam.c $(BEAM_SRCS),$(BEAM_LIBS)))
