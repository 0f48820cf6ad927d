//! Directory browse against the Samba AD lab (tests/lab): SASL GSSAPI with the connector's
//! keytab, searches, SID and name resolution, compared with the lab's own inventory.
//! Skipped with a notice unless run as root with samba-tool installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use rmsc_directory::{
    Directory, DirectoryAuth, DirectoryConfig, DirectoryError, EntryKind, GroupScope, KindFilter,
    Sid,
};

fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/lab.sh")
}

/// Takes the lab down and deletes its directory however the test ends.
struct LabGuard(PathBuf);

impl Drop for LabGuard {
    fn drop(&mut self) {
        let status = Command::new(lab_script())
            .arg("down")
            .arg(&self.0)
            .arg("--purge")
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("lab down failed for {}: {status:?}", self.0.display());
        }
    }
}

fn lab_available() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let samba = Command::new("sh")
        .args(["-c", "command -v samba-tool"])
        .output()
        .is_ok_and(|o| o.status.success());
    root && samba
}

fn run(command: &mut Command) {
    let status = command.status().expect("command starts");
    assert!(status.success(), "{command:?} failed: {status}");
}

struct Lab {
    dir: PathBuf,
    json: serde_json::Value,
}

impl Lab {
    fn env(&self, key: &str) -> String {
        self.json["env"][key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing in lab.json"))
            .to_owned()
    }

    /// SID and DN of an account or group from the lab's inventory.
    fn account(&self, sam: &str) -> (Sid, String) {
        let accounts = self.json["accounts"].as_array().expect("accounts array");
        let record = accounts
            .iter()
            .find(|a| a["sam"] == sam)
            .unwrap_or_else(|| panic!("{sam} missing in lab.json"));
        let sid = Sid::from_str(record["sid"].as_str().expect("sid")).expect("SID syntax");
        (sid, record["dn"].as_str().expect("dn").to_owned())
    }

    fn config(&self, keytab: &str) -> DirectoryConfig {
        DirectoryConfig::new(
            vec![self.env("LAB_LDAP_URL")],
            DirectoryAuth::Keytab {
                path: self.dir.join("keytabs").join(keytab),
                principal: None,
            },
        )
    }
}

/// `ktpass /mapuser` makes the service principal the account's userPrincipalName, which is
/// what lets the keytab's principal obtain tickets as a client. `samba-tool exportkeytab`
/// does not, so the test does what ktpass would have done.
fn set_connector_upn(lab: &Lab) {
    let ldif = format!(
        "dn: CN=svc-rmsconnector,CN=Users,{}\nchangetype: modify\nreplace: userPrincipalName\n\
         userPrincipalName: {}\n",
        lab.env("LAB_BASE_DN"),
        lab.env("LAB_CONNECTOR_PRINCIPAL")
    );
    let ldif_path = lab.dir.join("connector-upn.ldif");
    std::fs::write(&ldif_path, ldif).expect("write LDIF");
    run(Command::new("ldbmodify")
        .arg("-H")
        .arg(lab.dir.join("dc/private/sam.ldb"))
        .arg(&ldif_path));
}

#[test]
fn browse_the_lab_directory() {
    if !lab_available() {
        println!("NOTICE: lab_directory skipped: needs root and samba-tool (tests/lab)");
        return;
    }
    let dir = PathBuf::from(format!("/tmp/rmsc-directory-lab-{}", std::process::id()));
    let _guard = LabGuard(dir.clone());
    run(Command::new(lab_script()).arg("up").arg(&dir));
    let json = std::fs::read_to_string(dir.join("lab.json")).expect("lab.json");
    let lab = Lab {
        json: serde_json::from_str(&json).expect("lab.json parses"),
        dir,
    };
    set_connector_upn(&lab);
    // MIT reads the KDC's address from krb5.conf; only this test binary sees this variable.
    std::env::set_var("KRB5_CONFIG", lab.env("LAB_KRB5_CONF"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(browse(&lab));
}

async fn browse(lab: &Lab) {
    let directory = Directory::connect(lab.config("connector.keytab"))
        .await
        .expect("connect with the connector keytab");
    assert_eq!(directory.base_dn(), lab.env("LAB_BASE_DN"));

    let computers = KindFilter {
        users: false,
        computers: true,
        groups: false,
    };
    let found = directory.search("EXCH", computers).await.expect("search");
    for sam in ["EXCH01$", "EXCH02$"] {
        let (sid, dn) = lab.account(sam);
        let entry = found
            .iter()
            .find(|e| e.sam_account_name == sam)
            .unwrap_or_else(|| panic!("{sam} not found in {found:?}"));
        assert_eq!(entry.kind, EntryKind::Computer);
        assert_eq!(entry.sid, sid, "{sam}");
        assert!(entry.dn.eq_ignore_ascii_case(&dn), "{} vs {dn}", entry.dn);
        assert_eq!(entry.scope, None);
    }
    assert!(found.iter().all(|e| e.kind == EntryKind::Computer));

    let everything = directory
        .search("EXCH", KindFilter::ALL)
        .await
        .expect("search");
    let group = everything
        .iter()
        .find(|e| e.sam_account_name == "Exchange Servers")
        .expect("Exchange Servers is found by EXCH");
    let (group_sid, _) = lab.account("Exchange Servers");
    assert_eq!(group.kind, EntryKind::Group);
    assert_eq!(group.scope, Some(GroupScope::Global));
    assert!(group.security_group);
    assert_eq!(group.sid, group_sid);

    let (exch01_sid, _) = lab.account("EXCH01$");
    let back = directory
        .resolve_sid(&exch01_sid)
        .await
        .expect("resolve SID");
    assert_eq!(back.map(|e| e.sam_account_name).as_deref(), Some("EXCH01$"));
    let unknown = exch01_sid.with_rid(999_999).expect("SID with RID");
    assert_eq!(
        directory.resolve_sid(&unknown).await.expect("resolve"),
        None
    );

    for name in ["CONTOSO\\EXCH01$", "EXCH01$", "exch01", "Exchange Servers"] {
        let entry = directory.resolve_name(name).await.expect("resolve name");
        let entry = entry.unwrap_or_else(|| panic!("{name} not resolved"));
        let expected = if name == "Exchange Servers" {
            &group_sid
        } else {
            &exch01_sid
        };
        assert_eq!(&entry.sid, expected, "{name}");
    }
    assert_eq!(
        directory.resolve_name("NOBODY99").await.expect("resolve"),
        None
    );

    let users = KindFilter {
        users: true,
        computers: false,
        groups: false,
    };
    let sharepoint = directory.search("svc-sp", users).await.expect("search");
    let names: Vec<&str> = sharepoint
        .iter()
        .map(|e| e.sam_account_name.as_str())
        .collect();
    assert_eq!(names, ["svc-spapppool", "svc-spcentral"]);

    let injected = directory
        .search("*)(objectClass=*", KindFilter::ALL)
        .await
        .expect("search");
    assert!(injected.is_empty(), "filter injection matched {injected:?}");

    // The RC4 service account's principal is not its UPN: the KDC does not know it as a
    // client, which must read as an authentication failure with the fix in the message.
    let err = Directory::connect(lab.config("rc4-only.keytab"))
        .await
        .expect_err("no client principal");
    assert!(matches!(err, DirectoryError::AuthFailed(_)), "{err}");
    assert!(err.to_string().contains("userPrincipalName"), "{err}");
}
