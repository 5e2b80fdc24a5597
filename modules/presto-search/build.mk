# modules/presto-search: PRESTO's search chain in C (rfifind, DDplan, subband
# dedispersion, FFT + harmonic summing + acceleration search, sifting, folding
# with PNG plots). Programs: presto-search, presto-fakepulsar (test data).
include modules/lib/psrfits.mk
PRESTO_DIR := modules/presto-search
PRESTO_CORE := $(addprefix $(PRESTO_DIR)/,stats.c parallel.c filterbank.c rfi.c ddplan.c \
    dedisp.c cands.c fftsearch.c accel.c sift.c fold.c png.c report.c search.c series_io.c) \
    $(PRESTO_DIR)/psrfits_input.c $(MODLIB_PSRFITS_SRCS)
PRESTO_LIBS = $(call pc,fftw3f) $(call pc,zlib) $(MODLIB_PSRFITS_LIBS)

$(eval $(call sl_program,presto-search,$(PRESTO_CORE) $(PRESTO_DIR)/cli.c,$(PRESTO_LIBS)))
$(eval $(call sl_program,presto-fakepulsar,$(PRESTO_DIR)/filterbank.c \
    $(PRESTO_DIR)/psrfits_input.c $(MODLIB_PSRFITS_SRCS) $(PRESTO_DIR)/tools/fakepulsar.c,$(PRESTO_LIBS)))
$(eval $(call sl_unit_test,presto_search_unit,$(PRESTO_CORE) $(PRESTO_DIR)/tests/unit_search.c,$(PRESTO_LIBS)))
$(eval $(call sl_bench,search,$(PRESTO_CORE) bench/search.c,$(PRESTO_LIBS)))
