// sprx serve: the workshop page. Levers and the advanced panel are built from the server's
// catalog (the parameter registry); runs stream their snapshots as server-sent events; charts
// are hand-drawn SVG. The URL's hash holds the whole setting, so it can be shared.
"use strict";

const state = {
  catalog: null,
  scenario: null,   // the catalog entry
  values: new Map(), // setting key -> value text (only what differs from the scenario)
  view: null,       // the latest results
  partial: null,    // the first replicate's queue, week by week
  pinned: null,     // { view, label }
  source: null,     // the EventSource of the current run
  runId: null,
  timer: null,
  finished: false,
};

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
};
const SVG = "http://www.w3.org/2000/svg";
const svgEl = (tag, attrs = {}) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

// The page's own id, so that its next run replaces its previous one on the server.
function clientId() {
  let id = sessionStorage.getItem("sprx-client");
  if (!id) {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem("sprx-client", id);
  }
  return id;
}

function status(text) { $("status").textContent = text; }

function showError(message, diagnostics) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
  for (const d of diagnostics || []) {
    const key = inputKey(d.key);
    document.querySelectorAll(`[data-key="${CSS.escape(key)}"]`).forEach((n) => {
      n.closest(".lever, .param")?.classList.add("bad");
    });
  }
}
function clearError() {
  $("error").hidden = true;
  document.querySelectorAll(".bad").forEach((n) => n.classList.remove("bad"));
}

// A validator key path (`arm[2].lw_per_pcn`) as the page's setting key (`arm.name.lw_per_pcn`).
function inputKey(key) {
  const m = /^arm\[(\d+)\]\.(.*)$/.exec(key || "");
  if (!m) return key || "";
  const arm = state.scenario.arms[Number(m[1])];
  return arm ? `arm.${arm.name}.${m[2]}` : key;
}

// ---- The setting and the URL ------------------------------------------------------------

function query() {
  const q = new URLSearchParams();
  q.set("s", state.scenario.id);
  for (const [k, v] of state.values) q.set(k, v);
  return q.toString();
}

function saveHash() { history.replaceState(null, "", "#" + query()); }

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  const values = new Map();
  for (const [k, v] of q) if (k !== "s") values.set(k, v);
  return { id: q.get("s"), values };
}

function registry(name) { return state.catalog.registry.find((d) => d.name === name); }

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

// ---- Scenario and narrative -------------------------------------------------------------

function selectScenario(id, values) {
  state.scenario = state.catalog.scenarios.find((s) => s.id === id) || state.catalog.scenarios[0];
  state.values = values || new Map();
  state.view = null;
  state.partial = null;
  state.finished = false;
  $("scenario").value = state.scenario.id;
  const s = state.scenario;
  $("description").textContent = s.description || "";
  $("question").textContent = s.question || "No question for the room: this scenario has no narrative.";
  $("show").textContent = s.show || "";
  $("show-box").hidden = !s.show;
  $("expect").textContent = s.expect || "This scenario has no expected answer.";
  $("expect").hidden = true;
  $("reveal").disabled = true;
  $("prediction").value = localStorage.getItem("sprx-prediction-" + s.id) || "";
  buildLevers();
  $("advanced-list").replaceChildren();
  if ($("advanced").open) buildAdvanced();
  $("headline").replaceChildren();
  $("charts").replaceChildren();
  clearError();
  saveHash();
  status(`${s.title}: ${s.patients.toLocaleString()} patients, ${s.arms.length} arms. Ask the question, then run.`);
}

// ---- Levers -----------------------------------------------------------------------------

// The arms a parameter matters to: service parameters only to arms with a service.
function armsFor(def) { return state.scenario.arms.filter((a) => !def.service || a.service); }

function sameEverywhere(def) {
  const arms = armsFor(def);
  const first = JSON.stringify(arms[0]?.values[def.name]);
  return arms.every((a) => JSON.stringify(a.values[def.name]) === first);
}

