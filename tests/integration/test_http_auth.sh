#!/usr/bin/env bash
# The controller's HTTP page is safe by default. Two network namespaces
# joined by a veth pair (10.214.0.1 serves, 10.214.0.2 is a remote client),
# so "not loopback" is a real peer address and every packet stays inside
# namespaces. A real `sluice controller --http`, holding one pipeline:
# loopback reads are open; remote reads need its user credential
# (STATE/secrets/user.token), login hands out an HMAC session cookie,
# actions need the credential, the session's CSRF token and a same-origin
# Origin; bodies and headers are capped. Bounded timeouts; namespaces and
# links removed at exit.
. "$(dirname "$0")/../lib.sh"

SLUICE="$SLUICE_ROOT/build/bin/sluice"
[ -x "$SLUICE" ] || { not_ok "build first: make build-tests"; exit 1; }
NS1="slhttp-a-$$"; NS2="slhttp-b-$$"; VA="slhta$$"; VB="slhtb$$"
VA=${VA:0:15}; VB=${VB:0:15}
netns_cleanup() {
  ip netns del "$NS1" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
  ip link del "$VA" 2>/dev/null
}
trap '_cleanup; netns_cleanup' EXIT

if ! command -v ip >/dev/null; then skip "network namespaces: iproute2 (ip) not installed"; exit 0; fi
if ! command -v curl >/dev/null; then skip "curl not installed"; exit 0; fi
if ! ip netns add "$NS1" 2>"$TMP/ns.err"; then
  skip "network namespaces not permitted here: $(head -n1 "$TMP/ns.err")"; exit 0
fi
if ! { ip netns add "$NS2" && ip link add "$VA" type veth peer name "$VB" &&
       ip link set "$VA" netns "$NS1" && ip link set "$VB" netns "$NS2" &&
       ip -n "$NS1" addr add 10.214.0.1/24 dev "$VA" && ip -n "$NS2" addr add 10.214.0.2/24 dev "$VB" &&
       ip -n "$NS1" link set lo up && ip -n "$NS2" link set lo up &&
       ip -n "$NS1" link set "$VA" up && ip -n "$NS2" link set "$VB" up; } 2>"$TMP/ns.err"; then
  skip "could not wire two namespaces with a veth pair: $(head -n1 "$TMP/ns.err")"; exit 0
fi

