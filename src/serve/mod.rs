//! `sprx serve`: a live workshop page. A trainer picks a training scenario, the room predicts,
//! levers change the setting, and the page draws the weekly series as replicates arrive, with
//! the paired differences against the baseline in words. The page, its script and every
//! scenario are embedded in the binary, so it works in a room without internet.
//!
//! - [`catalog`]: the scenarios offered (shipped training scenarios and the one given), by id.
//! - [`setting`]: what the page sends (scenario id and key = value pairs) turned into scenario
//!   TOML, validated exactly as a file is, and checked against the live [`setting::Bounds`].
//! - [`levers`]: the levers and the advanced panel, generated from the parameter registry.
//! - [`live`]: one run, replicate batch by batch, publishing a snapshot after each.
//! - [`view`]: a snapshot's charts and headline, from the metrics the report uses.
//! - [`runs`]: one run per client, a global limit, cancellation.
//! - [`http`]: the routes (page, assets, JSON API, server-sent events).

pub mod catalog;
mod http;
pub mod levers;
pub mod live;
pub mod runs;
pub mod setting;
pub mod view;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use catalog::{Catalog, Entry};
pub use setting::Bounds;

/// How the server is started.
pub struct Options {
    /// Address to bind: 127.0.0.1 unless the trainer asks for another.
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Runs at once over all clients; more are refused with 429.
    pub max_runs: usize,
    pub bounds: Bounds,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Serves `catalog` until `stop` completes. `ready` is told the bound address once the server
/// listens (so that `--port 0` can be reported). Runs in progress are cancelled on stop.
pub fn serve<S>(
    catalog: Catalog,
    options: Options,
    ready: impl FnOnce(SocketAddr),
    stop: S,
) -> Result<(), ServeError>
where
    S: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // The simulations run on rayon's pool; the server itself only moves bytes.
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let addr = format!("{}:{}", options.host, options.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let runs = Arc::new(runs::Runs::new(options.max_runs));
        let state = http::State::new(catalog, options.bounds, runs.clone());
        ready(local);
        let app = http::router(state);
        let on_stop = async move {
            stop.await;
            // Ends every event stream, so that graceful shutdown does not wait on them.
            runs.cancel_all();
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(on_stop)
            .await
            .map_err(ServeError::Serve)
    })
}
