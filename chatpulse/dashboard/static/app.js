// ChatPulse dashboard: polls the JSON API (/api/...) and redraws. No build step, no framework.
// Chat text is untrusted: it only ever reaches the page through textContent, never innerHTML.
"use strict";

const PANEL_REFRESH_MS = 2000; // the issue asks for updates at least every 2 s
const FEED_REFRESH_MS = 1000;
const FEED_KEEP = 120;
const DEFAULT_COMPARE = 4; // channels selected on first load
const PALETTE = ["#9147ff", "#2fbf71", "#f5a524", "#3ba4f5", "#ef4e4e", "#e05cd0", "#5cd6c8", "#c9d64f"];
const EVENT_STYLE = {
  sub: ["#9147ff", "circle"], resub: ["#b18cff", "circle"], subgift: ["#e05cd0", "diamond"],
  giftbomb: ["#ff5cf0", "star"], raid: ["#3ba4f5", "triangle-up"], bits: ["#f5a524", "hexagon"],
  announcement: ["#5cd6c8", "square"], timeout: ["#f08c4e", "x"], ban: ["#ef4e4e", "x-thin-open"],
  clear: ["#ff2d2d", "square-x"], deleted: ["#8a8f98", "cross"], gap: ["#8a8f98", "line-ew-open"],
};
const PLOT_LAYOUT = {
  paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: "#c8c8d0", size: 11 },
  // The legend sits under the x axis: above the plot, plotly's mode bar (top right, shown on
  // hover) covered it in the narrow charts.
  margin: { l: 44, r: 14, t: 6, b: 30 }, showlegend: true,
  legend: { orientation: "h", yref: "container", y: 0, yanchor: "bottom", x: 0, font: { size: 11 } },
  xaxis: { type: "date", gridcolor: "#26262f", zeroline: false },
  yaxis: { gridcolor: "#26262f", zeroline: false, rangemode: "tozero" },
  hovermode: "x unified", uirevision: "keep",
};
const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

const state = {
  channels: [], // [{channel, messages, last_at}], newest list from /api/channels
  selected: [],
  range: "15m",
  custom: null, // {from, to} in ms when range == "custom"
  paused: false,
  feedAfter: null, // cursor: the newest feed message shown
  feedKey: "",
  colors: new Map(),
  sentimentChannel: null, // the one channel the sentiment chart shows (one at a time: readable)
};

