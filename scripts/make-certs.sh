#!/usr/bin/env bash
# make-certs.sh - a small private CA and one certificate per host, for the
# data plane's TLS (sluice-dp serve --tls-cert/--tls-key, clients --tls-ca)
# and for gRPC. Keys are EC P-256, mode 0600; certificates are valid 825 days.
# DIR/ca.pem + DIR/ca.key are made once and reused if present, so hosts can be
# added later. Each HOST gets DIR/HOST.pem + DIR/HOST.key with subjectAltName
# DNS:HOST, the IPs given, and for "localhost" also IP:127.0.0.1.
# Usage: scripts/make-certs.sh DIR HOST[=IP,IP...]...
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR HOST[=IP,IP...]..." >&2
  exit 2
fi
command -v openssl >/dev/null || { echo "make-certs: openssl (CLI) not installed" >&2; exit 1; }
DIR=$1; shift
DAYS=825
mkdir -p "$DIR"
umask 077

if [ -e "$DIR/ca.pem" ] && [ -e "$DIR/ca.key" ]; then
  echo "make-certs: reusing CA $DIR/ca.pem"
else
  openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ca.key"
  openssl req -x509 -new -key "$DIR/ca.key" -sha256 -days "$DAYS" -subj "/CN=sluice CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$DIR/ca.pem" 2>/dev/null
  chmod 600 "$DIR/ca.key"; chmod 644 "$DIR/ca.pem"
  echo "make-certs: made CA $DIR/ca.pem (key $DIR/ca.key, keep it private)"
fi

for spec in "$@"; do
  host=${spec%%=*}
  ips=""; [ "$spec" != "$host" ] && ips=${spec#*=}
  case $host in ''|*/*|.*) echo "make-certs: bad host name '$host'" >&2; exit 2 ;; esac
  san="DNS:$host"
  [ "$host" = localhost ] && san="$san,IP:127.0.0.1"
  IFS=, read -r -a list <<<"$ips"
  for ip in "${list[@]}"; do [ -n "$ip" ] && san="$san,IP:$ip"; done
  ext=$(mktemp)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/$host.key"
  openssl req -new -key "$DIR/$host.key" -subj "/CN=$host" -out "$DIR/$host.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/$host.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial \
    -days "$DAYS" -sha256 -extfile "$ext" -out "$DIR/$host.pem" 2>/dev/null
  rm -f "$ext" "$DIR/$host.csr"
  chmod 600 "$DIR/$host.key"; chmod 644 "$DIR/$host.pem"
  echo "make-certs: made $DIR/$host.pem + $DIR/$host.key ($san, $DAYS days)"
done
