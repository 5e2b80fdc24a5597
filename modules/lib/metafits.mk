# metafits reader/writer (metafits.h, cfitsio); needs vcs.c and fits_check.c, in
# MODLIB_METAFITS_SRCS. Guarded: include it from a module's build.mk.
ifndef MODLIB_METAFITS_SRCS
MODLIB_METAFITS_SRCS := modules/lib/metafits.c modules/lib/vcs.c modules/lib/fits_check.c
MODLIB_METAFITS_LIBS = $(call pc,cfitsio)
$(eval $(call sl_unit_test,test_metafits,tests/unit/test_metafits.c $(MODLIB_METAFITS_SRCS),$(MODLIB_METAFITS_LIBS)))
endif
