# framework/controller: the controller daemon (scheduler behind the gRPC API).
SL_CONTROLLER_SRCS := $(wildcard framework/controller/*.c)

$(eval $(call sl_unit_test,test_http_auth,tests/unit/test_http_auth.c framework/controller/http_auth.c framework/controller/crypto.c,-lcrypto))
