//! Where a keyring lives: the keyring file (written 0600, never
//! overwritten, replaced only whole), `SANAD__CRYPTO__KEYRING_JSON`, and
//! what happens when neither holds one (generated in local mode, an error
//! in production) or when it predates the audit key (one added in local
//! mode, an error in production).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::{Keyring, KeyringError};
use crate::settings::{CryptoSettings, Environment};

impl Keyring {
    /// Writes the keyring to a new file readable by its owner only (0600),
    /// refusing to replace an existing file: overwriting a keyring destroys
    /// every record encrypted under it.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyringError> {
        let io_err = |source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| match source.kind() {
                io::ErrorKind::AlreadyExists => KeyringError::AlreadyExists {
                    path: path.to_path_buf(),
                },
                _ => io_err(source),
            })?;
        let written = file
            .write_all(self.to_json()?.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            // A half-written keyring would be read as corrupt on the next
            // start; remove it. If removal fails too, the write error is the
            // one the operator needs.
            let _ = fs::remove_file(path);
            return Err(io_err(source));
        }
        Ok(())
    }

    /// Replaces the keyring file atomically (a 0600 temporary file renamed
    /// over it), so a crash leaves either the old or the new keyring, never
    /// half of one.
    pub fn replace(&self, path: &Path) -> Result<(), KeyringError> {
        let temporary = path.with_extension(format!("rotating-{}", uuid::Uuid::new_v4().simple()));
        self.write_new(&temporary)?;
        fs::rename(&temporary, path).map_err(|source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The keyring for this process: `SANAD__CRYPTO__KEYRING_JSON` if set,
    /// else the keyring file. A missing file is generated in local mode (with
    /// a warning) and is an error in production. A keyring without an audit
    /// key is given one in local mode (the file rewritten, with a warning)
    /// and is an error in production: `sanad keys add-audit-key` adds it.
    pub fn load(
        settings: &CryptoSettings,
        environment: Environment,
    ) -> Result<Keyring, KeyringError> {
        if let Some(json) = &settings.keyring_json
            && !json.expose_secret().trim().is_empty()
        {
            return with_audit_key(Keyring::from_json(json.expose_secret())?);
        }
        let path = settings
            .keyring_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
            .ok_or(KeyringError::NotConfigured)?;
        match read_keyring_file(path) {
            Err(KeyringError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                match environment {
                    Environment::Production => Err(KeyringError::MissingInProduction {
                        path: path.to_path_buf(),
                    }),
                    Environment::Local => generate_local(path),
                }
            }
            Ok(keyring) if keyring.active_audit_key_id().is_none() => match environment {
                Environment::Production => Err(KeyringError::NoAuditKey),
                Environment::Local => add_audit_key_locally(path, keyring),
            },
            other => other,
        }
    }

    /// Reads the keyring file as it is, for the commands that change it.
    pub fn read_file(path: &Path) -> Result<Keyring, KeyringError> {
        read_keyring_file(path)
    }
}

fn with_audit_key(keyring: Keyring) -> Result<Keyring, KeyringError> {
    match keyring.active_audit_key_id() {
        Some(_) => Ok(keyring),
        None => Err(KeyringError::NoAuditKey),
    }
}

/// A local keyring from before the audit trail was keyed: an audit key is
/// added and the file replaced.
fn add_audit_key_locally(path: &Path, mut keyring: Keyring) -> Result<Keyring, KeyringError> {
    let id = keyring.add_audit_key()?;
    keyring.replace(path)?;
    tracing::warn!(
        path = %path.display(),
        audit_key = %id,
        "ADDED AN AUDIT KEY to the keyring (local mode, it had none). Back the keyring up \
         again: the audit trail cannot be verified without it. Production never does this."
    );
    Ok(keyring)
}

fn read_keyring_file(path: &Path) -> Result<Keyring, KeyringError> {
    let io_err = |source| KeyringError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err)?);
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the keyring file is readable by other users; chmod 600 it"
        );
    }
    Keyring::from_json(&text)
}

