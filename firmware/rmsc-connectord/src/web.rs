//! The admin web listener: HTTPS with its own certificate, the browser session layer of
//! `rmsc-webadmin` in front of the same admin API the local socket serves.

use crate::config::Config;
use anyhow::Context;
use axum::routing::post;
use axum::{Json, Router};
use rmsc_admin::Admin;
use rmsc_store::Store;
use rmsc_telemetry::Events;
use rmsc_webadmin::{AdminAuth, AdminTls, AuthConfig, ConsoleEnv, SystemClock, WebAdminState};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The started admin web listener.
pub struct AdminWeb {
    pub addresses: Vec<SocketAddr>,
    pub auth: AdminAuth,
    pub tls: AdminTls,
}

/// Binds the admin listeners, prepares the certificate and the administrator account, and
/// serves until `stop`.
pub async fn start(
    config: &Config,
    store: &Store,
    events: &Events,
    admin: Arc<Admin>,
    hostname: &str,
    tasks: &mut JoinSet<()>,
    stop: CancellationToken,
) -> anyhow::Result<Option<AdminWeb>> {
    if config.admin.listen.is_empty() {
        return Ok(None);
    }
    let mut listeners = Vec::new();
    let mut addresses = Vec::new();
    for addr in &config.admin.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the admin listener {addr}"))?;
        addresses.push(listener.local_addr()?);
        listeners.push(listener);
    }
    let console = ConsoleEnv::new(&config.data_dir);
    console
        .set_admin_port(addresses[0].port())
        .await
        .context("writing console.env")?;
    let tls = AdminTls::load_or_create(store, hostname, &console)
        .await
        .context("preparing the admin certificate")?;
    let auth = AdminAuth::start(
        store.clone(),
        events.clone(),
        console,
        Arc::new(SystemClock),
        AuthConfig::default(),
    )
    .await
    .context("preparing the administrator account")?;
    let app = rmsc_webadmin::router(WebAdminState::new(auth.clone()), rmsc_admin::router(admin));
    let server_config = tls.server_config().context("admin TLS configuration")?;
    tasks.spawn(rmsc_webadmin::serve(listeners, server_config, app, stop));
    Ok(Some(AdminWeb {
        addresses,
        auth,
        tls,
    }))
}

/// Routes only the local (root-only) socket offers: console recovery.
pub fn console_routes(web: Option<&AdminWeb>) -> Router {
    let auth = web.map(|w| w.auth.clone());
    Router::new().route(
        "/api/v1/console/reset-admin-password",
        post(move || {
            let auth = auth.clone();
            async move {
                match auth {
                    Some(auth) => match auth.reset_admin_password().await {
                        Ok(code) => Ok(Json(serde_json::json!({ "setup_code": code }))),
                        Err(error) => {
                            tracing::error!(%error, "admin password reset failed");
                            Err(rmsc_admin::AdminError::Store(error.to_string()))
                        }
                    },
                    None => Err(rmsc_admin::AdminError::Unavailable(
                        "The admin web UI is turned off in the configuration.".into(),
                    )),
                }
            }
        }),
    )
}
