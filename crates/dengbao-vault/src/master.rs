//! The master key: the root that wraps every key-encryption key. Pluggable, so that a
//! hardware security module can hold it later; two providers now.
//!
//! Versions: a KEK records which master version wrapped it. Rotation adds a version (the old
//! stays to unwrap until every KEK is re-wrapped) and [`MasterKey::retire`] then forgets the
//! old one. Crypto-shredding needs this: a copy of the database made before a key was
//! destroyed still holds that key wrapped under the old KEK, and the old KEK wrapped under the
//! old master; only forgetting the old master makes that copy unreadable.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Key, Result, VaultError, unwrap, wrap};

const FILE_HEADER: &str = "dengbao-vault-master v1";

/// Where the master key lives.
pub trait MasterKey: Send + Sync {
    /// The version new wraps use.
    fn current(&self) -> String;
    /// `key` wrapped under the current version: `(version, wrapped)`.
    fn wrap(&self, key: &Key, aad: &[u8]) -> Result<(String, Vec<u8>)>;
    fn unwrap(&self, version: &str, wrapped: &[u8], aad: &[u8]) -> Result<Key>;
    /// Starts a new current version and returns it; `None` when this provider cannot rotate
    /// (a key given by the environment).
    fn rotate(&self) -> Result<Option<String>>;
    /// Forgets an old version. Refuses the current one.
    fn retire(&self, version: &str) -> Result<()>;
    /// Every version held, the current last.
    fn versions(&self) -> Vec<String>;
    /// Where the key is kept, for the operator (never the key).
    fn describe(&self) -> String;
}

fn version_of(k: &Key) -> String {
    format!("mk-{}", &k.fingerprint()[..12])
}

/// A master key given as 32 hexadecimal digits in an environment variable. It cannot rotate:
/// the vault cannot change the environment.
pub struct EnvMasterKey {
    var: String,
    key: Key,
    version: String,
}

impl EnvMasterKey {
    /// Reads `var`; `Ok(None)` when unset.
    pub fn from_env(var: &str) -> Result<Option<EnvMasterKey>> {
        match std::env::var(var) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(e) => Err(VaultError::Env(format!("{var}: {e}"))),
            Ok(v) => {
                let key = Key::from_hex(&v).ok_or_else(|| {
                    VaultError::Env(format!(
                        "{var} must be 32 hexadecimal digits (a 128-bit SM4 key)"
                    ))
                })?;
                Ok(Some(EnvMasterKey::new(var, key)))
            }
        }
    }

    pub fn new(var: &str, key: Key) -> EnvMasterKey {
        EnvMasterKey {
            var: var.to_owned(),
            version: version_of(&key),
            key,
        }
    }
}

impl MasterKey for EnvMasterKey {
    fn current(&self) -> String {
        self.version.clone()
    }
    fn wrap(&self, key: &Key, aad: &[u8]) -> Result<(String, Vec<u8>)> {
        Ok((self.version.clone(), wrap(&self.key, key, aad)?))
    }
    fn unwrap(&self, version: &str, wrapped: &[u8], aad: &[u8]) -> Result<Key> {
        if version != self.version {
            return Err(VaultError::UnknownMaster(version.to_owned()));
        }
        unwrap(&self.key, wrapped, aad)
    }
    fn rotate(&self) -> Result<Option<String>> {
        Ok(None)
    }
    fn versions(&self) -> Vec<String> {
        vec![self.version.clone()]
    }
    fn retire(&self, version: &str) -> Result<()> {
        Err(VaultError::Env(format!(
            "cannot retire {version}: a key from {} is not the vault's to change",
            self.var
        )))
    }
    fn describe(&self) -> String {
        format!("environment variable {}", self.var)
    }
}

/// A master key in a file readable by its owner only (mode 0600), versions one per line,
/// the last current. Rewritten atomically (a new file renamed over the old).
pub struct FileMasterKey {
    path: PathBuf,
    /// The versions, and the file's modification time when they were read: another process
    /// (`dengbao vault rotate-master`) may rewrite the file, and a stale list would wrap new
    /// keys under a version that is about to be forgotten.
    versions: Mutex<Keyring>,
}

/// The versions in file order, and the file's modification time when read.
type Keyring = (Vec<(String, Key)>, Option<std::time::SystemTime>);

fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl FileMasterKey {
    /// Opens the file, creating it with a fresh key when it does not exist.
    pub fn open_or_create(path: &Path) -> Result<FileMasterKey> {
        let err = |reason: String| VaultError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let versions = if path.exists() {
            check_private(path).map_err(err)?;
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?,
            );
            parse(&text).map_err(err)?
        } else {
            let k = Key::generate()?;
            let v = vec![(version_of(&k), k)];
            write_atomically(path, &v).map_err(err)?;
            v
        };
        Ok(FileMasterKey {
            path: path.to_owned(),
            versions: Mutex::new((versions, mtime(path))),
        })
    }

    /// The versions, re-read first when the file changed since (or `force`).
    fn lock(&self, force: bool) -> Result<std::sync::MutexGuard<'_, Keyring>> {
        // A panic while holding the lock leaves the list as it was (every change is made on
        // a copy and stored only after the file is written).
        let mut g = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        let now = mtime(&self.path);
        if force || now != g.1 {
            check_private(&self.path).map_err(|e| self.file_err(e))?;
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(&self.path).map_err(|e| self.file_err(e.to_string()))?,
            );
            g.0 = parse(&text).map_err(|e| self.file_err(e))?;
            g.1 = now;
        }
        Ok(g)
    }

    fn file_err(&self, reason: String) -> VaultError {
        VaultError::KeyFile {
            path: self.path.display().to_string(),
            reason,
        }
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "is readable by others (mode {:o}); it must be 0600 — run `chmod 600` on it",
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), String> {
    Ok(())
}

fn parse(text: &str) -> Result<Vec<(String, Key)>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    if lines.next().map(str::trim) != Some(FILE_HEADER) {
        return Err(format!("the first line must be `{FILE_HEADER}`"));
    }
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let (version, hex) = line
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("line {}: expected `VERSION HEX`", n + 2))?;
        let key = Key::from_hex(hex)
            .ok_or_else(|| format!("line {}: a key is 32 hexadecimal digits", n + 2))?;
        if version_of(&key) != version {
            return Err(format!(
                "line {}: version {version} does not match its key",
                n + 2
            ));
        }
        out.push((version.to_owned(), key));
    }
    if out.is_empty() {
        return Err("holds no key".to_owned());
    }
    Ok(out)
}

fn write_atomically(path: &Path, versions: &[(String, Key)]) -> Result<(), String> {
    let mut text = zeroize::Zeroizing::new(format!("{FILE_HEADER}\n"));
    for (v, k) in versions {
        text.push_str(v);
        text.push(' ');
        text.push_str(&k.to_hex());
        text.push('\n');
    }
    // A name of its own per writer: two processes never write the same temporary file.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("new.{}.{n}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| e.to_string())?;
    f.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

impl MasterKey for FileMasterKey {
    fn current(&self) -> String {
        self.lock(false)
            .ok()
            .and_then(|g| g.0.last().map(|(v, _)| v.clone()))
            .unwrap_or_default()
    }
    fn wrap(&self, key: &Key, aad: &[u8]) -> Result<(String, Vec<u8>)> {
        let g = self.lock(false)?;
        let (v, k) =
            g.0.last()
                .ok_or_else(|| self.file_err("holds no key".to_owned()))?;
        Ok((v.clone(), wrap(k, key, aad)?))
    }
    fn unwrap(&self, version: &str, wrapped: &[u8], aad: &[u8]) -> Result<Key> {
        let g = self.lock(false)?;
        if let Some((_, k)) = g.0.iter().find(|(v, _)| v == version) {
            return unwrap(k, wrapped, aad);
        }
        // A version written since (within the file's timestamp resolution): read again.
        drop(g);
        let g = self.lock(true)?;
        let (_, k) =
            g.0.iter()
                .find(|(v, _)| v == version)
                .ok_or_else(|| VaultError::UnknownMaster(version.to_owned()))?;
        unwrap(k, wrapped, aad)
    }
    fn rotate(&self) -> Result<Option<String>> {
        let mut g = self.lock(true)?;
        let k = Key::generate()?;
        let v = version_of(&k);
        let mut next = g.0.clone();
        next.push((v.clone(), k));
        write_atomically(&self.path, &next).map_err(|e| self.file_err(e))?;
        *g = (next, mtime(&self.path));
        Ok(Some(v))
    }
    fn retire(&self, version: &str) -> Result<()> {
        let mut g = self.lock(true)?;
        if g.0.last().is_some_and(|(v, _)| v == version) {
            return Err(self.file_err(format!("{version} is the current version")));
        }
        let next: Vec<_> = g.0.iter().filter(|(v, _)| v != version).cloned().collect();
        write_atomically(&self.path, &next).map_err(|e| self.file_err(e))?;
        *g = (next, mtime(&self.path));
        Ok(())
    }
    fn versions(&self) -> Vec<String> {
        self.lock(false)
            .map(|g| g.0.iter().map(|(v, _)| v.clone()).collect())
            .unwrap_or_default()
    }
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
