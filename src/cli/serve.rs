//! `sprx serve`: the live workshop page on a local web server (see `docs/serve.md`).

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use sprx::serve::{Bounds, Catalog, Options};

use super::BadInput;

/// Serve the live workshop page: training scenarios, levers, live charts, pin and compare.
#[derive(Args)]
pub struct ServeArgs {
    /// A scenario file to offer first, beside the shipped training scenarios.
    scenario: Option<PathBuf>,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. The default serves this machine only; another address (e.g.
    /// 0.0.0.0 for a room's laptops) lets anyone who can reach it use the page and the CPU.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Runs at once over all pages (default: one per core); more are refused until one ends.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    max_runs: Option<u16>,
    /// Open the page in the default browser (xdg-open); the URL is printed either way.
    #[arg(long)]
    open: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let given = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())))?;
            Some((text, path.display().to_string()))
        }
        None => None,
    };
    let catalog = Catalog::new(given)?;
    if args.host != "127.0.0.1" && args.host != "localhost" {
        eprintln!(
            "warning: listening on {}: anyone who can reach this machine can use the page and \
             run simulations on it",
            args.host
        );
    }
    let options = Options {
        host: args.host.clone(),
        port: args.port,
        // One run per core at once: more would only slow every run down.
        max_runs: args.max_runs.map_or_else(
            || std::thread::available_parallelism().map_or(2, |n| n.get()),
            usize::from,
        ),
        bounds: Bounds::default(),
    };
    let open = args.open;
    let ready = move |addr: std::net::SocketAddr| {
        let url = format!("http://{addr}/");
        println!("sprx serve: {url}  (Ctrl-C stops)");
        if open {
            open_browser(&url);
        }
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("stopping");
    };
    sprx::serve::serve(catalog, options, ready, stop).map_err(|e| match e {
        e @ sprx::serve::ServeError::Bind { .. } => BadInput(e.to_string()).into(),
        e => anyhow!(e),
    })
}

/// Tries xdg-open; the URL is already printed, so a failure is only a note.
fn open_browser(url: &str) {
    let opened = std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if opened.is_err() {
        eprintln!("could not open a browser: open {url} yourself");
    }
}