// ---- helpers -------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const fmtInt = (n) => Number(n).toLocaleString("en-US");
const fmtScore = (s) => (s === null || s === undefined ? "–" : (s >= 0 ? "+" : "") + Number(s).toFixed(2));
const pad = (n) => String(n).padStart(2, "0");
function localTime(ms, withDate = false) {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}` : time;
}
// Plotly reads date strings as wall-clock time, so local strings show the viewer's time zone.
const plotTime = (ms) => localTime(ms, true);
const toInputValue = (ms) => plotTime(ms).replace(" ", "T");

function colorOf(channel) {
  if (!state.colors.has(channel)) state.colors.set(channel, PALETTE[state.colors.size % PALETTE.length]);
  return state.colors.get(channel);
}

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const channel of state.selected) params.append("channel", channel);
  if (state.range === "custom" && state.custom) {
    params.set("from", String(state.custom.from));
    params.set("to", String(state.custom.to));
  } else if (state.range !== "custom") {
    params.set("range", state.range);
  }
  for (const [key, value] of Object.entries(extra)) if (value !== null && value !== undefined) params.set(key, value);
  return params.toString();
}

async function api(path, extra) {
  const response = await fetch(`/api/${path}?${query(extra)}`, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function setPanel(name, count) {
  const panel = document.querySelector(`[data-panel="${name}"]`);
  panel.dataset.state = count > 0 ? "ready" : "empty";
  panel.dataset.count = String(count);
}

function emptyNote(container, text) {
  container.replaceChildren(el("div", { class: "empty" }, text));
}

function plot(id, traces, layout = {}) {
  const target = document.getElementById(id);
  if (!window.Plotly) return;
  if (target.querySelector(".empty")) target.replaceChildren();
  const merged = {
    ...PLOT_LAYOUT, ...layout,
    // Room under the time axis (two-line tick labels) for the legend's rows.
    margin: { ...PLOT_LAYOUT.margin, b: 40 + legendRows(traces, target.clientWidth) * 22, ...(layout.margin || {}) },
    xaxis: { ...PLOT_LAYOUT.xaxis, ...(layout.xaxis || {}) },
    yaxis: { ...PLOT_LAYOUT.yaxis, ...(layout.yaxis || {}) },
  };
  window.Plotly.react(target, traces, merged, PLOT_CONFIG);
}

// Legend rows under a chart: a horizontal legend wraps, about one entry per 130 px of width.
function legendRows(traces, width) {
  const named = traces.filter((t) => t.showlegend !== false).length;
  return named === 0 ? 0 : Math.ceil(named / Math.max(1, Math.floor(width / 130)));
}

// A user's chat colour made readable on the dark panel: raised in lightness until its contrast
// with the background reaches 4.5:1 (WCAG AA for text), keeping its hue. Twitch lets users pick
// any colour, so dark blue on near-black is common.
const FEED_BACKGROUND = [0x1c, 0x1c, 0x24];
function luminance([r, g, b]) {
  const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
function readableColor(hex, background = FEED_BACKGROUND) {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex || "");
  if (!match) return null;
  let rgb = [0, 2, 4].map((i) => parseInt(match[1].slice(i, i + 2), 16));
  // Blend towards white in small steps: the hue stays, only lightness rises.
  for (let step = 0; step < 20 && contrast(rgb, background) < 4.5; step++) {
    rgb = rgb.map((c) => Math.round(c + (255 - c) * 0.12));
  }
  return `rgb(${rgb.join(", ")})`;
}

function clearPlot(id, text) {
  const target = document.getElementById(id);
  if (window.Plotly) window.Plotly.purge(target);
  emptyNote(target, text);
}

// ---- channels ------------------------------------------------------------------------------

async function loadChannels() {
  const response = await fetch("/api/channels", { cache: "no-store" });
  const body = await response.json();
  state.channels = body.channels;
  const known = new Set(state.channels.map((c) => c.channel));
  state.selected = state.selected.filter((c) => known.has(c));
  if (state.selected.length === 0) {
    state.selected = state.channels.slice(0, DEFAULT_COMPARE).map((c) => c.channel);
  }
  renderChannels();
  const waiting = state.channels.length === 0;
  document.getElementById("waiting").classList.toggle("hidden", !waiting);
  document.getElementById("kpis").classList.toggle("hidden", waiting);
  document.querySelector(".grid").classList.toggle("hidden", waiting);
  document.body.dataset.state = waiting ? "waiting" : "ready";
  return !waiting;
}

function renderChannels() {
  const nav = document.getElementById("channels");
  const chips = state.channels.map((c) =>
    el("button", {
      class: "chip" + (state.selected.includes(c.channel) ? " selected" : ""),
      "data-channel": c.channel,
      title: `${fmtInt(c.messages)} messages stored`,
      onclick: (event) => selectChannel(c.channel, event.shiftKey || event.ctrlKey || event.metaKey),
    }, el("span", { class: "swatch", style: `background:${colorOf(c.channel)}` }), c.channel,
    el("span", { class: "count" }, fmtInt(c.messages))));
  nav.replaceChildren(el("span", { class: "label" }, "Channels"), ...chips,
    el("span", { class: "hint" }, "click: one channel · shift-click: compare"));
}

function selectChannel(channel, toggle) {
  if (toggle) {
    state.selected = state.selected.includes(channel)
      ? state.selected.filter((c) => c !== channel)
      : [...state.selected, channel];
    if (state.selected.length === 0) state.selected = [channel];
  } else {
    state.selected = [channel];
  }
  renderChannels();
  resetFeed();
  refreshNow();
}

// ---- panels --------------------------------------------------------------------------------

function renderOverview(body) {
  const t = body.totals;
  document.getElementById("kpi-messages").textContent = fmtInt(t.messages);
  document.getElementById("kpi-chatters").textContent = fmtInt(t.chatters);
  document.getElementById("kpi-score").textContent = fmtScore(t.mean_score);
  const total = Math.max(t.messages, 1);
  const pct = (n) => `${Math.round((100 * n) / total)}%`;
  document.getElementById("kpi-mix").replaceChildren(
    el("span", { class: "pos" }, pct(t.positive)), " / ",
    el("span", { class: "neu" }, pct(t.neutral)), " / ",
    el("span", { class: "neg" }, pct(t.negative)));
  const w = body.window;
  const windowText = `${localTime(w.from, true)} → ${localTime(w.to)}`;
  const kpiWindow = document.getElementById("kpi-window");
  kpiWindow.textContent = windowText;
  kpiWindow.dataset.from = String(w.from);
  kpiWindow.dataset.to = String(w.to);
  const kpis = document.getElementById("kpis");
  kpis.dataset.state = t.messages > 0 ? "ready" : "empty";
  kpis.dataset.messages = String(t.messages);
  renderQuiet(body.quiet || [], w);
  const dot = document.getElementById("live-dot");
  dot.classList.toggle("paused", state.paused);
  dot.classList.toggle("stale", !state.paused && !w.live);
  dot.title = state.paused ? "paused" : w.live ? "live" : "no new chat in the last minute";
}

function ago(ms) {
  const minutes = Math.round(ms / 60000);
  if (minutes < 90) return `${Math.max(minutes, 1)} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

