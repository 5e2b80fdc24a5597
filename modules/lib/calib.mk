# modules/lib Offringa binary calibration solutions. Variables only.
MODLIB_CALIB_SRCS := modules/lib/calib.c
MODLIB_CALIB_LIBS :=
