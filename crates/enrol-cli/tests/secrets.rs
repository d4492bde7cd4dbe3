//! `enrol serve` never prints a database password, whatever goes wrong
//! opening the database.

use std::process::Command;

const PASSWORD: &str = "Pw-s3cret-4c9e";

/// Runs `enrol serve --dev` on `url` and returns what it printed; it must fail.
fn serve_output(url: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(["serve", "--dev", "--addr", "127.0.0.1:0", "--database-url", url])
        .env("RUST_LOG", "trace")
        .output()
        .expect("enrol starts");
    assert!(!output.status.success(), "serve must fail on {url}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn serve_with_a_bad_database_url_prints_no_password() {
    let pg =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let host = pg.split_once('@').map_or("127.0.0.1:5432/test", |(_, rest)| rest);
    let server = host.split('/').next().unwrap_or("127.0.0.1:5432");
    for url in [
        // A database that does not exist on a real server (trust auth ignores the password).
        format!("postgres://postgres:{PASSWORD}@{server}/no_such_database_i15"),
        // The password as a query parameter.
        format!("postgres://postgres@{server}/no_such_database_i15?password={PASSWORD}"),
        // A URL the driver cannot even parse.
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:notaport/test"),
    ] {
        let printed = serve_output(&url);
        assert!(printed.contains("error"), "{printed}");
        assert!(!printed.contains(PASSWORD), "the password leaked for {url}:\n{printed}");
    }
}
