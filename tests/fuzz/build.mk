# tests/fuzz: libFuzzer harnesses, one per input format sluice reads from
# outside (see tests/fuzz/README.md). Each harness is tests/fuzz/fuzz_NAME.c
# with its seed corpus in tests/fuzz/corpus/fuzz_NAME/. Other *.mk files in
# this folder (module harnesses) are read too.

sl_fuzz_util := framework/util/err.c framework/util/buf.c framework/util/json.c
sl_fuzz_pipeline := $(sort $(wildcard framework/pipeline/*.c)) $(sl_fuzz_util) \
    framework/util/units.c

$(eval $(call sl_fuzzer,fuzz_task_key,tests/fuzz/fuzz_task_key.c framework/pipeline/template.c $(sl_fuzz_util),))
$(eval $(call sl_fuzzer,fuzz_pipeline_yaml,tests/fuzz/fuzz_pipeline_yaml.c $(sl_fuzz_pipeline),-lyaml))
$(eval $(call sl_fuzzer,fuzz_key_template,tests/fuzz/fuzz_key_template.c framework/pipeline/template.c $(sl_fuzz_util),))
$(eval $(call sl_fuzzer,fuzz_dp_frames,tests/fuzz/fuzz_dp_frames.c framework/dataplane/dp_proto.c framework/dataplane/dp_cap.c $(sl_fuzz_util),-lxxhash -lcrypto))
$(eval $(call sl_fuzzer,fuzz_headers_json,tests/fuzz/fuzz_headers_json.c $(sl_fuzz_util),))
$(eval $(call sl_fuzzer,fuzz_manifest,tests/fuzz/fuzz_manifest.c framework/cache/manifest.c framework/cache/manifest_pb.c $(SL_PB_C) $(sl_fuzz_util),-lxxhash -lprotobuf-c))
$(eval $(call sl_fuzzer,fuzz_rpc_requests,tests/fuzz/fuzz_rpc_requests.c framework/agent/agent_wire.c framework/cache/manifest.c framework/cache/manifest_pb.c $(SL_PB_C) $(sl_fuzz_pipeline),-lyaml -lxxhash -lprotobuf-c))

# Fuzzer objects that include the generated protobuf header need it first.
$(B)/fuzz/obj/tests/fuzz/fuzz_rpc_requests.o $(B)/fuzz/obj/tests/fuzz/fuzz_manifest.o \
$(B)/fuzz/obj/framework/agent/agent_wire.o $(B)/fuzz/obj/framework/cache/manifest_pb.o: | $(SL_PB_H)

include $(filter-out tests/fuzz/build.mk,$(wildcard tests/fuzz/*.mk))
