# modules/lib science pieces for voltages (variables only: included by
# modules/lib/build.mk and by the modules that use them).
MODLIB_VCS_SRCS := modules/lib/vcs.c
MODLIB_VCS_LIBS :=
$(eval $(call sl_unit_test,test_vcs,tests/unit/test_vcs.c modules/lib/vcs.c,))
