// The live page of `tapeflow serve`: plain browser JavaScript, no build step, no external resources.
"use strict";

const FLOW_ROWS = 15;
const KEEP = 12;
const state = { window: null, heatmapSymbol: null, trades: [], liqs: [] };

const $ = (id) => document.getElementById(id);
const fmt = (x, digits = 0) =>
  x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits });
const time = (ms) => new Date(ms).toISOString().slice(11, 19);

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function fillTable(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement("tr");
      tr.append(...cells);
      return tr;
    })
  );
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok && r.status !== 503) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

// ----------------------------------------------------------------------------------------------- flow
function flowUrl() {
  const w = state.window ? `window=${encodeURIComponent(state.window)}&` : "";
  return `/flow?${w}sort=abs_net&limit=${FLOW_ROWS}`;
}

async function refreshFlow() {
  const data = await getJSON(flowUrl());
  $("flow-window").textContent = data.window;
  const body = $("flow").tBodies[0];
  fillTable(
    body,
    data.rows.map((r) => {
      const net = Number(r.net_quote_exact);
      return [
        cell(r.rank),
        cell(r.symbol, "symbol"),
        cell(fmt(r.buy_quote), "num buy"),
        cell(fmt(r.sell_quote), "num sell"),
        cell(fmt(r.net_quote), "num " + (net >= 0 ? "buy" : "sell")),
        cell(fmt(r.buy_count + r.sell_count), "num"),
        cell(r.complete ? "" : "incomplete", "note"),
      ];
    })
  );
  body.dataset.asOf = data.as_of_ms;
  $("flow-note").textContent =
    `${data.symbols} symbols ranked by |net| quote volume` + (data.incomplete ? `, ${data.incomplete} incomplete` : "");
}

// ----------------------------------------------------------------------------------------------- lists
function showTrades() {
  fillTable(
    $("big-trades").tBodies[0],
    state.trades.slice(0, KEEP).map((t) => [
      cell(time(t.time_ms)),
      cell(t.symbol),
      cell(t.side, t.side === "buy" ? "buy" : "sell"),
      cell(fmt(t.price, 6), "num"),
      cell(fmt(t.notional), "num"),
    ])
  );
}

function showLiqs() {
  fillTable(
    $("liquidations").tBodies[0],
    state.liqs.slice(0, KEEP).map((l) => [
      cell(time(l.time_ms)),
      cell(l.symbol),
      cell(l.side, l.side === "short" ? "buy" : "sell"),
      cell(fmt(l.price, 6), "num"),
      cell(fmt(l.notional), "num"),
    ])
  );
}

async function loadLists() {
  const [trades, liqs] = await Promise.all([getJSON("/trades/big?limit=50"), getJSON("/liquidations/recent?limit=50")]);
  state.trades = trades;
  state.liqs = liqs.liquidations;
  showTrades();
  showLiqs();
}

function follow() {
  const source = new EventSource("/events?kinds=big_trade,liquidation");
  source.addEventListener("big_trade", (e) => {
    const ev = JSON.parse(e.data);
    state.trades.unshift({ symbol: ev.symbol, time_ms: ev.time_ms, ...ev.data });
    state.trades.sort((a, b) => b.time_ms - a.time_ms);
    state.trades.length = Math.min(state.trades.length, 50);
    showTrades();
  });
  source.addEventListener("liquidation", (e) => {
    const ev = JSON.parse(e.data);
    state.liqs.unshift({ symbol: ev.symbol, time_ms: ev.time_ms, ...ev.data });
    state.liqs.sort((a, b) => b.time_ms - a.time_ms);
    state.liqs.length = Math.min(state.liqs.length, 50);
    showLiqs();
  });
}

