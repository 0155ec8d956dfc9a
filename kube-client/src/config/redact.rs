//! Showing configuration without its secrets: URLs without their user info,
//! lists of secrets as their length.

use std::{borrow::Cow, fmt};

use super::file_config::REDACTED;

/// `url` with the user info of its authority (`user:password@`) replaced by
/// `[redacted]@`.
///
/// Works on any text, valid URL or not: everything between the scheme and the
/// last `@` before the query is hidden, so a malformed URL (a password with a
/// `/` in it) cannot slip through. A path with an `@` hides a little too much,
/// which is the safe side for messages.
pub(crate) fn without_userinfo(url: &str) -> Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(start..).unwrap_or_default();
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    match rest.get(..before_query).and_then(|r| r.rfind('@')) {
        Some(at) => Cow::Owned(format!(
            "{}{REDACTED}@{}",
            url.get(..start).unwrap_or_default(),
            rest.get(at + 1..).unwrap_or_default()
        )),
        None => Cow::Borrowed(url),
    }
}

/// `uri` without the user info of its authority, for errors that keep a URI.
#[cfg(feature = "client")]
pub(crate) fn uri_without_userinfo(uri: &http::Uri) -> http::Uri {
    let Some((_, host)) = uri.authority().and_then(|a| a.as_str().rsplit_once('@')) else {
        return uri.clone();
    };
    let host = http::uri::Authority::try_from(host).ok();
    let mut parts = uri.clone().into_parts();
    parts.authority = host;
    // Parts of a valid URI, minus the user info, make a valid URI again.
    http::Uri::from_parts(parts).unwrap_or_default()
}

/// A URL for `Debug`, without its user info.
pub(crate) struct RedactedUrl<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&without_userinfo(self.0), f)
    }
}

/// An `http::Uri` for `Debug`, printed as `http` prints it but without its
/// user info.
pub(crate) struct RedactedUri<'a>(pub(crate) &'a http::Uri);

impl fmt::Debug for RedactedUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&without_userinfo(&self.0.to_string()))
    }
}

/// A list whose entries may be secrets, for `Debug`: only how many there are.
pub(crate) struct RedactedList(pub(crate) usize);

impl fmt::Debug for RedactedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} entries, {REDACTED}>", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_hidden_and_the_rest_kept() {
        for (url, shown) in [
            (
                "https://user:pw@example.com:6443/k8s/clusters/c1",
                "https://[redacted]@example.com:6443/k8s/clusters/c1",
            ),
            (
                "socks5://pw@127.0.0.1:1080",
                "socks5://[redacted]@127.0.0.1:1080",
            ),
            ("https://example.com/a?b=c@d", "https://example.com/a?b=c@d"),
            ("https://u:p/ss@host", "https://[redacted]@host"),
            ("user:pw@host:80", "[redacted]@host:80"),
            ("https://10.0.0.1:6443", "https://10.0.0.1:6443"),
            ("", ""),
        ] {
            assert_eq!(without_userinfo(url), shown, "{url}");
        }
        let uri: http::Uri = "http://a:secret@proxy:3128".parse().expect("uri");
        assert_eq!(
            format!("{:?}", RedactedUri(&uri)),
            "http://[redacted]@proxy:3128/"
        );
        assert_eq!(
            format!("{:?}", Some(RedactedUrl("https://a:secret@k"))),
            r#"Some("https://[redacted]@k")"#
        );
        assert_eq!(format!("{:?}", RedactedList(2)), "<2 entries, [redacted]>");
        assert_eq!(uri_without_userinfo(&uri), "http://proxy:3128/");
        let plain: http::Uri = "https://k/x".parse().expect("uri");
        assert_eq!(uri_without_userinfo(&plain), plain);
    }
}
