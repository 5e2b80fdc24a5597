# Legacy VCS voltage decode and byte order (vcs.h). A module's build.mk
# includes this itself (it is read before modules/lib/build.mk) and links
# $(MODLIB_VCS_SRCS). The guard makes repeated includes harmless.
ifndef MODLIB_VCS_SRCS
MODLIB_VCS_SRCS := modules/lib/vcs.c
MODLIB_VCS_LIBS :=
$(eval $(call sl_unit_test,test_vcs,tests/unit/test_vcs.c $(MODLIB_VCS_SRCS),))
endif
