# mwa-down: manifest-driven parallel ranged downloader (libcurl multi + xxhash).
MWA_DOWN_SRC := $(addprefix modules/mwa-down/,main.c fetch.c manifest.c partstate.c checksum.c emit.c)
$(eval $(call sl_program,mwa-down,$(MWA_DOWN_SRC),$(call pc,libcurl) -lxxhash))
