#!/usr/bin/env bash
# Regenerates test-vectors/intyg/<type>/ with the intyg CLI (see SOURCES.md).
# Keys are made once and kept; the credential, the presentation and
# expected.json are remade (new salts, new iat) on every run.
#
#   INTYG_BIN=/work/target/debug/intyg test-vectors/intyg/generate.sh
set -euo pipefail

: "${INTYG_BIN:?set INTYG_BIN to the intyg binary}"
here="$(cd "$(dirname "$0")" && pwd)"
specs="$here/../../specs/credentials"
aud="https://employer.example/internship"
kb_max_age=300

# type | iss | pointers to disclose | nonce
cases=(
  "registration-certificate|https://arbetsformedlingen.se|/given_name,/family_name,/registration_status,/registered_since|rc-nonce-6Zk1Qp2hX9"
  "internship-eligibility|https://arbetsformedlingen.se|/eligible_from,/eligible_until,/max_hours_per_week|ie-nonce-T4vB8mWc3L"
  "education-diploma|https://yrkeshogskolan-syd.example|/qualification_title,/awarding_body,/eqf_level,/awarded_on,/esco_skills/1|ed-nonce-R7nD2sYf5K"
)

for case in "${cases[@]}"; do
  IFS='|' read -r type iss disclose nonce <<<"$case"
  dir="$here/$type"
  mkdir -p "$dir"
  [ -f "$dir/issuer.jwk" ] || "$INTYG_BIN" key generate >"$dir/issuer.jwk"
  [ -f "$dir/holder.jwk" ] || "$INTYG_BIN" key generate >"$dir/holder.jwk"

  "$INTYG_BIN" sd-jwt issue --key "$dir/issuer.jwk" --holder-key "$dir/holder.jwk" \
    --claims "$specs/$type/example.json" --type "$specs/$type" --iss "$iss" \
    --expires-in 31536000 >"$dir/issued.txt"

  # The KB-JWT is made two minutes after issuance, verified 30 s later.
  issued_at="$("$INTYG_BIN" sd-jwt decode "$dir/issued.txt" | jq '.claims.iat')"
  kb_iat=$((issued_at + 120))
  now=$((kb_iat + 30))

  "$INTYG_BIN" sd-jwt present --disclose "$disclose" --holder-key "$dir/holder.jwk" \
    --aud "$aud" --nonce "$nonce" --iat "$kb_iat" "$dir/issued.txt" >"$dir/presentation.txt"

  claims="$("$INTYG_BIN" sd-jwt verify --issuer-key "$dir/issuer.jwk" --type "$specs/$type" \
    --aud "$aud" --nonce "$nonce" --now "$now" --kb-max-age "$kb_max_age" "$dir/presentation.txt")"

  jq -n --arg type "$type" --arg aud "$aud" --arg nonce "$nonce" --arg disclose "$disclose" \
    --argjson now "$now" --argjson kb_max_age "$kb_max_age" --argjson claims "$claims" '{
      description: "Verify presentation.txt with the public part of issuer.jwk, type specs/credentials/\($type), at `now`, requiring a KB-JWT with `aud` and `nonce`; the processed payload must equal `claims`.",
      now: $now,
      aud: $aud,
      nonce: $nonce,
      kb_max_age: $kb_max_age,
      disclosed: ($disclose | split(",")),
      claims: $claims
    }' >"$dir/expected.json"
  echo "$type: iat $issued_at, kb iat $kb_iat, now $now"
done
