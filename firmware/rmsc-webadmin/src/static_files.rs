//! The web UI, embedded in the binary from `web-ui/`: `/` is `index.html`, `/assets/...` are
//! the assets, nothing else is served. Paths are checked before any lookup: only plain
//! segments of `A-Z a-z 0-9 . _ -`, none of them `.` or `..`, no percent-encoding and no
//! backslashes, so no request can name a file outside `assets/`.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};

use crate::api_error::ApiError;

/// The embedded `web-ui/` folder: immutable data compiled into the binary, not state.
static WEB_UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../web-ui");

/// Longest asset path accepted.
const MAX_PATH: usize = 256;

/// What a static path resolves to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found {
        bytes: &'static [u8],
        content_type: &'static str,
    },
    /// A well-formed path naming no embedded file.
    NotFound,
    /// A path that tries to leave the asset folder or is not plain.
    Refused,
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Resolves a raw (still percent-encoded) request path.
pub(crate) fn lookup(raw_path: &str) -> Lookup {
    let relative = if raw_path == "/" {
        "index.html"
    } else if let Some(rest) = raw_path.strip_prefix("/assets/") {
        if rest.len() > MAX_PATH || !rest.split('/').all(plain_segment) {
            return Lookup::Refused;
        }
        &raw_path[1..]
    } else if raw_path.contains("..") || raw_path.contains('\\') || raw_path.contains('%') {
        return Lookup::Refused;
    } else {
        return Lookup::NotFound;
    };
    match WEB_UI.get_file(relative) {
        Some(file) => Lookup::Found {
            bytes: file.contents(),
            content_type: content_type(relative),
        },
        None => Lookup::NotFound,
    }
}

/// The fallback handler: static files for GET and HEAD, 404 for everything else.
pub(crate) async fn serve_static(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::not_found().into_response();
    }
    match lookup(uri.path()) {
        Lookup::Found {
            bytes,
            content_type,
        } => {
            let body = if method == Method::HEAD {
                Body::empty()
            } else {
                Body::from(bytes)
            };
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            // No content hashes in the asset names: revalidate so an update shows at once.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Lookup::NotFound => ApiError::not_found().into_response(),
        Lookup::Refused => ApiError::bad_request("That path is not allowed.").into_response(),
    }
}

/// Every embedded file under `assets/`, as `assets/...` paths.
#[cfg(test)]
pub(crate) fn embedded_assets() -> Vec<String> {
    fn walk(dir: &Dir<'static>, out: &mut Vec<String>) {
        for file in dir.files() {
            out.push(file.path().to_string_lossy().into_owned());
        }
        for sub in dir.dirs() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    if let Some(assets) = WEB_UI.get_dir("assets") {
        walk(assets, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_index_html() {
        match lookup("/") {
            Lookup::Found {
                content_type,
                bytes,
            } => {
                assert_eq!(content_type, "text/html; charset=utf-8");
                assert!(!bytes.is_empty());
            }
            other => panic!("expected index.html, got {other:?}"),
        }
    }

    #[test]
    fn only_the_root_and_assets_are_served() {
        assert_eq!(lookup("/index.html"), Lookup::NotFound);
        assert_eq!(lookup("/Cargo.toml"), Lookup::NotFound);
        assert_eq!(lookup("/assets/"), Lookup::Refused);
        assert_eq!(lookup("/assets/no-such-file.js"), Lookup::NotFound);
    }

    #[test]
    fn traversal_and_encoded_paths_are_refused() {
        for path in [
            "/assets/../index.html",
            "/assets/../../Cargo.toml",
            "/assets/%2e%2e/index.html",
            "/assets/%2E%2E%2Findex.html",
            "/assets/..%2findex.html",
            "/assets/..\\index.html",
            "/assets/sub\\..\\..\\x",
            "/assets/./app.css",
            "/assets//app.css",
            "/assets/a%00.css",
            "/..",
            "/%2e%2e/etc/passwd",
            "/x\\y",
        ] {
            assert_eq!(lookup(path), Lookup::Refused, "{path}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type("assets/app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/app.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("assets/logo.svg"), "image/svg+xml");
        assert_eq!(content_type("assets/blob"), "application/octet-stream");
    }
}
