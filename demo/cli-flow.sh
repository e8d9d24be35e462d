#!/usr/bin/env bash
# The Intyg credential flow with the `intyg` CLI: an agency and a school
# issue, a job seeker presents exactly what an employer asks for, the
# employer verifies. Run through `cargo xtask demo`, which sets $INTYG.
set -euo pipefail
INTYG=${INTYG:-intyg}
SPECS="$(cd "$(dirname "$0")/.." && pwd)/specs/credentials"
WORK=$(mktemp -d -t intyg-demo-XXXXXX)
cd "$WORK"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Keys: Arbetsförmedlingen, Yrkeshögskolan Malmö, and the job seeker's wallet"
"$INTYG" key generate > af.jwk
"$INTYG" key generate > yh.jwk
"$INTYG" key generate > wallet.jwk
echo "wrote af.jwk, yh.jwk, wallet.jwk in $WORK"

say "Arbetsförmedlingen issues a registration certificate (inskrivningsintyg) and internship eligibility"
"$INTYG" sd-jwt issue --key af.jwk --type "$SPECS/registration-certificate" \
  --claims "$SPECS/registration-certificate/example.json" \
  --iss https://arbetsformedlingen.se --holder-key wallet.jwk --expires-in 31536000 > registration.sd-jwt
"$INTYG" sd-jwt issue --key af.jwk --type "$SPECS/internship-eligibility" \
  --claims "$SPECS/internship-eligibility/example.json" \
  --iss https://arbetsformedlingen.se --holder-key wallet.jwk --expires-in 31536000 > eligibility.sd-jwt
"$INTYG" sd-jwt decode registration.sd-jwt

say "Yrkeshögskolan issues an education diploma"
"$INTYG" sd-jwt issue --key yh.jwk --type "$SPECS/education-diploma" \
  --claims "$SPECS/education-diploma/example.json" \
  --iss https://yh-malmo.example --holder-key wallet.jwk > diploma.sd-jwt

say "The employer asks for an internship application: registration status and eligibility (required), a diploma (optional)"
AUD=https://employer.example/internship
NONCE=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "aud=$AUD nonce=$NONCE"

say "The job seeker consents to share registration status and date, the eligibility period and the qualification, nothing else"
"$INTYG" sd-jwt present --disclose /registration_status,/registered_since \
  --holder-key wallet.jwk --aud "$AUD" --nonce "$NONCE" < registration.sd-jwt > registration.vp
"$INTYG" sd-jwt present --disclose /eligible_from,/eligible_until,/max_hours_per_week \
  --holder-key wallet.jwk --aud "$AUD" --nonce "$NONCE" < eligibility.sd-jwt > eligibility.vp
"$INTYG" sd-jwt present --disclose /qualification_title,/eqf_level \
  --holder-key wallet.jwk --aud "$AUD" --nonce "$NONCE" < diploma.sd-jwt > diploma.vp

say "The employer verifies each presentation (signature, disclosures, holder binding, nonce, audience, freshness)"
for pair in registration:af:registration-certificate eligibility:af:internship-eligibility diploma:yh:education-diploma; do
  IFS=: read -r name issuer kind <<< "$pair"
  echo "-- $name"
  "$INTYG" sd-jwt verify --issuer-key "$issuer.jwk" --aud "$AUD" --nonce "$NONCE" --type "$SPECS/$kind" "$name.vp"
done

say "A replay to another employer is refused"
if "$INTYG" sd-jwt verify --issuer-key af.jwk --aud https://other.example --nonce "$NONCE" registration.vp; then
  echo "replay was accepted: this is a bug" >&2
  exit 1
fi
say "Done. Files are in $WORK"
