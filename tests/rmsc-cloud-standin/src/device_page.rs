//! `GET/POST /device`: the browser page where an administrator enters the user code, signs in
//! (with a one-time code when the account needs one) or declines. Plain HTML forms with labels;
//! every value written into the page is escaped.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::context::Ctx;
use crate::device::{self, DeviceError, SignIn};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} - Cloud sign-in (stand-in)</title>\
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
label{{display:block;margin-top:1rem}}input{{display:block;width:100%;padding:.4rem;font-size:1rem}}\
button{{margin-top:1rem;margin-right:.5rem;padding:.4rem 1rem;font-size:1rem}}\
.error{{color:#a00;border:1px solid #a00;padding:.5rem}}</style></head>\
<body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape_html(title),
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

fn error_block(error: Option<DeviceError>) -> String {
    error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape_html(&e.to_string())
        )
    })
}

fn code_form(code: &str, error: Option<DeviceError>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        "Enter code",
        &format!(
            "{}<p>Enter the code shown by the connector appliance.</p>\
<form method=\"post\" action=\"/device\"><input type=\"hidden\" name=\"step\" value=\"code\">\
<label for=\"user_code\">Code</label>\
<input id=\"user_code\" name=\"user_code\" value=\"{}\" autocomplete=\"off\" autofocus required>\
<button type=\"submit\">Next</button></form>",
            error_block(error),
            escape_html(code)
        ),
    )
}

fn sign_in_form(code: &str, user: &str, error: Option<DeviceError>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        "Sign in",
        &format!(
            "{}<p>Sign in to allow the connector appliance to register with your tenant.</p>\
<form method=\"post\" action=\"/device\"><input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
<label for=\"username\">User name</label>\
<input id=\"username\" name=\"username\" type=\"email\" value=\"{}\" autocomplete=\"username\" required>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
<button type=\"submit\" name=\"step\" value=\"signin\">Sign in</button>\
<button type=\"submit\" name=\"step\" value=\"decline\" formnovalidate>Decline</button></form>",
            error_block(error),
            escape_html(user),
            code = escape_html(code),
        ),
    )
}

fn otp_form(code: &str, error: Option<DeviceError>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        "Verify your identity",
        &format!(
            "{}<p>Enter the one-time code from your authenticator.</p>\
<form method=\"post\" action=\"/device\"><input type=\"hidden\" name=\"user_code\" value=\"{}\">\
<label for=\"otp\">One-time code</label>\
<input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus required>\
<button type=\"submit\" name=\"step\" value=\"otp\">Verify</button>\
<button type=\"submit\" name=\"step\" value=\"decline\" formnovalidate>Decline</button></form>",
            error_block(error),
            escape_html(code)
        ),
    )
}

fn finished(declined: bool) -> Response {
    if declined {
        page(
            StatusCode::OK,
            "Sign-in declined",
            "<p>You declined the sign-in. You may close this window.</p>",
        )
    } else {
        page(
            StatusCode::OK,
            "You are signed in",
            "<p>The connector appliance can now continue. You may close this window.</p>",
        )
    }
}

/// `GET /device` (optionally `?code=ABCD-EFGH`, as a verification_uri_complete would carry).
pub async fn show(Query(query): Query<HashMap<String, String>>) -> Response {
    code_form(query.get("code").map_or("", String::as_str), None)
}

/// `POST /device`: one step of the flow, chosen by the `step` field.
pub async fn submit(
    State(ctx): State<Arc<Ctx>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).map_or("", String::as_str);
    let code = field("user_code");
    match field("step") {
        "code" => match device::check_user_code(&ctx, code) {
            Ok(()) => sign_in_form(code, "", None),
            Err(e) => code_form(code, Some(e)),
        },
        "signin" => match device::sign_in(&ctx, code, field("username"), field("password")) {
            Ok(SignIn::Done) => finished(false),
            Ok(SignIn::NeedsOtp) => otp_form(code, None),
            Err(e @ DeviceError::BadCredentials) => sign_in_form(code, field("username"), Some(e)),
            Err(e) => code_form(code, Some(e)),
        },
        "otp" => match device::submit_otp(&ctx, code, field("otp")) {
            Ok(()) => finished(false),
            Err(e @ DeviceError::BadOtp) => otp_form(code, Some(e)),
            Err(e) => code_form(code, Some(e)),
        },
        "decline" => match device::decline(&ctx, code) {
            Ok(()) => finished(true),
            Err(e) => code_form(code, Some(e)),
        },
        _ => code_form(code, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_every_special_character() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
