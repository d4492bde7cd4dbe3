# Thin recipes over cargo. `just ready` is exactly what CI runs.

default:
    @just --list

# The whole engine on the sample city: a round from open to published, into ./out.
demo *args:
    cargo run --release --bin enrol -- demo {{args}}

# Every test (PostgreSQL suites too when TEST_DATABASE_URL is set).
test:
    cargo test --workspace

# Every test, with the PostgreSQL suites against the local server.
test-pg:
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --workspace

# Lints with warnings denied, as CI runs them.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Review pending insta snapshots.
snap:
    cargo insta review

# cargo-fuzz on every fuzz target, SECONDS each, as CI runs it (docs/fuzzing.md).
fuzz seconds="30":
    .ci/fuzz/run {{seconds}}

# Exactly what CI runs.
ready:
    bash .ci/run