// Selected channels without chat in the window, and why: their last message is older (a wider
// range shows it), newer, or there is none.
function renderQuiet(quiet, w) {
  const box = document.getElementById("window-hint");
  box.replaceChildren(...quiet.map((q) => el("div", { "data-channel": q.channel, "data-last": q.last_message },
    el("strong", {}, q.channel), ": ",
    q.last_message === null ? "nothing stored yet"
      : q.before_window ? `last message ${ago(w.to - q.last_message)} before this window (${localTime(q.last_message, true)}) — widen the range`
        : `no chat in this window; it spoke later, at ${localTime(q.last_message, true)}`)));
  box.classList.toggle("hidden", quiet.length === 0);
}

// Each bucket's rate over the time it covers inside the window: the first and the last bucket
// stick out of it (the last one is still filling while chat is live), so per-bucket counts would
// dip there and read as "chat died".
function bucketSpan(t, w) {
  return Math.max(Math.min(t + w.bucket_s * 1000, w.to) - Math.max(t, w.from), 1000);
}

// Line traces per channel. A live window's last bucket is still filling (and its newest second
// or so is not stored yet): drawn dotted, apart from the line, once it covers half its span,
// and left out before that, when it would only be a dip.
function seriesTraces(byChannel, value, w) {
  const traces = [];
  for (const [channel, points] of byChannel) {
    const last = points[points.length - 1];
    // Only a range that ends now (not a custom one, whose end has passed) has a filling bucket.
    const filling = w.live && state.range !== "custom" && last.t + w.bucket_s * 1000 > w.to;
    const settled = filling ? points.slice(0, -1) : points;
    const shown = filling && bucketSpan(last.t, w) >= (w.bucket_s * 1000) / 2;
    const line = { color: colorOf(channel), width: 2, shape: "spline", smoothing: 0.4 };
    traces.push({ type: "scatter", mode: "lines", name: channel, line,
      x: settled.map((p) => plotTime(p.t)), y: settled.map((p) => value(p, w)) });
    if (shown) {
      const tail = points.slice(-2);
      traces.push({ type: "scatter", mode: "lines+markers", name: `${channel} (in progress)`, showlegend: false,
        line: { ...line, dash: "dot" }, marker: { size: 5, color: colorOf(channel) },
        x: tail.map((p) => plotTime(p.t)), y: tail.map((p) => value(p, w)),
        hovertemplate: `${channel}: %{y:.0f} (this bucket is still filling)<extra></extra>` });
    }
  }
  return traces;
}