# local CURL...: from inside the serving namespace over loopback
# remote CURL...: from the other namespace (peer 10.214.0.2)
# Both print the status code; the body goes to $TMP/body, headers to $TMP/hdr.
local_() { ip netns exec "$NS1" curl -s --max-time 5 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$@"; }
remote() { ip netns exec "$NS2" curl -s --max-time 5 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$@"; }

# 1. the real controller, no user credential configured
mkdir -p "$TMP/ctl"
ip netns exec "$NS1" "$SLUICE" controller --state "$TMP/ctl" --listen 127.0.0.1:0 \
  --addr-file "$TMP/ctl/addr" --http 0.0.0.0:0 >"$TMP/ctl.log" 2>&1 &
track_pid $!
wait_for 10 test -s "$TMP/ctl/addr.http" || { not_ok "controller did not start"; sed 's/^/# /' "$TMP/ctl.log"; exit 1; }
CP=$(sed 's/.*://' "$TMP/ctl/addr.http")
code=$(local_ "http://127.0.0.1:$CP/metrics")
check "controller: loopback GET /metrics is open (got $code)" eval '[ "$code" = 200 ] && grep -q "sluice_tasks" "$TMP/body"'
code=$(remote "http://10.214.0.1:$CP/metrics")
check "controller: GET /metrics from 10.214.0.2 without a credential is refused (got $code)" \
  eval '[ "$code" = 401 ] && ! grep -q "sluice_tasks" "$TMP/body"'
code=$(remote "http://10.214.0.1:$CP/api/status")
check "controller: the 401 explains how to authenticate" \
  eval '[ "$code" = 401 ] && grep -qi "credential" "$TMP/body" && grep -qi "^WWW-Authenticate: Bearer" "$TMP/hdr"'
code=$(remote -H "Authorization: Bearer anything" "http://10.214.0.1:$CP/metrics")
check "controller: a guessed remote credential is refused (got $code)" [ "$code" = 401 ]
code=$(local_ -X POST -d pipeline=1 "http://127.0.0.1:$CP/api/cancel")
check "controller: a loopback action without a credential is refused (got $code)" [ "$code" = 401 ]

# 2. the same controller with one pipeline, seen from the other namespace
TOKEN=$(cat "$TMP/ctl/secrets/user.token")
cat >"$TMP/p.yaml" <<'YAML'
name: web
stages:
  - name: a
    command: /bin/true
messages:
  - {to: a, key: "k{1..3}"}
YAML
ip netns exec "$NS1" env SLUICE_STATE="$TMP/ctl" "$SLUICE" submit "$TMP/p.yaml" >"$TMP/submit.log" 2>&1 ||
  { not_ok "submit: $(cat "$TMP/submit.log")"; exit 1; }
P=$CP; U="http://10.214.0.1:$P"
code=$(local_ "http://127.0.0.1:$P/metrics")
check "page: loopback GET needs no credential (got $code)" [ "$code" = 200 ]
code=$(remote "$U/metrics")
check "page: remote GET without a credential is refused (got $code)" eval '[ "$code" = 401 ] && ! grep -q "sluice_tasks" "$TMP/body"'
code=$(remote -H "Authorization: Bearer wrong-$TOKEN" "$U/metrics")
check "page: remote GET with a wrong token is refused (got $code)" [ "$code" = 401 ]
code=$(remote -H "Authorization: Bearer $TOKEN" "$U/metrics")
check "page: remote GET with the user token is served (got $code)" eval '[ "$code" = 200 ] && grep -q "sluice_tasks" "$TMP/body"'

code=$(remote -d "token=wrong" "$U/login")
check "login with a wrong token: 401, no cookie (got $code)" eval '[ "$code" = 401 ] && ! grep -qi "^Set-Cookie" "$TMP/hdr"'
code=$(remote -d "token=$TOKEN" "$U/login")
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *\(sluice_session=[^;]*\).*/\1/p' "$TMP/hdr" | tr -d '\r')
check "login with the token sets an HttpOnly SameSite=Strict session cookie (got $code)" \
  eval '[ "$code" = 303 ] && [ -n "$cookie" ] && grep -i "^Set-Cookie" "$TMP/hdr" | grep -q "HttpOnly; SameSite=Strict; Path=/"'
check "the session cookie does not hold the raw token" eval '! grep -qF "$TOKEN" "$TMP/hdr"'
code=$(remote -H "Cookie: $cookie" "$U/metrics")
check "page: remote GET with the session cookie is served (got $code)" [ "$code" = 200 ]
code=$(remote -H "Cookie: sluice_session=$TOKEN" "$U/metrics")
check "page: the raw token as a cookie is no session (got $code)" [ "$code" = 401 ]
remote -H "Cookie: $cookie" "$U/api/session" >/dev/null
csrf=$(sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p' "$TMP/body")
check "GET /api/session gives the session's CSRF token" test -n "$csrf"
code=$(remote -H "Cookie: $cookie" "$U/")
check "the dashboard shows action forms carrying the CSRF token" \
  eval '[ "$code" = 200 ] && grep -q "action=/api/cancel" "$TMP/body" && grep -qF "$csrf" "$TMP/body"'

code=$(remote -H "Cookie: $cookie" -d pipeline=web "$U/api/cancel")
check "POST /api/cancel with the cookie but no CSRF token: 403 (got $code)" [ "$code" = 403 ]
code=$(remote -H "Cookie: $cookie" -d "pipeline=web&csrf=${csrf}0" "$U/api/cancel")
check "POST /api/cancel with a wrong CSRF token: 403 (got $code)" [ "$code" = 403 ]
code=$(remote -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H "Origin: http://evil.example" \
  -d pipeline=web "$U/api/cancel")
check "POST /api/cancel from a foreign Origin: 403 (got $code)" [ "$code" = 403 ]
code=$(remote -H "Authorization: Bearer $TOKEN" -H "Referer: http://evil.example/x" \
  -d pipeline=web "$U/api/cancel")
check "POST /api/cancel with a foreign Referer: 403 even with the token (got $code)" [ "$code" = 403 ]
code=$(remote -X GET "$U/api/cancel?pipeline=web" -H "Authorization: Bearer $TOKEN")
check "GET /api/cancel never acts: 405 (got $code)" [ "$code" = 405 ]
code=$(remote -X PUT -H "Authorization: Bearer $TOKEN" "$U/metrics")
check "PUT on a page: 405 (got $code)" [ "$code" = 405 ]
remote -H "Authorization: Bearer $TOKEN" "$U/api/status" >/dev/null
check "nothing was cancelled by the refused requests" grep -q '"state":"running"' "$TMP/body"
code=$(remote -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H "Origin: $U" -d pipeline=web "$U/api/cancel")
check "POST /api/cancel with cookie, CSRF token and our Origin is done (got $code)" \
  eval '[ "$code" = 200 ] && grep -q "\"cancelled\":3" "$TMP/body"'
remote -H "Authorization: Bearer $TOKEN" "$U/api/status" >/dev/null
check "the pipeline is cancelled" grep -q '"state":"cancelled"' "$TMP/body"
code=$(remote -H "Authorization: Bearer $TOKEN" -d "pipeline=web&stage=a" "$U/api/retry")
check "POST /api/retry with the Bearer token (no cookie, so no CSRF token needed) (got $code)" \
  eval '[ "$code" = 200 ] && grep -q "\"requeued\":" "$TMP/body"'
code=$(remote -H "Authorization: Bearer $TOKEN" -d "pipeline=web&stage=nope" "$U/api/retry")
check "POST /api/retry of an unknown stage: 404 naming it (got $code)" \
  eval '[ "$code" = 404 ] && grep -q "nope" "$TMP/body"'
code=$(local_ -d pipeline=web "http://127.0.0.1:$P/api/retry")
check "a loopback action without the credential is refused (got $code)" [ "$code" = 401 ]

# 3. limits
head -c 70000 /dev/zero | tr '\0' a >"$TMP/big"
code=$(remote -H "Authorization: Bearer $TOKEN" --data-binary @"$TMP/big" "$U/api/retry")
check "a 70000-byte body is refused with 413 (got $code)" [ "$code" = 413 ]
code=$(remote -H "Authorization: Bearer $TOKEN" -H "Transfer-Encoding: chunked" \
  --data-binary @"$TMP/big" "$U/api/retry")
check "a 70000-byte chunked body is not accepted (got $code)" [ "$code" != 200 ]
code=$(remote -H "Authorization: Bearer $TOKEN" -H "X-Pad: $(head -c 40000 /dev/zero | tr '\0' b)" "$U/metrics")
check "a 40 KB header is refused (got $code)" [ "$code" = 431 ]
code=$(remote -H "Authorization: Bearer $TOKEN" "$U/metrics")
check "the page still serves after the oversize requests (got $code)" [ "$code" = 200 ]
