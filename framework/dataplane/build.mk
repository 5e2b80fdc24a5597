# framework/dataplane: host-to-host object transfer (data server + client).
# Library sources are listed (not wildcarded) so the CLI main stays out of
# what the agent links. Needs libxxhash (Debian libxxhash-dev, no .pc file)
# and OpenSSL 3 (libssl-dev: HMAC for capabilities, TLS).
SL_DP_SRCS := framework/dataplane/dp_proto.c framework/dataplane/dp_cap.c \
              framework/dataplane/dp_io.c framework/dataplane/dp_tls.c \
              framework/dataplane/dp_server.c framework/dataplane/dp_client.c \
              framework/dataplane/dp_local.c
SL_DP_LIBS := -lxxhash -lssl -lcrypto
# util/build.mk is included after this file (alphabetical), so SL_UTIL_SRCS is
# not yet set when the rules below are expanded: name the same files here.
SL_DP_UTIL := $(wildcard framework/util/*.c)

$(eval $(call sl_program,sluice-dp,framework/dataplane/dp_cli.c $(SL_DP_SRCS) $(SL_DP_UTIL),$(SL_DP_LIBS)))
$(eval $(call sl_unit_test,test_dp_proto,tests/unit/test_dp_proto.c $(SL_DP_SRCS) $(SL_DP_UTIL),$(SL_DP_LIBS)))
$(eval $(call sl_bench,dataplane_handoff,bench/dataplane_handoff.c $(SL_DP_SRCS) $(SL_DP_UTIL),$(SL_DP_LIBS)))
