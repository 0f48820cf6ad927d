//! `AdminAuth`: the administrator account, the first-run setup code, sessions and the login
//! rate limit. State is passed explicitly; the time source is injected.

use crate::clock::Clock;
use crate::console::ConsoleEnv;
use crate::error::WebAdminError;
use crate::password::{self, AdminAccount, ACCOUNT_SETTING};
use crate::rate_limit::LoginLimiter;
use crate::sessions::{SessionView, Sessions};
use crate::setup_code::SetupCode;
use rmsc_store::Store;
use rmsc_telemetry::{EventId, Events};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub use crate::auth_types::{AuthConfig, AuthError, NewSession, SessionState};

struct Mutable {
    setup_code: Option<SetupCode>,
    sessions: Sessions,
    limiter: LoginLimiter,
}

struct Inner {
    store: Store,
    events: Events,
    console: ConsoleEnv,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    state: Mutex<Mutable>,
    /// Argon2 takes 19 MiB per hash by default: at most two at once bounds the memory a
    /// burst of sign-in attempts can take.
    hashing: Semaphore,
    /// Serialises account changes (setup, password change, reset) so two setups cannot both
    /// succeed.
    account_change: tokio::sync::Mutex<()>,
}

/// Administrator authentication. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct AdminAuth {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth").finish_non_exhaustive()
    }
}

impl AdminAuth {
    /// Loads the account; if there is none yet, makes a setup code, writes it to
    /// `console.env` and logs it (a new code at every start until setup is done).
    pub async fn start(
        store: Store,
        events: Events,
        console: ConsoleEnv,
        clock: Arc<dyn Clock>,
        config: AuthConfig,
    ) -> Result<Self, WebAdminError> {
        let state = Mutable {
            setup_code: None,
            sessions: Sessions::new(
                config.max_sessions,
                config.idle_timeout,
                config.session_lifetime,
            ),
            limiter: LoginLimiter::new(config.rate_limit),
        };
        let auth = AdminAuth {
            inner: Arc::new(Inner {
                store,
                events,
                console,
                clock,
                config,
                state: Mutex::new(state),
                hashing: Semaphore::new(2),
                account_change: tokio::sync::Mutex::new(()),
            }),
        };
        if auth.account()?.is_none() {
            auth.new_setup_code().await?;
        } else {
            auth.inner.console.set_setup_code(None).await?;
        }
        Ok(auth)
    }

