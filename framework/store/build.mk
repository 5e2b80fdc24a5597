# framework/store: SQLite state of the controller.
SL_STORE_SRCS := $(wildcard framework/store/*.c)
SL_STORE_LIBS = $(call pc,sqlite3)

$(eval $(call sl_unit_test,test_store,tests/unit/test_store.c $(SL_STORE_SRCS) framework/util/err.c framework/util/buf.c,$$(SL_STORE_LIBS)))
