#!/usr/bin/env bash
# What a client can make the controller hold (framework/pipeline/limits.h):
# pipeline documents, scalars (as written and after ${VAR} substitution),
# nesting, stages, env_file variables and message headers over their limits
# are refused by `sluice validate` with "file:line:col: ... limit ...", and by
# a real controller at submit and at emit. The big inputs are made here, not
# committed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

# expect_refused DESCRIPTION FILE WANT: validate exits 2 (invalid input) printing FILE:WANT
expect_refused() {
  local out rc
  out=$(sluice validate "$2" 2>&1); rc=$?
  if [ $rc = 2 ] && grep -qF -- "$2:$3" <<<"$out"; then ok "$1"; else
    not_ok "$1"; echo "#   rc=$rc got: $(head -c 300 <<<"$out")"; echo "#   want: $2:$3"; fi
}
# expect_msg DESCRIPTION FILE TEXT: validate exits 2 printing FILE:L:C: ...TEXT...
expect_msg() {
  local out rc
  out=$(sluice validate "$2" 2>&1); rc=$?
  if [ $rc = 2 ] && grep -q "^$2:[0-9]*:[0-9]*: " <<<"$out" && grep -qF -- "$3" <<<"$out"; then ok "$1"; else
    not_ok "$1"; echo "#   rc=$rc got: $(head -c 300 <<<"$out")"; echo "#   want: $2:L:C: ...$3"; fi
}
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }

P="$TMP/pipe.yaml"
{ printf 'name: demo\nstages:\n  - name: a\n    command: [a, "'; rep x 10485760; printf '"]\n'; } >"$P"
expect_refused "a 10 MB document is refused before parsing" "$P" \
  "1:1: document of $(stat -c %s "$P") bytes exceeds the limit of 1048576"

{ printf 'name: demo\nstages:\n  - name: a\n    command: [a, "'; rep x 102400; printf '"]\n'; } >"$P"
expect_refused "a 100 KB scalar is refused where it starts" "$P" \
  "4:18: scalar of 102400 bytes exceeds the limit of 65536"
{ printf 'name: demo\nstages:\n  - name: a\n    command: [a, "'; rep x 65536; printf '"]\n'; } >"$P"
check "a scalar of exactly 65536 bytes passes" sluice validate "$P"

printf 'name: demo\nstages:\n  - name: a\n    command: [a, "${BIG}/x"]\n' >"$P"
BIG=$(rep y 70000) expect_refused "a scalar over the limit after \${VAR} substitution is refused" "$P" \
  "4:18: scalar of 70002 bytes after variable substitution exceeds the limit of 65536"

{ printf 'name: demo\nstages:\n  - name: a\n    command: [a]\n    env: '; rep '[' 70; rep ']' 70; echo; } >"$P"
expect_refused "nesting deeper than 64 levels is refused" "$P" "5:71: nesting deeper than 64 levels (the limit)"

{ printf 'name: demo\nstages:\n'; for i in $(seq 1 1001); do printf '  - {name: s%d, command: [a]}\n' "$i"; done; } >"$P"
expect_refused "1001 stages are refused" "$P" "3:3: 1001 stages exceed the limit of 1000 stages"

for i in $(seq 1 1001); do echo "V$i=$i"; done >"$TMP/vars.env"
printf 'name: demo\nenv_file: vars.env\nstages:\n  - name: a\n    command: [a]\n' >"$P"
out=$(sluice validate "$P" 2>&1); rc=$?
check "an env_file with 1001 variables is refused at its line 1001 ($out)" \
  eval '[ $rc = 2 ] && grep -qF "vars.env:1001:1: variable V1001 exceeds the limit of 1000 variables" <<<"$out"'

{ printf 'name: demo\nstages:\n  - name: a\n    command: [a]\nmessages:\n  - to: a\n    key: k\n    headers: {a: "'
  rep h 40000; printf '", b: "'; rep h 40000; printf '"}\n'; } >"$P"
expect_refused "message headers over 64 KiB are refused" "$P" \
  "8:14: headers of message #1: headers of 80015 bytes exceed the limit of 65536 bytes"

{ printf 'name: demo\nstages:\n  - name: a\n    command: [a]\nmessages:\n  - {to: a, key: "'; rep k 600; printf '"}\n'; } >"$P"
expect_msg "a 600-byte message key is refused naming the key limit" "$P" "is 600 bytes long (the limit is 512)"

# the controller: submit and emit go through the same limits
start_controller
{ printf 'name: big\nstages:\n  - name: a\n    command: [a, "'; rep x 102400; printf '"]\n'; } >"$P"
out=$(sluice submit "$P" 2>&1)
check "the controller refuses a submitted 100 KB scalar" grep -q "scalar of 102400 bytes exceeds the limit of 65536" <<<"$out"
printf 'name: web\nstages:\n  - name: a\n    runtime: noop\n    command: [a]\n' >"$P"
id=$(submit "$P")
check "a small pipeline is accepted" test -n "$id"
out=$(sluice emit --pipeline "$id" --headers "{\"a\":\"$(rep h 70000)\"}" k1 2>&1)
check "emit with 70 KB headers is refused naming the limit" grep -q "headers of 70008 bytes exceed the limit of 65536 bytes" <<<"$out"
out=$(sluice emit --pipeline "$id" --headers "$(printf '{"a":%.0s' $(seq 20))1$(rep '}' 20)" k2 2>&1)
check "emit with headers nested 20 deep is refused naming the limit" grep -q "nested deeper than the limit of 16 levels" <<<"$out"
out=$(sluice emit --pipeline "$id" 'obs/{1..100000000}' 2>&1)
check "emit of a range of 10^8 keys is refused naming the limit" grep -q "more than 1000000 keys" <<<"$out"
out=$(sluice emit --pipeline "$id" --headers '{"a":{"b":1}}' k3 2>&1)
check "emit within the limits is accepted ($out)" sh -c "sluice tasks --pipeline '$id' 2>/dev/null | grep -q k3"
