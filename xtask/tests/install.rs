//! `cargo xtask install` / `uninstall` for real, in temp homes and prefixes: files,
//! completions, man pages, idempotence, uninstall leaving the prefix as it was, and the
//! refusals (files it did not write, a tampered manifest, an unwritable prefix, no
//! toolchain).

mod common;

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;
use tempfile::TempDir;

/// The man pages a complete install has (a sample: every program, nested subcommands).
const SOME_MAN_PAGES: [&str; 7] = [
    "felundd.1",
    "felundctl.1",
    "felundctl-inbox.1",
    "felundctl-channel-create.1",
    "felund-tui.1",
    "felund-relay.1",
    "felund-relay-migrate.1",
];

/// `page` renders: through `man -l` where man exists, else its roff title header.
fn assert_man_page_renders(page: &Path) {
    let title = page.file_stem().unwrap().to_str().unwrap();
    match Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("NAME"), "{}: {text}", page.display());
            assert!(text.contains(title), "{}: {text}", page.display());
        }
        _ => {
            let roff = std::fs::read_to_string(page).unwrap();
            assert!(
                roff.contains(&format!(".TH {title} 1")),
                "{}: {roff}",
                page.display()
            );
        }
    }
}

#[test]
fn install_puts_programs_completions_and_man_pages_under_dot_local_and_they_work() {
    let home = TempDir::new().unwrap();
    let stdout = install(home.path(), &[]);
    let local = home.path().join(".local");
    for p in PROGRAMS {
        let bin = local.join("bin").join(p);
        let mode = std::fs::metadata(&bin).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{}", bin.display());
        let out = Command::new(&bin).arg("--version").output().unwrap();
        assert!(out.status.success(), "{p} --version");
        let version = String::from_utf8_lossy(&out.stdout);
        assert_eq!(version.trim(), format!("{p} {}", env!("CARGO_PKG_VERSION")));
        for script in [
            local.join("share/bash-completion/completions").join(p),
            local.join("share/zsh/site-functions").join(format!("_{p}")),
            local
                .join("share/fish/vendor_completions.d")
                .join(format!("{p}.fish")),
        ] {
            let text = std::fs::read_to_string(&script).unwrap();
            assert!(text.contains(known_word(p)), "{}: {text}", script.display());
        }
    }
    for page in SOME_MAN_PAGES {
        assert_man_page_renders(&local.join("share/man/man1").join(page));
    }
    assert!(local.join("share/felund/install-manifest.json").is_file());
    // It tells the user what to add to PATH (the temp prefix is not on it).
    assert!(
        stdout.contains(&format!(
            "{} is not on your PATH",
            local.join("bin").display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("`cargo xtask uninstall`"), "{stdout}");
}

#[test]
fn uninstall_leaves_the_prefix_as_it_was_including_files_it_did_not_install() {
    let home = TempDir::new().unwrap();
    let prefix = home.path().join("usr");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::create_dir_all(prefix.join("share/man/man1")).unwrap();
    std::fs::write(prefix.join("bin/other-tool"), "#!/bin/sh\n").unwrap();
    std::fs::write(
        prefix.join("share/man/man1/other-tool.1"),
        ".TH other-tool 1\n",
    )
    .unwrap();
    let before = snapshot(home.path());

    install(home.path(), &["--prefix".as_ref(), prefix.as_os_str()]);
    assert!(prefix.join("bin/felundd").is_file());
    let stdout = uninstall(home.path(), &["--prefix".as_ref(), prefix.as_os_str()]);
    assert!(stdout.contains("removed"), "{stdout}");
    assert_eq!(snapshot(home.path()), before);

    // A prefix that did not exist is gone again, with the directories made for it.
    let fresh = home.path().join("new/prefix");
    install(home.path(), &["--prefix".as_ref(), fresh.as_os_str()]);
    uninstall(home.path(), &["--prefix".as_ref(), fresh.as_os_str()]);
    assert!(!home.path().join("new").exists());
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn installing_twice_gives_the_same_result_and_one_uninstall_removes_it() {
    let home = TempDir::new().unwrap();
    let prefix = home.path().join("p");
    let args: [&OsStr; 2] = ["--prefix".as_ref(), prefix.as_os_str()];
    install(home.path(), &args);
    let first = snapshot(home.path());
    let stdout = install(home.path(), &args);
    assert_eq!(
        snapshot(home.path()),
        first,
        "the second install changed files"
    );
    assert!(stdout.contains("(0 files written"), "{stdout}");
    uninstall(home.path(), &args);
    assert!(!prefix.exists());
}

#[test]
fn install_refuses_to_replace_a_file_it_did_not_install_unless_forced() {
    let home = TempDir::new().unwrap();
    let prefix = home.path().join("p");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    let mine = prefix.join("bin/felundctl");
    std::fs::write(&mine, "#!/bin/sh\necho mine\n").unwrap();
    let bins = bin_dir();
    let args: [&OsStr; 5] = [
        "install".as_ref(),
        "--bin-dir".as_ref(),
        bins.as_os_str(),
        "--prefix".as_ref(),
        prefix.as_os_str(),
    ];
    let err = refused(xtask(home.path(), &args));
    assert!(
        err.contains(&mine.display().to_string()) && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(!prefix.join("share").exists(), "nothing written");

    // Forced, it is replaced (and then uninstalled like the rest).
    install(
        home.path(),
        &["--prefix".as_ref(), prefix.as_os_str(), "--force".as_ref()],
    );
    assert_eq!(sha256_hex(&mine), sha256_hex(&bins.join("felundctl")));
    uninstall(home.path(), &["--prefix".as_ref(), prefix.as_os_str()]);
    assert!(!mine.exists());
}

#[test]
fn uninstall_keeps_a_file_changed_since_it_was_installed() {
    let home = TempDir::new().unwrap();
    install(home.path(), &[]);
    let local = home.path().join(".local");
    let edited = local.join("share/fish/vendor_completions.d/felundctl.fish");
    std::fs::write(&edited, "# my own completions\n").unwrap();
    let stdout = uninstall(home.path(), &[]);
    assert!(
        stdout.contains(&format!("left {}", edited.display())),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        "# my own completions\n"
    );
    assert!(!local.join("bin").exists(), "the rest is gone");
}

/// A snapshot of a home without the manifest, which the test itself rewrites.
fn without_manifest(
    mut snap: std::collections::BTreeMap<std::path::PathBuf, String>,
) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    snap.remove(Path::new(".local/share/felund/install-manifest.json"));
    snap
}

#[test]
fn a_tampered_manifest_cannot_make_uninstall_delete_other_files() {
    let home = TempDir::new().unwrap();
    install(home.path(), &[]);
    let manifest_path = home
        .path()
        .join(".local/share/felund/install-manifest.json");
    let honest = std::fs::read_to_string(&manifest_path).unwrap();
    let precious = home.path().join("precious");
    std::fs::write(&precious, "keep me").unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let hash = sha256_hex(&precious);
    let bin = home.path().join(".local/bin");
    let before = snapshot(home.path());
    // The attacker can write the manifest (it is in the user's prefix) and names files
    // it wants gone, with their correct hashes.
    for target in [
        precious.clone(),
        bin.join("../../precious"),
        bin.join("precious"),
    ] {
        let mut m: serde_json::Value = serde_json::from_str(&honest).unwrap();
        m["files"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "path": target, "sha256": hash }));
        std::fs::write(&manifest_path, m.to_string()).unwrap();
        let err = refused(xtask(home.path(), &["uninstall".as_ref()]));
        assert!(err.contains("never writes"), "{err}");
        assert_eq!(
            without_manifest(snapshot(home.path())),
            without_manifest(before.clone()),
            "uninstall touched something"
        );
    }
    let mut m: serde_json::Value = serde_json::from_str(&honest).unwrap();
    m["created_dirs"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(ssh));
    std::fs::write(&manifest_path, m.to_string()).unwrap();
    refused(xtask(home.path(), &["uninstall".as_ref()]));
    // A manifest too large to be real is not read at all.
    std::fs::write(&manifest_path, vec![b' '; 2 << 20]).unwrap();
    refused(xtask(home.path(), &["uninstall".as_ref()]));

    // Positive control: the honest manifest uninstalls, and precious stays.
    std::fs::write(&manifest_path, &honest).unwrap();
    uninstall(home.path(), &[]);
    assert!(!bin.exists());
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    assert!(ssh.is_dir());
}

#[test]
fn an_unwritable_prefix_is_refused_in_one_line_before_anything_is_written() {
    let home = TempDir::new().unwrap();
    let prefix = home.path().join("locked");
    std::fs::create_dir(&prefix).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bins = bin_dir();
    let args: [&OsStr; 5] = [
        "install".as_ref(),
        "--bin-dir".as_ref(),
        bins.as_os_str(),
        "--prefix".as_ref(),
        prefix.as_os_str(),
    ];
    // Root may write anywhere: it is played by `nobody` against a prefix root owns.
    let nobody = felund_tests::other_user::Nobody::new(
        "an_unwritable_prefix_is_refused_in_one_line_before_anything_is_written",
    );
    let out = match &nobody {
        Some(nobody) => {
            let tool = nobody.tool(Path::new(env!("CARGO_BIN_EXE_xtask")));
            nobody
                .command(&tool)
                .args(args)
                .env("HOME", home.path())
                .output()
                .unwrap()
        }
        None => {
            std::fs::set_permissions(&prefix, std::fs::Permissions::from_mode(0o555)).unwrap();
            xtask(home.path(), &args)
        }
    };
    let err = refused(out);
    assert!(
        err.contains(&format!(
            "cannot install into {}",
            prefix.join("bin").display()
        )),
        "{err}"
    );
    assert!(err.contains("--prefix"), "{err}");
    assert_eq!(
        std::fs::read_dir(&prefix).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn a_missing_toolchain_is_refused_in_one_line() {
    let home = TempDir::new().unwrap();
    let empty = TempDir::new().unwrap();
    let prefix = home.path().join("p");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["install".as_ref(), "--prefix".as_ref(), prefix.as_os_str()])
        .env("HOME", home.path())
        .env("PATH", empty.path())
        .env_remove("CARGO")
        .output()
        .unwrap();
    let err = refused(out);
    assert!(
        err.contains("no Rust toolchain") && err.contains("rustup"),
        "{err}"
    );
    assert!(!prefix.exists(), "nothing written");
}