fn generate_local(path: &Path) -> Result<Keyring, KeyringError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|source| KeyringError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
    }
    let keyring = Keyring::generate()?;
    match keyring.write_new(path) {
        Ok(()) => {}
        // Another process started at the same moment and won: use its keyring.
        Err(KeyringError::AlreadyExists { .. }) => return read_keyring_file(path),
        Err(err) => return Err(err),
    }
    tracing::warn!(
        path = %path.display(),
        "GENERATED A NEW KEYRING (local mode, none found). Everything encrypted from now on \
         is unreadable without this file: back it up, apart from the database. \
         Production never does this."
    );
    Ok(keyring)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use secrecy::SecretString;

    use super::*;

    fn settings(file: Option<PathBuf>, json: Option<&str>) -> CryptoSettings {
        CryptoSettings {
            keyring_file: file,
            keyring_json: json.map(SecretString::from),
        }
    }

    #[test]
    fn write_new_is_0600_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let keyring = Keyring::generate().unwrap();
        keyring.write_new(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let before = fs::read(&path).unwrap();

        let other = Keyring::generate().unwrap();
        assert!(matches!(
            other.write_new(&path),
            Err(KeyringError::AlreadyExists { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), before);
        let loaded = Keyring::from_json(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(loaded.signing_key().0, keyring.signing_key().0);
    }

    #[test]
    fn load_prefers_the_json_variable() {
        let dir = tempfile::tempdir().unwrap();
        let from_file = Keyring::generate().unwrap();
        let path = dir.path().join("k.json");
        from_file.write_new(&path).unwrap();
        let from_env = Keyring::generate().unwrap();
        let json = from_env.to_json().unwrap();
        let loaded = Keyring::load(
            &settings(Some(path), Some(json.as_str())),
            Environment::Production,
        )
        .unwrap();
        assert_eq!(loaded.signing_key().0, from_env.signing_key().0);
    }

    #[test]
    fn load_reads_the_file_and_treats_empty_json_as_unset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let keyring = Keyring::generate().unwrap();
        keyring.write_new(&path).unwrap();
        let loaded =
            Keyring::load(&settings(Some(path), Some("")), Environment::Production).unwrap();
        assert_eq!(loaded.signing_key().0, keyring.signing_key().0);
    }

    #[test]
    fn missing_keyring_in_production_is_an_error_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.json");
        let err = Keyring::load(&settings(Some(path.clone()), None), Environment::Production)
            .unwrap_err();
        assert!(err.to_string().contains("SANAD__CRYPTO__KEYRING_FILE"));
        assert!(!path.exists());

        let err = Keyring::load(
            &settings(Some(PathBuf::new()), None),
            Environment::Production,
        )
        .unwrap_err();
        assert!(matches!(err, KeyringError::NotConfigured));
        assert!(err.to_string().contains("SANAD__CRYPTO__KEYRING_FILE"));
    }

    #[test]
    fn missing_keyring_in_local_mode_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("keyring.json");
        let first = Keyring::load(&settings(Some(path.clone()), None), Environment::Local).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let second =
            Keyring::load(&settings(Some(path.clone()), None), Environment::Local).unwrap();
        assert_eq!(first.signing_key().0, second.signing_key().0);
        assert_eq!(
            first.kek(1).unwrap().expose(),
            second.kek(1).unwrap().expose()
        );
    }

    /// The keyring file of a deployment from before the audit trail was
    /// keyed.
    fn old_keyring_file(dir: &Path) -> PathBuf {
        let json = super::super::keyring_json_without_audit_keys();
        let path = dir.join("old.json");
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        file.write_all(json.to_string().as_bytes()).unwrap();
        path
    }

    #[test]
    fn an_old_keyring_gets_an_audit_key_in_local_mode_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = old_keyring_file(dir.path());
        let first = Keyring::load(&settings(Some(path.clone()), None), Environment::Local).unwrap();
        let id = first.active_audit_key_id().unwrap().to_string();
        let again = Keyring::load(&settings(Some(path.clone()), None), Environment::Local).unwrap();
        assert_eq!(again.active_audit_key_id(), Some(id.as_str()));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn an_old_keyring_stops_production_until_the_audit_key_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = old_keyring_file(dir.path());
        let before = fs::read(&path).unwrap();
        let err = Keyring::load(&settings(Some(path.clone()), None), Environment::Production)
            .unwrap_err();
        assert!(matches!(err, KeyringError::NoAuditKey));
        assert!(err.to_string().contains("sanad keys add-audit-key"));
        assert_eq!(fs::read(&path).unwrap(), before);
        let json = String::from_utf8(before).unwrap();
        let err = Keyring::load(&settings(None, Some(&json)), Environment::Local).unwrap_err();
        assert!(matches!(err, KeyringError::NoAuditKey));
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_regeneration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        fs::write(&path, "{").unwrap();
        assert!(matches!(
            Keyring::load(&settings(Some(path.clone()), None), Environment::Local),
            Err(KeyringError::Json { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{");
    }
}
