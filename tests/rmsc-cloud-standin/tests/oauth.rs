//! Sign-in: every error code of the password grant in precedence order, the device-code flow
//! through the real HTML page (with MFA and decline), and bearer-token checks.

mod common;

use std::time::Duration;

use common::*;
use http::Method;
use rmsc_contract::{DeviceCodeResponse, TenantInfo, TokenResponse};

async fn password(client: &TestClient, user: &str, pass: &str) -> Resp {
    client
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", pass),
            ],
        )
        .await
}

#[tokio::test]
async fn password_grant_answers_every_error_code_in_precedence_order() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let cases = [
        ("nobody@contoso.test", PASSWORD, "invalid_credentials"),
        (ADMIN, "wrong", "invalid_credentials"),
        // MFA is reported only once the password is right.
        ("mfa@contoso.test", "wrong", "invalid_credentials"),
        ("mfa@contoso.test", PASSWORD, "mfa_required"),
        (
            "cloudonly@contoso.test",
            PASSWORD,
            "account_not_synchronized",
        ),
        ("noroles@contoso.test", PASSWORD, "missing_role"),
        ("alice@contoso.test", PASSWORD, "missing_role"),
        ("admin@fabrikam.test", PASSWORD, "protection_not_activated"),
        ("blocked@contoso.test", PASSWORD, "onboarding_blocked"),
    ];
    for (user, pass, code) in cases {
        let resp = password(&client, user, pass).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, code.to_owned()),
            "{user}"
        );
    }
    for user in [
        "rmsadmin@contoso.test",
        "connadmin@contoso.test",
        "CONNADMIN@Contoso.Test",
    ] {
        assert_eq!(
            password(&client, user, PASSWORD).await.status,
            200,
            "{user}"
        );
    }
    standin.set_activated("contoso", false);
    assert_eq!(
        password(&client, "connadmin@contoso.test", PASSWORD)
            .await
            .error_code(),
        "protection_not_activated"
    );
    standin.set_activated("fabrikam", true);
    assert_eq!(
        password(&client, "admin@fabrikam.test", PASSWORD)
            .await
            .status,
        200
    );
    standin.shutdown().await;
}

#[tokio::test]
async fn passwords_with_every_special_character_are_decoded_properly() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let resp = password(&client, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let token: TokenResponse = resp.json();
    assert_eq!(
        (token.token_type.as_str(), token.expires_in),
        ("Bearer", 3600)
    );
    assert_eq!(token.account, ADMIN);
    // A body that is not form-encoded is refused as malformed, not as bad credentials.
    let raw = client
        .send(
            Method::POST,
            "/oauth2/token",
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(
        (raw.status, raw.error_code()),
        (400, "invalid_request".to_owned())
    );
    let unknown = client
        .form("/oauth2/token", &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(unknown.error_code(), "invalid_request");
    standin.shutdown().await;
}

#[tokio::test]
async fn bearer_tokens_give_tenant_info_and_bad_ones_are_refused() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let token = token(&client, ADMIN, ADMIN_PASSWORD).await;
    let info: TenantInfo = client
        .get("/api/v1/tenant", &[("authorization", &bearer(&token))])
        .await
        .json();
    assert_eq!(Some(info.clone()), standin.tenant_info("contoso"));
    assert_eq!(
        info.relay_url,
        format!("{}/tenants/{}", standin.base_url(), info.tenant_id)
    );
    assert_eq!(
        info.rms_url,
        format!("https://{}.rms.na.aadrm.com", info.tenant_id)
    );
    assert!(info.activated);
    for auth in [None, Some("Bearer nope"), Some("Basic abc")] {
        let headers: Vec<(&str, &str)> =
            auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
        let resp = client.get("/api/v1/tenant", &headers).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (401, "invalid_token".to_owned())
        );
        assert_eq!(resp.header("www-authenticate").as_deref(), Some("Bearer"));
    }
    standin.shutdown().await;
}

#[tokio::test]
async fn tokens_expire() {
    let standin = start_with(|c| c.token_lifetime_secs = 1).await;
    let client = TestClient::new(&standin);
    let token = token(&client, ADMIN, ADMIN_PASSWORD).await;
    let auth = bearer(&token);
    eventually(Duration::from_secs(5), || async {
        let resp = client
            .get("/api/v1/tenant", &[("authorization", &auth)])
            .await;
        (resp.status == 401).then_some(())
    })
    .await;
    standin.shutdown().await;
}

async fn start_device(client: &TestClient) -> DeviceCodeResponse {
    let resp = client
        .form(
            "/oauth2/devicecode",
            &[("client_id", rmsc_contract::CLIENT_ID)],
        )
        .await;
    assert_eq!(resp.status, 200);
    resp.json()
}

async fn poll(client: &TestClient, device_code: &str) -> Resp {
    client
        .form(
            "/oauth2/token",
            &[
                ("grant_type", rmsc_contract::grant::DEVICE_CODE),
                ("device_code", device_code),
            ],
        )
        .await
}

/// Polls at the advertised interval until the answer is not `authorization_pending`.
async fn poll_until_done(client: &TestClient, device: &DeviceCodeResponse) -> Resp {
    eventually(Duration::from_secs(10), || async {
        let resp = poll(client, &device.device_code).await;
        if resp.status == 400
            && matches!(
                resp.error_code().as_str(),
                "authorization_pending" | "slow_down"
            )
        {
            tokio::time::sleep(Duration::from_secs(device.interval)).await;
            return None;
        }
        Some(resp)
    })
    .await
}

