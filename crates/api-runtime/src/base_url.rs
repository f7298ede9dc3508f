//! A generated client's base URL, parsed once, so that a request's URL is built without parsing
//! the scheme and host again.
//!
//! progenitor builds each request's URL as text (`format!("{}/path", baseurl)`) that reqwest then
//! parses whole: about 7,000 instructions a call, half of them the host (IDNA processing even for
//! `127.0.0.1`), the largest single cost the generated client added over raw reqwest in issue
//! 16's profile. The xtask (`xtask/src/base_url.rs`) points the generated code here instead;
//! the URL is the one parsing the text gives (see [`BaseUrl::url`]), only cheaper to build.

use std::sync::Arc;

use reqwest::{Client, Method, RequestBuilder, Url};

/// A base URL and, when it is safe, its parsed form; shared, so cloning a client stays one
/// reference count.
#[derive(Clone, Debug)]
pub struct BaseUrl(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    /// The base as given, for the bases and paths the fast path does not cover.
    text: String,
    /// The base parsed, and the part of its path that precedes an operation's path, when
    /// setting the path of the parsed URL gives exactly what parsing `text + path` gives.
    parsed: Option<(Url, String)>,
}

impl BaseUrl {
    /// Parses `base` (a URL without a trailing path separator, as the client crates'
    /// constructors leave it; any other text still works, through the slow path).
    pub fn new(base: &str) -> Self {
        Self(Arc::new(Parts {
            text: base.to_string(),
            parsed: Url::parse(base).ok().and_then(|url| {
                let prefix = path_prefix(base, &url)?;
                Some((url, prefix))
            }),
        }))
    }

    /// The URL of `path` (the operation's path, `/` first, its parameters encoded) under this
    /// base: what `Url::parse(&format!("{base}{path}"))` gives, `None` where that would fail.
    pub fn url(&self, path: &str) -> Option<Url> {
        self.fast(path)
            .or_else(|| Url::parse(&format!("{}{path}", self.0.text)).ok())
    }

    /// The URL of `path` by setting it on the parsed base, where that gives what parsing the
    /// joined text gives; `None`: take the text path.
    fn fast(&self, path: &str) -> Option<Url> {
        let (url, prefix) = self.0.parsed.as_ref()?;
        if !is_plain_path(path) {
            return None;
        }
        let mut url = url.clone();
        if prefix.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{prefix}{path}"));
        }
        Some(url)
    }

    /// `client.request(method, base + path)`. An unusable base fails as it did when the URL was
    /// text: reqwest's builder error, from `RequestBuilder::build`.
    pub fn request(&self, client: &Client, method: Method, path: &str) -> RequestBuilder {
        match self.url(path) {
            Some(url) => client.request(method, url),
            None => client.request(method, format!("{}{path}", self.0.text)),
        }
    }
}

/// What the parsed base's path contributes before an operation's path, when the fast path
/// applies: the base must be its own serialization (no normalisation to undo), with no query or
/// fragment that an appended path would land in.
fn path_prefix(base: &str, url: &Url) -> Option<String> {
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    if url.as_str() == base {
        return Some(url.path().to_string());
    }
    // `http://host` serializes as `http://host/`: its path `/` is not in the text.
    let bare = url.path() == "/" && url.as_str().strip_suffix('/') == Some(base);
    bare.then(String::new)
}

/// A path that parses the same on its own as after the base: `/` first, nothing that would end
/// the path (`?`, `#`) and no space or control character (parsing trims them at the end of the
/// text, setting a path does not).
fn is_plain_path(path: &str) -> bool {
    // A table: this runs on every request, and a byte lookup is a third of the comparisons.
    const PLAIN: [bool; 256] = {
        let mut plain = [false; 256];
        let mut b = b' ' as usize + 1;
        while b < 256 {
            plain[b] = b != 0x7f && b != b'?' as usize && b != b'#' as usize;
            b += 1;
        }
        plain
    };
    path.starts_with('/') && path.bytes().all(|b| PLAIN[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASES: &[&str] = &[
        "http://127.0.0.1:39300",
        "http://localhost:1000",
        "https://api.flowhunt.io",
        "https://api.example.com/v2",
        "https://api.example.com/v2/",
        "http://127.0.0.1:39300/",
        "HTTP://Example.COM:80/A",
        "https://example.com/a/./b/../c",
        "http://[::1]:8080/x",
        "https://bücher.example/p",
        "http://h/?q=1",
        "http://h/#f",
        "mailto:someone@example.com",
        "not a url",
        "",
        "http:",
    ];

    const PATHS: &[&str] = &[
        "/conversations/identifiers",
        "/chats/3f2a%2Fb",
        "/v3/flow-assistants/a%20b/invoke",
        "//double",
        "/a/../b/./c",
        "/ümlaut/ü",
        "/back\\slash",
        "/percent%zz",
        "/query?x=1",
        "/frag#x",
        "/trailing ",
        "/tab\tin",
        "/del\u{7f}",
        "/ctl\u{1}x",
        "relative",
        "",
    ];

    #[test]
    fn every_url_is_the_one_parsing_the_joined_text_gives() {
        for base in BASES {
            let built = BaseUrl::new(base);
            for path in PATHS {
                let expected = Url::parse(&format!("{base}{path}")).ok();
                assert_eq!(built.url(path), expected, "{base:?} + {path:?}");
            }
        }
    }

    #[test]
    fn the_services_bases_take_the_fast_path() {
        for base in [
            "http://127.0.0.1:39300",
            "https://api.flowhunt.io",
            "https://api.example.com/v2",
        ] {
            assert!(BaseUrl::new(base).0.parsed.is_some(), "{base}");
        }
        assert_eq!(
            BaseUrl::new("https://api.example.com/v2")
                .url("/chats/x")
                .map(String::from),
            Some("https://api.example.com/v2/chats/x".to_string())
        );
        // The operations' paths take it; a path that parsing would end or trim does not.
        let pieces = BaseUrl::new("http://127.0.0.1:39300");
        for path in [
            "/conversations/identifiers",
            "/chats/3f2a%2Fb",
            "/a/../b",
            "/%C3%BC",
        ] {
            assert!(pieces.fast(path).is_some(), "{path:?}");
            assert!(is_plain_path(path), "{path:?}");
        }
        for path in [
            "/query?x=1",
            "/frag#x",
            "/trailing ",
            "/tab\tin",
            "/del\u{7f}",
            "/ctl\u{1}",
            "relative",
            "",
        ] {
            assert!(pieces.fast(path).is_none(), "{path:?}");
            assert!(!is_plain_path(path), "{path:?}");
        }
        // Bases whose text is not their serialization go the slow way, with the same result.
        assert!(BaseUrl::new("HTTP://Example.COM").0.parsed.is_none());
        assert!(BaseUrl::new("http://h/?q=1").0.parsed.is_none());
    }

    #[test]
    fn an_unusable_base_fails_at_build_as_a_builder_error() {
        let client = Client::new();
        for base in ["not a url", "", "mailto:someone@example.com"] {
            let error = BaseUrl::new(base)
                .request(&client, Method::GET, "/x")
                .build()
                .unwrap_err();
            assert!(error.is_builder(), "{base:?}: {error:?}");
        }
        let request = BaseUrl::new("http://127.0.0.1:9/v1")
            .request(&client, Method::POST, "/chats")
            .build()
            .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.url().as_str(), "http://127.0.0.1:9/v1/chats");
    }
}
