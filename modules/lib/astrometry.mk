# Astrometry at the MWA site (astrometry.h, ERFA). Guarded: include it from a
# module's build.mk.
ifndef MODLIB_ASTROMETRY_SRCS
MODLIB_ASTROMETRY_SRCS := modules/lib/astrometry.c
MODLIB_ASTROMETRY_LIBS = $(call pc,erfa)
$(eval $(call sl_unit_test,test_astro,tests/unit/test_astro.c $(MODLIB_ASTROMETRY_SRCS),$(MODLIB_ASTROMETRY_LIBS)))
endif
