//! `dengbao serve`, `dengbao migrate`, `dengbao admin …`: the platform's process and its
//! operator tasks.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use dengbao_app::Role;
use dengbao_app::auth::{check_password, hash_password_blocking, new_totp_secret};
use dengbao_app::{Config, import};
use dengbao_core::model::Inventory;
use dengbao_core::{HolidayCalendar, RulePack};
use dengbao_server::AppState;
use dengbao_store::{Audit, Organisation, Store, User, new_id};

/// The demo organisation's data: the example inventory that ships with the repository.
const DEMO_INVENTORY: &str = include_str!("../../../examples/payments-operator.toml");

#[derive(clap::Args)]
pub struct DbArgs {
    /// `sqlite://PATH` or `postgres://…`; default: SQLite under the data directory.
    #[arg(long, env = "DENGBAO_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Where the embedded SQLite database lives.
    #[arg(long, default_value = "data", value_name = "DIR")]
    data_dir: PathBuf,
    /// SQLite commits: `full` (default) puts every acknowledged change on disk; `normal`
    /// survives a process crash but not a power loss.
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    sqlite_sync: String,
    /// The vault's master key file (SM4, mode 0600; created on first start). Default: beside
    /// the data directory, not in it (`DIR.master.key`), so a copy of the data directory
    /// does not carry the key that opens it. `$DENGBAO_MASTER_KEY` (32 hexadecimal digits)
    /// takes its place when set — one key for every node, but it cannot rotate.
    #[arg(long, env = "DENGBAO_MASTER_KEY_FILE", value_name = "FILE")]
    master_key_file: Option<PathBuf>,
}

