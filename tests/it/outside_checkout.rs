//! `scripts/outside-checkout`, which runs the whole gate under strace and
//! fails when anything touches a path beside the checkout, held to traces
//! of known shape: what it must report, and what it must let pass. (The
//! gate itself runs traced, and a trace cannot be nested, so the reading
//! is what is tested here; `scripts/test` exercises the tracing.)

use std::path::Path;
use std::process::Command;

/// Runs the script's reading on `trace` as if `/x/co` were the checkout
/// and `existed` stood beside it: (exit code, stderr).
fn read(trace: &str, existed: &[&str]) -> (i32, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = crate::common::scratch("outside-checkout");
    let log = scratch.path().join("trace");
    std::fs::write(&log, trace).unwrap();
    let output = Command::new("python3")
        .arg(root.join("scripts/outside-checkout"))
        .arg("--read")
        .arg(&log)
        .args(["--checkout", "/x/co", "--existed"])
        .args(existed)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_read_beside_the_checkout_fails_the_gate_whether_or_not_the_file_is_there() {
    let (code, stderr) = read(
        concat!(
            "101 openat(AT_FDCWD</x/co/tests>, \"../../notes/design.md\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n",
            "103 newfstatat(3</x>, \"neighbour/notes.txt\", {st_mode=S_IFREG|0644, st_size=1}, 0) = 0\n",
        ),
        &["co", "neighbour"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("/x/notes/design.md"), "{stderr}");
    assert!(stderr.contains("/x/neighbour/notes.txt"), "{stderr}");
    assert!(stderr.contains("2 path(s)"), "{stderr}");
}

#[test]
fn the_checkout_its_own_creations_and_the_tools_probes_pass() {
    let (code, stderr) = read(
        concat!(
            "100 openat(AT_FDCWD</x/co>, \"Cargo.toml\", O_RDONLY|O_CLOEXEC) = 3</x/co/Cargo.toml>\n",
            // cargo and rustup look for these in every folder above.
            "100 statx(AT_FDCWD</x/co>, \"../Cargo.toml\", AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x7ffd) = -1 ENOENT (No such file or directory)\n",
            "100 statx(AT_FDCWD</x/co>, \"../.cargo/config.toml\", AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x7ffd) = -1 ENOENT (No such file or directory)\n",
            // A folder the run made beside the checkout (a checkout in /tmp).
            "102 mkdir(\"/x/tmpdir-1\", 0700) = 0\n",
            "102 openat(AT_FDCWD</x/co>, \"/x/tmpdir-1/f\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4</x/tmpdir-1/f>\n",
            "104 execve(\"/usr/bin/cat\", [\"cat\"], 0x7ffd /* 20 vars */) = 0\n",
            // The gate's stdout, redirected to a file beside the checkout.
            "105 newfstatat(1</x/logs/gate.log>, \"\", {st_mode=S_IFREG|0644, st_size=0}, AT_EMPTY_PATH) = 0\n",
        ),
        &["co", "logs"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_folder_that_stood_beside_the_checkout_before_the_run_is_not_the_runs_own() {
    // Creating a file inside a neighbour that existed is still touching it.
    let (code, stderr) = read(
        "102 openat(AT_FDCWD</x/co>, \"../neighbour/new\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4</x/neighbour/new>\n",
        &["co", "neighbour"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("/x/neighbour/new"), "{stderr}");
}
