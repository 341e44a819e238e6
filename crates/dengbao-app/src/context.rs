//! What every use case runs against: store, configuration, rule pack, holiday calendar,
//! clock, the node's caches, the ledger's tree and signer, and the bounds on log-in work.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dengbao_core::{HolidayCalendar, RulePack};
use dengbao_store::Store;

/// Security settings; the defaults are the Grade III bar (PRODUCT.md principle 5).
#[derive(Clone, Debug)]
pub struct Config {
    pub lockout_attempts: i64,
    pub lockout_ms: i64,
    pub session_idle_ms: i64,
    pub session_absolute_ms: i64,
    /// Second factor for everyone, not only administrators.
    pub require_totp_for_all: bool,
    pub password_min_length: usize,
    /// Character classes (lower, upper, digit, other) a password must mix.
    pub password_min_classes: usize,
    /// How long a node trusts cached sessions and data versions (other nodes' writes become
    /// visible within this).
    pub cache_ttl: Duration,
    /// Log-in attempts from one address: this many at once, then one per `login_ip_refill_ms`.
    pub login_ip_burst: u32,
    pub login_ip_refill_ms: i64,
    /// Log-in attempts for one account name, likewise (guessing one account from many
    /// addresses).
    pub login_account_burst: u32,
    pub login_account_refill_ms: i64,
    /// Password hashes computed at once (argon2id takes 19 MiB and a core's time each).
    pub hashing_slots: usize,
    /// How long a log-in waits for a hashing slot before it is answered 429.
    pub hashing_wait_ms: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            lockout_attempts: 5,
            lockout_ms: 15 * 60 * 1000,
            session_idle_ms: 30 * 60 * 1000,
            session_absolute_ms: 12 * 60 * 60 * 1000,
            require_totp_for_all: false,
            password_min_length: 12,
            password_min_classes: 3,
            cache_ttl: Duration::from_secs(2),
            login_ip_burst: 20,
            login_ip_refill_ms: 1_000,
            login_account_burst: 10,
            login_account_refill_ms: 6_000,
            hashing_slots: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            hashing_wait_ms: 2_000,
        }
    }
}

/// Wall clock in milliseconds; tests move it.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        real + self.offset_ms.load(Ordering::Relaxed)
    }
    /// Moves the clock forward (tests of expiry and lockout).
    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
    /// Today's date in Asia/Shanghai (UTC+8 all year).
    pub fn today(&self) -> dengbao_core::Date {
        dengbao_core::Date::from_unix_seconds(self.now_ms().div_euclid(1000), BEIJING_OFFSET_S)
    }
}

/// Asia/Shanghai's offset from UTC: no daylight saving since 1991.
pub const BEIJING_OFFSET_S: i64 = 8 * 3600;

/// Epoch ms of the first instant of `d` in Beijing.
pub fn beijing_day_start_ms(d: dengbao_core::Date) -> i64 {
    (i64::from(d.days_since_epoch()) * 86_400 - BEIJING_OFFSET_S) * 1000
}

/// A bounded cache whose entries expire `ttl` after they were put (moka: concurrent,
/// evicts by size as well as age, so no map grows without bound).
pub struct TtlCache<K, V> {
    cache: moka::sync::Cache<K, V>,
}

impl<K, V> TtlCache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }
    pub fn get(&self, k: &K) -> Option<V> {
        self.cache.get(k)
    }
    pub fn put(&self, k: K, v: V) {
        self.cache.insert(k, v);
    }
    pub fn remove(&self, k: &K) {
        self.cache.invalidate(k);
    }
    pub fn clear(&self) {
        self.cache.invalidate_all();
    }
}

pub struct Inner {
    pub store: Store,
    pub config: Config,
    /// Loaded once and kept for the process's life (leaked on purpose): results that cite
    /// the pack can then be owned values that outlive a request (`Graded`, `DossierSummary`).
    pub pack: &'static RulePack,
    pub calendar: Arc<HolidayCalendar>,
    pub clock: Clock,
    /// Authenticated callers by session or token hash, for `cache_ttl`.
    pub principals: TtlCache<String, crate::Caller>,
    pub tenants: crate::tenant::TenantCache,
    /// Each operator's share of a supervisor's dashboard, by (supervisor, operator), kept
    /// while the operator's computed obligations are the same ones.
    pub(crate) areas: TtlCache<
        (String, String),
        (
            Arc<crate::tenant::Computed>,
            Arc<crate::supervision::Partial>,
        ),
    >,
    pub ledger: crate::ledger::Ledger,
    /// Envelope encryption at rest (TOTP secrets, dossier files, IDC customer data).
    pub vault: crate::vault::Vault,
    pub(crate) hashing: Arc<tokio::sync::Semaphore>,
    pub(crate) ip_throttle: crate::throttle::Throttle<std::net::IpAddr>,
    pub(crate) account_throttle: crate::throttle::Throttle<String>,
    /// Group commit for security events (log-ins, failures, lock-outs, log-outs, denials),
    /// started on first use inside the server's runtime.
    events: std::sync::OnceLock<dengbao_store::GroupCommit>,
}

impl Inner {
    pub fn events(&self) -> &dengbao_store::GroupCommit {
        self.events
            .get_or_init(|| dengbao_store::GroupCommit::start(self.store.clone(), 4096, 65_536))
    }
}

/// The application: cheap to clone, handed to every use case.
#[derive(Clone)]
pub struct App(pub Arc<Inner>);

impl std::ops::Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    pub fn new(
        store: Store,
        config: Config,
        pack: RulePack,
        calendar: HolidayCalendar,
        vault: crate::vault::Vault,
    ) -> App {
        let ttl = config.cache_ttl;
        App(Arc::new(Inner {
            store,
            vault,
            hashing: Arc::new(tokio::sync::Semaphore::new(config.hashing_slots.max(1))),
            ip_throttle: crate::throttle::Throttle::new(
                config.login_ip_burst,
                config.login_ip_refill_ms,
            ),
            account_throttle: crate::throttle::Throttle::new(
                config.login_account_burst,
                config.login_account_refill_ms,
            ),
            config,
            pack: Box::leak(Box::new(pack)),
            calendar: Arc::new(calendar),
            clock: Clock::default(),
            principals: TtlCache::new(ttl),
            tenants: crate::tenant::TenantCache::new(ttl),
            // Longer than the tenant cache's freshness check: a share is only reused while
            // it was made from the very obligations the tenant cache still holds.
            areas: TtlCache::new(Duration::from_secs(600)),
            ledger: crate::ledger::Ledger::default(),
            events: std::sync::OnceLock::new(),
        }))
    }
}
