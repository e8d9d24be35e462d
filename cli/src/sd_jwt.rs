//! `intyg sd-jwt issue|present|verify|decode`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey};
use intyg_core::sd_jwt::{
    self, IssueOptions, KeyBindingCheck, KeyBindingInput, SdJwt, VerifyOptions,
};
use intyg_core::vc::{self, metadata::CredentialType};
use serde_json::{Map, Value, json};

use crate::{Coded, emit, print_json, read_input, read_json, read_jwk, unix_now};

#[derive(Debug, Subcommand)]
pub(crate) enum SdJwtCommand {
    /// Issue an SD-JWT (an SD-JWT VC with --vct or --type) and print it in compact form.
    Issue(IssueArgs),
    /// Choose what to disclose from an SD-JWT and print the presentation.
    Present(PresentArgs),
    /// Verify an SD-JWT or a presentation and print its processed payload.
    Verify(VerifyArgs),
    /// Show what an SD-JWT holds, without verifying it: every claim and the
    /// JSON pointers of the selectively disclosable ones.
    Decode {
        /// The SD-JWT; stdin when absent.
        input: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    key: PathBuf,
    /// The subject's claims, a JSON object.
    #[arg(long)]
    claims: PathBuf,
    /// Credential type: makes an SD-JWT VC (`typ: dc+sd-jwt`).
    #[arg(long)]
    vct: Option<String>,
    /// A credential type folder (`specs/credentials/<type>`): validates the
    /// claims against its schema and conceals them per its metadata.
    #[arg(long = "type", conflicts_with = "vct")]
    credential_type: Option<PathBuf>,
    /// The holder's JWK (public or private) to bind the credential to (`cnf.jwk`).
    #[arg(long)]
    holder_key: Option<PathBuf>,
    /// The `iss` claim (kept from the claims file when absent).
    #[arg(long)]
    iss: Option<String>,
    /// Validity in seconds from now (`exp`).
    #[arg(long)]
    expires_in: Option<i64>,
    /// Comma-separated JSON pointers to conceal, instead of every top-level
    /// claim (not with --type, whose metadata decides).
    #[arg(long, value_delimiter = ',', conflicts_with = "credential_type")]
    sd: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub(crate) struct PresentArgs {
    /// Comma-separated JSON pointers into the revealed claims, e.g.
    /// `/registration_status,/address/locality`. Empty discloses nothing.
    #[arg(long, value_delimiter = ',', default_value = "")]
    disclose: Vec<String>,
    /// The holder's private JWK: appends a KB-JWT.
    #[arg(long, requires_all = ["aud", "nonce"])]
    holder_key: Option<PathBuf>,
    /// KB-JWT `aud`: the verifier.
    #[arg(long)]
    aud: Option<String>,
    /// KB-JWT `nonce`: the verifier's nonce.
    #[arg(long)]
    nonce: Option<String>,
    /// KB-JWT `iat` (seconds since the epoch); the system clock when absent.
    #[arg(long)]
    iat: Option<i64>,
    /// The SD-JWT; stdin when absent.
    input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The issuer's JWK, public or private.
    #[arg(long)]
    issuer_key: PathBuf,
    /// Expected KB-JWT `aud` (requires key binding).
    #[arg(long)]
    aud: Option<String>,
    /// Expected KB-JWT `nonce` (requires key binding).
    #[arg(long)]
    nonce: Option<String>,
    /// Require a KB-JWT even without --aud or --nonce.
    #[arg(long)]
    require_kb: bool,
    /// The verification clock, seconds since the epoch; the system clock when absent.
    #[arg(long)]
    now: Option<i64>,
    /// Age in seconds after which a KB-JWT is stale.
    #[arg(long, default_value_t = sd_jwt::DEFAULT_KB_MAX_AGE)]
    kb_max_age: i64,
    /// A credential type folder: also checks `typ`, `vct` and the type's `sd` policy.
    #[arg(long = "type")]
    credential_type: Option<PathBuf>,
    /// The SD-JWT; stdin when absent.
    input: Option<PathBuf>,
}

pub(crate) fn run(command: SdJwtCommand) -> anyhow::Result<()> {
    match command {
        SdJwtCommand::Issue(args) => issue(args),
        SdJwtCommand::Present(args) => present(args),
        SdJwtCommand::Verify(args) => verify(args),
        SdJwtCommand::Decode { input } => decode(input.as_deref()),
    }
}

fn coded(code: &'static str, error: impl std::fmt::Display) -> anyhow::Error {
    Coded {
        code,
        message: error.to_string(),
    }
    .into()
}

fn parse(input: Option<&Path>) -> anyhow::Result<SdJwt> {
    SdJwt::parse(&read_input(input)?).map_err(|e| coded(e.code(), e))
}

fn load_type(dir: &Path) -> anyhow::Result<CredentialType> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let credential_type =
        CredentialType::from_documents(&read("type-metadata.json")?, &read("schema.json")?)
            .map_err(|e| coded("invalid_credential_type", e))?;
    if !dir.join("rules.json").is_file() {
        return Ok(credential_type);
    }
    credential_type
        .with_rules(&read("rules.json")?)
        .map_err(|e| coded("invalid_credential_type", e))
}

fn issue(args: IssueArgs) -> anyhow::Result<()> {
    let issuer_jwk = read_jwk(&args.key)?;
    let key = SigningKey::from_jwk(&issuer_jwk).map_err(|e| coded("invalid_key", e))?;
    let Value::Object(mut claims) = read_json(&args.claims)? else {
        return Err(coded(
            "invalid_input",
            "the claims file must hold a JSON object",
        ));
    };
    let holder_key = args
        .holder_key
        .as_deref()
        .map(read_jwk)
        .transpose()?
        .map(|jwk| jwk.to_public());
    let now = unix_now()?;
    let issued = if let Some(dir) = &args.credential_type {
        let credential_type = load_type(dir)?;
        let iss = match (args.iss, claims.remove("iss")) {
            (Some(iss), _) | (None, Some(Value::String(iss))) => iss,
            _ => return Err(coded("invalid_input", "--iss is required with --type")),
        };
        let mut params = vc::IssueParams::new(iss, now);
        params.holder_key = holder_key;
        params.expires_at = args.expires_in.map(|seconds| now + seconds);
        params.kid = issuer_jwk.key_id.clone();
        vc::issue(&credential_type, claims, &params, &key).map_err(|e| coded(e.code(), e))?
    } else {
        let disclosable: Vec<String> = match args.sd {
            Some(pointers) => pointers.into_iter().filter(|p| !p.is_empty()).collect(),
            None => claims
                .keys()
                .filter(|name| !vc::CLEAR_CLAIMS.contains(&name.as_str()))
                .map(|name| format!("/{}", name.replace('~', "~0").replace('/', "~1")))
                .collect(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = issuer_jwk.key_id.clone();
        if let Some(vct) = args.vct {
            claims.insert("vct".into(), vct.into());
            header = header.typ(vc::TYP);
        }
        if let Some(iss) = args.iss {
            claims.insert("iss".into(), iss.into());
        }
        claims.entry("iat").or_insert(now.into());
        if let Some(seconds) = args.expires_in {
            claims.insert("exp".into(), (now + seconds).into());
        }
        if let Some(jwk) = holder_key {
            claims.insert("cnf".into(), json!({ "jwk": jwk }));
        }
        sd_jwt::issue(claims, &IssueOptions::new(disclosable), header, &key)
            .map_err(|e| coded(e.code(), e))?
    };
    emit(&issued.to_string())
}

fn present(args: PresentArgs) -> anyhow::Result<()> {
    let held = parse(args.input.as_deref())?
        .disclose()
        .map_err(|e| coded(e.code(), e))?;
    let pointers: Vec<&str> = args
        .disclose
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    let holder = args
        .holder_key
        .as_deref()
        .map(|path| {
            read_jwk(path)
                .and_then(|jwk| SigningKey::from_jwk(&jwk).map_err(|e| coded("invalid_key", e)))
        })
        .transpose()?;
    let key_binding = match &holder {
        Some(key) => Some(KeyBindingInput {
            key,
            aud: args.aud.clone().unwrap_or_default(),
            nonce: args.nonce.clone().unwrap_or_default(),
            iat: args.iat.map_or_else(unix_now, Ok)?,
        }),
        None => None,
    };
    let presentation = held
        .present(&pointers, key_binding)
        .map_err(|e| coded(e.code(), e))?;
    emit(&presentation)
}

fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let issuer = VerifyingKey::from_jwk(&read_jwk(&args.issuer_key)?)
        .map_err(|e| coded("invalid_key", e))?;
    let mut options =
        VerifyOptions::at(args.now.map_or_else(unix_now, Ok)?).kb_max_age(args.kb_max_age);
    if args.require_kb || args.aud.is_some() || args.nonce.is_some() {
        options = options.key_binding(KeyBindingCheck {
            aud: args.aud,
            nonce: args.nonce,
        });
    }
    let sd_jwt = parse(args.input.as_deref())?;
    let claims = match &args.credential_type {
        Some(dir) => {
            let credential_type = load_type(dir)?;
            vc::verify(sd_jwt, &issuer, &options, Some(&credential_type))
                .map_err(|e| coded(e.code(), e))?
                .sd_jwt
                .claims
        }
        None => {
            sd_jwt
                .verify(&issuer, &options)
                .map_err(|e| coded(e.code(), e))?
                .claims
        }
    };
    print_json(&claims)
}

fn decode(input: Option<&Path>) -> anyhow::Result<()> {
    let sd_jwt = parse(input)?;
    let header = sd_jwt.header().clone();
    let held = sd_jwt.disclose().map_err(|e| coded(e.code(), e))?;
    let disclosable: Vec<&str> = held.disclosable_pointers().collect();
    let mut out = Map::new();
    out.insert("header".into(), serde_json::to_value(header)?);
    out.insert("claims".into(), Value::Object(held.claims.clone()));
    out.insert("disclosable".into(), json!(disclosable));
    print_json(&out)
}
