// ChatPulse stream recap: renders a recap JSON (chatpulse.recap.build) into a root element.
// Used by the offline recap file (inlined, data from #recap-data) and by the dashboard's streams
// view (served at /vendor/recap.js). Chat text only ever reaches the page through textContent.
"use strict";

(function () {
  const EVENT_STYLE = {
    sub: ["#9147ff", "circle"], resub: ["#b18cff", "circle"], subgift: ["#e05cd0", "diamond"],
    giftbomb: ["#ff5cf0", "star"], raid: ["#3ba4f5", "triangle-up"], bits: ["#f5a524", "hexagon"],
    timeout: ["#f08c4e", "x"], ban: ["#ef4e4e", "x-thin-open"], deleted: ["#8a8f98", "cross"],
  };
  const EVENT_NAMES = {
    sub: "subs", resub: "resubs", subgift: "gifted subs", giftbomb: "gift bombs", raid: "raids",
    bits: "cheers", timeout: "timeouts", ban: "bans", deleted: "deleted messages",
  };
  const LAYOUT = {
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: "#c8c8d0", size: 11 },
    margin: { l: 46, r: 46, t: 8, b: 34 }, showlegend: true,
    legend: { orientation: "h", y: 1.14, x: 0, font: { size: 11 } },
    xaxis: { title: { text: "minutes from the start" }, gridcolor: "#26262f", zeroline: false },
    yaxis: { gridcolor: "#26262f", zeroline: false, rangemode: "tozero" },
    hovermode: "closest",
  };
  const CONFIG = { displaylogo: false, responsive: true, staticPlot: false };

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const fmtInt = (n) => Number(n || 0).toLocaleString("en-US");
  const fmtScore = (s) => (s === null || s === undefined ? "–" : (s >= 0 ? "+" : "") + Number(s).toFixed(2));
  const fmtRate = (r) => (r === null || r === undefined ? "–" : Number(r).toFixed(1));
  const minutesFrom = (offsetS) => Math.round((offsetS / 60) * 100) / 100;

  function panel(root, name, title, note, wide) {
    const section = el("section", { class: "rc-panel" + (wide ? " rc-wide" : ""), "data-panel": name },
      el("h2", {}, title, note ? el("small", {}, " " + note) : null));
    root.append(section);
    return section;
  }
  function ready(section, hasContent) {
    section.dataset.state = hasContent ? "ready" : "empty";
  }
  function offsetLink(item) {
    const label = el("span", { class: "rc-offset" }, item.offset);
    if (!item.vod_url) return label;
    return el("a", { href: item.vod_url, target: "_blank", rel: "noopener noreferrer", class: "rc-offset",
      title: "open the VOD here" }, item.offset + " ▶");
  }
  // Emote images only while online: offline the name alone shows and nothing is requested.
  function emote(e) {
    const node = el("span", { class: "rc-emote" });
    if (e.image_url && navigator.onLine) node.append(el("img", { src: e.image_url, alt: "", loading: "lazy" }));
    node.append(el("span", {}, e.name));
    return node;
  }
  function quotes(messages) {
    return el("div", {}, ...messages.map((m) => el("span", { class: "rc-quote" }, m.text, el("span", { class: "rc-count" }, "×" + m.count))));
  }
  function plot(node, traces, layout) {
    if (typeof Plotly === "undefined") {
      node.append(el("p", { class: "rc-muted" }, "charts need plotly.js"));
      return;
    }
    Plotly.newPlot(node, traces, Object.assign({}, LAYOUT, layout || {}), CONFIG);
  }

  function summary(root, data) {
    const s = data.summary;
    const section = el("section", { class: "rc-kpis rc-panel", "data-panel": "summary" });
    const kpis = [
      ["duration", "Duration", s.duration + (s.live ? " (live)" : "")], ["messages", "Messages", fmtInt(s.messages)],
      ["peak", "Peak rate", fmtInt(s.peak_rate) + "/min" + (s.peak_at ? " at " + s.peak_at.offset : "")],
      ["mean-rate", "Mean rate", fmtRate(s.mean_rate) + "/min"], ["chatters", "Unique chatters", fmtInt(s.chatters)],
      ["new-chatters", "New chatters", fmtInt(s.new_chatters)], ["mood", "Mood", fmtScore(s.mood)],
      ["money", "Subs / gifted / bits", `${fmtInt(s.subs)} / ${fmtInt(s.gifts)} / ${fmtInt(s.bits)}`],
    ];
    for (const [key, label, value] of kpis) {
      section.append(el("div", { class: "rc-kpi" }, el("span", { class: "rc-label" }, label),
        el("span", { class: "rc-value", "data-kpi": key }, value)));
    }
    root.append(section);
    ready(section, s.messages > 0);
  }

  function activity(root, data) {
    const section = panel(root, "activity", "Chat activity", "messages and unique chatters per minute · ★ hype moments", true);
    const chart = el("div", { class: "rc-chart" });
    section.append(chart);
    const x = data.minutes.map((m) => minutesFrom(m.offset_s));
    const text = data.minutes.map((m) => m.offset);
    const traces = [
      { x, y: data.minutes.map((m) => m.messages), text, type: "bar", name: "messages/min", marker: { color: "#9147ff" }, textposition: "none",
        hovertemplate: "%{text}: %{y} messages<extra></extra>" },
      { x, y: data.minutes.map((m) => m.chatters), text, type: "scatter", mode: "lines", name: "chatters/min",
        yaxis: "y2", line: { color: "#2fbf71" }, hovertemplate: "%{text}: %{y} chatters<extra></extra>" },
    ];
    if (data.hype_moments.length) {
      traces.push({ x: data.hype_moments.map((h) => minutesFrom(h.offset_s)), y: data.hype_moments.map((h) => h.messages),
        text: data.hype_moments.map((h) => h.offset), type: "scatter", mode: "markers", name: "hype",
        marker: { symbol: "star", size: 14, color: "#f5a524" }, hovertemplate: "hype at %{text}<extra></extra>" });
    }
    plot(chart, traces, { yaxis2: { overlaying: "y", side: "right", rangemode: "tozero", showgrid: false } });
    ready(section, data.minutes.length > 0);
  }

  function mood(root, data) {
    const section = panel(root, "mood", "Mood over time", "mean sentiment per minute (−1 … +1) · positive / negative share", true);
    const chart = el("div", { class: "rc-chart" });
    section.append(chart);
    const scored = data.minutes.filter((m) => m.mood !== null);
    const x = scored.map((m) => minutesFrom(m.offset_s));
    const text = scored.map((m) => m.offset);
    const share = (m, key) => { const n = m.positive + m.neutral + m.negative; return n ? m[key] / n : 0; };
    plot(chart, [
      { x, y: scored.map((m) => m.mood), text, type: "scatter", mode: "lines+markers", name: "mean sentiment",
        line: { color: "#f5a524" }, hovertemplate: "%{text}: %{y:+.2f}<extra></extra>" },
      { x, y: scored.map((m) => share(m, "positive")), text, type: "scatter", mode: "lines", name: "positive share",
        yaxis: "y2", line: { color: "#2fbf71", dash: "dot" }, hovertemplate: "%{text}: %{y:.0%} positive<extra></extra>" },
      { x, y: scored.map((m) => share(m, "negative")), text, type: "scatter", mode: "lines", name: "negative share",
        yaxis: "y2", line: { color: "#ef4e4e", dash: "dot" }, hovertemplate: "%{text}: %{y:.0%} negative<extra></extra>" },
    ], { yaxis: { gridcolor: "#26262f", zeroline: true, zerolinecolor: "#444" },
         yaxis2: { overlaying: "y", side: "right", range: [0, 1], tickformat: ".0%", showgrid: false } });
    ready(section, scored.length > 0);
  }

  function hype(root, data) {
    const section = panel(root, "hype", "Hype moments", "minutes far above the stream's own baseline: clip candidates");
    for (const h of data.hype_moments) {
      section.append(el("div", { class: "rc-moment", "data-offset": h.offset },
        offsetLink(h), `${fmtInt(h.messages)} messages, ${h.ratio}× the usual ${Math.round(h.baseline)}/min · mood ${fmtScore(h.mood)}`,
        quotes(h.top_messages), el("div", {}, ...h.top_emotes.map(emote))));
    }
    if (!data.hype_moments.length) {
      const peak = data.summary.peak_at;
      section.append(el("p", { class: "rc-muted" }, "No minute cleared the hype bar (at least 10 messages and more than 4 noise widths above the median of the stream's previous 30 minutes)."));
      if (peak) section.append(el("div", { class: "rc-moment" }, offsetLink(peak), `busiest minute: ${fmtInt(data.summary.peak_rate)} messages`));
    }
    ready(section, data.hype_moments.length > 0 || Boolean(data.summary.peak_at));
  }

  function negative(root, data) {
    const section = panel(root, "negative", "When chat turned negative");
    const turned = data.negative_moments.filter((n) => n.turned);
    if (!turned.length && data.negative_moments.length) {
      section.append(el("p", { class: "rc-muted" }, "Chat never fell far below its usual mood; its lowest minutes:"));
    }
    for (const n of data.negative_moments) {
      section.append(el("div", { class: "rc-moment", "data-offset": n.offset }, offsetLink(n),
        `mood ${fmtScore(n.mean)} vs usual ${fmtScore(n.baseline)} (${fmtInt(n.scored)} messages)`, quotes(n.top_messages)));
    }
    if (!data.negative_moments.length) section.append(el("p", { class: "rc-muted" }, "Too few scored messages to judge the mood."));
    ready(section, data.negative_moments.length > 0);
  }

  function timeline(root, data) {
    const section = panel(root, "timeline", "Subs, gift bombs, raids, bits and bans", "on the stream's timeline", true);
    const counts = {};
    for (const e of data.events) counts[e.type] = (counts[e.type] || 0) + 1;
    const names = Object.keys(EVENT_STYLE).filter((t) => counts[t]);
    section.append(el("p", { class: "rc-muted" }, names.length
      ? names.map((t) => `${fmtInt(counts[t])} ${EVENT_NAMES[t]}`).join(" · ") : "No subs, raids, bits or bans in this stream."));
    const chart = el("div", { class: "rc-chart rc-short", "data-events": data.events.length });
    section.append(chart);
    plot(chart, names.map((type, row) => {
      const items = data.events.filter((e) => e.type === type);
      return { x: items.map((e) => minutesFrom(e.offset_s)), y: items.map(() => EVENT_NAMES[type]),
        text: items.map((e) => `${e.offset} ${e.detail}`), type: "scatter", mode: "markers", name: EVENT_NAMES[type],
        marker: { color: EVENT_STYLE[type][0], symbol: EVENT_STYLE[type][1], size: 10 }, hovertemplate: "%{text}<extra></extra>" };
    }), { showlegend: false, yaxis: { gridcolor: "#26262f", type: "category" }, margin: { l: 110, r: 20, t: 8, b: 34 } });
    ready(section, data.events.length > 0);
  }

  function ranked(items, render, attrs) {
    return el("ol", { class: "rc-ranked" }, ...items.map((item) => el("li", attrs ? attrs(item) : {}, ...render(item))));
  }

  function emotes(root, data) {
    const section = panel(root, "emotes", "Top emotes");
    section.append(ranked(data.top_emotes, (e) => [emote(e), el("span", { class: "rc-count" }, fmtInt(e.uses))],
      (e) => ({ "data-name": e.name, "data-uses": e.uses })));
    ready(section, data.top_emotes.length > 0);
  }

  function chatters(root, data) {
    const section = panel(root, "chatters", "Top chatters");
    section.append(ranked(data.top_chatters, (c) => [c.login, el("span", { class: "rc-count" }, fmtInt(c.messages))],
      (c) => ({ "data-login": c.login, "data-messages": c.messages })));
    section.append(el("h3", {}, `New chatters: ${fmtInt(data.summary.new_chatters)} `, el("small", {}, "first message in the channel")));
    section.append(ranked(data.new_chatters, (c) => [c.login, el("span", { class: "rc-count" }, fmtInt(c.messages))]));
    ready(section, data.top_chatters.length > 0);
  }

  function comparison(root, data) {
    const section = panel(root, "comparison", "Compared with the channel's previous streams", null, true);
    const c = data.comparison;
    if (!c.streams) {
      section.append(el("p", { class: "rc-muted" }, "This is the channel's first stored stream: nothing to compare with yet."));
      ready(section, true);
      return;
    }
    const change = (key, value) => {
      if (value === null || value === undefined) return el("td", { class: "rc-num" }, "–");
      const text = key === "mood" ? fmtScore(value) : (value >= 0 ? "+" : "") + Math.round(value * 100) + "%";
      return el("td", { class: "rc-num" + (value > 0 ? "up" : value < 0 ? "down" : "") }, text);
    };
    const show = (key, v) => (v === null || v === undefined ? "–" : key === "mood" ? fmtScore(v) : key === "rate" ? fmtRate(v) : fmtInt(Math.round(v)));
    const rows = [["rate", "Messages per minute"], ["chatters", "Unique chatters"], ["mood", "Mean sentiment"]];
    section.append(el("table", {},
      el("tr", {}, el("th", {}, ""), el("th", { class: "rc-num" }, "this stream"), el("th", { class: "rc-num" }, `mean of previous ${c.streams}`), el("th", { class: "rc-num" }, "change")),
      ...rows.map(([key, label]) => el("tr", {}, el("td", {}, label), el("td", { class: "rc-num" }, show(key, c[key].this)),
        el("td", { class: "rc-num" }, show(key, c[key].previous)), change(key, c[key].change)))));
    section.append(el("h3", {}, "Previous streams"));
    section.append(ranked(c.previous, (p) => [`${p.started_at.slice(0, 16).replace("T", " ")} UTC`,
      el("span", { class: "rc-count" }, `${fmtInt(p.messages)} messages · ${fmtRate(p.rate)}/min · ${fmtInt(p.chatters)} chatters · mood ${fmtScore(p.sentiment_mean)}`)]));
    ready(section, true);
  }

  function renderRecap(data, root) {
    root.replaceChildren();
    const st = data.stream;
    const heading = el("header", { class: "rc-recap-head" },
      el("h1", {}, `#${data.channel} · ${st.title || "stream"} · ${st.started_at.slice(0, 16).replace("T", " ")} UTC`),
      el("p", { class: "rc-muted" }, `${st.id} · ${st.source === "twitch" ? "Twitch stream" : "chat session"}` +
        (st.category ? ` · ${st.category}` : "") + (st.vod_id ? ` · VOD ${st.vod_id}` : "") + ` · generated ${data.generated_at}`));
    const grid = el("main", { class: "rc-recap-grid" });
    root.append(heading, grid);
    for (const part of [summary, activity, mood, hype, negative, timeline, emotes, chatters, comparison]) part(grid, data);
  }

  window.renderRecap = renderRecap;
  const embedded = document.getElementById("recap-data");
  if (embedded) {
    renderRecap(JSON.parse(embedded.textContent), document.getElementById("recap"));
    document.body.dataset.state = "ready";
  }
})();
