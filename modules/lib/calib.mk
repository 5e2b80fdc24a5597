# modules/lib Offringa binary calibration solutions. Variables only.
MODLIB_CALIB_SRCS := modules/lib/calib.c
MODLIB_CALIB_LIBS :=
$(eval $(call sl_unit_test,test_calib,tests/unit/test_calib.c modules/lib/calib.c,))
