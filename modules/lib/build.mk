# modules/lib: the shared science library. Each part describes itself in its
# own modules/lib/NAME.mk (MODLIB_NAME_SRCS, MODLIB_NAME_LIBS) so that several
# people can add parts without touching one file.
include $(sort $(filter-out modules/lib/build.mk,$(wildcard modules/lib/*.mk)))
