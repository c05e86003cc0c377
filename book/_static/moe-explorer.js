/* moe-explorer.js: static interactive figures for "EM for Mixtures of Experts".
 *
 * No kernel, no third-party code. Every <div class="moe-explorer"> on the page holds a
 * <script type="application/json" class="moe-explorer-payload"> written by
 * moe_lib.explorer.explorer_html (the payload format is documented there). This file turns each
 * such div into controls (a slider per numeric grid, a row of toggle buttons per choice) and an
 * SVG line plot: one median line per series with its quantile band, a legend, and linear or
 * log-scale axes. Moving a control redraws the plot from the precomputed curves.
 *
 * Curves are keyed by the index of the selected value of each control, joined by "|"
 * (e.g. "1|0|3"), in the order of payload.controls.
 *
 * API (for tests and for pages that add figures later): window.MoeExplorer.renderAll(root)
 * renders every not yet rendered explorer under root; window.MoeExplorer.render(div) one.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var M = { left: 64, right: 16, top: 30, bottom: 50 };
  var LEGEND_ROW = 18;
  var counter = 0;

  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(v) {
    if (typeof v !== "number") return String(v);
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    return String(Number(v.toPrecision(3)));
  }

  /* A scale maps data to pixels; log scales work on log10 of the data. */
  function makeScale(lo, hi, p0, p1, log) {
    var f = log ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var a = f(lo), b = f(hi);
    if (!(b > a)) { a -= 0.5; b += 0.5; }
    var s = function (v) { return p0 + (f(v) - a) / (b - a) * (p1 - p0); };
    s.ticks = function () { return log ? logTicks(a, b) : linTicks(a, b); };
    s.ok = function (v) { return v !== null && isFinite(v) && (!log || v > 0); };
    return s;
  }

  function linTicks(a, b) {
    var raw = (b - a) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var t = Math.ceil(a / step) * step; t <= b + 1e-9 * step; t += step) {
      out.push(Math.abs(t) < 1e-12 * step ? 0 : Number(t.toPrecision(12)));
    }
    return out;
  }

  function logTicks(a, b) {
    var out = [], lo = Math.floor(a), hi = Math.ceil(b);
    var every = Math.max(1, Math.ceil((hi - lo) / 6));
    var mult = hi - lo <= 2 ? [1, 2, 5] : [1];
    for (var e = lo; e <= hi; e += every) {
      mult.forEach(function (m) {
        var v = m * Math.pow(10, e), lv = Math.log10(v);
        if (lv >= a - 1e-9 && lv <= b + 1e-9) out.push(v);
      });
    }
    return out;
  }

  function extent(view, log, key) {
    var lo = Infinity, hi = -Infinity;
    view.forEach(function (s) {
      ["median", "lower", "upper"].forEach(function (part) {
        (s[part] || []).forEach(function (v, i) {
          var u = key === "x" ? s.x[i] : v;
          if (u === null || !isFinite(u) || (log && u <= 0) || v === null) return;
          if (u < lo) lo = u;
          if (u > hi) hi = u;
        });
      });
    });
    return lo <= hi ? [lo, hi] : (log ? [1, 10] : [0, 1]);
  }

  function pathData(xs, ys, sx, sy) {
    var d = "", pen = false;
    for (var i = 0; i < xs.length; i++) {
      if (!sx.ok(xs[i]) || !sy.ok(ys[i])) { pen = false; continue; }
      d += (pen ? "L" : "M") + sx(xs[i]).toFixed(2) + "," + sy(ys[i]).toFixed(2);
      pen = true;
    }
    return d;
  }

  /* Closed band between lower and upper, split where either side is missing. */
  function bandData(xs, lower, upper, sx, sy) {
    var d = "", run = [];
    function flush() {
      if (run.length > 1) {
        d += "M" + run.map(function (i) { return sx(xs[i]).toFixed(2) + "," + sy(upper[i]).toFixed(2); }).join("L");
        d += "L" + run.slice().reverse().map(function (i) { return sx(xs[i]).toFixed(2) + "," + sy(lower[i]).toFixed(2); }).join("L") + "Z";
      }
      run = [];
    }
    for (var i = 0; i < xs.length; i++) {
      if (sx.ok(xs[i]) && sy.ok(lower[i]) && sy.ok(upper[i])) run.push(i); else flush();
    }
    flush();
    return d;
  }

  /* The plot is drawn at the width it is shown (so text stays at 12 px, also on a phone). */
  function size(state) {
    var W = Math.round(Math.max(300, Math.min(720, state.div.clientWidth || 640)));
    return { W: W, H: Math.round(Math.max(260, Math.min(400, 0.6 * W))) };
  }

  /* Legend entries laid out in rows that fit the width: [{x, row}] per series. */
  function legendLayout(p, W) {
    var x = M.left, row = 0, out = [];
    p.series.forEach(function (s) {
      var w = 23 + 7 * (s.label || s.name).length + 16;
      if (x + w > W - M.right && x > M.left) { x = M.left; row += 1; }
      out.push({ x: x, row: row });
      x += w;
    });
    var bandRow = p.band_label && x + 7 * p.band_label.length > W - M.right ? row + 1 : row;
    return { items: out, bandRow: bandRow, rows: bandRow + 1 };
  }

  function draw(state) {
    var p = state.payload, svg = state.svg;
    var dims = size(state), W = dims.W, H = dims.H;
    var legendPos = legendLayout(p, W);
    var top = M.top + LEGEND_ROW * (legendPos.rows - 1);
    H += top - M.top;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    state.width = W;
    var key = state.selected.join("|");
    var data = p.curves[key];
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("data-key", key);
    el("title", {}, svg).textContent = (p.title || "Interactive figure") + " (" +
      p.controls.map(function (c, i) { return c.label + " = " + fmt(c.values[state.selected[i]]); }).join(", ") + ")";
    if (!data) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "moe-explorer-empty" }, svg)
        .textContent = "No precomputed curves for this setting.";
      return;
    }
    var xlog = !!(p.x && p.x.log), ylog = p.y ? p.y.log !== false : true;
    var view = p.series.map(function (s) {
      var c = data.series[s.name] || {};
      return { x: data.x, median: c.median || [], lower: c.lower, upper: c.upper };
    });
    var xr = (p.x && p.x.range) || extent(view, xlog, "x");
    var yr = (p.y && p.y.range) || extent(view, ylog, "y");
    var sx = makeScale(xr[0], xr[1], M.left, W - M.right, xlog);
    var sy = makeScale(yr[0], yr[1], H - M.bottom, top, ylog);

    var axes = el("g", { class: "moe-explorer-axes", "font-size": 12, fill: "currentColor" }, svg);
    sy.ticks().forEach(function (t) {
      var y = sy(t).toFixed(2);
      el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, stroke: "currentColor", "stroke-opacity": 0.12 }, axes);
      el("text", { x: M.left - 6, y: y, "text-anchor": "end", "dominant-baseline": "middle" }, axes).textContent = fmt(t);
    });
    sx.ticks().forEach(function (t) {
      var x = sx(t).toFixed(2);
      el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 5, stroke: "currentColor" }, axes);
      el("text", { x: x, y: H - M.bottom + 18, "text-anchor": "middle" }, axes).textContent = fmt(t);
    });
    el("rect", { x: M.left, y: top, width: W - M.left - M.right, height: H - top - M.bottom,
                 fill: "none", stroke: "currentColor", "stroke-opacity": 0.5 }, axes);
    el("text", { x: (M.left + W - M.right) / 2, y: H - 10, "text-anchor": "middle" }, axes)
      .textContent = (p.x && p.x.label) || "";
    el("text", { x: 14, y: (top + H - M.bottom) / 2, "text-anchor": "middle",
                 transform: "rotate(-90 14 " + (top + H - M.bottom) / 2 + ")" }, axes)
      .textContent = (p.y && p.y.label) || "";

    var clip = "moe-explorer-clip-" + state.id;
    el("rect", { x: M.left, y: top, width: W - M.left - M.right, height: H - top - M.bottom },
       el("clipPath", { id: clip }, el("defs", {}, svg)));
    var plot = el("g", { "clip-path": "url(#" + clip + ")" }, svg);
    view.forEach(function (v, i) {
      var s = p.series[i], colour = s.color || PALETTE[i % PALETTE.length];
      if (v.lower && v.upper) {
        el("path", { d: bandData(v.x, v.lower, v.upper, sx, sy), fill: colour, "fill-opacity": 0.18,
                     stroke: "none", class: "moe-explorer-band", "data-series": s.name }, plot);
      }
      el("path", { d: pathData(v.x, v.median, sx, sy), fill: "none", stroke: colour, "stroke-width": 2,
                   class: "moe-explorer-line", "data-series": s.name }, plot);
    });

    var legend = el("g", { class: "moe-explorer-legend", "font-size": 12, fill: "currentColor" }, svg);
    p.series.forEach(function (s, i) {
      var colour = s.color || PALETTE[i % PALETTE.length];
      var lx = legendPos.items[i].x, ly = 13 + LEGEND_ROW * legendPos.items[i].row;
      el("rect", { x: lx, y: ly - 5, width: 18, height: 10, fill: colour, "fill-opacity": 0.3 }, legend);
      el("line", { x1: lx, x2: lx + 18, y1: ly, y2: ly, stroke: colour, "stroke-width": 2 }, legend);
      el("text", { x: lx + 23, y: ly, "dominant-baseline": "middle" }, legend)
        .textContent = s.label || s.name;
    });
    if (p.band_label) {
      el("text", { x: W - M.right, y: 13 + LEGEND_ROW * legendPos.bandRow, "text-anchor": "end",
                   "dominant-baseline": "middle", "fill-opacity": 0.7 }, legend)
        .textContent = p.band_label;
    }
  }

  function buildControls(state, form) {
    state.payload.controls.forEach(function (c, i) {
      var row = html("div", { class: "moe-explorer-control" }, form);
      var name = "moe-explorer-" + state.id + "-" + c.name;
      if (c.kind === "toggle") {
        var group = html("fieldset", { class: "moe-explorer-toggle" }, row);
        html("legend", {}, group, c.label);
        c.values.forEach(function (v, j) {
          var lab = html("label", {}, group);
          var input = html("input", { type: "radio", name: name, value: String(j) }, lab);
          input.checked = j === state.selected[i];
          input.addEventListener("change", function () {
            if (input.checked) { state.selected[i] = j; draw(state); }
          });
          lab.appendChild(document.createTextNode(" " + fmt(v)));
        });
      } else {
        var id = name + "-input";
        html("label", { for: id }, row, c.label);
        var range = html("input", { type: "range", id: id, min: "0", max: String(c.values.length - 1),
                                    step: "1", value: String(state.selected[i]), name: name }, row);
        var out = html("output", { for: id }, row, fmt(c.values[state.selected[i]]));
        range.addEventListener("input", function () {
          state.selected[i] = Number(range.value);
          out.textContent = fmt(c.values[state.selected[i]]);
          draw(state);
        });
      }
    });
  }

  function render(div) {
    if (div.getAttribute("data-moe-explorer-ready") === "true") return;
    var script = div.querySelector("script.moe-explorer-payload");
    var payload;
    try {
      payload = JSON.parse(script.textContent);
    } catch (err) {
      html("p", { class: "moe-explorer-error" }, div, "Interactive figure: unreadable payload.");
      return;
    }
    var state = {
      id: ++counter,
      div: div,
      payload: payload,
      selected: payload.controls.map(function (c) {
        var j = c.values.indexOf(c.default);
        return j < 0 ? 0 : j;
      })
    };
    div.querySelectorAll(".moe-explorer-fallback").forEach(function (n) { n.remove(); });
    if (payload.title) html("p", { class: "moe-explorer-title" }, div, payload.title);
    var form = html("form", { class: "moe-explorer-controls" }, div);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    buildControls(state, form);
    state.svg = el("svg", { role: "img", class: "moe-explorer-plot", width: "100%",
                            preserveAspectRatio: "xMidYMid meet" }, div);
    draw(state);
    div.setAttribute("data-moe-explorer-ready", "true");
    if (window.ResizeObserver) {  // redraw at the new width (phone turned, window resized)
      new ResizeObserver(function () {
        if (Math.abs(size(state).W - state.width) > 1) draw(state);
      }).observe(div);
    }
  }

  function renderAll(root) {
    (root || document).querySelectorAll("div.moe-explorer").forEach(render);
  }

  window.MoeExplorer = { render: render, renderAll: renderAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(); });
  } else {
    renderAll();
  }
})();
