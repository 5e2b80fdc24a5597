# framework/controller: the controller daemon (scheduler behind the gRPC API).
SL_CONTROLLER_SRCS := $(wildcard framework/controller/*.c)
