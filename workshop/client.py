"""The page's small piece of browser code: the connection banner and the PNG export.

A Vue template widget (``ipyvuetify.VuetifyTemplate``) that

* sends the server a heartbeat every 3 s and shows a banner, "Connection lost,
  reconnecting", when no answer has come back for :data:`LOST_AFTER_MS`; a lost
  connection is otherwise invisible when the network drops without closing the socket
  (the page simply stops changing). The server side pauses Play when heartbeats stop
  (:attr:`Client.last_ping`), so a run never computes on unseen and jumps ahead when
  the page comes back;
* saves the current view as a PNG, drawn in the browser from the page's own SVG
  pictures and text (so it is exactly what the room sees, and needs no server-side
  renderer).
"""

from __future__ import annotations

import time

import ipyvuetify as v
import traitlets

#: Milliseconds between two heartbeats from the page.
HEARTBEAT_MS = 3000

#: Milliseconds without a heartbeat answer before the banner shows.
LOST_AFTER_MS = 8000

#: Seconds without a heartbeat after which the server treats the page as gone.
SERVER_LOST_AFTER = 9.0

TEMPLATE = """
<template>
  <div class="civic-client">
    <div v-if="lost" class="civic-connection-lost" role="alert">
      Connection to the server lost &ndash; reconnecting&hellip; Play is paused until it is back.
    </div>
  </div>
</template>
<script>
module.exports = {
  data() { return { lost: false, lastPong: Date.now(), timer: null }; },
  mounted() {
    this.lastPong = Date.now();
    this.timer = setInterval(() => {
      try { this.ping(Date.now()); } catch (e) { /* the socket is closed */ }
      this.lost = (Date.now() - this.lastPong) > LOST_AFTER_MS;
    }, HEARTBEAT_MS);
    window.civicSavePng = (root, name) => this.savePng(root, name);
  },
  destroyed() { clearInterval(this.timer); },
  watch: {
    pong() { this.lastPong = Date.now(); this.lost = false; },
    png_request(value) {
      if (value && value.id) { this.savePng(value.root, value.name); }
    }
  },
  methods: {
    async savePng(rootSelector, name) {
      const root = document.querySelector(rootSelector);
      if (!root) { return; }
      const box = root.getBoundingClientRect();
      const scale = 2;
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(box.width * scale);
      canvas.height = Math.ceil(box.height * scale);
      const ctx = canvas.getContext('2d');
      ctx.scale(scale, scale);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, box.width, box.height);
      const visible = (el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0;
      };
      for (const card of root.querySelectorAll('.civic-counter')) {
        if (!visible(card)) { continue; }
        const r = card.getBoundingClientRect(), st = getComputedStyle(card);
        const x0 = r.left - box.left, y0 = r.top - box.top;
        ctx.fillStyle = st.backgroundColor;
        ctx.fillRect(x0, y0, r.width, r.height);
        ctx.fillStyle = st.borderLeftColor;
        ctx.fillRect(x0, y0, parseFloat(st.borderLeftWidth) || 0, r.height);
      }
      for (const bar of root.querySelectorAll('.civic-colourbar-bar')) {
        if (!visible(bar)) { continue; }
        const r = bar.getBoundingClientRect();
        const stops = (bar.dataset.stops || '').split(',');
        const x0 = r.left - box.left, y0 = r.top - box.top;
        const grad = r.width > r.height
          ? ctx.createLinearGradient(x0, 0, x0 + r.width, 0)
          : ctx.createLinearGradient(0, y0 + r.height, 0, y0);
        stops.forEach((c, i) => grad.addColorStop(i / Math.max(1, stops.length - 1), c.trim()));
        ctx.fillStyle = grad;
        ctx.fillRect(r.left - box.left, r.top - box.top, r.width, r.height);
      }
      for (const svg of root.querySelectorAll('svg')) {
        if (!visible(svg) || svg.closest('svg') !== svg) { continue; }
        const r = svg.getBoundingClientRect();
        const copy = svg.cloneNode(true);
        copy.setAttribute('width', r.width);
        copy.setAttribute('height', r.height);
        copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
        const xml = new XMLSerializer().serializeToString(copy);
        const img = new Image();
        await new Promise((resolve) => {
          img.onload = resolve; img.onerror = resolve;
          img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml);
        });
        ctx.drawImage(img, r.left - box.left, r.top - box.top, r.width, r.height);
      }
      for (const el of root.querySelectorAll('.civic-export-text')) {
        if (!visible(el)) { continue; }
        const r = el.getBoundingClientRect();
        const st = getComputedStyle(el);
        ctx.font = st.fontWeight + ' ' + st.fontSize + ' ' + st.fontFamily;
        ctx.fillStyle = st.color;
        ctx.textBaseline = 'top';
        const lh = parseFloat(st.lineHeight) || parseFloat(st.fontSize) * 1.25;
        const x = r.left - box.left;
        let y = r.top - box.top;
        for (const paragraph of el.innerText.split('\\n')) {
          let line = '';
          for (const word of paragraph.split(' ')) {
            const wider = line ? line + ' ' + word : word;
            if (line && ctx.measureText(wider).width > r.width + 1) {
              ctx.fillText(line, x, y);
              y += lh;
              line = word;
            } else {
              line = wider;
            }
          }
          ctx.fillText(line, x, y);
          y += lh;
        }
      }
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name || 'civic-sim.png';
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }
  }
};
</script>
""".replace("LOST_AFTER_MS", str(LOST_AFTER_MS)).replace("HEARTBEAT_MS", str(HEARTBEAT_MS))


class Client(v.VuetifyTemplate):
    """Heartbeat, connection banner and PNG export of one browser page."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    #: Answers to the page's heartbeats (the page watches it change).
    pong = traitlets.Int(0).tag(sync=True)
    #: Set to ``{"id": n, "root": css selector, "name": file name}`` to save a PNG.
    png_request = traitlets.Dict({}).tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        #: ``time.monotonic()`` of the last heartbeat from the page.
        self.last_ping = time.monotonic()

    def vue_ping(self, _data=None) -> None:
        """A heartbeat from the page: note the time and answer."""
        self.last_ping = time.monotonic()
        self.pong = self.pong + 1

    def alive(self) -> bool:
        """Whether the page's heartbeats are arriving."""
        return time.monotonic() - self.last_ping < SERVER_LOST_AFTER
