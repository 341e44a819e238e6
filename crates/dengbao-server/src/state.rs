//! The server's state: the application and the metrics recorder.

use dengbao_app::App;
use dengbao_core::{HolidayCalendar, RulePack};
use dengbao_store::Store;

pub use dengbao_app::Config;

/// Cheap to clone; handed to every handler. Derefs to the [`App`] (and through it to its
/// store, clock, configuration and ledger).
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(
        store: Store,
        config: Config,
        pack: RulePack,
        calendar: HolidayCalendar,
        vault: dengbao_app::vault::Vault,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> AppState {
        AppState {
            app: App::new(store, config, pack, calendar, vault),
            metrics,
        }
    }
}