function renderSeries(body) {
  const rows = body.series;
  const byChannel = new Map();
  for (const row of rows) {
    if (!byChannel.has(row.channel)) byChannel.set(row.channel, []);
    byChannel.get(row.channel).push(row);
  }
  setPanel("messages", rows.length);
  setPanel("chatters", rows.length);
  setPanel("sentiment", rows.length);
  document.getElementById("chatters-bucket").textContent = `per ${body.window.bucket_s} s`;
  if (rows.length === 0) {
    for (const id of ["chart-messages", "chart-chatters", "chart-sentiment"]) clearPlot(id, "No messages in this window.");
    return;
  }
  const w = body.window;
  const perMinute = (p) => (p.messages * 60000) / bucketSpan(p.t, w);
  plot("chart-messages", seriesTraces(byChannel, perMinute, w), { yaxis: { title: { text: "msgs/min" } } });
  plot("chart-chatters", seriesTraces(byChannel, (p) => p.chatters, w));

  // Sentiment: one channel at a time (four channels' bars on top of each other were unreadable):
  // its positive / neutral / negative shares as stacked bars and its mean score as a line.
  const shown = [...byChannel.keys()];
  if (!shown.includes(state.sentimentChannel)) state.sentimentChannel = shown[0];
  renderSentimentChoice(shown);
  const points = byChannel.get(state.sentimentChannel);
  const total = (p) => Math.max(p.positive + p.neutral + p.negative, 1);
  const mix = [["positive", "#2fbf71"], ["neutral", "#4a4d55"], ["negative", "#ef4e4e"]].map(([label, color]) => ({
    type: "bar", name: label, x: points.map((p) => plotTime(p.t)), y: points.map((p) => (100 * p[label]) / total(p)),
    marker: { color, opacity: 0.6 }, hovertemplate: `${label} %{y:.0f}%<extra></extra>`,
  }));
  const mean = {
    type: "scatter", mode: "lines", name: `${state.sentimentChannel} mean`, yaxis: "y2",
    line: { color: colorOf(state.sentimentChannel), width: 2.5 }, x: points.map((p) => plotTime(p.t)), y: points.map((p) => p.mean_score),
  };
  plot("chart-sentiment", [...mix, mean], {
    barmode: "stack", bargap: 0.05,
    yaxis: { title: { text: "% of messages" }, range: [0, 100] },
    yaxis2: { overlaying: "y", side: "right", range: [-1, 1], zeroline: true, zerolinecolor: "#55555f", showgrid: false, title: { text: "mean" } },
    margin: { l: 44, r: 40, t: 6 },
  });
}

function renderSentimentChoice(channels) {
  const box = document.getElementById("sentiment-channels");
  box.replaceChildren(...(channels.length < 2 ? [] : channels.map((channel) => el("button", {
    class: "mini" + (channel === state.sentimentChannel ? " selected" : ""), "data-channel": channel,
    onclick: () => { state.sentimentChannel = channel; refreshNow(); },
  }, el("span", { class: "swatch", style: `background:${colorOf(channel)}` }), channel))));
}

function emoteIcon(emote) {
  const box = el("span", { class: "icon" });
  if (emote.image_url) {
    const img = el("img", { src: emote.image_url, alt: emote.name, loading: "lazy", referrerpolicy: "no-referrer" });
    // Offline or unknown id: fall back to the emote's name initials (the name is shown beside it).
    img.addEventListener("error", () => box.replaceChildren(el("span", { class: "rank" }, emote.name.slice(0, 3))));
    box.append(img);
  } else {
    box.append(el("span", { class: "rank" }, emote.name.slice(0, 3)));
  }
  return box;
}

