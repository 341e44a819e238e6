//! The vault's wrapped keys (`vault_keys`). The store never sees a key in the clear: rows
//! hold keys wrapped by `dengbao-vault`. A destroyed key's row stays (its fingerprint and
//! dates are the proof) with its wrapped bytes gone.

use super::*;

/// One key as kept: a key-encryption key (`purpose = "kek"`, wrapped under the master key
/// version `master_version`) or a data key (wrapped under the KEK `parent_id`).
#[derive(Clone, Debug, PartialEq)]
pub struct VaultKeyRow {
    pub id: String,
    /// The owner (an IDC customer, or an organisation for its own secrets).
    pub tenant_id: String,
    pub purpose: String,
    pub subject: String,
    pub parent_id: Option<String>,
    pub master_version: Option<String>,
    /// `None` once destroyed.
    pub wrapped: Option<Vec<u8>>,
    pub fingerprint: String,
    pub state: String,
    pub created_at: i64,
    pub destroyed_at: Option<i64>,
}

fn key_from(r: &AnyRow) -> Result<VaultKeyRow> {
    Ok(VaultKeyRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        purpose: r.try_get("purpose")?,
        subject: r.try_get("subject")?,
        parent_id: r.try_get("parent_id")?,
        master_version: r.try_get("master_version")?,
        wrapped: r.try_get("wrapped")?,
        fingerprint: r.try_get("fingerprint")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        destroyed_at: r.try_get("destroyed_at")?,
    })
}

macro_rules! key_cols {
    () => {
        "id, tenant_id, purpose, subject, parent_id, master_version, wrapped, fingerprint, state, created_at, destroyed_at"
    };
}

impl Store {
    /// The active key of `(owner, purpose, subject)`.
    pub async fn vault_key(
        &self,
        tenant: &str,
        purpose: &str,
        subject: &str,
    ) -> Result<Option<VaultKeyRow>> {
        sqlx::query(concat!("SELECT ", key_cols!(), " FROM vault_keys WHERE tenant_id = $1 AND purpose = $2 AND subject = $3 AND state = 'active'"))
            .bind(tenant)
            .bind(purpose)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(key_from)
            .transpose()
    }

    /// The newest key of `(owner, purpose, subject)`, destroyed or not (a destruction's proof).
    pub async fn vault_key_history(
        &self,
        tenant: &str,
        purpose: &str,
        subject: &str,
    ) -> Result<Vec<VaultKeyRow>> {
        sqlx::query(concat!("SELECT ", key_cols!(), " FROM vault_keys WHERE tenant_id = $1 AND purpose = $2 AND subject = $3 ORDER BY created_at, id"))
            .bind(tenant)
            .bind(purpose)
            .bind(subject)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(key_from)
            .collect()
    }

    pub async fn vault_key_by_id(&self, id: &str) -> Result<VaultKeyRow> {
        sqlx::query(concat!(
            "SELECT ",
            key_cols!(),
            " FROM vault_keys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(key_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    /// The master key's epoch: it moves with every master rotation. A KEK is wrapped after
    /// reading it and stored only if it has not moved (see [`Store::insert_vault_key`]).
    pub async fn vault_epoch(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT epoch FROM vault_master WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("epoch")?)
    }

    /// Takes the master row's lock and checks the epoch is still `epoch`; `Stale` if a master
    /// rotation happened since the caller wrapped its KEK (the version it used may be about
    /// to be forgotten: wrap again).
    async fn check_epoch(tx: &mut Tx, epoch: i64) -> Result<()> {
        let n = sqlx::query("UPDATE vault_master SET epoch = epoch WHERE id = 1 AND epoch = $1")
            .bind(epoch)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale {
                expected: epoch,
                actual: -1,
            })
        }
    }

