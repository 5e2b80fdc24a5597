# tests/fuzz/modules.mk: libFuzzer harnesses for the science readers (see
# tests/fuzz/README-modules.md). Read by tests/fuzz/build.mk after every
# modules/*/build.mk, so the modules/lib source lists exist; the guarded
# includes below make that explicit. memfile.c hands an input to readers that
# only take a path.
include modules/lib/vcs.mk modules/lib/metafits.mk modules/lib/calib.mk modules/lib/psrfits.mk

FUZZ_MEMFILE := tests/fuzz/memfile.c
FUZZ_PRESTO_READ := $(addprefix modules/presto-search/,filterbank.c psrfits_input.c) \
    $(MODLIB_PSRFITS_SRCS)

$(B)/fuzz/obj/tests/fuzz/%.o: EXTRA_CFLAGS += -Itests/fuzz -Imodules/presto-search -Imodules/unpack

$(eval $(call sl_fuzzer,fuzz_metafits,tests/fuzz/fuzz_metafits.c $(FUZZ_MEMFILE) \
    $(sort $(MODLIB_METAFITS_SRCS) $(MODLIB_VCS_SRCS)),$(MODLIB_METAFITS_LIBS)))
$(eval $(call sl_fuzzer,fuzz_vcs,tests/fuzz/fuzz_vcs.c $(FUZZ_MEMFILE) $(MODLIB_VCS_SRCS),))
$(eval $(call sl_fuzzer,fuzz_calib,tests/fuzz/fuzz_calib.c $(FUZZ_MEMFILE) $(MODLIB_CALIB_SRCS),))
$(eval $(call sl_fuzzer,fuzz_psrfits,tests/fuzz/fuzz_psrfits.c $(FUZZ_MEMFILE) \
    $(FUZZ_PRESTO_READ),$(MODLIB_PSRFITS_LIBS)))
$(eval $(call sl_fuzzer,fuzz_filterbank,tests/fuzz/fuzz_filterbank.c $(FUZZ_MEMFILE) \
    $(FUZZ_PRESTO_READ),$(MODLIB_PSRFITS_LIBS)))
$(eval $(call sl_fuzzer,fuzz_unpack_tar,tests/fuzz/fuzz_unpack_tar.c $(FUZZ_MEMFILE) \
    $(addprefix modules/unpack/,extract.c source.c names.c) modules/lib/module_emit.c, \
    $(call pc,libarchive libzstd libcurl)))
