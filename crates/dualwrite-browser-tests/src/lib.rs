//! The studio's browser tests live in `tests/e2e`: each starts a real `dualwrite serve` on a fresh
//! SQLite file with the built studio, and drives it in headless Chromium over WebDriver. They are
//! ignored by a plain `cargo test`; `cargo xtask test` builds the server and the studio, then runs
//! them. This package has no code of its own: it keeps the browser tests' native dependencies out of
//! the studio's package, which builds for wasm32.
