//! What a wallet must prove to be issued a credential: the issuer-wide
//! profile and its per-credential-type overrides (HAIP 1.0 §4, §5).
//!
//! | profile | DPoP (RFC 9449) | wallet attestation at PAR/token | key attestation |
//! |---|---|---|---|
//! | `basic` (default) | accepted when sent | checked when sent | checked when sent |
//! | `haip` | required | required | required for every configuration |
//!
//! A `[credential_policies.<type>]` table overrides any of the three for
//! one credential type and names the accepted `key_storage` and
//! `user_authentication` values (OpenID4VCI 1.0 Appendix D.2). At PAR the
//! credential type is not bound yet, so the issuer-wide profile decides.

use intyg_core::oid4vci::KeyAttestationsRequired;
use serde::Deserialize;

/// The issuer-wide profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Today's flows, DPoP and attestations checked when a wallet sends them.
    #[default]
    Basic,
    /// HAIP 1.0: DPoP, wallet attestation and key attestation required.
    Haip,
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "basic" => Ok(Self::Basic),
            "haip" => Ok(Self::Haip),
            other => Err(format!("unknown profile `{other}`: basic or haip")),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Basic => "basic",
            Self::Haip => "haip",
        })
    }
}

/// The scheme of the offer links the portal and the admin API emit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OfferScheme {
    /// `openid-credential-offer://` (OpenID4VCI 1.0 §4.1).
    #[default]
    #[serde(rename = "openid-credential-offer")]
    OpenidCredentialOffer,
    /// `haip-vci://` (HAIP 1.0 §4.1).
    #[serde(rename = "haip-vci")]
    HaipVci,
}

impl OfferScheme {
    /// The scheme, without `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenidCredentialOffer => "openid-credential-offer",
            Self::HaipVci => "haip-vci",
        }
    }
}

impl std::str::FromStr for OfferScheme {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "openid-credential-offer" => Ok(Self::OpenidCredentialOffer),
            "haip-vci" => Ok(Self::HaipVci),
            other => Err(format!(
                "unknown offer scheme `{other}`: openid-credential-offer or haip-vci"
            )),
        }
    }
}

/// One credential type's overrides; unset fields follow the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialPolicy {
    /// Whether a DPoP-bound access token is required.
    #[serde(default)]
    pub dpop: Option<bool>,
    /// Whether a wallet attestation is required at the token endpoint.
    #[serde(default)]
    pub wallet_attestation: Option<bool>,
    /// Whether every proof key must be covered by a key attestation.
    #[serde(default)]
    pub key_attestation: Option<bool>,
    /// Accepted `key_storage` values (any one suffices); unset: any.
    #[serde(default)]
    pub key_storage: Option<Vec<String>>,
    /// Accepted `user_authentication` values (any one suffices); unset: any.
    #[serde(default)]
    pub user_authentication: Option<Vec<String>>,
}

/// What one credential type demands, the profile and overrides resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirements {
    /// A DPoP proof at token and credential, and a DPoP-bound token.
    pub dpop: bool,
    /// A wallet attestation at the token endpoint.
    pub wallet_attestation: bool,
    /// A key attestation for every proof key, meeting these values.
    pub key_attestation: Option<KeyAttestationsRequired>,
}

impl Requirements {
    /// The issuer-wide requirements of `profile` (used at PAR).
    pub fn of_profile(profile: Profile) -> Self {
        Self::resolve(profile, None)
    }

    /// `profile` with `overrides` applied.
    pub fn resolve(profile: Profile, overrides: Option<&CredentialPolicy>) -> Self {
        let haip = profile == Profile::Haip;
        let empty = CredentialPolicy::default();
        let o = overrides.unwrap_or(&empty);
        let key_attestation = o
            .key_attestation
            .unwrap_or(haip || o.key_storage.is_some() || o.user_authentication.is_some());
        Self {
            dpop: o.dpop.unwrap_or(haip),
            wallet_attestation: o.wallet_attestation.unwrap_or(haip),
            key_attestation: key_attestation.then(|| KeyAttestationsRequired {
                key_storage: o.key_storage.clone(),
                user_authentication: o.user_authentication.clone(),
                extra: serde_json::Map::new(),
            }),
        }
    }

    /// Who can accept an offer under these requirements, for the
    /// officer portal.
    pub fn audience(&self) -> WalletAudience {
        match (
            self.wallet_attestation,
            self.key_attestation.is_some(),
            self.dpop,
        ) {
            (false, false, false) => WalletAudience::Any,
            (false, false, true) => WalletAudience::Dpop,
            _ => WalletAudience::Certified,
        }
    }
}

/// Which wallets can accept an offer (shown on the portal's offer page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletAudience {
    /// Any OpenID4VCI 1.0 wallet, the Intyg wallet included.
    Any,
    /// Wallets that bind tokens with DPoP (the Intyg wallet does).
    Dpop,
    /// Only certified wallets whose provider the agency trusts (EUDI
    /// wallets with wallet and key attestation); not the Intyg desktop wallet.
    Certified,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_overrides_resolve() {
        let basic = Requirements::of_profile(Profile::Basic);
        assert!(!basic.dpop && !basic.wallet_attestation && basic.key_attestation.is_none());
        assert_eq!(basic.audience(), WalletAudience::Any);
        let haip = Requirements::of_profile(Profile::Haip);
        assert!(haip.dpop && haip.wallet_attestation);
        assert_eq!(
            haip.key_attestation,
            Some(KeyAttestationsRequired::default())
        );
        assert_eq!(haip.audience(), WalletAudience::Certified);
        let relaxed = CredentialPolicy {
            wallet_attestation: Some(false),
            key_attestation: Some(false),
            ..CredentialPolicy::default()
        };
        let resolved = Requirements::resolve(Profile::Haip, Some(&relaxed));
        assert!(resolved.dpop && !resolved.wallet_attestation);
        assert_eq!(resolved.audience(), WalletAudience::Dpop);
        let strict = CredentialPolicy {
            key_storage: Some(vec!["iso_18045_high".into()]),
            ..CredentialPolicy::default()
        };
        let resolved = Requirements::resolve(Profile::Basic, Some(&strict));
        assert_eq!(
            resolved.key_attestation.and_then(|k| k.key_storage),
            Some(vec!["iso_18045_high".to_owned()])
        );
        assert_eq!("haip".parse(), Ok(Profile::Haip));
        assert!("HAIP".parse::<Profile>().is_err());
        assert_eq!("haip-vci".parse(), Ok(OfferScheme::HaipVci));
    }
}