    fn lock(&self) -> MutexGuard<'_, Mutable> {
        // Every critical section leaves the state consistent, so a poisoned lock is usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    fn account(&self) -> Result<Option<AdminAccount>, WebAdminError> {
        Ok(self.inner.store.setting::<AdminAccount>(ACCOUNT_SETTING)?)
    }

    async fn new_setup_code(&self) -> Result<String, WebAdminError> {
        let code = SetupCode::generate();
        let shown = code.display();
        self.lock().setup_code = Some(code);
        self.inner.console.set_setup_code(Some(&shown)).await?;
        tracing::warn!(
            setup_code = %shown,
            "no administrator account: open the admin web page and enter this setup code"
        );
        Ok(shown)
    }

    /// The pending setup code, for the console screen; `None` once set up.
    pub fn setup_code(&self) -> Option<String> {
        self.lock().setup_code.as_ref().map(SetupCode::display)
    }

    /// Whether the administrator account exists.
    pub fn is_set_up(&self) -> Result<bool, WebAdminError> {
        Ok(self.account()?.is_some())
    }

    /// The idle timeout of sessions.
    pub fn idle_timeout(&self) -> Duration {
        self.inner.config.idle_timeout
    }

    /// The event recorder (audit trail).
    pub fn events(&self) -> &Events {
        &self.inner.events
    }

    /// The session `id`, if live; restarts its idle timer.
    pub fn session(&self, id: &str) -> Option<SessionView> {
        let now = self.now();
        self.lock().sessions.touch(id, now)
    }

    /// What the sign-in page should show for a request carrying session `id`.
    pub fn state(&self, id: Option<&str>) -> Result<SessionState, WebAdminError> {
        if !self.is_set_up()? {
            return Ok(SessionState::SetupRequired);
        }
        Ok(match id.and_then(|id| self.session(id)) {
            Some(view) => SessionState::SignedIn(view),
            None => SessionState::SignedOut,
        })
    }

    fn begin_attempt(&self, client: IpAddr) -> Result<Instant, AuthError> {
        let now = self.now();
        self.lock()
            .limiter
            .begin(client, now)
            .map_err(|wait| AuthError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            })
    }

    /// Records a failed attempt; notes in the audit trail when the client just hit its limit.
    async fn failed_attempt(&self, client: IpAddr, what: &str) {
        let blocked = self.lock().limiter.client_blocked(client);
        if blocked {
            let client = client.to_string();
            self.inner
                .events
                .record(
                    EventId::AdminAction,
                    format!("too many failed {what} attempts from {client}; refusing for a while"),
                    &[("client", &client), ("action", "rate_limited")],
                )
                .await;
        }
    }

    async fn run_hash<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|e| WebAdminError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Internal(WebAdminError::Task(e.to_string())))
    }

    fn start_session(&self, user: &str) -> NewSession {
        let now = self.now();
        let (id, view) = self.lock().sessions.create(user, now);
        NewSession {
            id,
            user: view.user,
            csrf_token: view.csrf_token,
        }
    }

    /// The first run: checks the setup code, sets the administrator account, signs in.
    pub async fn complete_setup(
        &self,
        code: &str,
        username: &str,
        new_password: &str,
        client: IpAddr,
    ) -> Result<NewSession, AuthError> {
        let _change = self.inner.account_change.lock().await;
        if self.account()?.is_some() {
            return Err(AuthError::AlreadySetUp);
        }
        let started = self.begin_attempt(client)?;
        let code_ok = self
            .lock()
            .setup_code
            .as_ref()
            .is_some_and(|c| c.matches(code));
        if !code_ok {
            self.failed_attempt(client, "setup code").await;
            return Err(AuthError::WrongSetupCode);
        }
        // The code was right; what follows is the person's input, not a guess.
        self.lock().limiter.succeeded(client, started);
        if !password::valid_username(username) {
            return Err(AuthError::InvalidUsername);
        }
        if let Some(why) = password::weakness(new_password) {
            return Err(AuthError::WeakPassword(why));
        }
        let account = self.hash_account(username, new_password).await?;
        self.inner
            .store
            .set_setting(ACCOUNT_SETTING, &account)
            .await
            .map_err(WebAdminError::from)?;
        self.lock().setup_code = None;
        self.inner.console.set_setup_code(None).await?;
        let client = client.to_string();
        self.inner
            .events
            .record(
                EventId::AdminAction,
                format!("administrator account {username} created with the setup code"),
                &[("user", username), ("client", &client), ("action", "setup")],
            )
            .await;
        Ok(self.start_session(username))
    }

    async fn hash_account(
        &self,
        username: &str,
        password: &str,
    ) -> Result<AdminAccount, AuthError> {
        let cost = self.inner.config.password_cost;
        let password = password.to_owned();
        let password_hash = self
            .run_hash(move || password::hash(&password, cost))
            .await??;
        Ok(AdminAccount {
            username: username.to_owned(),
            password_hash,
        })
    }

    /// Signs the administrator in.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<NewSession, AuthError> {
        let Some(account) = self.account()? else {
            return Err(AuthError::SetupRequired);
        };
        let started = self.begin_attempt(client)?;
        // Always check the hash, even for a wrong username, so timing does not tell which
        // part was wrong.
        let (typed, stored) = (password.to_owned(), account.password_hash.clone());
        let password_ok = self
            .run_hash(move || password::verify(&typed, &stored))
            .await?;
        let name_ok =
            subtle::ConstantTimeEq::ct_eq(username.as_bytes(), account.username.as_bytes());
        if !(password_ok && bool::from(name_ok)) {
            self.failed_attempt(client, "sign-in").await;
            return Err(AuthError::BadCredentials);
        }
        self.lock().limiter.succeeded(client, started);
        let session = self.start_session(&account.username);
        let client = client.to_string();
        self.inner
            .events
            .record(
                EventId::AdminAction,
                format!("administrator {} signed in", account.username),
                &[
                    ("user", &account.username),
                    ("client", &client),
                    ("action", "sign_in"),
                ],
            )
            .await;
        Ok(session)
    }

    /// Ends session `id` (absent is fine).
    pub async fn sign_out(&self, id: &str, client: IpAddr) {
        let view = {
            let now = self.now();
            let mut state = self.lock();
            let view = state.sessions.touch(id, now);
            state.sessions.remove(id);
            view
        };
        if let Some(view) = view {
            let client = client.to_string();
            self.inner
                .events
                .record(
                    EventId::AdminAction,
                    format!("administrator {} signed out", view.user),
                    &[
                        ("user", &view.user),
                        ("client", &client),
                        ("action", "sign_out"),
                    ],
                )
                .await;
        }
    }

    /// Changes the password of the administrator signed in with session `id`; other sessions
    /// end.
    pub async fn change_password(
        &self,
        id: &str,
        current: &str,
        new_password: &str,
        client: IpAddr,
    ) -> Result<(), AuthError> {
        let view = self.session(id).ok_or(AuthError::SessionExpired)?;
        let _change = self.inner.account_change.lock().await;
        let account = self.account()?.ok_or(AuthError::SetupRequired)?;
        let started = self.begin_attempt(client)?;
        let (typed, stored) = (current.to_owned(), account.password_hash.clone());
        if !self
            .run_hash(move || password::verify(&typed, &stored))
            .await?
        {
            self.failed_attempt(client, "password change").await;
            return Err(AuthError::BadCredentials);
        }
        self.lock().limiter.succeeded(client, started);
        if let Some(why) = password::weakness(new_password) {
            return Err(AuthError::WeakPassword(why));
        }
        let updated = self.hash_account(&account.username, new_password).await?;
        self.inner
            .store
            .set_setting(ACCOUNT_SETTING, &updated)
            .await
            .map_err(WebAdminError::from)?;
        self.lock().sessions.retain_only(id);
        let client = client.to_string();
        self.inner
            .events
            .record(
                EventId::AdminAction,
                format!("administrator {} changed the password", view.user),
                &[
                    ("user", &view.user),
                    ("client", &client),
                    ("action", "password_change"),
                ],
            )
            .await;
        Ok(())
    }

    /// The console's recovery: forgets the administrator account, ends every session and
    /// makes a new setup code (returned, written to `console.env` and logged).
    pub async fn reset_admin_password(&self) -> Result<String, WebAdminError> {
        let _change = self.inner.account_change.lock().await;
        self.inner.store.remove_setting(ACCOUNT_SETTING).await?;
        self.lock().sessions.clear();
        let code = self.new_setup_code().await?;
        self.inner
            .events
            .record(
                EventId::AdminAction,
                "administrator password reset from the console; a new setup code was issued",
                &[("user", "console"), ("action", "password_reset")],
            )
            .await;
        Ok(code)
    }
}