// ----------------------------------------------------------------------------------------------- heatmap
function colour(level) {
  // black -> purple -> magenta -> orange -> pale yellow, as the PNG rendering
  const stops = [[0, 0, 0], [60, 15, 110], [180, 40, 110], [250, 130, 30], [252, 250, 150]];
  const pos = Math.sqrt(level) * (stops.length - 1);
  const i = Math.min(Math.floor(pos), stops.length - 2);
  const f = pos - i;
  const c = stops[i].map((v, k) => Math.round(v * (1 - f) + stops[i + 1][k] * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

async function refreshHeatmap() {
  const sym = state.heatmapSymbol;
  if (!sym) return;
  const lookback = Number($("heatmap-lookback").value);
  const interval = Math.max(1, Math.round(lookback / 60));
  const data = await getJSON(
    `/liquidations/heatmap/${encodeURIComponent(sym)}?lookback_minutes=${lookback}&interval_minutes=${interval}`
  );
  const canvas = $("heatmap");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#18181f";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const nPrice = data.long.length;
  const nTime = data.time_starts_ms.length;
  let cells = 0;
  if (nPrice && nTime && data.max_cell > 0) {
    const left = 70, bottom = 18;
    const w = (canvas.width - left) / nTime, h = (canvas.height - bottom) / nPrice;
    for (let i = 0; i < nPrice; i++) {
      for (let j = 0; j < nTime; j++) {
        const v = data.long[i][j] + data.short[i][j];
        if (v <= 0) continue;
        ctx.fillStyle = colour(v / data.max_cell);
        ctx.fillRect(left + j * w, canvas.height - bottom - (i + 1) * h, Math.max(w, 1), Math.max(h, 1));
        cells++;
      }
    }
    ctx.fillStyle = "#c8c8c8";
    ctx.font = "11px sans-serif";
    ctx.fillText(fmt(data.price_edges[nPrice], 6), 2, 10);
    ctx.fillText(fmt(data.price_edges[0], 6), 2, canvas.height - bottom);
    ctx.fillText(time(data.time_starts_ms[0]), left, canvas.height - 4);
    ctx.fillText(time(data.time_starts_ms[nTime - 1]), canvas.width - 60, canvas.height - 4);
  }
  canvas.dataset.cells = cells;
  $("heatmap-note").textContent = cells
    ? `${sym}: ${cells} cells with liquidations, bins of ${data.bin_pct}% x ${data.interval_minutes} min`
    : `${sym}: no liquidations in this look-back`;
}

async function chooseHeatmapSymbols() {
  const info = await getJSON("/symbols");
  $("market").textContent = `${info.market} · ${info.symbols.length} symbols`;
  if (info.flow_windows.length) state.window = info.flow_windows.includes("15m") ? "15m" : info.flow_windows[0];
  const select = $("heatmap-symbol");
  select.replaceChildren(
    ...info.symbols.map((s) => {
      const o = document.createElement("option");
      o.value = o.textContent = s;
      return o;
    })
  );
  const fromHash = decodeURIComponent(location.hash.slice(1)).toUpperCase();
  const latest = state.liqs.length ? state.liqs[0].symbol : null;
  state.heatmapSymbol = info.symbols.includes(fromHash) ? fromHash : latest || info.symbols[0] || null;
  if (state.heatmapSymbol) select.value = state.heatmapSymbol;
  select.addEventListener("change", () => {
    state.heatmapSymbol = select.value;
    refreshHeatmap().catch(report);
  });
  $("heatmap-lookback").addEventListener("change", () => refreshHeatmap().catch(report));
}

// ----------------------------------------------------------------------------------------------- health
async function refreshHealth() {
  const h = await getJSON("/health");
  const badge = $("health");
  badge.textContent = h.status;
  badge.className = "badge " + h.status;
  $("feed").textContent = `${h.connections_open}/${h.connections} connections open`;
  const rows = [
    ["status", h.status],
    ["connections open", `${h.connections_open} of ${h.connections}`],
    ["last frame", h.last_frame_age_s === null ? "–" : `${h.last_frame_age_s.toFixed(1)} s ago`],
    ["frames", fmt(h.frames)],
    ["books synced", `${h.books_synced} of ${h.books}`],
    ["trade gaps open", h.gaps_open],
    ["incomplete windows", h.incomplete],
    ["store", storeLine(h.store)],
    ["notes", h.reasons.join("; ") || "none"],
  ];
  $("health-details").replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = k;
      dd.textContent = v;
      return [dt, dd];
    })
  );
}

function storeLine(st) {
  if (st.state === "none") return "none (nothing kept on disk)";
  const waiting = st.pending_rows ? `, ${fmt(st.pending_rows)} rows waiting` : "";
  const lost = st.lost_rows ? `, ${fmt(st.lost_rows)} rows given up` : "";
  return `${st.state}${st.error ? ` (${st.error})` : ""}${waiting}${lost}`;
}

function report(err) {
  // A failed refresh is shown, not thrown: the next one may succeed (the server may be restarting).
  $("flow-note").textContent = `last refresh failed: ${err.message}`;
}

async function start() {
  await loadLists();
  await chooseHeatmapSymbols();
  await Promise.all([refreshFlow(), refreshHeatmap(), refreshHealth()]);
  document.body.dataset.ready = "1";
  follow();
  setInterval(() => refreshFlow().catch(report), 2000);
  setInterval(() => refreshHealth().catch(report), 2000);
  setInterval(() => refreshHeatmap().catch(report), 10000);
}

start().catch(report);
