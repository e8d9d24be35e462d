//! `intyg status-list encode|decode|get`: Token Status Lists
//! (draft-ietf-oauth-status-list §4.2, §5.1) as JSON on stdin and stdout.

use anyhow::Context as _;
use clap::Subcommand;
use intyg_core::jose::CompactJws;
use intyg_core::status_list::{
    Bits, DecodeLimits, StatusIndex, StatusList, StatusListClaim, StatusListToken, StatusType,
};
use serde_json::{Value, json};

use crate::{Coded, print_json, read_input};

#[derive(Debug, Subcommand)]
pub(crate) enum StatusListCommand {
    /// Read a JSON array of statuses (numbers, or "VALID", "INVALID",
    /// "SUSPENDED") on stdin and print the Status List `{"bits", "lst"}`.
    Encode {
        /// Bits per status: 1, 2, 4 or 8.
        #[arg(long, value_parser = parse_bits)]
        bits: Bits,
    },
    /// Read a Status List `{"bits", "lst"}` on stdin and print its statuses
    /// as a JSON array of numbers. The list covers whole bytes, so it may
    /// end with padding entries of 0.
    Decode {
        /// The most decompressed bytes accepted.
        #[arg(long, default_value_t = DecodeLimits::DEFAULT.max_decompressed_bytes)]
        max_bytes: usize,
    },
    /// Read a Status List, a Status List Token's JSON payload (with a
    /// `status_list` claim) or the token as a compact JWT on stdin, and print
    /// the status value at one index as a number (0 valid, 1 invalid,
    /// 2 suspended, ...).
    Get {
        /// The index to read.
        #[arg(long)]
        index: StatusIndex,
        /// The most decompressed bytes accepted.
        #[arg(long, default_value_t = DecodeLimits::DEFAULT.max_decompressed_bytes)]
        max_bytes: usize,
    },
}

pub(crate) fn run(command: StatusListCommand) -> anyhow::Result<()> {
    let input = read_input(None)?;
    let output = match command {
        StatusListCommand::Encode { bits } => encode(bits, &input)?,
        StatusListCommand::Decode { max_bytes } => decode(&input, limits(max_bytes))?,
        StatusListCommand::Get { index, max_bytes } => get(&input, index, limits(max_bytes))?,
    };
    print_json(&output)
}

fn parse_bits(text: &str) -> Result<Bits, String> {
    let number: u8 = text
        .parse()
        .map_err(|_| format!("{text:?} is not 1, 2, 4 or 8"))?;
    Bits::try_from(number).map_err(|e| e.to_string())
}

fn limits(max_decompressed_bytes: usize) -> DecodeLimits {
    DecodeLimits {
        max_decompressed_bytes,
    }
}

fn invalid_input(message: String) -> anyhow::Error {
    Coded {
        code: "invalid_input",
        message,
    }
    .into()
}

fn encode(bits: Bits, input: &str) -> anyhow::Result<Value> {
    let statuses: Vec<Value> =
        serde_json::from_str(input).context("stdin is not a JSON array of statuses")?;
    let mut list = StatusList::new(bits, statuses.len());
    for (index, value) in statuses.iter().enumerate() {
        let status = status_from_json(value).ok_or_else(|| {
            invalid_input(format!(
                "status {index} is {value}: expected 0..=255, \"VALID\", \"INVALID\" or \"SUSPENDED\""
            ))
        })?;
        list.set(StatusIndex::from(index as u64), status)
            .map_err(|e| invalid_input(format!("status {index}: {e}")))?;
    }
    Ok(serde_json::to_value(StatusListClaim::from(&list))?)
}

fn decode(input: &str, limits: DecodeLimits) -> anyhow::Result<Value> {
    let list = read_list(input, limits)?;
    Ok(Value::Array(
        list.iter().map(|status| json!(status.value())).collect(),
    ))
}

fn get(input: &str, index: StatusIndex, limits: DecodeLimits) -> anyhow::Result<Value> {
    let list = read_list(input, limits)?;
    let status = list.get(index).map_err(|e| Coded {
        code: "index_out_of_range",
        message: e.to_string(),
    })?;
    Ok(json!(status.value()))
}

/// Reads `{"bits", "lst"}`, an object holding it as `status_list`, or a
/// Status List Token in compact JWS form (its payload is read; the
/// signature is not checked here: fetch and verify through a verifier).
fn read_list(input: &str, limits: DecodeLimits) -> anyhow::Result<StatusList> {
    let input = input.trim();
    let mut value: Value = if input.starts_with('{') {
        serde_json::from_str(input).context("stdin is not JSON")?
    } else {
        let jws = CompactJws::parse(input).map_err(|e| {
            invalid_input(format!("stdin is neither JSON nor a status list JWT: {e}"))
        })?;
        if jws.header.typ.as_deref() != Some(StatusListToken::TYP) {
            return Err(invalid_input(format!(
                "JWT typ is {:?}, expected \"{}\"",
                jws.header.typ,
                StatusListToken::TYP
            )));
        }
        jws.payload_json().context("the JWT payload is not JSON")?
    };
    if let Some(inner) = value.get_mut("status_list") {
        value = inner.take();
    }
    let claim: StatusListClaim = serde_json::from_value(value).context(
        "stdin is neither a status list {\"bits\", \"lst\"} nor a token payload with `status_list`",
    )?;
    claim.decode(limits).map_err(|e| {
        Coded {
            code: "invalid_status_list",
            message: e.to_string(),
        }
        .into()
    })
}

