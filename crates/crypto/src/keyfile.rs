//! Key files: the only module of this crate that touches the file system.
//!
//! A secret key file holds the 32-byte Ed25519 seed as 64 hex digits and a newline. It is
//! created with mode 0600 (never overwriting an existing file) and refused on read when group
//! or others may read it. A public key file holds the 32-byte key as 64 hex digits. A missing
//! file is [`Error::KeyMissing`]: there is no fallback key.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::sign::{SECRET_LEN, SigningKey, VerifyingKey};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::KeyMissing(path.to_path_buf())
        } else {
            Error::KeyIo {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

fn write_new(path: &Path, mode: u32, contents: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_err(path))?;
    // The umask may have narrowed the mode further, never widened it; set it exactly anyway.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_err(path))?;
    file.write_all(contents).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// Writes a new secret key file with mode 0600; fails if the file exists.
pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<()> {
    let seed = key.to_seed();
    let mut text = Zeroizing::new(hex::encode(seed.as_ref()));
    text.push('\n');
    write_new(path, 0o600, text.as_bytes())
}

/// Reads a secret key file, refusing one that group or others can read.
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let meta = fs::metadata(path).map_err(io_err(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyPermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err(path))?);
    let mut seed = Zeroizing::new([0u8; SECRET_LEN]);
    hex::decode_to_slice(strip_newline(&text), seed.as_mut())
        .map_err(|_| Error::Malformed("secret key file (64 hex digits)"))?;
    Ok(SigningKey::from_seed(&seed))
}

/// Writes a new public key file (mode 0644); fails if the file exists.
pub fn write_verifying_key(path: &Path, key: &VerifyingKey) -> Result<()> {
    write_new(path, 0o644, format!("{}\n", key.to_hex()).as_bytes())
}

/// Reads a public key file.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let hex_text = strip_newline(&text);
    if hex_text.len() != 64 {
        return Err(Error::Malformed("public key file (64 hex digits)"));
    }
    VerifyingKey::from_hex(hex_text)
}

// Exactly one optional trailing newline: files are compared strictly, so a changed byte anywhere
// (even one that `trim` would forgive) makes the file invalid.
fn strip_newline(text: &str) -> &str {
    text.strip_suffix('\n').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_and_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = SigningKey::from_seed(&[3; 32]);
        write_signing_key(&path, &key).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            read_signing_key(&path).unwrap().verifying_key(),
            key.verifying_key()
        );
        assert!(write_signing_key(&path, &key).is_err(), "never overwrites");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_signing_key(&path).unwrap_err();
        assert!(
            matches!(err, Error::KeyPermissions { mode: 0o640, .. }),
            "{err}"
        );
        assert!(matches!(
            read_signing_key(&dir.path().join("missing")),
            Err(Error::KeyMissing(_))
        ));
        let pubp = dir.path().join("k.pub");
        write_verifying_key(&pubp, &key.verifying_key()).unwrap();
        assert_eq!(read_verifying_key(&pubp).unwrap(), key.verifying_key());
    }
}
