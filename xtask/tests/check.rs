//! `cargo xtask generate --check` must pass on the committed tree and fail, naming the stale
//! file, as soon as a spec changes without regeneration.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Copies the specs, the generated files and the rustfmt config into a fresh directory.
fn copy_inputs(dest: &Path) {
    let root = workspace();
    let files = [
        "rustfmt.toml",
        "specs/flowhunt.yaml",
        "specs/pieces.yaml",
        "specs/flowgen.yaml",
        "crates/flowhunt-api/src/generated.rs",
        "crates/pieces-api/src/generated.rs",
        "crates/flowgen-api/src/generated.rs",
        "crates/flowhunt-api/src/mock.rs",
        "crates/pieces-api/src/mock.rs",
        "crates/flowgen-api/src/mock.rs",
    ];
    for file in files {
        let to = dest.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

fn check(root: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["generate", "--check", "--root"])
        .arg(root)
        .output()
        .expect("xtask runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn committed_code_matches_the_specs() {
    let dir = scratch("clean");
    copy_inputs(&dir);
    let (ok, stderr) = check(&dir);
    assert!(ok, "--check failed on an unmodified copy:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_edited_spec_makes_check_fail_naming_the_file() {
    let dir = scratch("edited");
    copy_inputs(&dir);
    let spec = dir.join("specs/flowgen.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let edited = text.replacen("summary: List chats", "summary: List every chat", 1);
    assert_ne!(text, edited, "the edit must change the spec");
    std::fs::write(&spec, edited).unwrap();
    let (ok, stderr) = check(&dir);
    assert!(!ok, "--check passed although specs/flowgen.yaml changed");
    assert!(
        stderr.contains("crates/flowgen-api/src/generated.rs"),
        "stale file not named:\n{stderr}"
    );
    assert!(
        !stderr.contains("crates/flowhunt-api/src/generated.rs"),
        "unchanged file reported:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_edited_mock_file_makes_check_fail_naming_it() {
    let dir = scratch("mock");
    copy_inputs(&dir);
    let mock = dir.join("crates/pieces-api/src/mock.rs");
    let text = std::fs::read_to_string(&mock).unwrap();
    std::fs::write(
        &mock,
        text.replacen("pub trait MockServerExt", "pub trait MockServerExtended", 1),
    )
    .unwrap();
    let (ok, stderr) = check(&dir);
    assert!(!ok, "--check passed although a mock file was edited");
    assert!(
        stderr.contains("stale: crates/pieces-api/src/mock.rs"),
        "{stderr}"
    );
    assert!(!stderr.contains("pieces-api/src/generated.rs"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
