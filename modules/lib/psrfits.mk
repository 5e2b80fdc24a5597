# PSRFITS search-mode writer/reader (cfitsio). Link a program with
#   $(MODLIB_PSRFITS_SRCS) in its sources and $(MODLIB_PSRFITS_LIBS) in its libs.
MODLIB_PSRFITS_SRCS := modules/lib/psrfits.c
MODLIB_PSRFITS_LIBS = $(call pc,cfitsio)

$(eval $(call sl_unit_test,test_psrfits,tests/unit/test_psrfits.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS)))
