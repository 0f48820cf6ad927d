//! Tests of the whole router and listener: first run, sign-in, sessions, CSRF, audit,
//! static files and the HTTPS listener.

mod api;
mod setup;
mod static_ui;
mod support;
mod tls;
