// outatime plot: draws the panels of the JSON blob `#outatime-plot` with
// uPlot, as the SVG does: a line per series (booleans as steps, varchar as
// coloured lanes), step stretches and anomaly windows as labelled bands, a
// `now` marker, gaps never bridged. All charts share the time axis: a zoom
// or pan in one moves them all. Sets `data-rendered` (the panels drawn) or
// `data-error` on <body>, and `data-violations` on any blocked request.
(function () {
  "use strict";
  const body = document.body;
  document.addEventListener("securitypolicyviolation", function (e) {
    const seen = body.dataset.violations ? body.dataset.violations + " " : "";
    body.dataset.violations = seen + (e.blockedURI || e.violatedDirective);
  });

  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"];
  const THIN = "rgba(150,150,150,0.8)";
  const ENVELOPE = "rgba(170,170,170,0.45)";
  const VALUE_COLOURS = [
    "rgba(31,119,180,0.85)", "rgba(255,127,14,0.85)", "rgba(44,160,44,0.85)",
    "rgba(148,103,189,0.85)", "rgba(23,190,207,0.85)", "rgba(188,189,34,0.85)",
    "rgba(140,86,75,0.85)", "rgba(227,119,194,0.85)", "rgba(174,199,232,0.85)",
    "rgba(255,187,120,0.85)", "rgba(152,223,138,0.85)", "rgba(197,176,213,0.85)",
    "rgba(127,127,127,0.85)",
  ];
  const STEP = {
    replay: ["rgba(70,130,180,0.08)", "rgb(40,90,140)"],
    generate: ["rgba(60,160,90,0.08)", "rgb(30,110,60)"],
    extrapolate: ["rgba(230,150,30,0.1)", "rgb(150,90,10)"],
  };
  const ANOMALY = "rgba(214,39,40,0.2)";
  const ANOMALY_INK = "rgb(160,20,20)";
  const EXPECT = "rgb(31,95,160)";
  const LEGEND_WIDTH = 250;
  const PLOT_HEIGHT = 200;

  function offsetLabel(t) {
    const d = Math.round(t - data.now);
    if (d === 0) return "now";
    let rest = Math.abs(d);
    const parts = [];
    for (const [unit, s] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
      if (rest >= s && parts.length < 2) {
        parts.push(Math.floor(rest / s) + unit);
        rest %= s;
      }
    }
    return "now" + (d < 0 ? "-" : "+") + parts.join("");
  }

  // Tick labels in UTC, 24 h, the date under the first tick of each day.
  function utcTicks(u, splits, axis, space, incr) {
    let day = null;
    return splits.map(function (t) {
      const iso = new Date(t * 1000).toISOString();
      if (incr >= 86400) return iso.slice(0, 10);
      const time = incr < 60 ? iso.slice(11, 19) : iso.slice(11, 16);
      const label = iso.slice(0, 10) !== day ? time + "\n" + iso.slice(0, 10) : time;
      day = iso.slice(0, 10);
      return label;
    });
  }

  function utcLabel(t) {
    return new Date(t * 1000).toISOString().replace(".000Z", "Z");
  }

  const data = JSON.parse(document.getElementById("outatime-plot").textContent);
  const width = (data.to - data.from) / data.columns;
  // Three x slots a column: two for a column's min and max (or one value
  // in the middle), the third for a gap's null; then the axis's two ends.
  const xs = [data.from];
  for (let c = 0; c < data.columns; c++) {
    xs.push(data.from + (c + 0.25) * width, data.from + (c + 0.5) * width, data.from + (c + 0.75) * width);
  }
  xs.push(data.to);
  const slot = function (c, k) { return 1 + 3 * c + k; };

  // `undefined` is no point (uPlot draws across it), `null` is a gap.
  function lineValues(line, lift) {
    const ys = new Array(xs.length).fill(undefined);
    for (const p of line.points) {
      if (p.length === 2) {
        ys[slot(p[0], 1)] = p[1] + lift;
      } else {
        ys[slot(p[0], 0)] = p[1] + lift;
        ys[slot(p[0], 1)] = p[2] + lift;
      }
    }
    // uPlot clips a gap from the point before its first null to the point
    // after its last: the nulls run on to the series' next point.
    for (const c of line.gaps) {
      for (let s = slot(c, 2); s < ys.length && ys[s] === undefined; s++) ys[s] = null;
    }
    return ys;
  }

  function label(ctx, text, x, y, colour, right, pr) {
    ctx.font = 10 * pr + "px sans-serif";
    ctx.textBaseline = "top";
    const w = ctx.measureText(text).width;
    ctx.fillStyle = colour;
    if (x + 2 * pr + w > right) {
      ctx.textAlign = "right";
      ctx.fillText(text, right - 2 * pr, y);
    } else {
      ctx.textAlign = "left";
      ctx.fillText(text, x + 2 * pr, y);
    }
  }

  function laneLabel(name) {
    return name.split(", ").map(function (pair) {
      const at = pair.indexOf("=");
      return at < 0 ? pair : pair.slice(at + 1);
    }).join(",");
  }

  const charts = [];
  let syncing = false;

  function chartWidth() {
    return Math.max(420, document.getElementById("panels").clientWidth - LEGEND_WIDTH - 10);
  }

  function makePanel(panel) {
    const box = document.createElement("section");
    box.className = "panel";
    box.dataset.table = panel.table;
    box.dataset.measure = panel.measure;
    box.dataset.type = panel.type;
    const count = panel.lines.length + (panel.rest ? panel.rest.series : 0);
    const title = document.createElement("h2");
    title.textContent = panel.table + " · " + panel.measure + " (" + panel.type + ") · " +
      count + " series";
    const at = document.createElement("span");
    at.className = "at";
    title.appendChild(at);
    box.appendChild(title);
    const row = document.createElement("div");
    row.className = "row";
    const chartEl = document.createElement("div");
    const legend = document.createElement("div");
    legend.className = "legend";
    row.appendChild(chartEl);
    row.appendChild(legend);
    box.appendChild(row);
    document.getElementById("panels").appendChild(box);

    const entry = function (colour, text) {
      const div = document.createElement("div");
      const swatch = document.createElement("i");
      swatch.style.background = colour;
      div.appendChild(swatch);
      div.appendChild(document.createTextNode(text));
      div.title = text;
      legend.appendChild(div);
    };

    const varchar = panel.type === "varchar";
    const boolean = panel.type === "boolean";
    const series = [{}];
    const columns = [xs];
    const bands = [];
    if (!varchar) {
      if (panel.rest) {
        const lo = new Array(xs.length).fill(undefined);
        const hi = new Array(xs.length).fill(undefined);
        for (const p of panel.rest.points) {
          lo[slot(p[0], 1)] = p[1];
          hi[slot(p[0], 1)] = p[2];
        }
        series.push({ label: "rest min", stroke: "transparent", width: 0, points: { show: false } });
        series.push({ label: "rest max", stroke: "transparent", width: 0, points: { show: false } });
        columns.push(lo, hi);
        bands.push({ series: [2, 1], fill: ENVELOPE });
      }
      // The thin ones first, so that the named are drawn over them.
      const order = panel.lines.map(function (_, i) { return i; }).reverse();
      for (const i of order) {
        const line = panel.lines[i];
        series.push({
          label: line.name,
          stroke: line.named ? PALETTE[i % PALETTE.length] : THIN,
          width: line.named ? 2 : 1,
          points: { show: false },
          paths: boolean ? uPlot.paths.stepped({ align: 1 }) : undefined,
        });
        columns.push(lineValues(line, boolean ? 0.03 * i : 0));
      }
    }

    const named = panel.lines.filter(function (l) { return l.named; });
    if (varchar) {
      panel.values.forEach(function (v, id) {
        entry(VALUE_COLOURS[Math.min(id, VALUE_COLOURS.length - 1)], v);
      });
    } else {
      named.forEach(function (l, i) { entry(PALETTE[i % PALETTE.length], l.name); });
      const thin = panel.lines.length - named.length;
      if (thin > 0) entry(THIN, "+" + thin + " more (thin)");
      if (panel.rest) entry(ENVELOPE, "+" + panel.rest.series + " more (band: min–max)");
    }
    if (varchar && panel.rest) entry(THIN, "+" + panel.rest.series + " series not drawn");

    function x(u, t) { return u.valToPos(t, "x", true); }

    // Under the axes and series: step stretches, varchar lanes, anomaly
    // windows (over the lanes, which are opaque).
    function underlay(u) {
      const ctx = u.ctx, b = u.bbox, pr = uPlot.pxRatio;
      ctx.save();
      ctx.beginPath();
      ctx.rect(b.left, b.top, b.width, b.height);
      ctx.clip();
      for (const s of panel.steps) {
        const x0 = x(u, s.from), x1 = Math.max(x(u, s.to), x0 + pr);
        ctx.fillStyle = (STEP[s.kind] || STEP.extrapolate)[0];
        ctx.fillRect(x0, b.top, x1 - x0, b.height);
      }
      if (varchar) {
        const n = Math.max(panel.lines.length, 1), h = b.height / n;
        panel.lines.forEach(function (line, i) {
          const y0 = b.top + h * i + pr, y1 = b.top + h * (i + 1) - pr;
          const gaps = new Set(line.gaps);
          const pts = line.points;
          let start = null;
          for (let k = 0; k < pts.length; k++) {
            const c = pts[k][0], value = pts[k][1];
            if (start === null) start = c;
            const next = pts[k + 1];
            const ends = gaps.has(c) || !next || next[1] !== value;
            if (!ends) continue;
            const end = next && !gaps.has(c) ? next[0] : c + 1;
            const x0 = x(u, data.from + start * width), x1 = x(u, data.from + end * width);
            ctx.fillStyle = VALUE_COLOURS[Math.min(value, VALUE_COLOURS.length - 1)];
            ctx.fillRect(x0, y0, Math.max(x1 - x0, pr), y1 - y0);
            start = null;
          }
        });
      }
      for (const w of panel.anomalies) {
        const x0 = x(u, w.from), x1 = Math.max(x(u, w.to), x0 + 2 * pr);
        ctx.fillStyle = ANOMALY;
        ctx.fillRect(x0, b.top, x1 - x0, b.height);
      }
      // Expectations: a bracket along the bottom, as in the SVG.
      data.expectations.forEach(function (w, i) {
        const x0 = x(u, w.from), x1 = Math.max(x(u, w.to), x0 + 2 * pr);
        const y = b.top + b.height - 4 * (i % 4) * pr;
        ctx.fillStyle = EXPECT;
        ctx.fillRect(x0, y - 3 * pr, x1 - x0, 3 * pr);
        ctx.fillRect(x0, y - 9 * pr, 2 * pr, 9 * pr);
        ctx.fillRect(x1 - 2 * pr, y - 9 * pr, 2 * pr, 9 * pr);
      });
      ctx.restore();
    }

    // Over everything: the bands' labels, the lanes' names, `now`.
    function overlay(u) {
      const ctx = u.ctx, b = u.bbox, pr = uPlot.pxRatio, right = b.left + b.width;
      ctx.save();
      ctx.beginPath();
      ctx.rect(b.left, b.top, b.width, b.height);
      ctx.clip();
      panel.steps.forEach(function (s, i) {
        label(ctx, s.kind + " · line " + s.line, Math.max(x(u, s.from), b.left), b.top + b.height -
          (14 + 12 * (i % 2)) * pr, (STEP[s.kind] || STEP.extrapolate)[1], right, pr);
      });
      panel.anomalies.forEach(function (w, i) {
        label(ctx, w.kind + " · line " + w.line, Math.max(x(u, w.from), b.left),
          b.top + (2 + 12 * (i % 3)) * pr, ANOMALY_INK, right, pr);
      });
      data.expectations.forEach(function (w, i) {
        label(ctx, "expect · line " + w.line, Math.max(x(u, w.from), b.left),
          b.top + b.height - (44 + 12 * (i % 3)) * pr, EXPECT, right, pr);
      });
      ctx.restore();
      if (varchar) {
        const n = Math.max(panel.lines.length, 1), h = b.height / n;
        ctx.font = 9 * pr + "px sans-serif";
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        ctx.fillStyle = "#777";
        panel.lines.forEach(function (line, i) {
          let text = laneLabel(line.name);
          if (text.length > 12) text = text.slice(0, 11) + "…";
          ctx.fillText(text, b.left - 4 * pr, b.top + h * (i + 0.5));
        });
      }
      const nx = x(u, data.now);
      if (data.now >= u.scales.x.min && data.now <= u.scales.x.max) {
        ctx.strokeStyle = "#141414";
        ctx.lineWidth = 2 * pr;
        ctx.beginPath();
        ctx.moveTo(nx, b.top - 4 * pr);
        ctx.lineTo(nx, b.top + b.height);
        ctx.stroke();
        ctx.font = 11 * pr + "px sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "bottom";
        ctx.fillStyle = "#141414";
        ctx.fillText("now", nx, b.top - 5 * pr);
      }
    }

    const yAxis = { size: 80 };
    const yScale = { auto: true };
    if (boolean) {
      yScale.auto = false;
      yScale.range = [-0.1, 1.1 + 0.03 * panel.lines.length];
      yAxis.splits = function () { return [0, 1]; };
      yAxis.values = function (u, splits) { return splits.map(function (v) { return v ? "true" : "false"; }); };
    } else if (varchar) {
      yScale.auto = false;
      yScale.range = [0, 1];
      yAxis.splits = function () { return []; };
      yAxis.grid = { show: false };
      yAxis.ticks = { show: false };
    }
    const xAxis = {
      values: data.anchored ? utcTicks : function (u, splits) { return splits.map(offsetLabel); },
    };

    const opts = {
      width: chartWidth(),
      height: PLOT_HEIGHT + 50,
      padding: [20, 24, 0, 0],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false },
        points: { show: false },
        sync: { key: "outatime", setSeries: false },
      },
      scales: { x: { time: true }, y: yScale },
      axes: [xAxis, yAxis],
      series: series,
      bands: bands,
      hooks: {
        drawClear: [underlay],
        draw: [overlay],
        setCursor: [function (u) {
          const left = u.cursor.left;
          at.textContent = left == null || left < 0 ? "" :
            (data.anchored ? utcLabel : offsetLabel)(u.posToVal(left, "x"));
        }],
        setScale: [function (u, key) {
          if (key !== "x" || syncing) return;
          syncing = true;
          for (const other of charts) {
            if (other !== u) other.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
          }
          syncing = false;
        }],
      },
    };
    const u = new uPlot(opts, columns, chartEl);
    charts.push(u);
    panZoom(u);
    return u;
  }

  // Wheel: zoom about the pointer; shift+drag or middle-drag: pan.
  function panZoom(u) {
    const over = u.over;
    over.addEventListener("wheel", function (e) {
      e.preventDefault();
      const sc = u.scales.x, at = u.posToVal(e.offsetX, "x");
      const f = e.deltaY < 0 ? 0.8 : 1.25;
      u.setScale("x", { min: at - (at - sc.min) * f, max: at + (sc.max - at) * f });
    }, { passive: false });
    over.addEventListener("mousedown", function (e) {
      if (!(e.shiftKey || e.button === 1)) return;
      e.preventDefault();
      e.stopPropagation();
      const x0 = e.clientX, min = u.scales.x.min, max = u.scales.x.max;
      const perPx = (max - min) / over.clientWidth;
      function move(m) {
        const d = (m.clientX - x0) * perPx;
        u.setScale("x", { min: min - d, max: max - d });
      }
      function up() {
        document.removeEventListener("mousemove", move);
        document.removeEventListener("mouseup", up);
      }
      document.addEventListener("mousemove", move);
      document.addEventListener("mouseup", up);
    }, true);
  }

  try {
    let subtitle = data.anchored ? "now = " + data.now_text + " · times in UTC" :
      "no --anchor: times are offsets from now";
    if (data.panels_left_out > 0) {
      subtitle += " · " + data.panels_left_out + " more panel(s) not drawn (pick with --measure)";
    }
    document.getElementById("subtitle").textContent = subtitle;
    for (const panel of data.panels) makePanel(panel);
    for (const u of charts) u.setScale("x", { min: data.from, max: data.to });
    document.getElementById("reset").addEventListener("click", function () {
      if (charts.length) charts[0].setScale("x", { min: data.from, max: data.to });
    });
    window.addEventListener("resize", function () {
      for (const u of charts) u.setSize({ width: chartWidth(), height: PLOT_HEIGHT + 50 });
    });
    body.dataset.rendered = String(charts.length);
  } catch (e) {
    body.dataset.error = String(e && e.stack || e);
  }
})();
