# modules/lib astrometry at the MWA site (ERFA). Variables only.
MODLIB_ASTROMETRY_SRCS := modules/lib/astrometry.c
MODLIB_ASTROMETRY_LIBS = $(call pc,erfa)
