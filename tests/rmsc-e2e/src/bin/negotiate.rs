//! `rmsc-negotiate CCACHE HOST`: prints an `Authorization: Negotiate` value for `HTTP@HOST`
//! from the tickets in CCACHE. A separate process so a test can run it with a shifted clock
//! (`faketime`) to produce an authenticator from a caller whose clock is wrong.

use anyhow::Context;
use rmsc_e2e::ad::negotiate_header;
use rmsc_kerberos::Initiator;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let ccache = PathBuf::from(args.next().context("usage: rmsc-negotiate CCACHE HOST")?);
    let host = args
        .next()
        .and_then(|h| h.into_string().ok())
        .context("usage: rmsc-negotiate CCACHE HOST")?;
    let token = Initiator::from_ccache(&ccache)?.token_for(&host)?;
    println!("{}", negotiate_header(&token));
    Ok(())
}