fn status_from_json(value: &Value) -> Option<StatusType> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .map(StatusType::from),
        Value::String(name) => match name.as_str() {
            "VALID" => Some(StatusType::Valid),
            "INVALID" => Some(StatusType::Invalid),
            "SUSPENDED" => Some(StatusType::Suspended),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(error: &anyhow::Error) -> Option<&'static str> {
        error.downcast_ref::<Coded>().map(|coded| coded.code)
    }

    #[test]
    fn encode_matches_the_draft_example() {
        let out = encode(Bits::One, "[1,0,0,1,1,1,0,1,1,1,0,0,0,1,0,\"INVALID\"]").unwrap();
        assert_eq!(out["bits"], json!(1));
        let back = decode(&out.to_string(), DecodeLimits::default()).unwrap();
        assert_eq!(
            back,
            json!([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1])
        );
    }

    #[test]
    fn encode_refuses_values_too_wide_or_unknown() {
        let err = encode(Bits::One, "[0, \"SUSPENDED\"]").unwrap_err();
        assert_eq!(code(&err), Some("invalid_input"));
        assert!(err.to_string().contains("status 1"), "{err}");
        for bad in ["[256]", "[-1]", "[\"REVOKED\"]", "[null]"] {
            assert_eq!(
                code(&encode(Bits::Eight, bad).unwrap_err()),
                Some("invalid_input")
            );
        }
        assert!(encode(Bits::One, "{}").is_err());
    }

    #[test]
    fn bits_flag_accepts_only_1_2_4_8() {
        assert_eq!(parse_bits("2"), Ok(Bits::Two));
        assert!(parse_bits("3").unwrap_err().contains("1, 2, 4 or 8"));
        assert!(parse_bits("two").is_err());
    }

    #[test]
    fn get_reads_a_list_or_a_token_payload() {
        let list = json!({ "bits": 2, "lst": "eNo76fITAAPfAgc" });
        let out = get(&list.to_string(), 1u32.into(), DecodeLimits::default()).unwrap();
        assert_eq!(out, json!(2));
        let out = get(&list.to_string(), 3u32.into(), DecodeLimits::default()).unwrap();
        assert_eq!(out, json!(3));
        let payload = json!({ "sub": "https://e.com/1", "iat": 1, "status_list": list });
        let out = get(&payload.to_string(), 0u32.into(), DecodeLimits::default()).unwrap();
        assert_eq!(out, json!(1));
    }

    #[test]
    fn get_reads_a_status_list_jwt() {
        use intyg_core::jose::{Algorithm, Header, SigningKey, sign_compact};
        let key = SigningKey::generate().unwrap();
        let payload = json!({ "sub": "https://e.com/1", "iat": 1, "status_list": { "bits": 2, "lst": "eNo76fITAAPfAgc" } });
        let header = Header::new(Algorithm::ES256).typ(StatusListToken::TYP);
        let jwt = sign_compact(&header, payload.to_string().as_bytes(), &key).unwrap();
        assert_eq!(
            get(&jwt, 1u32.into(), DecodeLimits::default()).unwrap(),
            json!(2)
        );
        let wrong = sign_compact(
            &Header::new(Algorithm::ES256).typ("JWT"),
            payload.to_string().as_bytes(),
            &key,
        )
        .unwrap();
        assert_eq!(
            code(&get(&wrong, 1u32.into(), DecodeLimits::default()).unwrap_err()),
            Some("invalid_input")
        );
        assert_eq!(
            code(&get("not a jwt", 1u32.into(), DecodeLimits::default()).unwrap_err()),
            Some("invalid_input")
        );
    }

    #[test]
    fn get_refuses_out_of_range_and_bad_lists() {
        let list = json!({ "bits": 2, "lst": "eNo76fITAAPfAgc" }).to_string();
        let err = get(&list, 12u32.into(), DecodeLimits::default()).unwrap_err();
        assert_eq!(code(&err), Some("index_out_of_range"));
        let bad = json!({ "bits": 1, "lst": "AAAA" }).to_string();
        let err = get(&bad, 0u32.into(), DecodeLimits::default()).unwrap_err();
        assert_eq!(code(&err), Some("invalid_status_list"));
        let err = decode(&list, limits(1)).unwrap_err();
        assert_eq!(code(&err), Some("invalid_status_list"));
        assert!(decode("{\"bits\": 3, \"lst\": \"\"}", DecodeLimits::default()).is_err());
    }
}
