#!/usr/bin/env bash
# Makes a private CA and, signed by it, a certificate for a TLS redis-server
# and one for its clients, with the `openssl` command (doc/tls.md):
#
#   deploy/redis-tls-certs.sh DIR [--names IP:127.0.0.1,DNS:localhost] [--days 825]
#
# Writes DIR/ca.crt, ca.key, server.crt, server.key, client.crt, client.key
# (keys 0600; EC P-256). --names are the server certificate's subject
# alternative names: the host names (DNS:) and addresses (IP:) clients use in
# their rediss:// URL. Then, for example:
#
#   redis-server --port 0 --tls-port 6380 --tls-cert-file DIR/server.crt \
#     --tls-key-file DIR/server.key --tls-ca-cert-file DIR/ca.crt --tls-auth-clients optional
#   telec-ingress --redis_url=rediss://127.0.0.1:6380/0 --redis_tls_ca=DIR/ca.crt
#
# With --tls-auth-clients yes, clients also give --redis_tls_cert=DIR/client.crt
# --redis_tls_key=DIR/client.key. Keep ca.key away from the computers: only
# ca.crt needs to be on them.
set -euo pipefail

DIR=""
NAMES="IP:127.0.0.1,DNS:localhost"
DAYS=825
while [ $# -gt 0 ]; do
  case "$1" in
    --names) NAMES=$2; shift ;;
    --names=*) NAMES=${1#*=} ;;
    --days) DAYS=$2; shift ;;
    --days=*) DAYS=${1#*=} ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "redis-tls-certs: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [ -z "$DIR" ] || { echo "redis-tls-certs: one directory only, got '$DIR' and '$1'" >&2; exit 2; }
       DIR=$1 ;;
  esac
  shift
done
[ -n "$DIR" ] || { echo "redis-tls-certs: give the output directory (see --help)" >&2; exit 2; }
case "$DAYS" in (''|*[!0-9]*) echo "redis-tls-certs: --days must be a number, got '$DAYS'" >&2; exit 2;; esac
command -v openssl >/dev/null || { echo "redis-tls-certs: openssl not found; run scripts/install-deps.sh" >&2; exit 1; }

mkdir -p "$DIR"
umask 077
cnf="$DIR/openssl.cnf"
cat > "$cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = teleclaude-mesh redis
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $NAMES
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF

run() {
  local out
  out=$("$@" 2>&1) || { echo "redis-tls-certs: $* failed:" >&2; echo "$out" >&2; exit 1; }
}
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
run openssl req -x509 "${ec[@]}" -config "$cnf" -extensions ca_ext -days "$DAYS" \
  -subj "/CN=teleclaude-mesh redis CA" -keyout "$DIR/ca.key" -out "$DIR/ca.crt"
serial=1
for who in server client; do
  run openssl req -new "${ec[@]}" -config "$cnf" -subj "/CN=teleclaude-mesh redis $who" \
    -keyout "$DIR/$who.key" -out "$DIR/$who.csr"
  serial=$((serial + 1))
  run openssl x509 -req -in "$DIR/$who.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
    -set_serial "$serial$RANDOM" -days "$DAYS" -extfile "$cnf" -extensions "${who}_ext" \
    -out "$DIR/$who.crt"
  rm -f "$DIR/$who.csr"
done
rm -f "$cnf"
chmod 0644 "$DIR/ca.crt" "$DIR/server.crt" "$DIR/client.crt"
echo "redis-tls-certs: CA, server ($NAMES) and client certificates in $DIR"
