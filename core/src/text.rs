//! Free text from people and from other parties.
//!
//! Two rules, one helper each, used by every field that takes text and by
//! every place that prints text it did not write:
//!
//! - [`check`]: a free-text input refuses control characters (Unicode
//!   category Cc: C0, DEL, C1, so ESC as well) and the bidirectional
//!   embedding, override and isolate marks (U+202A–U+202E, U+2066–U+2069),
//!   which can make text read differently from what it is. A multi-line
//!   field accepts line breaks (`\n`, and `\r\n` as browsers post them).
//! - [`for_terminal`]: text from elsewhere (a verifier's name or purpose, an
//!   issuer's display name) with those characters shown as `\u{..}`
//!   escapes, so it cannot move the cursor, recolour or rewrite a terminal.

use std::borrow::Cow;

/// Whether a field is one line or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: no line break.
    Single,
    /// Several lines: `\n` and `\r\n` allowed.
    Multi,
}

/// A character a free-text field refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the text contains the control character U+{:04X} at character {position}", u32::from(*character))]
pub struct ControlCharacter {
    /// The character refused.
    pub character: char,
    /// Its position in the text, counted in characters from 1.
    pub position: usize,
}

/// Whether `c` is a control character or a bidirectional control.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a free-text input: no control characters except, in a
/// [`Lines::Multi`] field, line breaks.
pub fn check(text: &str, lines: Lines) -> Result<(), ControlCharacter> {
    let mut chars = text.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let line_break = lines == Lines::Multi
            && (c == '\n' || (c == '\r' && chars.peek().is_some_and(|(_, next)| *next == '\n')));
        if is_control(c) && !line_break {
            return Err(ControlCharacter {
                character: c,
                position: at + 1,
            });
        }
    }
    Ok(())
}

/// `text` with every control character (line breaks included) and
/// bidirectional control written as a visible `\u{..}` escape; borrowed
/// when there is none.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_control(c) {
                    format!("\\u{{{:x}}}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_is_refused_everywhere() {
        for lines in [Lines::Single, Lines::Multi] {
            assert_eq!(
                check("Praktik\u{1b}[31m", lines),
                Err(ControlCharacter {
                    character: '\u{1b}',
                    position: 8
                })
            );
        }
    }

    #[test]
    fn line_breaks_only_in_multi_line_fields() {
        assert!(check("rad ett\nrad två\r\nrad tre", Lines::Multi).is_ok());
        assert!(check("rad ett\nrad två", Lines::Single).is_err());
        assert!(check("ensam\rretur", Lines::Multi).is_err());
        assert!(check("tab\there", Lines::Multi).is_err());
    }

    #[test]
    fn c1_del_and_bidi_controls_are_refused() {
        for text in [
            "a\u{7f}",
            "a\u{85}",
            "a\u{9b}",
            "abc\u{202e}fed",
            "x\u{2066}",
        ] {
            assert!(check(text, Lines::Multi).is_err(), "{text:?}");
        }
        assert!(check("Åsa Öberg-Ängström, 20 % — «ok»", Lines::Single).is_ok());
    }

    #[test]
    fn terminal_text_shows_controls_as_escapes() {
        assert_eq!(for_terminal("Arbetsförmedlingen"), "Arbetsförmedlingen");
        assert!(matches!(for_terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(
            for_terminal("Praktik\u{1b}[2J\nny rad\u{202e}"),
            "Praktik\\u{1b}[2J\\u{a}ny rad\\u{202e}"
        );
    }
}