function renderEmotes(body) {
  const list = document.getElementById("emotes");
  setPanel("emotes", body.emotes.length);
  if (body.emotes.length === 0) return emptyNote(list, "No emotes used in this window.");
  const top = body.emotes[0].uses;
  list.replaceChildren(...body.emotes.map((e) => el("li", { "data-name": e.name, "data-uses": e.uses },
    emoteIcon(e), el("span", { class: "name" }, e.name, el("small", {}, e.provider)),
    el("span", { class: "value" }, fmtInt(e.uses)),
    el("span", { class: "bar", style: `width:calc((100% - 90px) * ${e.uses / top})` }))));
}

function renderChatters(body) {
  const list = document.getElementById("top-chatters");
  setPanel("top-chatters", body.chatters.length);
  if (body.chatters.length === 0) return emptyNote(list, "No chatters in this window.");
  const top = body.chatters[0].messages;
  list.replaceChildren(...body.chatters.map((c, i) => el("li", { "data-login": c.user_login, "data-messages": c.messages },
    el("span", { class: "icon" }, el("span", { class: "rank" }, `${i + 1}`)),
    el("span", { class: "name" }, c.user_name || c.user_login,
      el("small", {}, `${state.selected.length > 1 ? c.channel + " · " : ""}mood ${fmtScore(c.mean_score)}`)),
    el("span", { class: "value" }, fmtInt(c.messages)),
    el("span", { class: "bar", style: `width:calc((100% - 90px) * ${c.messages / top})` }))));
}

function renderEvents(body) {
  const events = body.events;
  setPanel("events", events.length);
  if (events.length === 0) return clearPlot("chart-events", "No subs, raids, bits, bans or gaps in this window.");
  const byType = new Map();
  for (const e of events) {
    if (!byType.has(e.type)) byType.set(e.type, []);
    byType.get(e.type).push(e);
  }
  // Many events: the API counts them per chart bucket (body.bucketed); a marker then stands for
  // e.count events and grows with it.
  const traces = [...byType].map(([type, items]) => {
    const [color, symbol] = EVENT_STYLE[type] || ["#c8c8d0", "circle"];
    const count = items.reduce((sum, e) => sum + (e.count || 1), 0);
    return {
      type: "scatter", mode: "markers", name: `${type} (${fmtInt(count)})`,
      x: items.map((e) => plotTime(e.t)), y: items.map(() => type),
      marker: { color, symbol, size: items.map((e) => Math.min(8 + 2 * Math.log2(1 + (body.bucketed ? e.count : e.amount || 1)), 22)), line: { width: 1, color } },
      text: items.map((e) => (body.bucketed ? `${localTime(e.t)} +${e.bucket_s} s · ${e.detail}` : `${e.channel}: ${e.detail}`)),
      hovertemplate: "%{text}<extra></extra>",
    };
  });
  const panel = document.querySelector('[data-panel="events"]');
  panel.dataset.total = String(body.total ?? events.length);
  panel.dataset.bucketed = String(Boolean(body.bucketed));
  plot("chart-events", traces, { hovermode: "closest", showlegend: true, yaxis: { type: "category", rangemode: "normal" }, margin: { l: 90, r: 14, t: 6 } });
}

function renderHype(body) {
  const box = document.getElementById("hype");
  setPanel("hype", body.moments.length);
  if (body.moments.length === 0) return emptyNote(box, "No hype moments in this window: a minute counts when it stands far above the channel’s own last 30 minutes (5 minutes of history needed).");
  box.replaceChildren(...body.moments.map((m) => el("div", { class: "hype-card", "data-channel": m.channel, "data-t": m.t },
    el("span", { class: "ratio" }, `×${m.ratio.toFixed(1)}`),
    el("div", { class: "when" }, `${m.channel} · ${localTime(m.t)}`),
    el("div", { class: "meta" }, `${fmtInt(m.messages)} messages in the minute vs a baseline of ${fmtInt(Math.round(m.baseline))} · ${m.score.toFixed(1)} noise widths above · mood ${fmtScore(m.mean_score)}`),
    el("ul", {}, ...m.top_messages.map((t) => el("li", {}, `${t.text} `, el("small", {}, `×${t.count}`)))),
    el("div", { class: "emotes" }, ...m.top_emotes.map((e) => el("span", {}, emoteIcon(e), ` ${e.name} ×${e.uses}`))))));
}