impl DbArgs {
    /// The default place of a file in the data directory.
    pub fn data_file(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// The master key's default file: `DIR.master.key` beside the data directory.
    fn default_master_file(&self) -> PathBuf {
        let name = self
            .data_dir
            .file_name()
            .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
        let parent = self
            .data_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        parent.join(format!("{name}.master.key"))
    }

    /// The vault over `store`, with the master key from the environment or its file.
    pub fn vault(&self, store: &Store) -> Result<dengbao_app::vault::Vault> {
        let master: std::sync::Arc<dyn dengbao_vault::MasterKey> =
            match dengbao_vault::EnvMasterKey::from_env("DENGBAO_MASTER_KEY")? {
                Some(k) => std::sync::Arc::new(k),
                None => {
                    let path = self
                        .master_key_file
                        .clone()
                        .unwrap_or_else(|| self.default_master_file());
                    std::sync::Arc::new(dengbao_vault::FileMasterKey::open_or_create(&path)?)
                }
            };
        tracing::info!(master_key = %master.describe(), "vault ready");
        Ok(dengbao_app::vault::Vault::new(store.clone(), master))
    }

    pub async fn connect(&self, pool: u32) -> Result<Store> {
        let url = match &self.database {
            Some(u) => u.clone(),
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
                format!("sqlite://{}", self.data_dir.join("dengbao.db").display())
            }
        };
        let durability = if self.sqlite_sync == "normal" {
            dengbao_store::Durability::Normal
        } else {
            dengbao_store::Durability::Full
        };
        let store = Store::connect_with(&url, pool, durability)
            .await
            .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
        let n = store.migrate().await.context("migration failed")?;
        if n > 0 {
            tracing::info!(applied = n, "database migrated");
        }
        Ok(store)
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on (loopback by default: expose deliberately, behind TLS).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed a demo organisation (idempotent) and print its logins.
    #[arg(long)]
    demo: bool,
    /// Logs as JSON lines.
    #[arg(long)]
    log_json: bool,
    /// Require a second factor for every user, not only administrators.
    #[arg(long)]
    totp_for_all: bool,
    /// Failed logins before the account locks.
    #[arg(long, default_value_t = 5)]
    lockout_attempts: i64,
    #[arg(long, default_value_t = 15)]
    lockout_minutes: i64,
    /// Idle timeout of a session.
    #[arg(long, default_value_t = 30)]
    session_idle_minutes: i64,
    /// Absolute lifetime of a session.
    #[arg(long, default_value_t = 12)]
    session_absolute_hours: i64,
    #[arg(long, default_value_t = 12)]
    password_min_length: usize,
    /// Of lower case, upper case, digits and other characters (1–4).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=4))]
    password_min_classes: u8,
    /// Log-in attempts one client address may make at once; then one per second.
    #[arg(long, default_value_t = 20)]
    pub login_burst_per_ip: u32,
    /// Log-in attempts for one account name at once; then one every 6 seconds.
    #[arg(long, default_value_t = 10)]
    pub login_burst_per_account: u32,
    /// SM2 key that signs ledger checkpoints; created (mode 0600) on first start if missing.
    /// Every node of one deployment must use the same key.
    #[arg(long, value_name = "FILE")]
    ledger_key: Option<PathBuf>,
    /// The ledger's origin line (names a newly created key).
    /// By default unique to this deployment (`dengbao.local/ledger/<random>`): the origin
    /// names one log (C2SP tlog-checkpoint), so two deployments never share one.
    #[arg(long)]
    ledger_origin: Option<String>,
    /// How long audit and ledger records are kept; nothing is ever deleted before, and less
    /// than 6 months is refused (Cybersecurity Law art. 21: logs kept ≥ 6 months).
    #[arg(long, default_value_t = 3650)]
    audit_retention_days: u32,
    /// Database connections.
    #[arg(long, default_value_t = 8)]
    pool: u32,
}

/// A log origin no other deployment has (72 random bits; the time if randomness fails).
fn unique_origin() -> String {
    let tail = dengbao_app::auth::random_token()
        .map(|t| t[..12].to_owned())
        .unwrap_or_else(|_| now_ms().to_string());
    format!("dengbao.local/ledger/{tail}")
}

/// Loads the checkpoint signing key, or creates it (0600) with its `.pub` beside it. A key
/// readable by others is refused.
pub fn load_or_create_key(
    path: &std::path::Path,
    origin: &str,
) -> Result<dengbao_ledger::NoteSigner> {
    if path.exists() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "{}: mode {:o} lets others read the signing key; chmod 600 it",
                    path.display(),
                    mode & 0o777
                );
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        return dengbao_ledger::NoteSigner::parse(&text)
            .map_err(|e| anyhow!("{}: {e}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let k = dengbao_ledger::NoteSigner::generate(origin).map_err(|e| anyhow!("{e}"))?;
    crate::ledger::write_private(path, &format!("{}\n", k.to_key_string()))?;
    std::fs::write(
        path.with_extension("pub"),
        format!("{}\n", k.verifier().to_key_string()),
    )?;
    eprintln!(
        "created ledger signing key {} (public key in {})",
        path.display(),
        path.with_extension("pub").display()
    );
    Ok(k)
}

#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Create an organisation.
    CreateOrg {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// operator, department_in_charge, evaluation_agency, public_security, … — or
        /// platform: the organisation running the server, whose audit administrator reads
        /// every organisation's ledger entries.
        #[arg(long, default_value = "operator")]
        kind: String,
        #[arg(long)]
        credit_code: Option<String>,
        #[arg(long)]
        division: Option<String>,
    },
    /// Create a user. The password is read from $DENGBAO_PASSWORD or the first line of
    /// standard input, never from the command line.
    CreateUser {
        #[command(flatten)]
        db: DbArgs,
        /// Organisation name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// system_admin, security_admin, audit_admin, security_lead or member.
        #[arg(long)]
        role: String,
    },
    /// Import an inventory file (the `dengbao assess` format) into an organisation.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        file: PathBuf,
    },
}

/// Prints demo logins once (an empty list: the demo was seeded before).
fn print_logins(logins: &[import::DemoLogin]) {
    if logins.is_empty() {
        eprintln!("Demo data already present (logins were printed when it was created).");
        return;
    }
    eprintln!("\nDemo organisations seeded. Logins (change them before real use):");
    for l in logins {
        let totp = l
            .totp_secret
            .as_ref()
            .map(|s| format!("  TOTP secret {s}"))
            .unwrap_or_default();
        eprintln!(
            "  {:<18} {:<22} {:<16} {}{totp}",
            l.username,
            l.password,
            l.roles.join(","),
            l.organisation
        );
    }
    eprintln!();
}