function slider(key, def, initial, label) {
  const range = el("input", { type: "range", min: def.min, max: def.max, step: def.step, "data-key": key, "aria-label": `${def.label} ${label || ""}` });
  const value = state.values.get(key) ?? initial;
  range.value = value;
  // The scenario's own value, even where it falls between the slider's steps.
  const out = el("output", { text: fmt(Number(value)) });
  range.addEventListener("input", () => {
    out.textContent = fmt(Number(range.value));
    setValue(key, range.value, false);
  });
  range.addEventListener("change", () => setValue(key, range.value, true));
  return el("div", { class: "row" }, el("span", { class: "arm", text: label || "all arms" }), range, out);
}

function leverBox(title, doc, unit, range) {
  return el("div", { class: "lever" },
    el("div", { class: "name", text: title }),
    el("div", { class: "doc", text: `${doc} [${unit}; ${range}]` }));
}

function sliderDef(def, initial) {
  let max = def.max;
  // Very wide ranges are capped for a slider; the advanced panel takes any value in range.
  if (def.name === "lw_per_pcn") max = Math.min(def.max, 12);
  if (def.name === "caseload_max") max = Math.min(def.max, 150);
  return { min: def.min, max, step: stepFor(def, initial), label: def.name };
}

// A hundredth of the range, or finer where the scenario's value falls between those steps.
function stepFor(def, initial) {
  if (def.integer) return 1;
  const span = def.max - def.min;
  for (const parts of [100, 200, 1000]) {
    const k = (initial - def.min) / (span / parts);
    if (Math.abs(k - Math.round(k)) < 1e-6) return span / parts;
  }
  return span / 1000;
}

function buildLevers() {
  const box = $("levers");
  box.replaceChildren();
  const s = state.scenario;
  // The integration level of each service arm.
  const presets = leverBox("integration level", "how the link workers are integrated into the practices: each service arm's preset", "preset", state.catalog.presets.join(", "));
  for (const arm of s.arms.filter((a) => a.service)) {
    const key = `arm.${arm.name}.preset`;
    const select = el("select", { "data-key": key, "aria-label": `integration level of ${arm.name}` });
    for (const p of state.catalog.presets) select.append(el("option", { value: p, text: p }));
    select.value = state.values.get(key) ?? arm.preset;
    select.addEventListener("change", () => setValue(key, select.value, true));
    presets.append(el("div", { class: "row" }, el("span", { class: "arm", text: arm.name }), select));
  }
  box.append(presets);
  for (const { name, title } of state.catalog.levers) {
    const def = registry(name);
    if (!def) continue;
    if (name === "deprivation_shares") {
      if (!s.real_places) box.append(mixLever(def, title));
      continue;
    }
    const lever = leverBox(`${title} (${name})`, def.doc, def.unit, def.range);
    lever.dataset.param = name;
    if (sameEverywhere(def)) {
      const initial = armsFor(def)[0]?.values[name][0] ?? def.default[0];
      lever.append(slider(`params.${name}`, sliderDef(def, initial), initial));
    } else {
      for (const arm of armsFor(def)) {
        const initial = arm.values[name][0];
        lever.append(slider(`arm.${arm.name}.${name}`, sliderDef(def, initial), initial, arm.name));
      }
    }
    box.append(lever);
  }
  for (const r of state.catalog.run_levers) {
    if (r.key.startsWith("population.") && s.real_places) continue;
    const lever = leverBox(r.label, r.doc, r.unit, `${r.min} ..= ${r.max}`);
    const [table, field] = r.key.split(".");
    const initial = s[table][field];
    lever.append(slider(r.key, { min: r.min, max: r.max, step: r.step, label: r.label }, initial, " "));
    box.append(lever);
  }
  const b = state.catalog.bounds;
  $("bounds").textContent = `Live runs are bounded: at most ${b.patients.toLocaleString()} patients, ${b.replicates} replicates, ${b.weeks} service weeks and ${b.warmup_weeks} warm-up weeks. Larger runs: download the scenario and use sprx run.`;
}

