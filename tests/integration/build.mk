# tests/integration: test-only programs the integration scripts run (built
# with the tests into build/test-tools, never installed). Read after every
# framework/*/build.mk but cli's, so their source lists are known here.

# The HTTP page over a real scheduler with a user token given on the command
# line (test_http_auth.sh), until the controller's secrets store supplies it.
SL_HTTP_TEST_SERVER := $(B)/test-tools/sl-http-test-server
$(SL_HTTP_TEST_SERVER): $(patsubst %.c,$(B)/obj/%.o,tests/integration/test_http_server.c \
    framework/controller/http.c framework/controller/http_auth.c $(SL_SCHED_SRCS) \
    $(SL_STORE_SRCS) $(SL_PIPELINE_SRCS) $(SL_CACHE_SRCS) $(wildcard framework/util/*.c) \
    build/gen/sluice.pb-c.c)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(call pc,sqlite3 libmicrohttpd libprotobuf-c) -lyaml -lxxhash -lm -lpthread
build-tests: $(SL_HTTP_TEST_SERVER)
