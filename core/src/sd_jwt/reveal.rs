//! Digest resolution: RFC 9901 §7.1 steps 3 to 5.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::{Map, Value};

use super::{DisclosureKind, SHA_256, SdJwt, SdJwtError, push_escaped};

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
        // The SdJwt keeps its payload as signed; the claims are made from a copy.
        let payload = self.payload.clone();
        self.resolve(payload)
    }

    /// [`disclose`](Self::disclose) on `payload`, this SD-JWT's payload or
    /// a copy of it, which becomes the claims in place: members move, none
    /// is copied or hashed again.
    pub(crate) fn resolve(self, payload: Map<String, Value>) -> Result<Disclosed, SdJwtError> {
        match payload.get("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == SHA_256 => {}
            Some(Value::String(alg)) => return Err(SdJwtError::UnsupportedSdAlg(alg.clone())),
            Some(other) => return Err(SdJwtError::UnsupportedSdAlg(other.to_string())),
        }
        // Every digest the payload names, decoys included, ends up here;
        // the top-level `_sd` holds most of them.
        let top_level = match payload.get("_sd") {
            Some(Value::Array(digests)) => digests.len(),
            _ => 0,
        };
        let mut digests = HashMap::with_capacity_and_hasher(
            self.disclosures.len() + top_level,
            foldhash::fast::RandomState::default(),
        );
        for (index, disclosure) in self.disclosures.iter().enumerate() {
            let slot = Slot {
                disclosure: Some(index),
                seen: false,
            };
            if digests
                .insert(Cow::Borrowed(disclosure.digest()), slot)
                .is_some()
            {
                return Err(SdJwtError::DuplicateDisclosure(index));
            }
        }
        let mut resolver = Resolver {
            sd_jwt: &self,
            digests,
            places: vec![None; self.disclosures.len()],
        };
        let claims = resolver.object(payload, Path::Root, 0, Some("_sd_alg"))?;
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

/// A digest of the payload or a disclosure: the disclosure it names, if
/// one was sent, and whether the resolution met it already.
struct Slot {
    disclosure: Option<usize>,
    seen: bool,
}

/// Where a value sits: the steps from the payload's root, rendered as a
/// JSON pointer only where a disclosure lands or an error names the place.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Root => {}
            Self::Key(parent, name) => {
                parent.write(out);
                out.push('/');
                push_escaped(out, name);
            }
            Self::Index(parent, index) => {
                parent.write(out);
                out.push('/');
                out.push_str(&index.to_string());
            }
        }
    }
}

struct Resolver<'a> {
    sd_jwt: &'a SdJwt,
    /// Keyed by the disclosures' digests (borrowed) and the payload's
    /// (moved out of their `_sd` arrays).
    digests: HashMap<Cow<'a, str>, Slot, foldhash::fast::RandomState>,
    places: Vec<Option<Place>>,
}

impl<'a> Resolver<'a> {
    fn value(&mut self, value: Value, path: Path<'_>, depth: usize) -> Result<Value, SdJwtError> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object, path, depth, None)?),
            Value::Array(array) => Value::Array(self.array(array, path, depth)?),
            other => other,
        })
    }

    /// Marks `digest` as seen and returns the disclosure it names, if sent.
    fn lookup(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        match self.digests.entry(Cow::Owned(digest)) {
            Entry::Occupied(mut slot) => {
                if slot.get().seen {
                    return Err(SdJwtError::DuplicateDigest(slot.key().to_string()));
                }
                slot.get_mut().seen = true;
                Ok(slot.get().disclosure)
            }
            Entry::Vacant(slot) => {
                slot.insert(Slot {
                    disclosure: None,
                    seen: true,
                });
                Ok(None)
            }
        }
    }

    /// `object` without `_sd` (and `skip`, at the top), its members resolved
    /// in place, then the properties its digests disclose.
    fn object(
        &mut self,
        mut object: Map<String, Value>,
        path: Path<'_>,
        depth: usize,
        skip: Option<&str>,
    ) -> Result<Map<String, Value>, SdJwtError> {
        // Removing `skip` and then `_sd` moves the last member into each
        // gap (an order-preserving map), so claims come out as they always did.
        if let Some(skip) = skip {
            object.remove(skip);
        }
        let digests = object.remove("_sd");
        for (name, value) in object.iter_mut() {
            let member = std::mem::take(value);
            *value = self.value(member, Path::Key(&path, name), depth)?;
        }
        let Some(digests) = digests else {
            return Ok(object);
        };
        let Value::Array(digests) = digests else {
            return Err(SdJwtError::MalformedDigests(format!(
                "{}/_sd",
                path.pointer()
            )));
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::MalformedDigests(format!(
                    "{}/_sd",
                    path.pointer()
                )));
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
            let serde_json::map::Entry::Vacant(slot) = object.entry(name.as_str()) else {
                return Err(SdJwtError::ClaimNameCollision(name.clone()));
            };
            slot.insert(self.nested(index, value.clone(), Path::Key(&path, name), depth)?);
        }
        Ok(object)
    }

    /// `array` with each `{"...": digest}` replaced by the element it
    /// discloses, or left out when that was not disclosed.
    fn array(
        &mut self,
        mut array: Vec<Value>,
        path: Path<'_>,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        // Resolved elements are written back from the front; `kept` is the
        // position in the resolved array.
        let mut kept = 0;
        for at in 0..array.len() {
            let element = std::mem::take(&mut array[at]);
            let resolved = match element {
                Value::Object(mut object) if object.len() == 1 && object.contains_key("...") => {
                    let Some(Value::String(digest)) = object.remove("...") else {
                        return Err(SdJwtError::MalformedDigests(
                            Path::Index(&path, kept).pointer(),
                        ));
                    };
                    let Some(index) = self.lookup(digest)? else {
                        continue;
                    };
                    let sd_jwt = self.sd_jwt;
                    let DisclosureKind::ArrayElement(value) = &sd_jwt.disclosures[index].kind
                    else {
                        return Err(SdJwtError::DisclosureKindMismatch(index));
                    };
                    self.nested(index, value.clone(), Path::Index(&path, kept), depth)?
                }
                element => self.value(element, Path::Index(&path, kept), depth)?,
            };
            array[kept] = resolved;
            kept += 1;
        }
        array.truncate(kept);
        Ok(array)
    }

    /// Records where disclosure `index` lands and resolves digests inside its value.
    fn nested(
        &mut self,
        index: usize,
        value: Value,
        path: Path<'_>,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        if depth >= MAX_NESTING {
            return Err(SdJwtError::NestingTooDeep(MAX_NESTING));
        }
        self.places[index] = Some(Place {
            pointer: path.pointer(),
        });
        self.value(value, path, depth + 1)
    }
}
