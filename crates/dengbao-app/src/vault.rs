//! The key hierarchy at work: `dengbao-vault`'s cryptography over `dengbao-store`'s
//! `vault_keys`. One key-encryption key (KEK) per owner organisation, wrapped under the
//! master key; data keys per `(owner, purpose, subject)` wrapped under the owner's KEK:
//! `secrets` (an organisation's TOTP secrets), `files` (its dossier files), `asset` (one IDC
//! customer data asset). Keys are unwrapped per use and never cached: a key destroyed on one
//! node is gone for every node at once.

use std::sync::Arc;

use dengbao_store::{Store, StoreError, VaultKeyRow, new_id};
use dengbao_vault::{Key, MasterKey, VaultError};
use zeroize::Zeroizing;

use crate::{AppError, AppResult, ErrorKind};

/// What a data key protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Secrets,
    Files,
    Asset,
    /// What the IDC operator records about one customer (contracts): keyed hashes for the
    /// ledger under a key that dies with the customer's.
    Records,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Secrets => "secrets",
            Purpose::Files => "files",
            Purpose::Asset => "asset",
            Purpose::Records => "records",
        }
    }
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> AppError {
        match e {
            VaultError::Destroyed(_) | VaultError::Decrypt => AppError::new(
                ErrorKind::Conflict,
                "key-destroyed",
                "the data cannot be decrypted: its key was destroyed (crypto-shredded) or the data was altered",
            ),
            other => AppError::internal(other),
        }
    }
}

/// The vault of one deployment. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    store: Store,
    master: Arc<dyn MasterKey>,
}

impl AsRef<Vault> for Vault {
    fn as_ref(&self) -> &Vault {
        self
    }
}

impl AsRef<Vault> for crate::App {
    fn as_ref(&self) -> &Vault {
        &self.vault
    }
}

/// What a KEK rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    pub rewrapped: usize,
}

/// What a master-key rotation did; `None` from [`Vault::rotate_master`] when the provider
/// cannot rotate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterRotation {
    pub old_version: String,
    pub new_version: String,
    pub rewrapped: usize,
    /// Every older version is forgotten (no KEK was left under any).
    pub retired: bool,
}

const TOTP_PREFIX: &str = "sm4gcm:";

impl Vault {
    pub fn new(store: Store, master: Arc<dyn MasterKey>) -> Vault {
        Vault { store, master }
    }

