//! Set-up steps that a fresh Debian machine needs, each skipped when already done.

use std::path::Path;
use std::process::Command;

use crate::run;

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program} >/dev/null 2>&1")]).status().is_ok_and(|s| s.success())
}

/// A Vulkan driver for wgpu: a real GPU's, or Mesa's software one (llvmpipe) from
/// `mesa-vulkan-drivers`. Installed with apt-get when no ICD is present and we are root.
pub fn lavapipe() -> Result<(), String> {
    let icd_dirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"];
    let has_icd = icd_dirs.iter().any(|d| std::fs::read_dir(d).is_ok_and(|mut r| r.next().is_some()));
    if has_icd {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !is_root || !have("apt-get") {
        return Err("no Vulkan driver found; install Mesa's software one with `apt-get install mesa-vulkan-drivers`".into());
    }
    run("apt-get", &["update", "-qq"])?;
    run("apt-get", &["install", "-y", "-qq", "mesa-vulkan-drivers"])
}

/// Mesa's Vulkan driver warns on every device it opens when XDG_RUNTIME_DIR is unset (as on a
/// fresh CI machine); a private directory under the system's temporary one quiets it for the tests.
pub fn runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tricklab-runtime-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

/// The wasm32-unknown-unknown standard library, through rustup.
pub fn wasm_target() -> Result<(), String> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") => Ok(()),
        Ok(_) => run("rustup", &["target", "add", "wasm32-unknown-unknown"]),
        Err(_) if Path::new("/root/.cargo/bin/rustup").exists() => run("/root/.cargo/bin/rustup", &["target", "add", "wasm32-unknown-unknown"]),
        Err(e) => Err(format!("rustup is needed to add the wasm32 target: {e}")),
    }
}
