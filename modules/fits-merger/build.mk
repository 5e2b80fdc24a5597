# fits-merger: joins single-coarse-channel PSRFITS files (see README.md).
include modules/lib/psrfits.mk
$(eval $(call sl_program,fits-merger,modules/fits-merger/fits_merger.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS)))
# Runs the real down-sampler and fits-merger programs (build/bin) on small files.
$(eval $(call sl_unit_test,test_psrfits_tools,tests/unit/test_psrfits_tools.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS) $(call pc,libzstd)))
$(B)/test/test_psrfits_tools: | $(B)/bin/fits-merger $(B)/bin/down-sampler
