# mwa-down: manifest-driven parallel ranged downloader (libcurl multi + xxhash).
MWA_DOWN_SRC := $(addprefix modules/mwa-down/,main.c fetch.c manifest.c partstate.c checksum.c emit.c) modules/lib/module_emit.c
$(eval $(call sl_program,mwa-down,$(MWA_DOWN_SRC),$(call pc,libcurl) -lxxhash))
# bench/ingest.sh helpers: a sendfile HTTP server and a voltage-like data generator
$(eval $(call sl_bench,ingest_httpd,bench/ingest_httpd.c,))
$(eval $(call sl_bench,ingest_gen,bench/ingest_gen.c,))
