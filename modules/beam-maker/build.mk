# modules/beam-maker: the tied-array beamformer (see README.md), its science
# test helper beam-fold-snr, and bench/beam.
BEAM_SRCS := modules/beam-maker/beam.c modules/lib/vcs.c modules/lib/metafits.c \
	modules/lib/calib.c modules/lib/astrometry.c modules/lib/psrfits.c
BEAM_LIBS = $(call pc,cfitsio erfa openblas)
$(B)/obj/modules/beam-maker/%.o $(B)/obj/bench/beam.o: EXTRA_CFLAGS += $(call pcflags,openblas)
$(eval $(call sl_program,beam-maker,modules/beam-maker/main.c $(BEAM_SRCS),$(BEAM_LIBS)))
$(eval $(call sl_program,beam-fold-snr,modules/beam-maker/tests/fold_snr.c modules/lib/psrfits.c,$(call pc,cfitsio)))
$(eval $(call sl_bench,beam,bench/beam.c $(BEAM_SRCS),$(BEAM_LIBS)))
