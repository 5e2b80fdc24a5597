# bench/: benchmarks of the framework itself (the modules' own benches are
# declared in their build.mk). `make bench` runs bench/run.sh.
$(eval $(call sl_bench,spawn_rate,bench/spawn_rate.c,))
$(eval $(call sl_bench,manifest_hash,bench/manifest_hash.c framework/cache/manifest.c framework/util/buf.c framework/util/err.c framework/util/clock.c,-lxxhash))
