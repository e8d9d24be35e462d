//! Digest resolution: RFC 9901 §7.1 steps 3 to 5.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{DisclosureKind, SHA_256, SdJwt, SdJwtError, pointer_push};

/// How many disclosures may nest inside one another. Real credentials use
/// two or three; the bound keeps recursion on untrusted input shallow.
const MAX_NESTING: usize = 32;

/// An SD-JWT whose digests were resolved against its disclosures. The
/// issuer's signature is not checked yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosed {
    pub(crate) sd_jwt: SdJwt,
    /// The processed payload: disclosed claims in place, `_sd`, `...` and
    /// `_sd_alg` removed.
    pub claims: Map<String, Value>,
    /// For each disclosure (by position), the JSON pointer of the claim it
    /// reveals in `claims` and the disclosure it sits inside, if any.
    pub(crate) places: Vec<Place>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Place {
    pub(crate) pointer: String,
}

impl SdJwt {
    /// Resolves the digests (§7.1 steps 3 to 5). Fails on any duplicate
    /// digest or disclosure, forbidden or colliding claim name, kind
    /// mismatch or unreferenced disclosure.
    pub fn disclose(self) -> Result<Disclosed, SdJwtError> {
        match self.payload.get("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == SHA_256 => {}
            Some(Value::String(alg)) => return Err(SdJwtError::UnsupportedSdAlg(alg.clone())),
            Some(other) => return Err(SdJwtError::UnsupportedSdAlg(other.to_string())),
        }
        let mut by_digest = HashMap::with_capacity(self.disclosures.len());
        for (index, disclosure) in self.disclosures.iter().enumerate() {
            if by_digest.insert(disclosure.digest(), index).is_some() {
                return Err(SdJwtError::DuplicateDisclosure(index));
            }
        }
        let mut resolver = Resolver {
            sd_jwt: &self,
            by_digest,
            seen: HashSet::new(),
            places: vec![None; self.disclosures.len()],
        };
        // Built from the payload in place: it stays in the SdJwt as signed.
        let claims = resolver.object(&self.payload, "", 0, Some("_sd_alg"))?;
        let places = resolver
            .places
            .into_iter()
            .enumerate()
            .map(|(index, place)| place.ok_or(SdJwtError::UnreferencedDisclosure(index)))
            .collect::<Result<_, _>>()?;
        Ok(Disclosed {
            sd_jwt: self,
            claims,
            places,
        })
    }
}

struct Resolver<'a> {
    sd_jwt: &'a SdJwt,
    by_digest: HashMap<&'a str, usize>,
    seen: HashSet<&'a str>,
    places: Vec<Option<Place>>,
}

impl<'a> Resolver<'a> {
    fn value(
        &mut self,
        value: &'a Value,
        pointer: &str,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object, pointer, depth, None)?),
            Value::Array(array) => Value::Array(self.array(array, pointer, depth)?),
            other => other.clone(),
        })
    }

    /// Marks `digest` as seen and returns the disclosure it names, if sent.
    fn lookup(&mut self, digest: &'a str) -> Result<Option<usize>, SdJwtError> {
        if !self.seen.insert(digest) {
            return Err(SdJwtError::DuplicateDigest(digest.to_owned()));
        }
        Ok(self.by_digest.get(digest).copied())
    }

    /// The claims of `object` without `_sd` (and `skip`, at the top), then
    /// the properties its digests disclose.
    fn object(
        &mut self,
        object: &'a Map<String, Value>,
        pointer: &str,
        depth: usize,
        skip: Option<&str>,
    ) -> Result<Map<String, Value>, SdJwtError> {
        // The members in the order an order-preserving map has them once
        // `skip` and then `_sd` are removed (each removal moves the last
        // member into the gap), so claims come out as they always did.
        let mut members: Vec<(&'a String, &'a Value)> = object.iter().collect();
        for removed in skip.into_iter().chain(["_sd"]) {
            if let Some(at) = members
                .iter()
                .position(|(name, _)| name.as_str() == removed)
            {
                members.swap_remove(at);
            }
        }
        let mut out = Map::with_capacity(members.len());
        for (name, value) in members {
            let child = pointer_push(pointer, name);
            out.insert(name.clone(), self.value(value, &child, depth)?);
        }
        let Some(digests) = object.get("_sd") else {
            return Ok(out);
        };
        let Value::Array(digests) = digests else {
            return Err(SdJwtError::MalformedDigests(format!("{pointer}/_sd")));
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::MalformedDigests(format!("{pointer}/_sd")));
            };
            let Some(index) = self.lookup(digest)? else {
                continue;
            };
            let sd_jwt = self.sd_jwt;
            let DisclosureKind::Property { name, value } = &sd_jwt.disclosures[index].kind else {
                return Err(SdJwtError::DisclosureKindMismatch(index));
            };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ForbiddenClaimName(name.clone()));
            }
            if out.contains_key(name) {
                return Err(SdJwtError::ClaimNameCollision(name.clone()));
            }
            let child = pointer_push(pointer, name);
            let revealed = self.nested(index, value, &child, depth)?;
            out.insert(name.clone(), revealed);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        array: &'a [Value],
        pointer: &str,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(array.len());
        for element in array {
            let digest = match element {
                Value::Object(object) if object.len() == 1 && object.contains_key("...") => {
                    match &object["..."] {
                        Value::String(digest) => Some(digest),
                        _ => {
                            return Err(SdJwtError::MalformedDigests(format!(
                                "{pointer}/{}",
                                out.len()
                            )));
                        }
                    }
                }
                _ => None,
            };
            let child = format!("{pointer}/{}", out.len());
            match digest {
                None => out.push(self.value(element, &child, depth)?),
                Some(digest) => {
                    let Some(index) = self.lookup(digest)? else {
                        continue;
                    };
                    let sd_jwt = self.sd_jwt;
                    let DisclosureKind::ArrayElement(value) = &sd_jwt.disclosures[index].kind
                    else {
                        return Err(SdJwtError::DisclosureKindMismatch(index));
                    };
                    let revealed = self.nested(index, value, &child, depth)?;
                    out.push(revealed);
                }
            }
        }
        Ok(out)
    }

    /// Records where disclosure `index` lands and resolves digests inside its value.
    fn nested(
        &mut self,
        index: usize,
        value: &'a Value,
        pointer: &str,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        if depth >= MAX_NESTING {
            return Err(SdJwtError::NestingTooDeep(MAX_NESTING));
        }
        self.places[index] = Some(Place {
            pointer: pointer.to_owned(),
        });
        self.value(value, pointer, depth + 1)
    }
}
