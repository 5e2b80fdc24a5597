# modules/lib metafits reader/writer (cfitsio). Variables only.
MODLIB_METAFITS_SRCS := modules/lib/metafits.c modules/lib/vcs.c
MODLIB_METAFITS_LIBS = $(call pc,cfitsio)
