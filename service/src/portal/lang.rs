//! The portals' two languages, and the table each portal keeps its
//! strings in ([`messages!`](crate::messages)).
//!
//! A request's language comes from `?lang=sv|en` (then kept in the
//! [`LANG_COOKIE`](super::LANG_COOKIE)), else from `Accept-Language`, else
//! Swedish.

/// A language of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Swedish, the default.
    Sv,
    /// English.
    En,
}

impl Lang {
    /// `sv` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Sv => "sv",
            Self::En => "en",
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Self {
        match self {
            Self::Sv => Self::En,
            Self::En => Self::Sv,
        }
    }

    /// `sv` or `en` (case-insensitive, region ignored); anything else is `None`.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "sv" => Some(Self::Sv),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, by
    /// quality (RFC 9110 §12.5.4).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::parse) else {
                continue;
            };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The text of `msg` in this language.
    pub fn t<M: Message>(self, msg: M) -> &'static str {
        let (sv, en) = msg.texts();
        match self {
            Self::Sv => sv,
            Self::En => en,
        }
    }
}

/// A fixed string of a portal in both languages; [`messages!`](crate::messages)
/// implements it.
pub trait Message: Copy {
    /// (Swedish, English).
    fn texts(self) -> (&'static str, &'static str);
}

/// Declares a portal's `Msg` enum, each variant with its Swedish and
/// English text: `Name => ("svenska", "English"),`. Under `cfg(test)`,
/// `Msg::ALL` lists every message.
#[macro_export]
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident => ($sv:literal, $en:literal),)*) => {
        /// Every fixed string of the portal.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $($(#[$doc])* $name,)*
        }

        impl Msg {
            /// Every message, for the completeness test.
            #[cfg(test)]
            const ALL: &[Msg] = &[$(Msg::$name,)*];
        }

        impl $crate::portal::lang::Message for Msg {
            fn texts(self) -> (&'static str, &'static str) {
                match self {
                    $(Self::$name => ($sv, $en),)*
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_by_quality() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("de, en;q=0.5, sv-SE;q=0.8"),
            Some(Lang::Sv)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
    }
}
