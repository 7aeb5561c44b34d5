//! The routes: the page and its assets (embedded), the catalog, runs and their server-sent
//! events, cancellation, and the scenario TOML download. Every error is JSON with a message
//! (`{"error": …}`), never a panic or a backtrace.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use serde_json::{Value, json};

use super::catalog::Catalog;
use super::levers::catalog_json;
use super::runs::Runs;
use super::setting::{Bounds, Composed, Setting, SettingError, check_bounds, compose};
use crate::scenario::ScenarioError;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// The header a page names itself with, so that its new run replaces its previous one.
pub const CLIENT_HEADER: &str = "x-sprx-client";

/// What every handler shares.
#[derive(Clone)]
pub struct State {
    catalog: Arc<Catalog>,
    bounds: Bounds,
    runs: Arc<Runs>,
    /// The catalog as JSON, made once.
    catalog_json: Arc<String>,
}

impl State {
    pub fn new(catalog: Catalog, bounds: Bounds, runs: Arc<Runs>) -> State {
        let catalog_json = Arc::new(catalog_json(&catalog, &bounds).to_string());
        State {
            catalog: Arc::new(catalog),
            bounds,
            runs,
            catalog_json,
        }
    }
}

pub fn router(state: State) -> Router {
    Router::new()
        .route("/", get(index))
        .route(
            "/app.js",
            get(|| asset(APP_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/style.css",
            get(|| asset(STYLE_CSS, "text/css; charset=utf-8")),
        )
        .route("/api/catalog", get(catalog))
        .route("/api/check", get(check))
        .route("/api/status", get(status))
        .route("/api/scenario.toml", get(download))
        .route("/api/runs", axum::routing::post(start))
        .route("/api/runs/{id}/events", get(events))
        .route("/api/runs/{id}", axum::routing::delete(cancel))
        .fallback(not_found)
        .with_state(state)
}

/// A JSON error with its status.
fn error(status: StatusCode, message: impl Into<String>, extra: Value) -> Response {
    let mut body = json!({ "error": message.into() });
    if let (Some(b), Value::Object(more)) = (body.as_object_mut(), extra) {
        b.extend(more);
    }
    (status, axum::Json(body)).into_response()
}

/// A setting error as the page shows it: the validator's diagnostics keep their key paths so
/// that the page can mark the lever at fault.
fn setting_error(e: &SettingError) -> Response {
    match e {
        SettingError::UnknownScenario { .. } => {
            error(StatusCode::NOT_FOUND, e.message(), json!({}))
        }
        SettingError::BadRequest(_) => error(StatusCode::BAD_REQUEST, e.message(), json!({})),
        SettingError::TooLarge(_) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.message(), json!({}))
        }
        SettingError::Invalid(inner) => {
            let diagnostics: Vec<Value> = match inner {
                ScenarioError::Invalid { diagnostics, .. } => diagnostics
                    .iter()
                    .map(|d| json!({ "key": d.key, "message": d.message, "line": d.line }))
                    .collect(),
                ScenarioError::Read { .. } => Vec::new(),
            };
            error(
                StatusCode::BAD_REQUEST,
                e.message(),
                json!({ "diagnostics": diagnostics }),
            )
        }
    }
}

async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8").await
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such page", json!({}))
}

async fn catalog(Extract(state): Extract<State>) -> Response {
    let mut response = state.catalog_json.as_str().to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Runs in progress and the limit: for a trainer's check and the load test.
async fn status(Extract(state): Extract<State>) -> Response {
    axum::Json(json!({
        "active_runs": state.runs.active(),
        "max_runs": state.runs.max_runs(),
    }))
    .into_response()
}

/// The setting in the query string, made into a validated scenario within the live bounds.
fn composed(state: &State, query: Option<String>) -> Result<Composed, SettingError> {
    let setting = setting_of(query)?;
    let composed = compose(&state.catalog, &setting)?;
    check_bounds(&composed.scenario, &state.bounds)?;
    Ok(composed)
}

/// The setting in a query string (`s=…&key=value…`); a malformed one is a JSON 400 like any
/// other bad setting.
fn setting_of(query: Option<String>) -> Result<Setting, SettingError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| SettingError::BadRequest(format!("the setting cannot be read: {e}")))?;
    Setting::from_pairs(pairs)
}

