//! A target's URL, which may carry credentials: the `url` of an InfluxDB
//! target and the `endpoint_url` of a Timestream one, written as
//! `http://admin:PASS@host:8086`, `…/?p=PASS` or `…?X-Amz-Signature=…`.
//!
//! An [`Endpoint`] keeps the URL as written, to connect with, and shows
//! only its redacted form: every message, report, journal line and `Debug`
//! that names the target gets `http://admin:***@host:8086`. The URL as
//! written is handed out by [`Endpoint::expose`] alone, which only the
//! clients call (`tests/it/secrets.rs` holds it to the files that may).
//!
//! What is secret ([`secret_ranges`]): the password of the user
//! information (all of it when it has no `:`: a token alone), and the
//! value of every query or fragment parameter whose name looks secret
//! ([`secret_name`]), or that has no name at all.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// What a secret is shown as.
const HIDDEN: &str = "***";

/// A target's URL: connects with what was written, shows only what is safe
/// to show. It has no `Deref`, `AsRef` or `Serialize`: its text reaches
/// the outside through `Display` (redacted) or [`Endpoint::expose`].
/// Shared, so that the errors that name a target stay small.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint(Arc<Forms>);

#[derive(PartialEq, Eq)]
struct Forms {
    written: String,
    shown: String,
}

impl Endpoint {
    pub(crate) fn new(written: String) -> Endpoint {
        Endpoint(Arc::new(Forms {
            shown: redacted(&written),
            written,
        }))
    }

    /// The URL as written, credentials and all: only to connect with.
    pub(crate) fn expose(&self) -> &str {
        &self.0.written
    }

    /// Whether the URL says `https://`.
    pub(crate) fn is_https(&self) -> bool {
        self.0.written.starts_with("https://")
    }

    /// Whether the URL is an `http://` or `https://` one that parses.
    pub(crate) fn is_http(&self) -> bool {
        (self.0.written.starts_with("http://") || self.is_https())
            && self.0.written.parse::<http::Uri>().is_ok()
    }

    /// Whether a `?` or `#` follows the host.
    pub(crate) fn has_query_or_fragment(&self) -> bool {
        let authority = self.0.written.find("://").map_or(0, |i| i + 3);
        self.0.written[authority..].contains(['?', '#'])
    }
}

#[cfg(test)]
impl From<&str> for Endpoint {
    fn from(written: &str) -> Endpoint {
        Endpoint::new(written.to_string())
    }
}

#[cfg(test)]
impl From<String> for Endpoint {
    fn from(written: String) -> Endpoint {
        Endpoint::new(written)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.shown)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Endpoint").field(&self.0.shown).finish()
    }
}

/// `url` with each of its [`secret_ranges`] shown as `***`.
pub(crate) fn redacted(url: &str) -> String {
    let mut shown = String::with_capacity(url.len());
    let mut at = 0;
    for range in secret_ranges(url) {
        shown.push_str(&url[at..range.start]);
        shown.push_str(HIDDEN);
        at = range.end;
    }
    shown.push_str(&url[at..]);
    shown
}

/// The byte ranges of `url` that are secret, in order and apart: the
/// user information's password (`admin:PASS@`; all of `TOKEN@`), and the
/// value of each query and fragment parameter whose name looks secret or
/// that has no name (`?p=PASS`, `#access_token=…`, `?TOKEN`). Read from
/// the text, so that a URL that does not parse is redacted too: without
/// `scheme://`, the text up to the first `/`, `?` or `#` is taken for the
/// host and its user information.
///
/// A password may hold `/`, `?` or `#` unescaped (generated passwords and
/// base64 tokens do), which ends the host for a URL parser: so the text
/// up to the last `@` is also taken for user information, and what either
/// reading finds secret is hidden. Too much hidden costs a message some
/// clarity; too little, a password.
pub(crate) fn secret_ranges(url: &str) -> Vec<Range<usize>> {
    let mut ranges = as_parsed(url);
    let authority = authority_start(url);
    if let Some(at) = url[authority..].rfind('@') {
        ranges.push(password(url, authority..authority + at));
    }
    ranges.retain(|r| !r.is_empty());
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Where the host (and its user information) starts: after `scheme://`.
fn authority_start(url: &str) -> usize {
    match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => i + 3,
        _ => 0,
    }
}

/// The secret part of the user information `url[userinfo]`: what follows
/// its first `:`, or all of it (a token alone).
fn password(url: &str, userinfo: Range<usize>) -> Range<usize> {
    match url[userinfo.clone()].find(':') {
        Some(colon) => userinfo.start + colon + 1..userinfo.end,
        None => userinfo,
    }
}

/// The secrets a URL parser would find: the host ends at the first `/`,
/// `?` or `#`.
fn as_parsed(url: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let authority = authority_start(url);
    let path = url[authority..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority + i);
    if let Some(at) = url[authority..path].rfind('@') {
        ranges.push(password(url, authority..authority + at));
    }
    let fragment = url[path..].find('#').map(|i| path + i);
    let query = url[path..fragment.unwrap_or(url.len())]
        .find('?')
        .map(|i| path + i);
    if let Some(query) = query {
        parameters(url, query + 1..fragment.unwrap_or(url.len()), &mut ranges);
    }
    if let Some(fragment) = fragment {
        parameters(url, fragment + 1..url.len(), &mut ranges);
    }
    ranges
}