#[tokio::test]
async fn device_flow_with_mfa_through_the_html_page() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let device = start_device(&client).await;
    assert_eq!(
        device.verification_uri,
        format!("{}/device", standin.base_url())
    );
    assert_eq!((device.expires_in, device.interval), (900, 1));
    assert!(device.user_code.len() == 9 && device.user_code.as_bytes()[4] == b'-');
    assert_eq!(
        poll(&client, &device.device_code).await.error_code(),
        "authorization_pending"
    );
    // Polling again at once is too fast.
    assert_eq!(
        poll(&client, &device.device_code).await.error_code(),
        "slow_down"
    );

    let page = client.get("/device", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<label for=\"user_code\">"));
    let code = device.user_code.to_lowercase();
    let step = client
        .form("/device", &[("step", "code"), ("user_code", &code)])
        .await;
    assert!(
        step.text().contains("<label for=\"password\">"),
        "{}",
        step.text()
    );
    let wrong = client
        .form(
            "/device",
            &[
                ("step", "signin"),
                ("user_code", &code),
                ("username", "mfa@contoso.test"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("not correct"));
    let otp_page = client
        .form(
            "/device",
            &[
                ("step", "signin"),
                ("user_code", &code),
                ("username", "mfa@contoso.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(
        otp_page.text().contains("<label for=\"otp\">"),
        "{}",
        otp_page.text()
    );
    let bad_otp = client
        .form(
            "/device",
            &[("step", "otp"), ("user_code", &code), ("otp", "000000")],
        )
        .await;
    assert_eq!(bad_otp.status, 400);
    let done = client
        .form(
            "/device",
            &[("step", "otp"), ("user_code", &code), ("otp", "424242")],
        )
        .await;
    assert!(
        done.text().contains("You may close this window"),
        "{}",
        done.text()
    );

    let resp = poll_until_done(&client, &device).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json::<TokenResponse>().account, "mfa@contoso.test");
    // A device code is good for one token only.
    assert_eq!(poll(&client, &device.device_code).await.status, 400);
    standin.shutdown().await;
}

#[tokio::test]
async fn device_flow_decline_and_role_checks_after_approval() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let declined = start_device(&client).await;
    let page = client
        .form(
            "/device",
            &[("step", "decline"), ("user_code", &declined.user_code)],
        )
        .await;
    assert!(page.text().contains("declined"));
    assert_eq!(
        poll_until_done(&client, &declined).await.error_code(),
        "access_denied"
    );

    for (user, code) in [
        ("noroles@contoso.test", "missing_role"),
        ("cloudonly@contoso.test", "account_not_synchronized"),
        ("blocked@contoso.test", "onboarding_blocked"),
        ("admin@fabrikam.test", "protection_not_activated"),
    ] {
        let device = start_device(&client).await;
        standin
            .approve_device_code(&device.user_code, user, PASSWORD, None)
            .expect("page accepts the password");
        assert_eq!(
            poll_until_done(&client, &device).await.error_code(),
            code,
            "{user}"
        );
    }
    let device = start_device(&client).await;
    assert_eq!(
        standin.approve_device_code(&device.user_code, "mfa@contoso.test", PASSWORD, None),
        Err(rmsc_cloud_standin::DeviceError::OtpRequired)
    );
    standin
        .approve_device_code(
            &device.user_code,
            "mfa@contoso.test",
            PASSWORD,
            Some("424242"),
        )
        .expect("otp accepted");
    assert_eq!(poll_until_done(&client, &device).await.status, 200);
    assert_eq!(
        standin.approve_device_code("ZZZZ-ZZZZ", ADMIN, ADMIN_PASSWORD, None),
        Err(rmsc_cloud_standin::DeviceError::UnknownCode)
    );
    standin.shutdown().await;
}

#[tokio::test]
async fn device_codes_expire() {
    let standin = start_with(|c| {
        c.device_code_lifetime_secs = 1;
        c.device_interval_secs = 0;
    })
    .await;
    let client = TestClient::new(&standin);
    let device = start_device(&client).await;
    let resp = poll_until_done(&client, &device).await;
    assert_eq!(resp.error_code(), "expired_token");
    standin.shutdown().await;
}

#[tokio::test]
async fn device_page_escapes_everything_it_echoes() {
    let standin = start().await;
    let client = TestClient::new(&standin);
    let evil = "<script>alert('x')</script>\"";
    let page = client
        .get(
            &format!("/device?code={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            &[],
        )
        .await;
    assert!(!page.text().contains("<script>"));
    let page = client
        .form("/device", &[("step", "code"), ("user_code", evil)])
        .await;
    assert_eq!(page.status, 400);
    assert!(!page.text().contains("<script>"), "{}", page.text());
    assert!(page.text().contains("&lt;script&gt;"));
    let device = start_device(&client).await;
    let page = client
        .form(
            "/device",
            &[
                ("step", "signin"),
                ("user_code", &device.user_code),
                ("username", evil),
                ("password", "x"),
            ],
        )
        .await;
    assert!(!page.text().contains("<script>"));
    standin.shutdown().await;
}
