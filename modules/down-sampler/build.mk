# down-sampler: time averaging of PSRFITS search-mode files (see README.md).
include modules/lib/psrfits.mk
$(eval $(call sl_program,down-sampler,modules/down-sampler/down_sampler.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS) $(call pc,libzstd)))
