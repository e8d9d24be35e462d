//! Type metadata for display: a credential type's name and its claim
//! labels per locale, read from `<dir>/<type>/type-metadata.json` (the
//! folders of `specs/credentials/`, as the issuer reads them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intyg_core::vc::metadata::{ClaimPathElement, TypeMetadata};

use super::PortalError;

/// The type metadata of every known credential type, by `vct`.
#[derive(Debug, Default)]
pub struct Types(BTreeMap<String, TypeMetadata>);

impl Types {
    /// Reads every `type-metadata.json` one level below `dir`.
    pub fn load(dir: &Path) -> Result<Self, PortalError> {
        let failed = |path: PathBuf, reason: String| PortalError::TypeMetadata {
            path: path.display().to_string(),
            reason,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| failed(dir.into(), e.to_string()))?;
        let mut types = BTreeMap::new();
        for entry in entries {
            let path = entry
                .map_err(|e| failed(dir.into(), e.to_string()))?
                .path()
                .join("type-metadata.json");
            if !path.is_file() {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| failed(path.clone(), e.to_string()))?;
            let metadata =
                TypeMetadata::parse(&text).map_err(|e| failed(path.clone(), e.to_string()))?;
            types.insert(metadata.vct.clone(), metadata);
        }
        Ok(Self(types))
    }

    /// The display name of `vct` in `locale`, if the type is known.
    pub fn name(&self, vct: &str, locale: &str) -> Option<&str> {
        self.0
            .get(vct)
            .and_then(|m| m.display(locale))
            .map(|d| d.name.as_str())
    }

    /// The label of the top-level claim `claim` of `vct` in `locale`.
    pub fn label(&self, vct: &str, claim: &str, locale: &str) -> Option<&str> {
        self.0
            .get(vct)?
            .label(&[ClaimPathElement::from(claim)], locale)
    }

    /// The label of `member` of the object claim `claim` of `vct` in
    /// `locale`.
    pub fn member_label(&self, vct: &str, claim: &str, member: &str, locale: &str) -> Option<&str> {
        self.0.get(vct)?.label(
            &[
                ClaimPathElement::from(claim),
                ClaimPathElement::from(member),
            ],
            locale,
        )
    }

    /// `value` of the top-level claim `claim` of `vct` in words in
    /// `locale` (the type metadata's `intyg_value_display`), if it has them.
    pub fn value_label(
        &self,
        vct: &str,
        claim: &str,
        value: &serde_json::Value,
        locale: &str,
    ) -> Option<&str> {
        self.0
            .get(vct)?
            .value_label(&[ClaimPathElement::from(claim)], value, locale)
    }

    /// Where `claim` comes in the type's own order of claims (unknown claims
    /// last), so that verified claims read as the type describes them.
    pub fn rank(&self, vct: &str, claim: &str) -> usize {
        self.0
            .get(vct)
            .and_then(|m| {
                m.claims
                    .iter()
                    .position(|c| c.path.first() == Some(&ClaimPathElement::from(claim)))
            })
            .unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_the_intyg_types_in_both_languages() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/credentials"));
        let types = Types::load(dir).unwrap();
        let eligibility = crate::templates::ELIGIBILITY_VCT;
        assert_eq!(
            types.name(eligibility, "sv"),
            Some("Rätt till arbetspraktik")
        );
        assert_eq!(
            types.name(eligibility, "en"),
            Some("Internship eligibility")
        );
        assert_eq!(
            types.label(eligibility, "max_hours_per_week", "en"),
            Some("Maximum hours per week")
        );
        assert_eq!(types.label(eligibility, "nope", "sv"), None);
        let registration = crate::templates::REGISTRATION_VCT;
        assert_eq!(
            types.member_label(registration, "registered_at_least", "6_months", "sv"),
            Some("Inskriven minst 6 månader")
        );
        assert_eq!(
            types.member_label(registration, "registered_at_least", "6_months", "en"),
            Some("Registered at least 6 months")
        );
        assert!(types.rank(eligibility, "given_name") < types.rank(eligibility, "eligible_from"));
        assert!(Types::load(&dir.join("missing")).is_err());
    }
}
