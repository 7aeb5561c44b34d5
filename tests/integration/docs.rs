//! The generated documentation is current: `docs/parameters.md` and `docs/cli.md` equal what
//! the binary generates from the declarations.

use crate::{ok, read, repo};

fn assert_current(file: &str, args: &[&str]) {
    let generated = ok(args);
    let on_disk = read(&repo(file));
    assert!(
        generated == on_disk,
        "{file} is out of date; regenerate it with\n    cargo run --release -- {} > {file}",
        args.join(" ")
    );
}

#[test]
fn parameters_md_is_current() {
    assert_current("docs/parameters.md", &["params", "--format", "markdown"]);
}

#[test]
fn cli_md_is_current() {
    assert_current("docs/cli.md", &["docs"]);
}