function renderPipeline(body) {
  const box = document.getElementById("pipeline");
  const p = body.pipeline;
  if (!p) { box.textContent = ""; return; }
  const latency = p.latency_ms ? ` · p95 ${(p.latency_ms[1] / 1000).toFixed(2)} s` : "";
  box.textContent = `${fmtInt(Math.round(p.rate_per_s))} msgs/s · ${fmtInt(p.stored)} stored${latency}${p.errors ? ` · ${fmtInt(p.errors)} errors` : ""}`;
}

// ---- channel control (join/part on the running source) ----------------------------------------

async function loadControl() {
  const body = await (await fetch("/api/control", { cache: "no-store" })).json();
  const form = document.getElementById("channel-control");
  // The page holds no token, so where one is required the control stays hidden.
  form.classList.toggle("hidden", !body.available || body.token_required);
  form.title = body.channels.length ? `reading: ${body.channels.join(", ")}` : "";
}

async function channelAction(action) {
  const input = document.getElementById("channel-name");
  const note = document.getElementById("channel-control-note");
  const name = input.value.trim().toLowerCase().replace(/^#/, "");
  if (!/^[a-z0-9_]{1,25}$/.test(name)) {
    note.textContent = "a channel login: 1-25 letters, digits or _";
    return;
  }
  // The custom header is what the API requires: a cross-site page cannot send it.
  const response = await fetch(`/api/channels/${name}/${action}`, {
    method: "POST", headers: { "X-ChatPulse-Action": "1" }, cache: "no-store",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    note.textContent = body.error || response.statusText;
    return;
  }
  note.textContent = action === "join" ? `joining #${name}; it appears with its first message` : `left #${name}`;
  input.value = "";
  await loadControl();
}

// ---- feed ----------------------------------------------------------------------------------

function resetFeed() {
  state.feedAfter = null;
  document.getElementById("feed").replaceChildren();
}

async function refreshFeed() {
  const key = query();
  if (key !== state.feedKey) { state.feedKey = key; resetFeed(); }
  const body = await api("feed", { after: state.feedAfter, limit: 60 });
  const list = document.getElementById("feed");
  for (const m of body.messages) {
    list.append(el("li", { class: m.label || "neutral", "data-id": m.id },
      el("span", { class: "score" }, fmtScore(m.score)),
      state.selected.length > 1 ? el("span", { class: "chan" }, m.channel) : null,
      el("span", { class: "user", style: m.color ? `color:${readableColor(m.color)}` : null, "data-color": m.color }, m.user_name || m.user_login),
      m.text));
    state.feedAfter = m.cursor;
  }
  while (list.children.length > FEED_KEEP) list.firstChild.remove();
  if (body.messages.length) list.scrollTop = list.scrollHeight;
  setPanel("feed", list.children.length);
}

// ---- loop ----------------------------------------------------------------------------------

let panelTimer = null;
let feedTimer = null;
let refreshGeneration = 0;  // a refresh started later (new range, channels) wins over one in flight

async function refresh() {
  clearTimeout(panelTimer);
  const generation = ++refreshGeneration;
  try {
    fetch("/api/status", { cache: "no-store" }).then((r) => r.json()).then(renderPipeline).catch(() => {});
    if (!(await loadChannels())) return;
    const [overview, series, emotes, chatters, events, hype] = await Promise.all([
      api("overview"), api("series"), api("emotes", { limit: 10 }), api("chatters", { limit: 10 }),
      api("events", { limit: 500 }), api("hype", { limit: 6 }),
    ]);
    if (generation !== refreshGeneration) return;  // answers for a view the user already left
    renderOverview(overview);
    renderSeries(series);
    renderEmotes(emotes);
    renderChatters(chatters);
    renderEvents(events);
    renderHype(hype);
    document.body.dataset.updated = String(Date.now());
  } catch (error) {
    console.error("refresh failed", error);
  } finally {
    if (!state.paused && generation === refreshGeneration) panelTimer = setTimeout(refresh, PANEL_REFRESH_MS);
  }
}

async function feedLoop() {
  clearTimeout(feedTimer);
  try {
    if (state.channels.length) await refreshFeed();
  } catch (error) {
    console.error("feed failed", error);
  } finally {
    if (!state.paused) feedTimer = setTimeout(feedLoop, FEED_REFRESH_MS);
  }
}

function refreshNow() {
  refresh();
  feedLoop();
}

function setupControls() {
  const form = document.getElementById("custom-range");
  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[data-range]")) other.classList.toggle("active", other === button);
      state.range = button.dataset.range;
      form.classList.toggle("hidden", state.range !== "custom");
      if (state.range === "custom") {
        const kpi = document.getElementById("kpi-window");
        const to = Number(kpi.dataset.to) || Date.now();
        const from = Number(kpi.dataset.from) || to - 3_600_000;
        document.getElementById("custom-from").value = toInputValue(from);
        document.getElementById("custom-to").value = toInputValue(to);
        state.custom = { from, to };
      }
      resetFeed();
      refreshNow();
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const from = new Date(document.getElementById("custom-from").value).getTime();
    const to = new Date(document.getElementById("custom-to").value).getTime();
    if (!(to > from)) return;
    state.custom = { from, to };
    resetFeed();
    refreshNow();
  });
  const pause = document.getElementById("pause");
  pause.addEventListener("click", () => {
    state.paused = !state.paused;
    pause.classList.toggle("active", state.paused);
    pause.textContent = state.paused ? "Resume" : "Pause";
    document.getElementById("live-dot").classList.toggle("paused", state.paused);
    if (!state.paused) refreshNow();
    else { clearTimeout(panelTimer); clearTimeout(feedTimer); }
  });
}

