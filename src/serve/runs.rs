//! Who is running what. Each client (a page, named by the id it makes for itself) has at most
//! one run: a new run cancels the client's previous one and starts once it has stopped, so
//! nothing queues behind a dragged slider. A small global limit of clients running at once
//! keeps a room of laptops from exhausting the machine: past it, a run is refused (429).
//! Every run publishes its latest snapshot on a `watch` channel: a slow page skips
//! intermediate snapshots instead of making the server hold them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::live::{self, Kind};
use crate::engine::Plan;
use crate::engine::cancel::Cancel;

/// A published snapshot: its number in the run, its kind and its JSON.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub seq: u64,
    pub kind: Kind,
    pub data: Arc<String>,
}

/// Finished runs kept for a page that connects late, at most this long and this many.
const KEEP_FINISHED: Duration = Duration::from_secs(120);
const MAX_FINISHED: usize = 64;

struct Run {
    client: String,
    cancel: Cancel,
    events: watch::Receiver<Snapshot>,
    finished: Option<Instant>,
}

#[derive(Default)]
struct Client {
    /// Held while the client has a run started or running.
    permit: Option<OwnedSemaphorePermit>,
    /// Taken by a run while it computes: the next run of the client waits for it.
    lane: Arc<tokio::sync::Mutex<()>>,
    current: Option<u64>,
}

#[derive(Default)]
struct State {
    clients: HashMap<String, Client>,
    runs: HashMap<u64, Run>,
}

/// The runs of every client.
pub struct Runs {
    state: Mutex<State>,
    slots: Arc<Semaphore>,
    max_runs: usize,
    next_id: AtomicU64,
}

/// Why a run was not started.
#[derive(Debug)]
pub struct Busy {
    pub max_runs: usize,
}

impl Runs {
    pub fn new(max_runs: usize) -> Runs {
        Runs {
            state: Mutex::default(),
            slots: Arc::new(Semaphore::new(max_runs.max(1))),
            max_runs: max_runs.max(1),
            next_id: AtomicU64::new(1),
        }
    }

    /// The state; a panic elsewhere while it was held leaves it usable (every update is
    /// complete before the lock is released).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts `plan` for `client`, cancelling the client's previous run. Must be called within
    /// the server's runtime.
    pub fn start(self: &Arc<Runs>, client: &str, plan: Plan) -> Result<u64, Busy> {
        let mut state = self.state();
        prune(&mut state);
        let c = state.clients.entry(client.to_string()).or_default();
        if c.permit.is_none() {
            let permit = self.slots.clone().try_acquire_owned().map_err(|_| Busy {
                max_runs: self.max_runs,
            })?;
            c.permit = Some(permit);
        }
        let previous = c.current.take();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        c.current = Some(id);
        let lane = c.lane.clone();
        if let Some(run) = previous.and_then(|p| state.runs.get(&p)) {
            run.cancel.cancel();
        }
        let cancel = Cancel::new();
        let (tx, rx) = watch::channel(Snapshot {
            seq: 0,
            kind: Kind::Queued,
            data: Arc::new("{}".to_string()),
        });
        state.runs.insert(
            id,
            Run {
                client: client.to_string(),
                cancel: cancel.clone(),
                events: rx,
                finished: None,
            },
        );
        drop(state);
        let runs = self.clone();
        tokio::spawn(async move {
            // Waits for the client's previous run to stop (within one unit of work).
            let _lane = lane.lock_owned().await;
            let mut seq = 0;
            let mut publish = move |kind: Kind, data: String| {
                seq += 1;
                let _ = tx.send(Snapshot {
                    seq,
                    kind,
                    data: Arc::new(data),
                });
            };
            let job = tokio::task::spawn_blocking(move || {
                if cancel.is_cancelled() {
                    publish(Kind::Cancelled, "{}".to_string());
                } else {
                    live::run(&plan, &cancel, &mut publish);
                }
            });
            if job.await.is_err() {
                // The run panicked: the page is told through the channel's close.
                eprintln!("sprx serve: run {id} stopped unexpectedly");
            }
            runs.finish(id);
        });
        Ok(id)
    }

    /// Marks run `id` finished and frees its client's slot if it was the client's last run.
    fn finish(&self, id: u64) {
        let mut state = self.state();
        let Some(run) = state.runs.get_mut(&id) else {
            return;
        };
        run.finished = Some(Instant::now());
        let client = run.client.clone();
        if let Some(c) = state.clients.get_mut(&client)
            && c.current == Some(id)
        {
            c.current = None;
            c.permit = None;
        }
    }

    /// The snapshots of run `id`, if it is known.
    pub fn events(&self, id: u64) -> Option<watch::Receiver<Snapshot>> {
        self.state().runs.get(&id).map(|r| r.events.clone())
    }

    /// Cancels run `id`; false if it is unknown.
    pub fn cancel(&self, id: u64) -> bool {
        match self.state().runs.get(&id) {
            Some(run) => {
                run.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels every run (the server is stopping).
    pub fn cancel_all(&self) {
        for run in self.state().runs.values() {
            run.cancel.cancel();
        }
    }

    /// The most clients running at once.
    pub fn max_runs(&self) -> usize {
        self.max_runs
    }

    /// Runs not yet finished, over all clients.
    pub fn active(&self) -> usize {
        self.state()
            .runs
            .values()
            .filter(|r| r.finished.is_none())
            .count()
    }
}

/// Forgets finished runs kept too long or beyond the number kept, and clients with nothing
/// running.
fn prune(state: &mut State) {
    let now = Instant::now();
    state.runs.retain(|_, r| {
        r.finished
            .is_none_or(|t| now.duration_since(t) < KEEP_FINISHED)
    });
    let mut finished: Vec<(Instant, u64)> = state
        .runs
        .iter()
        .filter_map(|(id, r)| r.finished.map(|t| (t, *id)))
        .collect();
    if finished.len() > MAX_FINISHED {
        finished.sort();
        for (_, id) in &finished[..finished.len() - MAX_FINISHED] {
            state.runs.remove(id);
        }
    }
    state
        .clients
        .retain(|_, c| c.current.is_some() || c.permit.is_some());
}
