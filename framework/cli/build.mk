# framework/cli: the `sluice` binary (one file per subcommand).
SL_CLI_SRCS := $(wildcard framework/cli/*.c)
SL_ALL_FRAMEWORK_SRCS = $(SL_CLI_SRCS) $(SL_CONTROLLER_SRCS) $(SL_AGENT_SRCS) $(SL_SCHED_SRCS) \
  $(SL_RUNTIME_SRCS) $(SL_DP_SRCS) $(SL_CACHE_SRCS) $(SL_STORE_SRCS) $(SL_PIPELINE_SRCS) $(SL_RPC_SRCS) $(SL_SLURM_SRCS) \
  $(wildcard framework/util/*.c)
SL_ALL_FRAMEWORK_LIBS = $(call pc,sqlite3 grpc libprotobuf-c libmicrohttpd) -lyaml -lxxhash -lssl -lcrypto

$(B)/bin/sluice: $(patsubst %.c,$(B)/obj/%.o,$(SL_ALL_FRAMEWORK_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(SL_ALL_FRAMEWORK_LIBS) -lm -lpthread
BINS += $(B)/bin/sluice

# The same binary with ASan/UBSan, for debugging and sanitizer test runs.
$(B)/san-bin/sluice: $(patsubst %.c,$(B)/san/%.o,$(SL_ALL_FRAMEWORK_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(SL_ALL_FRAMEWORK_LIBS) -lm -lpthread
