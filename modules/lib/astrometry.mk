# modules/lib astrometry at the MWA site (ERFA). Variables only.
MODLIB_ASTROMETRY_SRCS := modules/lib/astrometry.c
MODLIB_ASTROMETRY_LIBS = $(call pc,erfa)
$(eval $(call sl_unit_test,test_astro,tests/unit/test_astro.c modules/lib/astrometry.c,$(call pc,erfa)))