/// Validates a setting: a one-line summary, or the errors a file with it would get.
async fn check(Extract(state): Extract<State>, RawQuery(query): RawQuery) -> Response {
    match composed(&state, query) {
        Ok(c) => axum::Json(json!({
            "ok": true,
            "scenario": c.entry_id,
            "patients": c.scenario.patients(),
            "replicates": c.scenario.run.replicates,
        }))
        .into_response(),
        Err(e) => setting_error(&e),
    }
}

/// The setting as a scenario file that `sprx run` accepts.
async fn download(Extract(state): Extract<State>, RawQuery(query): RawQuery) -> Response {
    // Bounds are for live runs; a large scenario may still be downloaded to run elsewhere.
    let result = setting_of(query).and_then(|s| compose(&state.catalog, &s));
    match result {
        Ok(c) => {
            let mut response = c.toml.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/toml; charset=utf-8"),
            );
            let disposition = format!("attachment; filename=\"{}\"", c.file_name);
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => setting_error(&e),
    }
}

/// The client id from its header: letters, digits, `-` and `_`, at most 64.
fn client_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(CLIENT_HEADER)?.to_str().ok()?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| id.to_string())
}

/// Starts a run of the setting for the client; the answer names its event stream.
async fn start(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(client) = client_id(&headers) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("a run needs the {CLIENT_HEADER} header (letters, digits, - and _)"),
            json!({}),
        );
    };
    let c = match composed(&state, query) {
        Ok(c) => c,
        Err(e) => return setting_error(&e),
    };
    match state.runs.start(&client, c.scenario.plan()) {
        Ok(id) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": id,
                "events": format!("/api/runs/{id}/events"),
                "replicates": c.scenario.run.replicates,
                "patients": c.scenario.patients(),
            })),
        )
            .into_response(),
        Err(busy) => error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "the server is busy: {} runs are in progress, the most it runs at once; try \
                 again in a few seconds",
                busy.max_runs
            ),
            json!({}),
        ),
    }
}

/// The run's snapshots as server-sent events, the latest first, until the run ends.
async fn events(Extract(state): Extract<State>, Path(id): Path<String>) -> Response {
    let Some(rx) = run_id(&id).and_then(|id| state.runs.events(id)) else {
        return error(StatusCode::NOT_FOUND, format!("no run {id}"), json!({}));
    };
    Sse::new(snapshot_stream(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

/// A run id from the path; anything else names no run.
fn run_id(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// Each new snapshot once; ends after a final one, or if the run's sender is gone.
fn snapshot_stream(
    rx: tokio::sync::watch::Receiver<super::runs::Snapshot>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // The state: the receiver, the last sequence number sent, and whether the run ended.
    stream::unfold(
        (rx, None::<u64>, false),
        |(mut rx, sent, ended)| async move {
            if ended {
                return None;
            }
            loop {
                let snapshot = rx.borrow_and_update().clone();
                if sent != Some(snapshot.seq) {
                    let event = Event::default()
                        .event(snapshot.kind.name())
                        .id(snapshot.seq.to_string())
                        .data(snapshot.data.as_str());
                    let ended = snapshot.kind.is_final();
                    return Some((Ok(event), (rx, Some(snapshot.seq), ended)));
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        },
    )
}

async fn cancel(Extract(state): Extract<State>, Path(id): Path<String>) -> Response {
    if run_id(&id).is_some_and(|id| state.runs.cancel(id)) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no run {id}"), json!({}))
    }
}
