#!/usr/bin/env bash
# The whole of Intyg on one machine, offline, on embedded sled storage:
# Arbetsförmedlingen's issuer, an employer's verifier and a job seeker's
# wallet (the `intyg wallet` CLI over the wallet engine).
# Run through `cargo xtask demo`, which builds the binaries and sets $INTYG.
set -euo pipefail
INTYG=${INTYG:?set INTYG to the intyg binary}
BIN=$(dirname "$INTYG")
SPECS="$(cd "$(dirname "$0")/.." && pwd)/specs/credentials"
WORK=$(mktemp -d -t intyg-demo-XXXXXX)
export INTYG_API_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export INTYG_WALLET_DIR="$WORK/wallet" INTYG_WALLET_PIN=246810
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -fs "$1/healthz" >/dev/null && return; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

ISSUER=http://127.0.0.1:$(free_port)
VERIFIER=http://127.0.0.1:$(free_port)
say "Starting Arbetsförmedlingen's issuer at $ISSUER and the employer's verifier at $VERIFIER (data in $WORK)"
# Status lists may be cached by verifiers for their `ttl`; keep it short here
# so the revocation at the end shows within the demo.
INTYG_ISSUER_STATUS_TTL=2 "$BIN/intyg-issuer" --dev --data-dir "$WORK/issuer" --listen "${ISSUER#http://}" >"$WORK/issuer.log" 2>&1 & PIDS+=($!)
wait_up "$ISSUER"
"$BIN/intyg-verifier" --dev --data-dir "$WORK/verifier" --listen "${VERIFIER#http://}" --trust-issuer "$ISSUER" >"$WORK/verifier.log" 2>&1 & PIDS+=($!)
wait_up "$VERIFIER"
echo "officer portal:  $ISSUER/portal   (handlaggare / intyg-dev)"
echo "employer portal: $VERIFIER/portal (arbetsgivare / intyg-dev)"

say "The job seeker sets up a wallet"
"$INTYG" wallet --dev init
"$INTYG" wallet --dev trust add-verifier-root "$WORK/verifier/ca.pem"

say "The case officer registers Karin and offers her a registration certificate and internship eligibility"
curl -fs -X POST "$ISSUER/api/persons" -H "Authorization: Bearer $INTYG_API_KEY" -H 'content-type: application/json' \
  -d '{"personal_identity_number":"199403172381","given_name":"Karin Elisabet","family_name":"Lindqvist"}' >/dev/null
REGISTRATION_ID=
for kind in registration-certificate internship-eligibility; do
  offer=$(curl -fs -X POST "$ISSUER/api/offers" -H "Authorization: Bearer $INTYG_API_KEY" -H 'content-type: application/json' \
    -d "{\"credential_configuration_id\":\"$kind\",\"subject\":\"199403172381\",\"claims\":$(cat "$SPECS/$kind/example.json")}")
  uri=$(echo "$offer" | json 'd["offer_uri"]'); pin=$(echo "$offer" | json 'd["tx_code"]')
  [ "$kind" = registration-certificate ] && REGISTRATION_ID=$(echo "$offer" | json 'd["credential_ids"][0]')
  echo "offer for $kind: $uri (PIN $pin, read out by the officer)"
  "$INTYG" wallet --dev accept "$uri" --tx-code "$pin"
done
"$INTYG" wallet --dev list

say "The employer asks for an internship application (arbetspraktik)"
request=$(curl -fs -X POST "$VERIFIER/api/presentations" -H "Authorization: Bearer $INTYG_API_KEY" -H 'content-type: application/json' -d '{"template":"internship-application"}')
id=$(echo "$request" | json 'd["id"]'); uri=$(echo "$request" | json 'd["request_uri"]')
echo "request: $uri"

say "Karin reviews the request and consents: the required claims and her first name; she leaves out her family name"
"$INTYG" wallet --dev present "$uri" --approve --include given_name

say "The employer sees the verified result"
curl -fs "$VERIFIER/api/presentations/$id" -H "Authorization: Bearer $INTYG_API_KEY" | python3 -m json.tool
status=$(curl -fs "$VERIFIER/api/presentations/$id" -H "Authorization: Bearer $INTYG_API_KEY" | json 'd["status"]')
[ "$status" = verified ] || { echo "expected verified, got $status" >&2; exit 1; }
shared=$(curl -fs "$VERIFIER/api/presentations/$id" -H "Authorization: Bearer $INTYG_API_KEY" \
  | json 'sorted(k for c in d["credentials"] for k in c["claims"])')
echo "the employer received: $shared"
case "$shared" in *family_name*) echo "family_name was shared without consent" >&2; exit 1;; esac
case "$shared" in *given_name*) ;; *) echo "given_name was consented to but not shared" >&2; exit 1;; esac

say "Karin deregisters; the agency revokes her registration certificate"
curl -fs -X POST "$ISSUER/api/credentials/$REGISTRATION_ID/revoke" -H "Authorization: Bearer $INTYG_API_KEY" >/dev/null
sleep 3 # the verifier's cached status list expires (ttl 2 s)
request=$(curl -fs -X POST "$VERIFIER/api/presentations" -H "Authorization: Bearer $INTYG_API_KEY" -H 'content-type: application/json' -d '{"template":"internship-application"}')
id=$(echo "$request" | json 'd["id"]'); uri=$(echo "$request" | json 'd["request_uri"]')
"$INTYG" wallet --dev present "$uri" --approve || true
result=$(curl -fs "$VERIFIER/api/presentations/$id" -H "Authorization: Bearer $INTYG_API_KEY")
echo "$result" | json '(d["status"], d.get("reason"))'
[ "$(echo "$result" | json 'd.get("reason")')" = revoked ] || { echo "expected the revocation to show" >&2; exit 1; }

say "Karin's wallet history"
"$INTYG" wallet --dev history
say "Done. Logs and data are in $WORK"