#[derive(clap::Subcommand)]
pub enum VaultCommand {
    /// Where the master key is kept and how many live keys it covers.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
    /// A new master key version: every key-encryption key re-wrapped under it, the old
    /// version forgotten. Servers using the same key file follow the file.
    RotateMaster {
        #[command(flatten)]
        db: DbArgs,
    },
    /// A new key-encryption key for one organisation: its data keys re-wrapped, the data
    /// untouched, the old key destroyed.
    RotateKek {
        #[command(flatten)]
        db: DbArgs,
        /// Organisation name.
        #[arg(long)]
        org: String,
    },
}

pub fn vault(cmd: VaultCommand) -> Result<ExitCode> {
    init_logs(false);
    runtime()?.block_on(async move {
        match cmd {
            VaultCommand::Status { db } => {
                let store = db.connect(2).await?;
                let v = db.vault(&store)?;
                let keks = store.vault_keks().await?;
                println!("master key: {}", v.describe());
                println!("key-encryption keys: {}", keks.len());
                let mut by_version = std::collections::BTreeMap::<String, usize>::new();
                for k in &keks {
                    *by_version.entry(k.master_version.clone().unwrap_or_default()).or_default() += 1;
                }
                for (version, n) in by_version {
                    println!("  under {version}: {n}");
                }
            }
            VaultCommand::RotateMaster { db } => {
                let store = db.connect(2).await?;
                let v = db.vault(&store)?;
                match v.rotate_master().await.map_err(|e| anyhow!("{e}"))? {
                    Some(r) => println!(
                        "master key rotated {} -> {}: {} key-encryption keys re-wrapped; old version {}",
                        r.old_version,
                        r.new_version,
                        r.rewrapped,
                        if r.retired { "forgotten" } else { "kept (keys still under it)" }
                    ),
                    None => anyhow::bail!(
                        "{} cannot rotate: set a new $DENGBAO_MASTER_KEY and re-wrap, or use a key file",
                        v.describe()
                    ),
                }
            }
            VaultCommand::RotateKek { db, org } => {
                let store = db.connect(2).await?;
                let o = store.organisation_by_name(&org).await.map_err(|_| anyhow!("--org: no organisation named `{org}`"))?;
                let v = db.vault(&store)?;
                let r = v.rotate_kek(&o.id, now_ms()).await.map_err(|e| anyhow!("{e}"))?;
                println!(
                    "key-encryption key of `{org}` rotated {} -> {}: {} data keys re-wrapped",
                    r.old_fingerprint, r.new_fingerprint, r.rewrapped
                );
            }
        }
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    init_logs(a.log_json);
    runtime()?.block_on(async move {
        let store = a.db.connect(a.pool).await?;
        let pack = RulePack::baseline()?;
        if a.demo {
            let mut inv: Inventory = toml::from_str(DEMO_INVENTORY).context("demo inventory")?;
            inv.validate(&pack, "demo").map_err(|e| anyhow!("{e}"))?;
            let logins = import::seed(&a.db.vault(&store)?, &pack, &inv, now_ms()).await?;
            print_logins(&logins);
        }
        if a.audit_retention_days < 183 {
            anyhow::bail!("--audit-retention-days {}: audit records are kept at least 6 months (183 days)", a.audit_retention_days);
        }
        let key = load_or_create_key(&a.ledger_key.clone().unwrap_or_else(|| a.db.data_file("ledger.key")), &a.ledger_origin.clone().unwrap_or_else(unique_origin))?;
        if a.lockout_attempts < 1 || a.lockout_minutes < 1 || a.session_idle_minutes < 1 || a.session_absolute_hours < 1 || a.password_min_length < 8 {
            anyhow::bail!("security settings must be positive, and passwords at least 8 characters (Grade III bar)");
        }
        let config = Config {
            require_totp_for_all: a.totp_for_all,
            lockout_attempts: a.lockout_attempts,
            lockout_ms: a.lockout_minutes * 60_000,
            session_idle_ms: a.session_idle_minutes * 60_000,
            session_absolute_ms: a.session_absolute_hours * 3_600_000,
            password_min_length: a.password_min_length,
            password_min_classes: usize::from(a.password_min_classes),
            login_ip_burst: a.login_burst_per_ip.max(1),
            login_account_burst: a.login_burst_per_account.max(1),
            ..Config::default()
        };
        let vault = a.db.vault(&store)?;
        eprintln!("Vault master key: {}", vault.describe());
        let state = AppState::new(
            store,
            config,
            pack,
            HolidayCalendar::new(),
            vault,
            dengbao_server::metrics_handle(),
        );
        state.ledger.set_signer(key);
        if a.demo {
            // Through the use cases, so it needs the application (its vault and ledger).
            print_logins(&import::seed_idc(&state.app, "").await?);
            import::seed_idc_access(&state.app, "").await?;
            import::seed_party_story(&state.app, "").await?;
        }
        dengbao_server::ledger::spawn_checkpointer(state.clone());
        let app = dengbao_server::app(state);
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        eprintln!(
            "Dengbao listening on http://{} (API under /api/v1, OpenAPI at /api/v1/openapi.json)",
            a.listen
        );
        // With the peer address, so log-ins are throttled per client as well as per account.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
            .await
            .context("server error")?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

pub fn migrate(db: DbArgs) -> Result<ExitCode> {
    init_logs(false);
    runtime()?.block_on(async move {
        db.connect(2).await?;
        eprintln!("database is up to date");
        Ok(ExitCode::SUCCESS)
    })
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("DENGBAO_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn admin(cmd: AdminCommand) -> Result<ExitCode> {
    init_logs(false);
    runtime()?.block_on(async move {
        match cmd {
            AdminCommand::CreateOrg { db, name, kind, credit_code, division } => {
                if let Some(c) = &credit_code {
                    c.parse::<dengbao_core::ids::CreditCode>().map_err(|e| anyhow!("--credit-code: {e}"))?;
                }
                if let Some(d) = &division {
                    d.parse::<dengbao_core::ids::DivisionCode>().map_err(|e| anyhow!("--division: {e}"))?;
                }
                let store = db.connect(2).await?;
                store.create_organisation(&Organisation { id: new_id(), name: name.clone(), kind, credit_code, division, data_version: 0, created_at: now_ms() }).await?;
                eprintln!("organisation `{name}` created");
            }
            AdminCommand::CreateUser { db, org, username, display_name, role } => {
                let r = Role::parse(&role).ok_or_else(|| anyhow!("--role: one of system_admin, security_admin, audit_admin, security_lead, member"))?;
                let password = read_password()?;
                check_password(&Config::default(), &username, &password).map_err(|e| anyhow!("password: {}", e.detail))?;
                let store = db.connect(2).await?;
                let o = store.organisation_by_name(&org).await.map_err(|_| anyhow!("--org: no organisation named `{org}`"))?;
                let secret = r.is_admin().then(new_totp_secret);
                let id = new_id();
                let sealed = match &secret {
                    Some(s) => Some(db.vault(&store)?.seal_totp(&o.id, &id, s, now_ms()).await.map_err(|e| anyhow!("{e}"))?),
                    None => None,
                };
                let u = User {
                    id,
                    tenant_id: o.id.clone(),
                    username: username.clone(),
                    display_name: display_name.unwrap_or_else(|| username.clone()),
                    password_hash: hash_password_blocking(&password).map_err(|e| anyhow!("{e}"))?,
                    totp_secret: sealed,
                    totp_enabled: secret.is_some(),
                    failed_attempts: 0,
                    locked_until: 0,
                    last_totp_step: 0,
                    disabled: false,
                    created_at: now_ms(),
                };
                store.create_user(&u, &[r.as_str()], &Audit { actor: "cli", action: "user.create", object: &username, request_id: "-", at: now_ms() }).await.map_err(|e| anyhow!("{e}"))?;
                eprintln!("user `{username}` created in `{org}` with role {}", r.as_str());
                if let Some(s) = secret {
                    eprintln!("administrators need a second factor: add this TOTP secret to an authenticator app: {s}");
                }
            }
            AdminCommand::Import { db, org, file } => {
                let pack = RulePack::baseline()?;
                let inv = crate::input::load_inventory(&file, &pack)?;
                let store = db.connect(2).await?;
                let o = store.organisation_by_name(&org).await.map_err(|_| anyhow!("--org: no organisation named `{org}`"))?;
                let n = inv.systems.len();
                import::load_inventory(&db.vault(&store)?, &pack, &o.id, &inv, now_ms()).await?;
                eprintln!("imported {n} grading objects into `{org}`");
            }
        }
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
