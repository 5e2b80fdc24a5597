# bench/: benchmarks of the framework itself (the modules' own benches are
# declared in their build.mk). `make bench` runs bench/run.sh.
$(eval $(call sl_bench,spawn_rate,bench/spawn_rate.c,))
