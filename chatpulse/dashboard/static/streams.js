// ChatPulse dashboard, streams view: the first selected channel's streams (GET /api/streams);
// a click shows that stream's recap in the page (GET /api/recap, drawn by /vendor/recap.js, the
// same script as the offline recap file). Text reaches the page through textContent only.
"use strict";

(function () {
  const REFRESH_MS = 15000;
  const streamsState = { channel: null, loadedAt: 0, open: null };

  function node(tag, attrs, ...children) {
    const item = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) item.setAttribute(key, value);
    for (const child of children) item.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return item;
  }
  const pad = (n) => String(n).padStart(2, "0");
  function duration(seconds) {
    return `${Math.floor(seconds / 3600)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  }
  function when(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  async function getJson(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  async function openRecap(channel, id) {
    const target = document.getElementById("stream-recap");
    target.dataset.state = "loading";
    streamsState.open = id;
    for (const item of document.querySelectorAll("#streams li")) item.classList.toggle("selected", item.dataset.streamId === id);
    try {
      const recap = await getJson(`/api/recap?${new URLSearchParams({ channel, stream: id })}`);
      if (streamsState.open !== id) return; // another stream was clicked meanwhile
      window.renderRecap(recap, target);
      target.dataset.stream = id;
      target.dataset.state = "ready";
    } catch (error) {
      target.replaceChildren(node("p", { class: "muted" }, `recap unavailable: ${error.message}`));
      target.dataset.state = "error";
    }
  }

  function render(channel, streams) {
    const list = document.getElementById("streams");
    const panel = document.querySelector('[data-panel="streams"]');
    list.replaceChildren(...streams.map((s) => {
      const item = node("li", { "data-stream-id": s.id, tabindex: "0", role: "button" },
        node("span", { class: "stream-when" }, when(s.started_ms)),
        node("span", { class: "stream-figures" },
          `${duration(s.duration_s)}${s.ended_at ? "" : " · live"} · ${s.messages.toLocaleString("en-US")} messages · ` +
          `${s.chatters.toLocaleString("en-US")} chatters · ${s.source === "twitch" ? s.title || "Twitch stream" : "chat session"}`));
      item.addEventListener("click", () => openRecap(channel, s.id));
      item.addEventListener("keydown", (event) => { if (event.key === "Enter") openRecap(channel, s.id); });
      if (s.id === streamsState.open) item.classList.add("selected");
      return item;
    }));
    if (!streams.length) list.append(node("li", { class: "muted" }, `no streams stored for #${channel}`));
    panel.dataset.state = "ready";
    panel.dataset.channel = channel;
  }

  async function refresh() {
    const chip = document.querySelector(".chip.selected");
    const channel = chip ? chip.dataset.channel : null;
    if (!channel) return;
    const changed = channel !== streamsState.channel;
    if (!changed && Date.now() - streamsState.loadedAt < REFRESH_MS) return;
    if (changed) {
      streamsState.open = null;
      const target = document.getElementById("stream-recap");
      target.replaceChildren();
      delete target.dataset.state;
    }
    streamsState.channel = channel;
    streamsState.loadedAt = Date.now();
    try {
      const body = await getJson(`/api/streams?${new URLSearchParams({ channel })}`);
      if (body.channel === streamsState.channel) render(channel, body.streams);
    } catch (error) {
      streamsState.loadedAt = 0; // try again on the next tick
    }
  }

  setInterval(refresh, 1000);
  refresh();
})();