    /// Stores a new key. A data key's KEK is locked and must still be active (a KEK being
    /// rotated away takes no new children); a KEK (`epoch: Some`) is stored only while the
    /// master epoch it was wrapped at holds. `Conflict` when another active key of the same
    /// `(owner, purpose, subject)` won a race, `Stale` when the KEK went away or the epoch
    /// moved.
    pub async fn insert_vault_key(&self, k: &VaultKeyRow, epoch: Option<i64>) -> Result<()> {
        let mut tx = self.begin().await?;
        if let Some(e) = epoch {
            Self::check_epoch(&mut tx, e).await?;
        }
        if let Some(parent) = &k.parent_id {
            Self::lock_active_key(&mut tx, parent).await?;
        }
        sqlx::query("INSERT INTO vault_keys (id, tenant_id, purpose, subject, parent_id, master_version, wrapped, fingerprint, state, created_at, destroyed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, NULL)")
            .bind(&k.id)
            .bind(&k.tenant_id)
            .bind(&k.purpose)
            .bind(&k.subject)
            .bind(&k.parent_id)
            .bind(&k.master_version)
            .bind(&k.wrapped)
            .bind(&k.fingerprint)
            .bind(k.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "vault key"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the row lock of an active key (a no-op update: PostgreSQL locks the row, SQLite
    /// holds the write lock already); `Stale` when it is not active.
    pub(crate) async fn lock_active_key(tx: &mut Tx, id: &str) -> Result<()> {
        let n = sqlx::query(
            "UPDATE vault_keys SET created_at = created_at WHERE id = $1 AND state = 'active'",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale {
                expected: 1,
                actual: 0,
            })
        }
    }

    /// Active data keys wrapped under the KEK `parent`.
    pub async fn vault_children(&self, parent: &str) -> Result<Vec<VaultKeyRow>> {
        sqlx::query(concat!(
            "SELECT ",
            key_cols!(),
            " FROM vault_keys WHERE parent_id = $1 AND state = 'active' ORDER BY id"
        ))
        .bind(parent)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from)
        .collect()
    }

    /// Every active KEK (to re-wrap under a new master version).
    pub async fn vault_keks(&self) -> Result<Vec<VaultKeyRow>> {
        sqlx::query(concat!(
            "SELECT ",
            key_cols!(),
            " FROM vault_keys WHERE purpose = 'kek' AND state = 'active' ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from)
        .collect()
    }

    /// Replaces the KEK `old` by `new` in one transaction: every active child of `old`
    /// re-wrapped (`rewrapped`: child id → bytes under `new`), `old` destroyed. Refuses
    /// (`Stale`) when the children are not exactly those given — a child added meanwhile
    /// would otherwise be left under a destroyed key.
    pub async fn rotate_vault_kek(
        &self,
        old: &str,
        new: &VaultKeyRow,
        rewrapped: &[(String, Vec<u8>)],
        epoch: i64,
        at: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::check_epoch(&mut tx, epoch).await?;
        Self::lock_active_key(&mut tx, old).await?;
        let children: Vec<String> = sqlx::query(
            "SELECT id FROM vault_keys WHERE parent_id = $1 AND state = 'active' ORDER BY id",
        )
        .bind(old)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        let mut given: Vec<&str> = rewrapped.iter().map(|(id, _)| id.as_str()).collect();
        given.sort_unstable();
        if children
            .iter()
            .map(String::as_str)
            .ne(given.iter().copied())
        {
            return Err(StoreError::Stale {
                expected: given.len() as i64,
                actual: children.len() as i64,
            });
        }
        Self::destroy_in(&mut tx, old, at).await?;
        sqlx::query("INSERT INTO vault_keys (id, tenant_id, purpose, subject, parent_id, master_version, wrapped, fingerprint, state, created_at, destroyed_at) VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, 'active', $8, NULL)")
            .bind(&new.id)
            .bind(&new.tenant_id)
            .bind(&new.purpose)
            .bind(&new.subject)
            .bind(&new.master_version)
            .bind(&new.wrapped)
            .bind(&new.fingerprint)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
        for (id, w) in rewrapped {
            sqlx::query("UPDATE vault_keys SET parent_id = $1, wrapped = $2 WHERE id = $3")
                .bind(&new.id)
                .bind(w)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn destroy_in(tx: &mut Tx, id: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE vault_keys SET wrapped = NULL, state = 'destroyed', destroyed_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Starts a master rotation: moves the epoch and holds the master row's lock until
    /// [`MasterRotation::commit`], so no KEK wrapped under an older version can be stored
    /// meanwhile or afterwards, and two rotations (two processes) run one after the other.
    pub async fn begin_master_rotation(&self) -> Result<MasterRotation> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE vault_master SET epoch = epoch + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(MasterRotation { tx })
    }

    /// How many active KEKs are still wrapped under master version `v`.
    pub async fn vault_keks_under(&self, v: &str) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM vault_keys WHERE purpose = 'kek' AND state = 'active' AND master_version = $1")
            .bind(v)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// Asks the database to drop what it still keeps of overwritten rows: SQLite truncates
    /// its write-ahead log (old page images), PostgreSQL vacuums the keys table (dead
    /// tuples). Best effort; a failure is reported, nothing depends on it.
    pub async fn purge_dead_rows(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                for q in ["VACUUM vault_keys", "VACUUM asset_copies"] {
                    sqlx::query(q).execute(&self.pool).await?;
                }
            }
        }
        Ok(())
    }
}

/// A master rotation in progress (one transaction holding the master row's lock).
pub struct MasterRotation {
    tx: Tx,
}

impl MasterRotation {
    /// Every active KEK.
    pub async fn keks(&mut self) -> Result<Vec<VaultKeyRow>> {
        sqlx::query(concat!(
            "SELECT ",
            key_cols!(),
            " FROM vault_keys WHERE purpose = 'kek' AND state = 'active' ORDER BY id"
        ))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(key_from)
        .collect()
    }

    /// Re-wraps a KEK under another master version (only if still under `from`).
    pub async fn rewrap(&mut self, id: &str, from: &str, to: &str, wrapped: &[u8]) -> Result<bool> {
        let n = sqlx::query("UPDATE vault_keys SET master_version = $1, wrapped = $2 WHERE id = $3 AND master_version = $4 AND state = 'active'")
            .bind(to)
            .bind(wrapped)
            .bind(id)
            .bind(from)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
