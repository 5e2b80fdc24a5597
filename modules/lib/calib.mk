# Offringa binary calibration solutions (calib.h). Guarded: include it from a
# module's build.mk.
ifndef MODLIB_CALIB_SRCS
MODLIB_CALIB_SRCS := modules/lib/calib.c
MODLIB_CALIB_LIBS :=
$(eval $(call sl_unit_test,test_calib,tests/unit/test_calib.c $(MODLIB_CALIB_SRCS),))
endif
