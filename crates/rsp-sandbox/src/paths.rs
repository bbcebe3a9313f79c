//! Confining file-tool paths to the working directory.
//!
//! A path is accepted only if it is relative, has no `..` component, and no component
//! that already exists is a symbolic link. Checking every component (not just the last)
//! matters: `link/secret` escapes through `link` even though `secret` is a plain name.
//! Tool commands never run while a file tool works (the agent loop is sequential and a
//! command's processes die with it), so nothing can swap a directory for a link between
//! the check and the use.

use std::path::{Component, Path, PathBuf};

use crate::error::Error;

/// Resolves `rel` inside `root`, refusing anything that could leave it.
pub fn confine(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let escape = |reason| Error::PathEscape {
        path: rel.to_owned(),
        reason,
    };
    if rel.contains('\0') {
        return Err(escape("it contains a NUL byte"));
    }
    let mut out = root.to_path_buf();
    for c in Path::new(rel.trim()).components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(escape("`..` is not allowed")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(escape("absolute paths are not allowed"));
            }
        }
        match std::fs::symlink_metadata(&out) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(escape("it goes through a symbolic link"));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_absolute_parent_and_symlinked_paths() {
        let dir = std::env::temp_dir().join(format!("rsp-confine-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("link")).unwrap();
        assert_eq!(confine(&dir, "sub/x.txt").unwrap(), dir.join("sub/x.txt"));
        assert_eq!(confine(&dir, "./").unwrap(), dir);
        for bad in [
            "/etc/passwd",
            "../x",
            "sub/../../x",
            "link/passwd",
            "link",
            "a\0b",
        ] {
            assert!(
                matches!(confine(&dir, bad), Err(Error::PathEscape { .. })),
                "{bad:?} accepted"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