/// `http`, `https`, `git+ssh`: RFC 3986's scheme.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The secret values among the `&`- or `;`-separated parameters of
/// `url[within]`.
fn parameters(url: &str, within: Range<usize>, ranges: &mut Vec<Range<usize>>) {
    let mut start = within.start;
    for parameter in url[within].split(['&', ';']) {
        let value = match parameter.split_once('=') {
            // `?=VALUE`: no name to say it is not a secret.
            Some((name, value)) if name.is_empty() || secret_name(name) => {
                let from = start + name.len() + 1;
                from..from + value.len()
            }
            Some(_) => start..start,
            // A value without a name may be a token pasted alone.
            None => start..start + parameter.len(),
        };
        if !value.is_empty() {
            ranges.push(value);
        }
        start += parameter.len() + 1;
    }
}

/// Whether a parameter's name looks like it names a secret: `p` (InfluxDB
/// 1.x's password), or a name holding `pass`, `pwd`, `secret`, `token`,
/// `key`, `auth`, `sig`, `credential`, `session`, `private`, `jwt` or
/// `bearer` (or `pw` alone), whatever
/// its case, `-`, `_` and percent-encoding (`X-Amz-Signature`, `apiKey`,
/// `access_token`, `%70`). A name that does not look secret may still be
/// one; a name that looks secret and is not costs only its value in a
/// message.
pub(crate) fn secret_name(name: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    let folded: String = decoded
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    folded == "p"
        || folded == "pw"
        || [
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "auth",
            "sig",
            "credential",
            "session",
            "private",
            "jwt",
            "bearer",
        ]
        .iter()
        .any(|word| folded.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_and_secret_parameters_are_hidden_and_the_rest_kept() {
        let cases = [
            (
                "http://admin:PASS@127.0.0.1:8086",
                "http://admin:***@127.0.0.1:8086",
            ),
            ("https://TOKEN@h.example/x", "https://***@h.example/x"),
            ("http://admin:@h:8086", "http://admin:@h:8086"),
            (
                "http://admin:P@SS@h:8086/p?db=e2e",
                "http://admin:***@h:8086/p?db=e2e",
            ),
            (
                "http://127.0.0.1:5077/?p=SECRETQ&db=x",
                "http://127.0.0.1:5077/?p=***&db=x",
            ),
            (
                "http://h/?u=admin&password=a%20b;X-Amz-Signature=ab12&region=eu",
                "http://h/?u=admin&password=***;X-Amz-Signature=***&region=eu",
            ),
            (
                "http://h/?apiKey=1&%70=2&Access_Token=3&plain",
                "http://h/?apiKey=***&%70=***&Access_Token=***&***",
            ),
            ("http://h/#access_token=abc", "http://h/#access_token=***"),
            ("http://h/?db=x#y", "http://h/?db=x#***"),
            ("http://h:8086", "http://h:8086"),
            ("http://h:8086/?p=", "http://h:8086/?p="),
            // No scheme: the host and its user information come first.
            ("admin:PASS@h:8086", "admin:***@h:8086"),
            // An `@` past the host may end a password holding `/`: hidden
            // too, at the cost of some of the path.
            ("h:8086/path@x?p=1", "h:***@x?p=***"),
            ("http://admin:pa/ss@h:8086", "http://admin:***@h:8086"),
            ("http://admin:p?x=1@h:8086", "http://admin:***@h:8086"),
            ("http://admin:pa#ss@h:8086", "http://admin:***"),
            ("https://abc/def==@h", "https://***@h"),
            ("//admin:PASS@h", "//admin:***@h"),
            ("admin:x://y@h:8086", "admin:***@h:8086"),
            // An address in a query does not unhide a later password.
            (
                "http://h:8086/?u=me@x.org&p=PASS",
                "http://h:***@x.org&p=***",
            ),
            ("http://h/?=SECRET&db=x", "http://h/?=***&db=x"),
            ("http://u:p@[::1]:8086/", "http://u:***@[::1]:8086/"),
            // A scheme-like text inside the query is not the scheme.
            ("u:PASS@h?next=http://x", "u:***@h?next=http://x"),
        ];
        for (written, shown) in cases {
            assert_eq!(redacted(written), shown, "{written}");
            let endpoint = Endpoint::new(written.to_string());
            assert_eq!(endpoint.to_string(), shown);
            assert_eq!(format!("{endpoint:?}"), format!("Endpoint({shown:?})"));
            assert_eq!(endpoint.expose(), written);
        }
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "p",
            "P",
            "pass",
            "passwd",
            "pwd",
            "token",
            "X-Amz-Security-Token",
            "sig",
            "key",
            "api_key",
            "Authorization",
            "client_secret",
            "sessionid",
            "%74oken",
            "pw",
            "PW",
            "jwt",
            "id_jwt",
            "bearer",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "u",
            "db",
            "region",
            "org",
            "bucket",
            "precision",
            "rp",
            "pws",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }
}
