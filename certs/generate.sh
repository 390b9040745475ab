#!/usr/bin/env bash
# Makes a CA and a serving certificate for the admission webhook (or for any
# local TLS stand-in server, with --service and --out).
#
# Writes $OUT/ca.crt, $OUT/ca.key, $OUT/tls.crt, $OUT/tls.key (keys mode 600)
# and prints the caBundle (base64 of ca.crt, one line) as the only line on
# stdout. Progress goes to stderr. Needs bash and OpenSSL 1.1.1 or later.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"

SERVICE=apim-operator-webhook
NAMESPACE=apim-operator
OUT="$REPO_ROOT/certs/out"
DAYS=365
CA_DAYS=3650
IF_MISSING=false
NEW_CA=false
EXTRA_SANS=()

usage() {
  cat <<EOF
Usage: $(basename "$0") [options]

Makes a CA and a webhook serving certificate (EC P-256), writes
  OUT/ca.crt  OUT/ca.key  OUT/tls.crt  OUT/tls.key
and prints the caBundle (base64 of ca.crt) as the last line on stdout.

Options:
  --service NAME     Service name (default: $SERVICE)
  --namespace NS     Namespace (default: $NAMESPACE)
  --out DIR          Output folder (default: <repo>/certs/out)
  --days N           Serving certificate lifetime in days (default: $DAYS)
  --ca-days N        CA lifetime in days when a new CA is made (default: $CA_DAYS)
  --extra-san SAN    Extra subjectAltName, e.g. IP:10.0.0.5 or DNS:foo (repeatable;
                     a bare value is taken as IP if it looks like one, else DNS)
  --if-missing       Keep the existing files when they are complete, chain to
                     ca.crt, carry every requested SAN and do not expire within
                     a day; only print the caBundle then
  --new-ca           Make a new CA even when OUT holds a usable one (by default an
                     existing CA is reused, so the caBundle stays the same)
  -h, --help         Show this help

SANs always present: DNS:<service>, DNS:<service>.<ns>, DNS:<service>.<ns>.svc,
DNS:<service>.<ns>.svc.cluster.local, DNS:localhost, IP:127.0.0.1, IP:::1.
EOF
}

log() { printf '%s\n' "generate.sh: $*" >&2; }
die() { log "error: $*"; exit 2; }

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

normalise_san() {
  local san=$1
  if [[ $san =~ ^(DNS|IP|URI|email): ]]; then
    printf '%s' "$san"
  elif [[ $san =~ ^[0-9.]+$ || $san == *:* ]]; then
    printf 'IP:%s' "$san"
  else
    printf 'DNS:%s' "$san"
  fi
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --service) need_value "$@"; SERVICE=$2; shift 2 ;;
    --namespace) need_value "$@"; NAMESPACE=$2; shift 2 ;;
    --out) need_value "$@"; OUT=$2; shift 2 ;;
    --days) need_value "$@"; DAYS=$2; shift 2 ;;
    --ca-days) need_value "$@"; CA_DAYS=$2; shift 2 ;;
    --extra-san) need_value "$@"; EXTRA_SANS+=("$(normalise_san "$2")"); shift 2 ;;
    --if-missing) IF_MISSING=true; shift ;;
    --new-ca) NEW_CA=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

