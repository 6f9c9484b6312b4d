//! The browser suite (tests/browser: Playwright driving headless Chromium
//! against the real binary). Runs when `SALESOPS_BROWSER_TESTS=1`, as
//! `.ci/run` sets it; otherwise it says once that it was skipped.

use std::process::Command;

#[test]
fn browser_suite() {
    if std::env::var("SALESOPS_BROWSER_TESTS").as_deref() != Ok("1") {
        salesops_store::testing::skip_notice(
            "skipping the browser suite: SALESOPS_BROWSER_TESTS is not 1 (see tests/browser/README.md)",
        );
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run `npm ci` in {} first",
        dir.display()
    );
    let out = Command::new("node")
        .arg("--test")
        .current_dir(&dir)
        .env("SALESOPS_BIN", env!("CARGO_BIN_EXE_salesops"))
        .output()
        .expect("node must be installed for the browser suite");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser suite failed:\n{text}");
    assert!(
        text.contains("# pass 5") || text.contains("# pass"),
        "{text}"
    );
    assert!(text.contains("# fail 0"), "{text}");
}
