# framework/rpc: the only module that touches gRPC (core C API + protobuf-c).
# Generates the protobuf-c code for framework/proto/sluice.proto into
# build/gen, and builds the rpc unit test, the interop test server and the
# rpc latency bench. Other components link $(SL_RPC_SRCS) with $(SL_RPC_LIBS).

SL_PROTO := framework/proto/sluice.proto
SL_PB_C := $(B)/gen/sluice.pb-c.c
SL_PB_H := $(B)/gen/sluice.pb-c.h
SL_RPC_SRCS := $(wildcard framework/rpc/*.c) $(SL_PB_C)
# Recursive (=) so pkg-config runs only when a link recipe expands it, after
# `make deps`. Inside $(eval $(call ...)) pass it as $$(SL_RPC_LIBS).
SL_RPC_LIBS = $(call pc,grpc libprotobuf-c)

$(SL_PB_C) $(SL_PB_H) &: $(SL_PROTO)
	@mkdir -p $(@D)
	protoc-c --c_out=$(B)/gen --proto_path=$(dir $(SL_PROTO)) $(notdir $(SL_PROTO))
	@# protoc-c 1.4 names the service vtable member of `rpc Register` after the
	@# method, `register`, a C keyword. Renaming the rpc would change its wire
	@# path, so rename the member in the generated header instead (the .c only
	@# reaches methods by index). We dispatch by path and never use the vtable.
	sed -i 's/(\*register)(/(*register_)(/' $(SL_PB_H)
	@touch $(SL_PB_C) $(SL_PB_H)

# The first build has no .d files yet, so every object whose source includes
# the generated header, directly or through one of our headers, gets it as
# an order-only prerequisite. Found by grep at parse time (a few ms); later
# builds also have the real dependency from the .d files.
sl_rpc_pb_direct := $(shell grep -rlF --include='*.c' --include='*.h' '"sluice.pb-c.h"' \
                      framework modules tests bench 2>/dev/null)
sl_rpc_pb_hdrs := $(notdir $(filter %.h,$(sl_rpc_pb_direct)))
sl_rpc_pb_users := $(filter %.c,$(sl_rpc_pb_direct)) \
  $(if $(sl_rpc_pb_hdrs),$(shell grep -rlF --include='*.c' \
      $(foreach h,$(sl_rpc_pb_hdrs),-e '/$(h)"' -e '"$(h)"') framework modules tests bench 2>/dev/null))
$(sort $(foreach d,obj san,$(patsubst %.c,$(B)/$(d)/%.o,$(sl_rpc_pb_users)))): | $(SL_PB_H)

# gRPC's own cflags (today only -DNOMINMAX), for the files that include it.
$(B)/obj/framework/rpc/%.o $(B)/san/framework/rpc/%.o: EXTRA_CFLAGS += $(call pcflags,grpc)

# util's build.mk is read after this one (includes go in name order), so its
# SL_UTIL_SRCS may still be empty here; fall back to the same wildcard.
sl_rpc_util := $(or $(SL_UTIL_SRCS),$(wildcard framework/util/*.c))

$(eval $(call sl_unit_test,test_rpc,tests/unit/test_rpc.c $(SL_RPC_SRCS) $(sl_rpc_util),$$(SL_RPC_LIBS)))

# A standalone server for tests/integration/test_rpc_interop.sh, where a
# client that is not ours (Python grpcio) calls it. Not a product binary, so
# it lives in build/test-tools and is built with the tests.
SL_RPC_INTEROP_SERVER := $(B)/test-tools/sl-rpc-interop-server
$(SL_RPC_INTEROP_SERVER): $(patsubst %.c,$(B)/obj/%.o,tests/integration/test_rpc_interop_server.c $(SL_RPC_SRCS) $(sl_rpc_util))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(SL_RPC_LIBS) -lm -lpthread
build-tests: $(SL_RPC_INTEROP_SERVER)

$(eval $(call sl_bench,rpc_latency,bench/rpc_latency.c $(SL_RPC_SRCS) $(sl_rpc_util),$$(SL_RPC_LIBS)))
