//! Organisations, users and their roles, sessions and API tokens.

use super::*;

impl Store {
    // ----- organisations -----------------------------------------------------------------

    pub async fn create_organisation(&self, o: &Organisation) -> Result<()> {
        sqlx::query("INSERT INTO organisations (id, name, kind, credit_code, division, data_version, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)")
            .bind(&o.id)
            .bind(&o.name)
            .bind(&o.kind)
            .bind(&o.credit_code)
            .bind(&o.division)
            .bind(o.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, "organisation"))?;
        Ok(())
    }

    pub async fn organisation(&self, id: &str) -> Result<Organisation> {
        let r = sqlx::query("SELECT id, name, kind, credit_code, division, data_version, created_at FROM organisations WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Ok(Organisation {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            credit_code: r.try_get("credit_code")?,
            division: r.try_get("division")?,
            data_version: r.try_get("data_version")?,
            created_at: r.try_get("created_at")?,
        })
    }

    pub async fn organisation_by_name(&self, name: &str) -> Result<Organisation> {
        let id: String = sqlx::query("SELECT id FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("id")?;
        self.organisation(&id).await
    }

    pub async fn data_version(&self, tenant: &str) -> Result<i64> {
        let r = sqlx::query("SELECT data_version FROM organisations WHERE id = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(r.try_get("data_version")?)
    }

    // ----- users, roles ------------------------------------------------------------------

    pub async fn create_user(&self, u: &User, roles: &[&str], audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO users (id, tenant_id, username, display_name, password_hash, totp_secret, totp_enabled, failed_attempts, locked_until, last_totp_step, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, 0, $8)")
            .bind(&u.id)
            .bind(&u.tenant_id)
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(&u.totp_secret)
            .bind(i64::from(u.totp_enabled))
            .bind(u.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "username"))?;
        for role in roles {
            sqlx::query("INSERT INTO role_assignments (user_id, role, tenant_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&u.id)
                .bind(*role)
                .bind(&u.tenant_id)
                .bind(audit.actor)
                .bind(audit.at)
                .execute(&mut *tx)
                .await?;
        }
        Self::finish(tx, &u.tenant_id, audit).await
    }

    /// Looks a user up by login name (usernames are unique across organisations).
    pub async fn user_by_username(&self, username: &str) -> Result<User> {
        let r = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from(&r)
    }

    pub async fn user(&self, tenant: &str, id: &str) -> Result<User> {
        let r = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from(&r)
    }

    pub async fn users(&self, tenant: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE tenant_id = $1 ORDER BY username"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    /// Counts a failed login; locks the account for `lock_ms` once `max` is reached.
    /// Returns the new lock deadline (0 if not locked).
    pub async fn login_failed(
        &self,
        user_id: &str,
        now: i64,
        max: i64,
        lock_ms: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT failed_attempts FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        let n: i64 = r.try_get::<i64, _>("failed_attempts")? + 1;
        let (n, until) = if n >= max { (0, now + lock_ms) } else { (n, 0) };
        sqlx::query("UPDATE users SET failed_attempts = $1, locked_until = CASE WHEN $2 > 0 THEN $2 ELSE locked_until END WHERE id = $3").bind(n).bind(until).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(until)
    }

    pub async fn login_succeeded(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_totp(
        &self,
        tenant: &str,
        user_id: &str,
        secret: Option<&str>,
        enabled: bool,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(secret)
        .bind(i64::from(enabled))
        .bind(tenant)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Records the last TOTP time step used, refusing a step not after the previous one, so
    /// a code cannot be replayed. Returns false on replay.
    pub async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE users SET last_totp_step = $1 WHERE id = $2 AND last_totp_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn set_user_disabled(
        &self,
        tenant: &str,
        user_id: &str,
        disabled: bool,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(i64::from(disabled))
            .bind(tenant)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // Disabling revokes the user's API tokens for good: enabling the account again does
        // not bring them back.
        if disabled {
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1 AND tenant_id = $2")
                .bind(user_id)
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        Self::finish(tx, tenant, audit).await
    }

    pub async fn roles(&self, user_id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT role FROM role_assignments WHERE user_id = $1 ORDER BY role")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| r.try_get("role").map_err(StoreError::from))
            .collect()
    }

    pub async fn assign_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO role_assignments (user_id, role, tenant_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user_id)
            .bind(role)
            .bind(tenant)
            .bind(audit.actor)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "role assignment"))?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn revoke_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "DELETE FROM role_assignments WHERE tenant_id = $1 AND user_id = $2 AND role = $3",
        )
        .bind(tenant)
        .bind(user_id)
        .bind(role)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    // ----- sessions, tokens --------------------------------------------------------------

    pub async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_token, mfa_ok, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&s.id_hash)
            .bind(&s.user_id)
            .bind(&s.tenant_id)
            .bind(&s.csrf_token)
            .bind(i64::from(s.mfa_ok))
            .bind(s.created_at)
            .bind(s.last_seen)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Session> {
        let r = sqlx::query("SELECT id_hash, user_id, tenant_id, csrf_token, mfa_ok, created_at, last_seen FROM sessions WHERE id_hash = $1").bind(id_hash).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Ok(Session {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            tenant_id: r.try_get("tenant_id")?,
            csrf_token: r.try_get("csrf_token")?,
            mfa_ok: b(r.try_get("mfa_ok")?),
            created_at: r.try_get("created_at")?,
            last_seen: r.try_get("last_seen")?,
        })
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_session_mfa(&self, id_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET mfa_ok = 1 WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_token(&self, t: &ApiToken, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO api_tokens (id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)")
            .bind(&t.id)
            .bind(&t.token_hash)
            .bind(&t.user_id)
            .bind(&t.tenant_id)
            .bind(&t.name)
            .bind(&t.scope)
            .bind(t.expires_at)
            .bind(t.created_at)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, &t.tenant_id, audit).await
    }

    fn token_from(r: &AnyRow) -> Result<ApiToken> {
        Ok(ApiToken {
            id: r.try_get("id")?,
            token_hash: r.try_get("token_hash")?,
            user_id: r.try_get("user_id")?,
            tenant_id: r.try_get("tenant_id")?,
            name: r.try_get("name")?,
            scope: r.try_get("scope")?,
            expires_at: r.try_get("expires_at")?,
            revoked: b(r.try_get("revoked")?),
            created_at: r.try_get("created_at")?,
        })
    }

    pub async fn token_by_hash(&self, hash: &str) -> Result<ApiToken> {
        let r = sqlx::query("SELECT id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at FROM api_tokens WHERE token_hash = $1").bind(hash).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Self::token_from(&r)
    }

    pub async fn tokens(&self, tenant: &str, user_id: &str) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at").bind(tenant).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(Self::token_from).collect()
    }

    pub async fn revoke_token(
        &self,
        tenant: &str,
        user_id: &str,
        id: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked = 1 WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    /// Remembers a device a user completed a log-in from (the SM3 of its cookie).
    pub async fn add_device(&self, token_hash: &str, user_id: &str, at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO trusted_devices (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, "device"))?;
        Ok(())
    }

    /// The user a device cookie was issued to, if it was issued since `since` (epoch ms).
    pub async fn device_user(&self, token_hash: &str, since: i64) -> Result<Option<String>> {
        let r = sqlx::query(
            "SELECT user_id FROM trusted_devices WHERE token_hash = $1 AND created_at >= $2",
        )
        .bind(token_hash)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match r {
            Some(r) => Some(r.try_get("user_id")?),
            None => None,
        })
    }
}
