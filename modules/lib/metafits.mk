# modules/lib metafits reader/writer (cfitsio). Variables only.
MODLIB_METAFITS_SRCS := modules/lib/metafits.c modules/lib/vcs.c
MODLIB_METAFITS_LIBS = $(call pc,cfitsio)
$(eval $(call sl_unit_test,test_metafits,tests/unit/test_metafits.c $(MODLIB_METAFITS_SRCS),$(MODLIB_METAFITS_LIBS)))
