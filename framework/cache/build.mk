# framework/cache: what an object of the node-local cache is (its content
# manifest). Needs libxxhash (Debian libxxhash-dev, no .pc file).
SL_CACHE_SRCS := $(wildcard framework/cache/*.c)

$(eval $(call sl_unit_test,test_manifest,tests/unit/test_manifest.c framework/cache/manifest.c framework/util/buf.c framework/util/err.c framework/util/fsutil.c,-lxxhash))
