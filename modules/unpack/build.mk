# unpack, repack, pull-unpack: MWA per-second tars -> channel files -> per-channel
# .tar.zst -> memory cache (libarchive + libzstd; pull-unpack also libcurl).
UNPACK_COMMON := $(addprefix modules/unpack/,names.c source.c extract.c unpack_cli.c) modules/lib/module_emit.c
UNPACK_LIBS = $(call pc,libarchive libzstd libcurl)
$(eval $(call sl_program,unpack,modules/unpack/unpack_main.c $(UNPACK_COMMON),$(UNPACK_LIBS)))
$(eval $(call sl_program,pull-unpack,modules/unpack/pull_unpack_main.c $(UNPACK_COMMON),$(UNPACK_LIBS)))
$(eval $(call sl_program,repack,modules/unpack/repack_main.c modules/unpack/names.c modules/lib/module_emit.c,$(call pc,libarchive libzstd)))