DNS_LABEL='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ $SERVICE =~ $DNS_LABEL && ${#SERVICE} -le 63 ]] || die "--service must be a DNS label (lower-case letters, digits, '-'): $SERVICE"
[[ $NAMESPACE =~ $DNS_LABEL && ${#NAMESPACE} -le 63 ]] || die "--namespace must be a DNS label: $NAMESPACE"
[[ $DAYS =~ ^[1-9][0-9]*$ ]] || die "--days must be a positive integer: $DAYS"
[[ $CA_DAYS =~ ^[1-9][0-9]*$ ]] || die "--ca-days must be a positive integer: $CA_DAYS"
command -v openssl >/dev/null || die "openssl not found"

SANS=(
  "DNS:$SERVICE"
  "DNS:$SERVICE.$NAMESPACE"
  "DNS:$SERVICE.$NAMESPACE.svc"
  "DNS:$SERVICE.$NAMESPACE.svc.cluster.local"
  "DNS:localhost"
  "IP:127.0.0.1"
  "IP:::1"
)
for san in "${EXTRA_SANS[@]+"${EXTRA_SANS[@]}"}"; do
  [[ " ${SANS[*]} " == *" $san "* ]] || SANS+=("$san")
done
SAN_LIST=$(IFS=,; printf '%s' "${SANS[*]}")
CN="$SERVICE.$NAMESPACE.svc"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Several callers (parallel tests, compose restarts) may share one folder.
if command -v flock >/dev/null; then
  exec 9>"$OUT/.generate.lock"
  flock 9
fi

print_ca_bundle() { openssl base64 -A -in "$OUT/ca.crt"; printf '\n'; }

same_public_key() { # KEY CERT
  [[ "$(openssl pkey -in "$1" -pubout 2>/dev/null)" == "$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null)" ]]
}

# openssl prints "IP Address:0:0:0:0:0:0:0:1"; compare in that spelling.
cert_sans() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null \
    | tail -n +2 | tr ',' '\n' | sed -e 's/^ *//' -e 's/^IP Address:/IP:/'
}

san_wanted_form() { # expand IPv6 the way openssl prints it
  local san=$1
  if [[ $san == IP:*:* ]]; then
    local ip=${san#IP:}
    printf 'IP:%s' "$(expand_ipv6 "$ip")"
  else
    printf '%s' "$san"
  fi
}

expand_ipv6() {
  local ip=$1 head tail groups=() i
  if [[ $ip == *::* ]]; then
    head=${ip%%::*}; tail=${ip#*::}
    local -a h=() t=()
    [[ -n $head ]] && IFS=: read -ra h <<<"$head"
    [[ -n $tail ]] && IFS=: read -ra t <<<"$tail"
    groups=("${h[@]+"${h[@]}"}")
    for ((i = ${#h[@]} + ${#t[@]}; i < 8; i++)); do groups+=(0); done
    groups+=("${t[@]+"${t[@]}"}")
  else
    IFS=: read -ra groups <<<"$ip"
  fi
  local out=() g
  for g in "${groups[@]}"; do out+=("$(printf '%X' "0x$g")"); done
  (IFS=:; printf '%s' "${out[*]}")
}

# Prints why the existing serving certificate is not usable; nothing if it is.
serving_cert_problem() {
  local f
  for f in tls.crt tls.key ca.crt; do
    [[ -s "$OUT/$f" ]] || { echo "$f is missing"; return; }
  done
  openssl x509 -in "$OUT/tls.crt" -noout -checkend 86400 >/dev/null 2>&1 || { echo "tls.crt expires within a day"; return; }
  openssl verify -CAfile "$OUT/ca.crt" "$OUT/tls.crt" >/dev/null 2>&1 || { echo "tls.crt does not chain to ca.crt"; return; }
  same_public_key "$OUT/tls.key" "$OUT/tls.crt" || { echo "tls.key does not match tls.crt"; return; }
  local have san
  have=$(cert_sans "$OUT/tls.crt")
  for san in "${SANS[@]}"; do
    grep -qixF "$(san_wanted_form "$san")" <<<"$have" || { echo "tls.crt lacks $san"; return; }
  done
}

if $IF_MISSING; then
  problem=$(serving_cert_problem)
  if [[ -z $problem ]]; then
    log "kept the existing certificate in $OUT"
    print_ca_bundle
    exit 0
  fi
  log "making a new certificate: $problem"
fi

WORK=$(mktemp -d "$OUT/.tmp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
umask 077

cat >"$WORK/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ serving_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $SAN_LIST
EOF

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

ca_reusable() {
  [[ -s "$OUT/ca.crt" && -s "$OUT/ca.key" ]] || return 1
  openssl x509 -in "$OUT/ca.crt" -noout -checkend $((DAYS * 86400)) >/dev/null 2>&1 || return 1
  same_public_key "$OUT/ca.key" "$OUT/ca.crt"
}

if ! $NEW_CA && ca_reusable; then
  log "reused the CA in $OUT/ca.crt"
  cp "$OUT/ca.crt" "$WORK/ca.crt"
  cp "$OUT/ca.key" "$WORK/ca.key"
  NEW_CA_MADE=false
else
  new_key "$WORK/ca.key"
  openssl req -config "$WORK/openssl.cnf" -new -x509 -sha256 -key "$WORK/ca.key" \
    -subj "/O=oda-apim-operator/CN=$SERVICE.$NAMESPACE webhook CA" \
    -days "$CA_DAYS" -set_serial "$(serial)" -extensions ca_ext -out "$WORK/ca.crt"
  log "made a CA valid for $CA_DAYS days"
  NEW_CA_MADE=true
fi

new_key "$WORK/tls.key"
openssl req -config "$WORK/openssl.cnf" -new -sha256 -key "$WORK/tls.key" \
  -subj "/O=oda-apim-operator/CN=$CN" -out "$WORK/tls.csr"
openssl x509 -req -sha256 -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
  -set_serial "$(serial)" -days "$DAYS" -extfile "$WORK/openssl.cnf" -extensions serving_ext \
  -out "$WORK/tls.crt" 2>/dev/null
openssl verify -CAfile "$WORK/ca.crt" "$WORK/tls.crt" >/dev/null || die "the new certificate does not verify"

chmod 600 "$WORK/ca.key" "$WORK/tls.key"
chmod 644 "$WORK/ca.crt" "$WORK/tls.crt"
# Each file is replaced by a rename (atomic); the key goes before the
# certificate so a reloader that watches tls.crt finds the matching key.
if $NEW_CA_MADE; then
  mv -f "$WORK/ca.key" "$OUT/ca.key"
  mv -f "$WORK/ca.crt" "$OUT/ca.crt"
fi
mv -f "$WORK/tls.key" "$OUT/tls.key"
mv -f "$WORK/tls.crt" "$OUT/tls.crt"
log "made $OUT/tls.crt for $CN valid for $DAYS days (SANs: $SAN_LIST)"

print_ca_bundle