function mixLever(def, title) {
  const key = "params.deprivation_shares";
  const lever = leverBox(`${title} (${def.name})`, def.doc, def.unit, def.range);
  const select = el("select", { "data-key": key, "aria-label": "deprivation mix" });
  select.append(el("option", { value: "", text: "as in the scenario" }));
  for (const m of state.catalog.deprivation_mixes) select.append(el("option", { value: m.value, text: m.label }));
  select.value = state.values.get(key) ?? "";
  select.addEventListener("change", () => setValue(key, select.value, true));
  lever.append(el("div", { class: "row" }, select));
  return lever;
}

function setValue(key, value, settled) {
  if (value === "" || value === null) state.values.delete(key);
  else state.values.set(key, String(value));
  saveHash();
  clearError();
  // The run in progress is for the old setting: stop it at once, whatever the mode.
  if (state.source && !state.finished) stop();
  if (!$("live").checked) {
    status("Setting changed: press Run.");
    return;
  }
  // Live: run when the lever settles, and every 400 ms while it is dragged; the server
  // cancels the previous run, so nothing queues.
  clearTimeout(state.timer);
  state.timer = setTimeout(run, settled ? 0 : 400);
}

// ---- The advanced panel: every registry parameter ---------------------------------------

function labelsOf(def) {
  // All slot paths of a parameter: [] for a scalar, [[label]] or [[l1, l2]] for arrays.
  let paths = [[]];
  for (const labels of def.dims) paths = paths.flatMap((p) => labels.map((l) => [...p, l]));
  return paths;
}

function buildAdvanced() {
  const list = $("advanced-list");
  if (list.childElementCount) return;
  const arms = state.scenario.arms;
  for (const def of state.catalog.registry) {
    const box = el("div", { class: "param" },
      el("div", { class: "name", text: def.name }),
      el("div", { class: "doc", text: `${def.doc} [${def.unit}; ${def.range}]` }));
    const slots = el("div", { class: "slots" });
    labelsOf(def).forEach((path, i) => {
      const key = ["params", def.name, ...path].join(".");
      const values = arms.map((a) => a.values[def.name][i]);
      const same = values.every((v) => v === values[0]);
      const input = el("input", { type: "number", min: def.min, max: def.max, step: "any", "data-key": key, placeholder: same ? fmt(values[0]) : "by arm" });
      input.value = state.values.get(key) ?? "";
      input.addEventListener("change", () => setValue(key, input.value.trim(), true));
      slots.append(el("label", {}, el("span", { text: path.join(" ") || "all arms" }), input));
    });
    box.append(slots);
    list.append(box);
  }
}

// ---- Runs -------------------------------------------------------------------------------

async function run() {
  clearTimeout(state.timer);
  clearError();
  closeStream();
  state.finished = false;
  status("starting…");
  const started = performance.now();
  let response;
  try {
    response = await fetch("/api/runs?" + query(), { method: "POST", headers: { "x-sprx-client": clientId() } });
  } catch (e) {
    status("The server cannot be reached.");
    return;
  }
  const body = await response.json();
  if (!response.ok) {
    status(response.status === 429 ? "Busy: try again in a moment." : "The setting cannot run.");
    showError(body.error, body.diagnostics);
    return;
  }
  state.runId = body.id;
  const source = new EventSource(body.events);
  state.source = source;
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  source.addEventListener("partial", (e) => {
    state.partial = JSON.parse(e.data);
    if (!state.view) drawPartial();
    status(`replicate 1: week ${state.partial.week + 1} of ${state.partial.of} (${seconds()} s)`);
  });
  const onResults = (e, done) => {
    const data = JSON.parse(e.data);
    state.view = data.view;
    render();
    const v = data.view;
    status(done ? `Done: ${v.replicates} replicates in ${seconds()} s.` : `${v.replicates} of ${v.of} replicates (${seconds()} s)…`);
    if (done) finish(true);
  };
  source.addEventListener("update", (e) => onResults(e, false));
  source.addEventListener("done", (e) => onResults(e, true));
  source.addEventListener("cancelled", () => { status("Stopped."); finish(false); });
  source.addEventListener("failed", (e) => { showError(JSON.parse(e.data).error); status("The run failed."); finish(false); });
  source.onerror = () => {
    if (!state.finished && state.source === source) { status("The connection to the run was lost."); finish(false); }
  };
}

