//! The wallet providers whose wallet and key attestations are accepted:
//! the configured roots (`wallet_provider_roots`), and the
//! `.../WalletSolution/Issuance` services of the configured Lists of
//! Trusted Entities (ETSI TS 119 602), replaced after each refresh.

use std::sync::RwLock;

use intyg_core::trust::TrustAnchors;
use intyg_core::trust::lote::ServiceType;
use intyg_service::trust_lists::TrustLists;

/// The roots in force.
#[derive(Debug)]
pub struct WalletProviders {
    configured: TrustAnchors,
    current: RwLock<TrustAnchors>,
}

impl WalletProviders {
    /// The configured roots only (the lists add theirs when fetched).
    pub fn new(configured: TrustAnchors) -> Self {
        Self {
            current: RwLock::new(configured.clone()),
            configured,
        }
    }

    /// The roots in force now.
    pub fn anchors(&self) -> TrustAnchors {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether no wallet provider is trusted.
    pub fn is_empty(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// The configured roots and the wallet providers of every usable list:
    /// a provider a list no longer names is no longer trusted.
    pub fn apply(&self, lists: &TrustLists) {
        let mut roots = self.configured.roots().to_vec();
        for list in lists.usable().values() {
            roots.extend(
                list.services_of(&ServiceType::WalletSolutionIssuance)
                    .flat_map(|s| s.certificates.iter().cloned()),
            );
        }
        match TrustAnchors::new(roots) {
            Ok(anchors) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = anchors;
            }
            Err(e) => tracing::error!(error = %e, "wallet providers from trust lists unusable"),
        }
    }
}
