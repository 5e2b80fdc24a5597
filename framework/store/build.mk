# framework/store: SQLite state of the controller.
SL_STORE_SRCS := $(wildcard framework/store/*.c)
SL_STORE_LIBS = $(call pc,sqlite3)