function finish(done) {
  state.finished = true;
  closeStream();
  if (done) {
    $("reveal").disabled = false;
    $("pin").disabled = false;
  }
}

function closeStream() {
  if (state.source) state.source.close();
  state.source = null;
}

async function stop() {
  const id = state.runId;
  state.runId = null;
  closeStream();
  status("Stopped.");
  // A run that has already ended is forgotten by the server after a while: nothing to stop.
  if (id !== null && !state.finished) await fetch(`/api/runs/${id}`, { method: "DELETE" });
  state.finished = true;
}

function pin() {
  if (!state.view) return;
  state.pinned = { view: state.view, label: describeSetting() };
  $("pinned-note").textContent = `Before (dashed, paler): ${state.pinned.label}. Change a lever and run to compare on the same axes.`;
  $("pinned-note").hidden = false;
  $("unpin").hidden = false;
  render();
}

function unpin() {
  state.pinned = null;
  $("pinned-note").hidden = true;
  $("unpin").hidden = true;
  render();
}

function describeSetting() {
  const parts = [...state.values].map(([k, v]) => `${k} = ${v}`);
  return `${state.scenario.title}${parts.length ? " with " + parts.join(", ") : " as shipped"}`;
}

async function download() {
  clearError();
  const response = await fetch("/api/scenario.toml?" + query());
  if (!response.ok) {
    const body = await response.json();
    showError(body.error, body.diagnostics);
    return;
  }
  const text = await response.text();
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1] || "scenario.toml";
  const url = URL.createObjectURL(new Blob([text], { type: "application/toml" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  status(`Downloaded ${name}: run it with sprx run ${name}`);
}

// ---- Drawing ----------------------------------------------------------------------------

function colour(arm) { return state.scenario.arms.find((a) => a.name === arm)?.colour || "#888"; }

function render() {
  renderHeadline();
  const charts = $("charts");
  if (!state.view) return;
  for (const chart of state.view.charts) {
    const before = state.pinned?.view.charts.find((c) => c.id === chart.id) || null;
    let fig = $("chart-" + chart.id);
    if (!fig) {
      fig = el("figure", { id: "chart-" + chart.id });
      charts.append(fig);
    }
    fig.replaceChildren(el("figcaption", { text: chart.title }));
    fig.append(chart.kind === "band" ? bandChart(chart, before) : barChart(chart, before));
    fig.append(legend(chart, before));
    fig.dataset.replicates = String(state.view.replicates);
  }
}

function renderHeadline() {
  const box = $("headline");
  box.replaceChildren();
  if (!state.view) return;
  for (const h of state.view.headline) {
    const card = el("div", { class: "arm" });
    card.style.borderLeftColor = colour(h.arm);
    card.append(el("h3", { text: `${h.arm} against ${state.view.baseline} (${state.view.replicates} of ${state.view.of} replicates)` }));
    const ul = el("ul");
    for (const s of h.sentences) ul.append(el("li", { text: s }));
    card.append(ul);
    const before = state.pinned?.view.headline.find((b) => b.arm === h.arm);
    if (before) card.append(el("p", { class: "before", text: "Before: " + before.sentences.join("; ") }));
    box.append(card);
  }
}

function legend(chart, before) {
  const box = el("div", { class: "legend" });
  for (const s of chart.series) {
    const i = el("i");
    i.style.background = colour(s.arm);
    box.append(el("span", {}, i, s.arm));
  }
  if (before) box.append(el("span", { text: "dashed or pale: before" }));
  return box;
}

const W = 520, H = 240, M = { l: 64, r: 10, t: 10, b: 32 };

function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

// Round steps (1, 2 or 5 times a power of ten) between lo and hi, about five of them.
function niceTicks(lo, hi) {
  const raw = (hi - lo) / 5;
  if (!(raw > 0)) return [lo];
  let step = Math.pow(10, Math.floor(Math.log10(raw)));
  const err = raw / step;
  if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function axes(svg, x0, x1, y0, y1, xLabel, yLabel) {
  const sx = (x) => M.l + (x - x0) / (x1 - x0 || 1) * (W - M.l - M.r);
  const sy = (y) => H - M.b - (y - y0) / (y1 - y0 || 1) * (H - M.t - M.b);
  svg.append(svgEl("line", { x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, stroke: "#999" }));
  svg.append(svgEl("line", { x1: M.l, y1: M.t, x2: M.l, y2: H - M.b, stroke: "#999" }));
  for (const y of niceTicks(y0, y1)) {
    svg.append(svgEl("line", { x1: M.l, x2: W - M.r, y1: sy(y), y2: sy(y), stroke: "#eee" }));
    const t = svgEl("text", { x: M.l - 4, y: sy(y) + 3, "text-anchor": "end" });
    t.textContent = fmt(Number(y.toPrecision(6)));
    svg.append(t);
  }
  if (x1 - x0 > 10) {
    for (const x of niceTicks(x0, x1)) {
      const t = svgEl("text", { x: sx(x), y: H - M.b + 12, "text-anchor": "middle" });
      t.textContent = String(x);
      svg.append(t);
    }
  }
  if (y0 < 0 && y1 > 0) svg.append(svgEl("line", { x1: M.l, x2: W - M.r, y1: sy(0), y2: sy(0), stroke: "#666", "stroke-dasharray": "2 2" }));
  const xl = svgEl("text", { x: W - M.r, y: H - 2, "text-anchor": "end" });
  xl.textContent = xLabel;
  svg.append(xl);
  const yl = svgEl("text", { x: 12, y: (M.t + H - M.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(M.t + H - M.b) / 2})` });
  yl.textContent = yLabel;
  svg.append(yl);
  return { sx, sy };
}

function newSvg(title) {
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const t = svgEl("title");
  t.textContent = title;
  svg.append(t);
  return svg;
}

function path(points) {
  let d = "", pen = false;
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y)) { pen = false; continue; }
    d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    pen = true;
  }
  return d;
}

function bandChart(chart, before) {
  const svg = newSvg(chart.title);
  const all = [chart, before].filter(Boolean).flatMap((c) => c.series.flatMap((s) => [...s.mean, ...s.lo, ...s.hi]));
  const [y0, y1] = extent(all);
  const weeks = Math.max(...chart.series.map((s) => s.mean.length), 2);
  const { sx, sy } = axes(svg, 0, weeks - 1, y0, y1, "service week", chart.y);
  const draw = (c, faded) => {
    for (const s of c.series) {
      const col = colour(s.arm);
      const upper = s.hi.map((v, w) => [sx(w), v === null ? null : sy(v)]);
      const lower = s.lo.map((v, w) => [sx(w), v === null ? null : sy(v)]).reverse();
      const ok = upper.every(([, y]) => y !== null) && lower.every(([, y]) => y !== null);
      if (ok && upper.length) {
        svg.append(svgEl("path", { d: path(upper) + path(lower).replace(/^M/, "L") + "Z", fill: col, opacity: faded ? 0.08 : 0.18, stroke: "none" }));
      }
      svg.append(svgEl("path", { d: path(s.mean.map((v, w) => [sx(w), v === null ? null : sy(v)])), fill: "none", stroke: col, "stroke-width": faded ? 1.2 : 1.8, "stroke-dasharray": faded ? "5 3" : "none", opacity: faded ? 0.6 : 1, "data-arm": s.arm, class: faded ? "before" : "now" }));
    }
  };
  if (before) draw(before, true);
  draw(chart, false);
  return svg;
}

function barChart(chart, before) {
  const svg = newSvg(chart.title);
  const all = [chart, before].filter(Boolean).flatMap((c) => c.series.flatMap((s) => s.bars.flat()));
  const [lo, hi] = extent([...all, 0]);
  const { sy } = axes(svg, 0, 1, lo, hi, "", chart.y);
  const groups = chart.groups.length;
  const gw = (W - M.l - M.r) / groups;
  const arms = chart.series.length;
  const per = before ? 2 : 1;
  const bw = Math.min(28, (gw - 10) / Math.max(1, arms * per));
  chart.groups.forEach((g, gi) => {
    const label = svgEl("text", { x: M.l + gw * (gi + 0.5), y: H - M.b + 12, "text-anchor": "middle" });
    label.textContent = g;
    svg.append(label);
    chart.series.forEach((s, ai) => {
      const sets = before ? [[before.series.find((b) => b.arm === s.arm), true], [s, false]] : [[s, false]];
      sets.forEach(([series, faded], k) => {
        const bar = series?.bars[gi];
        if (!bar || bar[0] === null) return;
        const x = M.l + gw * gi + (gw - bw * arms * per) / 2 + bw * (ai * per + k);
        const y = sy(Math.max(bar[0], 0)), y0 = sy(Math.min(bar[0], 0));
        svg.append(svgEl("rect", { x, y, width: bw - 2, height: Math.max(1, y0 - y), fill: colour(s.arm), opacity: faded ? 0.3 : 0.85 }));
        if (bar[1] !== null && bar[2] !== null) {
          const cx = x + (bw - 2) / 2;
          svg.append(svgEl("line", { x1: cx, x2: cx, y1: sy(bar[1]), y2: sy(bar[2]), stroke: "#222" }));
        }
      });
    });
  });
  return svg;
}

// While the first replicate runs: its queue, week by week, in the queue chart.
function drawPartial() {
  const p = state.partial;
  if (!p) return;
  const series = state.scenario.arms
    .map((a, i) => ({ arm: a.name, q: p.queues[i] }))
    .filter((s, i) => s.q && state.scenario.arms[i].service);
  const chart = { id: "queue", title: "The queue: patients waiting for a link worker (first replicate, live)", y: "patients waiting",
    series: series.map((s) => {
      const mean = Array.from({ length: p.of }, (_, w) => (w < s.q.length ? s.q[w] : null));
      return { arm: s.arm, mean, lo: mean.map(() => null), hi: mean.map(() => null) };
    }) };
  let fig = $("chart-queue");
  if (!fig) { fig = el("figure", { id: "chart-queue" }); $("charts").prepend(fig); }
  const before = state.pinned?.view.charts.find((c) => c.id === "queue") || null;
  fig.replaceChildren(el("figcaption", { text: chart.title }), bandChart(chart, before), legend(chart, before));
  fig.dataset.replicates = "0";
}

// ---- Start ------------------------------------------------------------------------------

async function init() {
  const response = await fetch("/api/catalog");
  state.catalog = await response.json();
  const select = $("scenario");
  for (const s of state.catalog.scenarios) select.append(el("option", { value: s.id, text: s.title }));
  const { id, values } = readHash();
  selectScenario(id || state.catalog.scenarios[0].id, values);
  // A run of the previous setting is stopped on the server too, not only no longer listened to.
  const stopRunning = () => { if (state.source && !state.finished) stop(); };
  select.addEventListener("change", () => { stopRunning(); unpin(); selectScenario(select.value); });
  $("prediction").addEventListener("input", () => localStorage.setItem("sprx-prediction-" + state.scenario.id, $("prediction").value));
  $("reveal").addEventListener("click", () => { $("expect").hidden = false; });
  $("run").addEventListener("click", run);
  $("stop").addEventListener("click", stop);
  $("pin").addEventListener("click", pin);
  $("unpin").addEventListener("click", unpin);
  $("download").addEventListener("click", download);
  $("reset").addEventListener("click", () => { stopRunning(); selectScenario(state.scenario.id); });
  $("advanced").addEventListener("toggle", () => { if ($("advanced").open) buildAdvanced(); });
}

init().catch((e) => { status("The page could not load its catalog."); showError(String(e)); });
