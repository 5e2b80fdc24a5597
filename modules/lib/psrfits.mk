# PSRFITS search-mode writer/reader (cfitsio). A module's build.mk is read
# before modules/lib/build.mk (alphabetical), so it includes this file itself:
#   include modules/lib/psrfits.mk
# and then links $(MODLIB_PSRFITS_SRCS) with $(MODLIB_PSRFITS_LIBS).
# The guard makes repeated includes harmless.
ifndef MODLIB_PSRFITS_SRCS
MODLIB_PSRFITS_SRCS := modules/lib/psrfits.c modules/lib/fits_check.c
MODLIB_PSRFITS_LIBS = $(call pc,cfitsio)

$(eval $(call sl_unit_test,test_psrfits,tests/unit/test_psrfits.c $(MODLIB_PSRFITS_SRCS),$(MODLIB_PSRFITS_LIBS)))
endif

# The FITS header check both FITS readers run before cfitsio (fits_check.h).
ifndef MODLIB_FITS_CHECK_TEST
MODLIB_FITS_CHECK_TEST := 1
$(eval $(call sl_unit_test,test_fits_check,tests/unit/test_fits_check.c modules/lib/psrfits.c \
    modules/lib/fits_check.c modules/lib/metafits.c modules/lib/vcs.c,$(call pc,cfitsio)))
endif