function setupChannelControl() {
  const form = document.getElementById("channel-control");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    channelAction("join").catch((error) => console.error("join failed", error));
  });
  form.querySelector('[data-action="part"]').addEventListener("click", () => {
    channelAction("part").catch((error) => console.error("part failed", error));
  });
  loadControl().catch((error) => console.error("control status failed", error));
}

// A link into the page (an alert's): ?channel=NAME (repeatable or comma-separated) and
// from/to in epoch ms open those channels over that window; anything malformed is ignored.
function applyLinkParams() {
  const params = new URLSearchParams(window.location.search);
  const channels = params.getAll("channel").flatMap((v) => v.split(","))
    .map((c) => c.trim().toLowerCase().replace(/^#/, "")).filter((c) => /^[a-z0-9_]{1,25}$/.test(c));
  if (channels.length) state.selected = channels;
  const from = Number(params.get("from"));
  const to = Number(params.get("to"));
  if (!(Number.isInteger(from) && Number.isInteger(to) && to > from && from > 0)) return;
  state.range = "custom";
  state.custom = { from, to };
  for (const button of document.querySelectorAll("[data-range]")) {
    button.classList.toggle("active", button.dataset.range === "custom");
  }
  document.getElementById("custom-range").classList.remove("hidden");
  document.getElementById("custom-from").value = toInputValue(from);
  document.getElementById("custom-to").value = toInputValue(to);
}

window.addEventListener("DOMContentLoaded", () => {
  setupControls();
  setupChannelControl();
  applyLinkParams();
  refreshNow();
});
