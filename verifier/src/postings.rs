//! Internship postings and their applications, shared by the employer
//! portal (`portal`) and the HR API (`api`): one place checks a posting's
//! fields and opens an applicant session (a presentation request from the
//! `internship-application` template with the posting's purpose).

use intyg_core::text::{ControlCharacter, Lines};
use intyg_service::audit::Event;

use crate::error::ApiError;
use crate::model::Transaction;
use crate::presentation::{RequestOptions, create_transaction};
use crate::store::{Application, Posting};
use crate::{AppState, now, random_token, templates};

/// The template every applicant session uses.
pub const TEMPLATE: &str = "internship-application";

/// Longest posting title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest posting description, in characters.
pub const DESCRIPTION_MAX: usize = 4000;
/// Longest purpose, in characters.
pub const PURPOSE_MAX: usize = 500;

/// Why a posting field (or a request's purpose) is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// Empty or only white space.
    #[error("is required")]
    Required,
    /// Longer than its limit.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// A control character (ESC, ...); line breaks are one only in a
    /// one-line field.
    #[error("contains a control character: {0}")]
    ControlCharacter(ControlCharacter),
}

/// Checks one free-text field: trimmed, not empty, at most `max`
/// characters, no control characters (line breaks allowed in a
/// [`Lines::Multi`] field).
pub fn check_text(value: &str, max: usize, lines: Lines) -> Result<(), FieldProblem> {
    let value = value.trim();
    if value.is_empty() {
        Err(FieldProblem::Required)
    } else if value.chars().count() > max {
        Err(FieldProblem::TooLong { max })
    } else {
        intyg_core::text::check(value, lines).map_err(FieldProblem::ControlCharacter)
    }
}

/// The fields of a new posting, as typed.
#[derive(Debug, Clone, Copy)]
pub struct NewPosting<'a> {
    /// The title.
    pub title: &'a str,
    /// What the internship is.
    pub description: &'a str,
    /// Why applicants are asked for their credentials.
    pub purpose: &'a str,
    /// How old a status list may be for its applications, in seconds
    /// (0: fetched for each); `None`: the template's setting.
    pub max_status_age: Option<u64>,
    /// A legal basis to keep applicants' data despite an erasure
    /// request, if the employer has one (one line).
    pub legal_basis: Option<&'a str>,
}

impl NewPosting<'_> {
    /// Each field with a problem, by field name (`title`, `description`,
    /// `purpose`); empty when the posting can be made. Values are trimmed.
    pub fn problems(&self) -> Vec<(&'static str, FieldProblem)> {
        [
            ("title", self.title, TITLE_MAX, Lines::Single),
            (
                "description",
                self.description,
                DESCRIPTION_MAX,
                Lines::Multi,
            ),
            ("purpose", self.purpose, PURPOSE_MAX, Lines::Multi),
        ]
        .into_iter()
        .chain(
            self.legal_basis
                .filter(|basis| !basis.trim().is_empty())
                .map(|basis| ("legal_basis", basis, PURPOSE_MAX, Lines::Single)),
        )
        .filter_map(|(name, value, max, lines)| {
            check_text(value, max, lines).err().map(|p| (name, p))
        })
        .collect()
    }
}

/// Stores a posting whose fields have no [`NewPosting::problems`].
pub async fn create(
    state: &AppState,
    new: NewPosting<'_>,
    created_by: &str,
    source: Option<std::net::IpAddr>,
) -> Result<Posting, ApiError> {
    let posting = Posting {
        id: random_token(12)?,
        title: new.title.trim().to_owned(),
        description: new.description.trim().to_owned(),
        purpose: new.purpose.trim().to_owned(),
        created_at: now(),
        created_by: created_by.to_owned(),
        max_status_age: new.max_status_age,
        legal_basis: new
            .legal_basis
            .map(str::trim)
            .filter(|basis| !basis.is_empty())
            .map(str::to_owned),
    };
    state.stores.postings.insert(&posting).await?;
    state.stores.durable().await?;
    tracing::info!(posting = %posting.id, "internship posting created");
    let event = Event::new(created_by, "posting.create")
        .subject(format!("posting:{}", posting.id))
        .source(source);
    state.audit.record(event).await?;
    Ok(posting)
}

/// Opens an applicant session of `posting`: a new presentation request
/// with the posting's purpose, recorded as an application.
pub async fn open_application(
    state: &AppState,
    posting: &Posting,
    mut options: RequestOptions,
    actor: &str,
    source: Option<std::net::IpAddr>,
) -> Result<Transaction, ApiError> {
    if posting.max_status_age.is_some() {
        options.max_status_age = posting.max_status_age;
    }
    options.posting_id = Some(posting.id.clone());
    let template = templates::template(TEMPLATE)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?
        .ok_or_else(|| ApiError::bad_request("server_error", "the template is missing"))?;
    let transaction = create_transaction(
        state,
        &template.query,
        posting.purpose.clone(),
        Some(TEMPLATE.to_owned()),
        options,
    )
    .await?;
    state
        .stores
        .postings
        .add_application(&Application {
            posting_id: posting.id.clone(),
            transaction_id: transaction.id.clone(),
            created_at: transaction.created_at,
        })
        .await?;
    let event = Event::new(actor, "application.open")
        .subject(format!("posting:{}", posting.id))
        .detail(format!("transaction {}", transaction.id))
        .source(source);
    state.audit.record(event).await?;
    state.stores.durable().await?;
    tracing::info!(posting = %posting.id, transaction = %transaction.id, "applicant session opened");
    Ok(transaction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_each_field() {
        let long = "x".repeat(TITLE_MAX + 1);
        let new = NewPosting {
            title: &long,
            description: "  ",
            purpose: "Ansökan om arbetspraktik",
            max_status_age: None,
            legal_basis: None,
        };
        assert_eq!(
            new.problems(),
            vec![
                ("title", FieldProblem::TooLong { max: TITLE_MAX }),
                ("description", FieldProblem::Required)
            ]
        );
        let ok = NewPosting {
            title: "Lagerassistent",
            description: "Praktik i tre månader",
            purpose: "Ansökan om arbetspraktik",
            max_status_age: None,
            legal_basis: None,
        };
        assert!(ok.problems().is_empty());
    }

    #[test]
    fn an_escape_in_a_purpose_is_refused_a_line_break_is_not() {
        let new = NewPosting {
            title: "Lagerassistent",
            description: "Praktik\ni tre månader",
            purpose: "Ansökan\u{1b}[2J om arbetspraktik",
            max_status_age: None,
            legal_basis: None,
        };
        assert!(matches!(
            new.problems()[..],
            [("purpose", FieldProblem::ControlCharacter(found))] if found.character == '\u{1b}'
        ));
        let title = NewPosting {
            title: "Lager\nassistent",
            description: "d",
            purpose: "p",
            max_status_age: None,
            legal_basis: None,
        };
        assert_eq!(title.problems().len(), 1);
    }

    #[test]
    fn a_title_at_the_limit_counts_characters_not_bytes() {
        let title = "å".repeat(TITLE_MAX);
        let new = NewPosting {
            title: &title,
            description: "d",
            purpose: "p",
            max_status_age: None,
            legal_basis: None,
        };
        assert!(new.problems().is_empty());
    }
}