    /// A vault whose master key lives only in this process — for tests; data sealed with it
    /// is unreadable after a restart.
    pub fn ephemeral(store: Store) -> AppResult<Vault> {
        let key = Key::generate()?;
        Ok(Vault::new(
            store,
            Arc::new(dengbao_vault::EnvMasterKey::new("(ephemeral)", key)),
        ))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where the master key is kept (never the key).
    pub fn describe(&self) -> String {
        self.master.describe()
    }

    fn kek_aad(owner: &str, id: &str) -> Vec<u8> {
        format!("{owner}/kek/{id}").into_bytes()
    }

    fn dek_aad(k: &VaultKeyRow) -> Vec<u8> {
        format!("{}/{}/{}/{}", k.tenant_id, k.purpose, k.subject, k.id).into_bytes()
    }

    fn unwrap_kek(&self, k: &VaultKeyRow) -> AppResult<Key> {
        let (Some(v), Some(w)) = (&k.master_version, &k.wrapped) else {
            return Err(VaultError::Destroyed(k.fingerprint.clone()).into());
        };
        Ok(self
            .master
            .unwrap(v, w, &Self::kek_aad(&k.tenant_id, &k.id))?)
    }

    /// The owner's KEK, created on first use.
    async fn kek(&self, owner: &str, at: i64) -> AppResult<(VaultKeyRow, Key)> {
        for _ in 0..3 {
            if let Some(row) = self.store.vault_key(owner, "kek", owner).await? {
                let key = self.unwrap_kek(&row)?;
                return Ok((row, key));
            }
            let key = Key::generate()?;
            let id = new_id();
            // The epoch first: if a master rotation ends between here and the insert, the
            // insert is refused and the key wrapped again under the new version.
            let epoch = self.store.vault_epoch().await?;
            let (version, wrapped) = self.master.wrap(&key, &Self::kek_aad(owner, &id))?;
            let row = VaultKeyRow {
                id,
                tenant_id: owner.to_owned(),
                purpose: "kek".into(),
                subject: owner.to_owned(),
                parent_id: None,
                master_version: Some(version),
                wrapped: Some(wrapped),
                fingerprint: key.fingerprint(),
                state: "active".into(),
                created_at: at,
                destroyed_at: None,
            };
            match self.store.insert_vault_key(&row, Some(epoch)).await {
                Ok(()) => return Ok((row, key)),
                // Another request created it first, or the master rotated: again.
                Err(StoreError::Conflict(_) | StoreError::Stale { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::internal(
            "could not create the key-encryption key",
        ))
    }

    /// The active data key of `(owner, purpose, subject)`; created when `create`.
    /// `Ok(None)`: none, and not asked to create.
    async fn data_key(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
        create: bool,
        at: i64,
    ) -> AppResult<Option<(VaultKeyRow, Key)>> {
        for _ in 0..3 {
            if let Some(row) = self
                .store
                .vault_key(owner, purpose.as_str(), subject)
                .await?
            {
                let (Some(parent), Some(w)) = (&row.parent_id, &row.wrapped) else {
                    return Err(VaultError::Destroyed(row.fingerprint.clone()).into());
                };
                let kek_row = self.store.vault_key_by_id(parent).await?;
                if kek_row.state != "active" {
                    // A KEK rotation committed between the two reads: the data key has a
                    // new parent now.
                    continue;
                }
                let kek = self.unwrap_kek(&kek_row)?;
                let key = dengbao_vault::unwrap(&kek, w, &Self::dek_aad(&row))?;
                return Ok(Some((row, key)));
            }
            if !create {
                return Ok(None);
            }
            // A subject whose key was destroyed never gets a new one: what was shredded
            // stays shredded, even for a write racing the destruction.
            if let Some(gone) = self
                .store
                .vault_key_history(owner, purpose.as_str(), subject)
                .await?
                .into_iter()
                .find(|k| k.state == "destroyed")
            {
                return Err(VaultError::Destroyed(gone.fingerprint).into());
            }
            let (kek_row, kek) = self.kek(owner, at).await?;
            let key = Key::generate()?;
            let mut row = VaultKeyRow {
                id: new_id(),
                tenant_id: owner.to_owned(),
                purpose: purpose.as_str().to_owned(),
                subject: subject.to_owned(),
                parent_id: Some(kek_row.id.clone()),
                master_version: None,
                wrapped: None,
                fingerprint: key.fingerprint(),
                state: "active".into(),
                created_at: at,
                destroyed_at: None,
            };
            row.wrapped = Some(dengbao_vault::wrap(&kek, &key, &Self::dek_aad(&row))?);
            match self.store.insert_vault_key(&row, None).await {
                Ok(()) => return Ok(Some((row, key))),
                // Lost a race, or the KEK was rotated meanwhile: read again.
                Err(StoreError::Conflict(_) | StoreError::Stale { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::internal("could not create the data key"))
    }

    /// Seals `plaintext` under the data key of `(owner, purpose, subject)`, bound to `aad`.
    pub async fn seal(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
        aad: &[u8],
        plaintext: &[u8],
        at: i64,
    ) -> AppResult<Vec<u8>> {
        let (_, key) = self
            .data_key(owner, purpose, subject, true, at)
            .await?
            .ok_or_else(|| AppError::internal("data key"))?;
        Ok(dengbao_vault::seal(&key, aad, plaintext)?)
    }

    /// Opens what [`Vault::seal`] made. A destroyed key answers `key-destroyed`.
    pub async fn open(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> AppResult<Zeroizing<Vec<u8>>> {
        let Some((_, key)) = self.data_key(owner, purpose, subject, false, 0).await? else {
            return Err(VaultError::Destroyed(subject.to_owned()).into());
        };
        Ok(dengbao_vault::open(&key, aad, sealed)?)
    }

    /// A keyed hash under the data key (what a ledger entry carries instead of facts).
    pub async fn mac(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
        data: &[u8],
        at: i64,
    ) -> AppResult<[u8; 32]> {
        let (_, key) = self
            .data_key(owner, purpose, subject, true, at)
            .await?
            .ok_or_else(|| AppError::internal("data key"))?;
        Ok(key.mac(data))
    }

    /// The active data key's row (id and fingerprint), if any.
    pub async fn key_row(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
    ) -> AppResult<Option<VaultKeyRow>> {
        Ok(self
            .store
            .vault_key(owner, purpose.as_str(), subject)
            .await?)
    }

    /// Every key row, destroyed ones included, of `(owner, purpose, subject)`.
    pub async fn key_history(
        &self,
        owner: &str,
        purpose: Purpose,
        subject: &str,
    ) -> AppResult<Vec<VaultKeyRow>> {
        Ok(self
            .store
            .vault_key_history(owner, purpose.as_str(), subject)
            .await?)
    }

    /// A TOTP secret as stored: sealed under the organisation's `secrets` key, bound to the
    /// user, in text form.
    pub async fn seal_totp(
        &self,
        org: &str,
        user_id: &str,
        secret: &str,
        at: i64,
    ) -> AppResult<String> {
        use base64::Engine;
        let sealed = self
            .seal(
                org,
                Purpose::Secrets,
                org,
                format!("totp/{user_id}").as_bytes(),
                secret.as_bytes(),
                at,
            )
            .await?;
        Ok(format!(
            "{TOTP_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(sealed)
        ))
    }

    /// The TOTP secret from its stored form (a value stored before encryption at rest is
    /// read as it is, and sealed when next written).
    pub async fn open_totp(
        &self,
        org: &str,
        user_id: &str,
        stored: &str,
    ) -> AppResult<Zeroizing<String>> {
        use base64::Engine;
        let Some(b64) = stored.strip_prefix(TOTP_PREFIX) else {
            return Ok(Zeroizing::new(stored.to_owned()));
        };
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(AppError::internal)?;
        let bytes = self
            .open(
                org,
                Purpose::Secrets,
                org,
                format!("totp/{user_id}").as_bytes(),
                &sealed,
            )
            .await?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(AppError::internal)
    }

    /// A new KEK for `owner`: every live data key re-wrapped under it, the old KEK destroyed.
    /// The data is not touched. After a data key is shredded this is what makes a copy of
    /// the database taken before unreadable, together with [`Vault::rotate_master`].
    pub async fn rotate_kek(&self, owner: &str, at: i64) -> AppResult<Rotation> {
        for _ in 0..3 {
            let (old_row, old) = self.kek(owner, at).await?;
            let children = self.store.vault_children(&old_row.id).await?;
            let new = Key::generate()?;
            let id = new_id();
            let epoch = self.store.vault_epoch().await?;
            let (version, wrapped) = self.master.wrap(&new, &Self::kek_aad(owner, &id))?;
            let new_row = VaultKeyRow {
                id,
                tenant_id: owner.to_owned(),
                purpose: "kek".into(),
                subject: owner.to_owned(),
                parent_id: None,
                master_version: Some(version),
                wrapped: Some(wrapped),
                fingerprint: new.fingerprint(),
                state: "active".into(),
                created_at: at,
                destroyed_at: None,
            };
            let mut rewrapped = Vec::with_capacity(children.len());
            for c in &children {
                let Some(w) = &c.wrapped else { continue };
                let dek = dengbao_vault::unwrap(&old, w, &Self::dek_aad(c))?;
                rewrapped.push((
                    c.id.clone(),
                    dengbao_vault::wrap(&new, &dek, &Self::dek_aad(c))?,
                ));
            }
            match self
                .store
                .rotate_vault_kek(&old_row.id, &new_row, &rewrapped, epoch, at)
                .await
            {
                Ok(()) => {
                    return Ok(Rotation {
                        old_fingerprint: old_row.fingerprint,
                        new_fingerprint: new_row.fingerprint,
                        rewrapped: rewrapped.len(),
                    });
                }
                // A data key was added or the KEK rotated meanwhile: start again.
                Err(StoreError::Stale { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::conflict(
            "the key-encryption key kept changing; try again",
        ))
    }

    /// A new master version: every KEK re-wrapped under it, then every older version that
    /// no KEK uses forgotten. `None` when the provider cannot rotate. The rotation holds the
    /// master row's lock (see `Store::begin_master_rotation`): no KEK wrapped under an older
    /// version can be stored while or after it runs, and two rotations run one after the
    /// other.
    pub async fn rotate_master(&self) -> AppResult<Option<MasterRotation>> {
        let old = self.master.current();
        let mut tx = self.store.begin_master_rotation().await?;
        let Some(new) = self.master.rotate()? else {
            return Ok(None);
        };
        let mut rewrapped = 0;
        for k in tx.keks().await? {
            let Some(from) = k.master_version.clone() else {
                continue;
            };
            if from == new {
                continue;
            }
            let key = self.unwrap_kek(&k)?;
            let (v, w) = self
                .master
                .wrap(&key, &Self::kek_aad(&k.tenant_id, &k.id))?;
            if tx.rewrap(&k.id, &from, &v, &w).await? {
                rewrapped += 1;
            }
        }
        tx.commit().await?;
        let mut retired = true;
        for v in self.master.versions().into_iter().filter(|v| *v != new) {
            if self.store.vault_keks_under(&v).await? == 0 {
                if let Err(e) = self.master.retire(&v) {
                    tracing::warn!(error = %e, version = %v, "could not forget an old master key version");
                    retired = false;
                }
            } else {
                retired = false;
            }
        }
        Ok(Some(MasterRotation {
            old_version: old,
            new_version: new,
            rewrapped,
            retired,
        }))
    }

    /// After a key was destroyed: let the database drop what it keeps of overwritten rows.
    pub async fn purge(&self) {
        if let Err(e) = self.store.purge_dead_rows().await {
            tracing::warn!(error = %e, "could not purge overwritten rows after a key destruction");
        }
    }
}
