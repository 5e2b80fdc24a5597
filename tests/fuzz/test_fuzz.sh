#!/usr/bin/env bash
# Runs every fuzzer briefly (FUZZ_SECONDS, default 10 s each) as part of
# `make test`; `make fuzz` runs them longer. Fails on any crash.
exec "$(dirname "$0")/run.sh"
