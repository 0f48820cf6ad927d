//! Rebuilds the crate when anything in `web-ui/` changes: the files are embedded with
//! `include_dir!`, which does not tell cargo about files added to the folder.

fn main() {
    println!("cargo:rerun-if-changed=../../web-ui");
    println!("cargo:rerun-if-changed=build.rs");
}
