// chart.js: request rates from two samples of the cumulative counters, and a small line
// chart drawn on a <canvas> (no chart library; colours come from CSS custom properties).

const KEEP = 120;
const WINDOW_MS = 5 * 60 * 1000;

/** Turns successive `/api/v1/stats` answers into rates. */
export function createSampler() {
  let previous = null;
  const history = [];
  return {
    history,
    /** Adds a sample taken at `now` (ms); returns the per-role/operation rates, or null. */
    add(stats, now) {
      const counts = new Map();
      for (const r of (stats && stats.requests) || []) {
        const key = `${r.role || '-'}\u0000${r.operation || '-'}`;
        const entry = counts.get(key) || { role: r.role || '-', operation: r.operation || '-', total: 0, errors: 0 };
        entry.total += Number(r.count) || 0;
        if (r.outcome !== 'relayed') entry.errors += Number(r.count) || 0;
        counts.set(key, entry);
      }
      const sample = { at: now, uptime: Number(stats && stats.uptime_secs) || 0, counts };
      const before = previous;
      previous = sample;
      // A restart resets the counters: start over rather than show negative rates.
      if (!before || sample.uptime < before.uptime || now <= before.at) return null;
      const secs = (now - before.at) / 1000;
      const rows = [];
      let total = 0;
      let errors = 0;
      for (const [key, entry] of counts) {
        const old = before.counts.get(key) || { total: 0, errors: 0 };
        const rate = Math.max(0, entry.total - old.total) / secs;
        const errorRate = Math.max(0, entry.errors - old.errors) / secs;
        total += rate;
        errors += errorRate;
        rows.push({ role: entry.role, operation: entry.operation, rate, errorRate, count: entry.total, errorCount: entry.errors });
      }
      history.push({ at: now, total, errors });
      while (history.length > KEEP || (history.length && now - history[0].at > WINDOW_MS)) history.shift();
      rows.sort((a, b) => b.count - a.count);
      return { rows, total, errors };
    },
  };
}

function niceMax(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** Draws the history (requests/s and errors/s over time) on `canvas`. */
export function drawChart(canvas, history) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(200, canvas.clientWidth || 600);
  const height = Math.max(120, canvas.clientHeight || 200);
  // Width and height attributes set the drawing buffer; CSS sets the displayed size.
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  const css = getComputedStyle(canvas);
  const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const ink = color('--chart-ink', '#555');
  const grid = color('--chart-grid', '#ddd');
  const ok = color('--chart-ok', '#1f6feb');
  const bad = color('--chart-bad', '#c62828');
  const left = 44;
  const bottom = height - 22;
  const top = 10;
  const right = width - 10;
  g.clearRect(0, 0, width, height);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = ink;
  g.strokeStyle = grid;
  g.lineWidth = 1;
  const max = niceMax(Math.max(0, ...history.map((p) => Math.max(p.total, p.errors))));
  for (let i = 0; i <= 4; i += 1) {
    const y = bottom - ((bottom - top) * i) / 4;
    g.beginPath();
    g.moveTo(left, y);
    g.lineTo(right, y);
    g.stroke();
    const label = String(Number(((max * i) / 4).toFixed(2)));
    g.fillText(label, 4, y + 4);
  }
  g.fillText('per second, last 5 minutes', left, height - 6);
  if (history.length === 0) {
    g.fillText('Collecting samples…', left + 10, top + 20);
    return;
  }
  // A fixed five-minute window: new samples enter on the right, old ones leave on the left.
  const end = history[history.length - 1].at;
  const x = (p) => right - ((right - left) * Math.min(WINDOW_MS, end - p.at)) / WINDOW_MS;
  const y = (v) => bottom - ((bottom - top) * v) / max;
  const line = (pick, stroke, dash, dot) => {
    g.strokeStyle = stroke;
    g.fillStyle = stroke;
    g.lineWidth = 2;
    g.setLineDash(dash);
    g.beginPath();
    history.forEach((p, i) => (i === 0 ? g.moveTo(x(p), y(pick(p))) : g.lineTo(x(p), y(pick(p)))));
    g.stroke();
    g.setLineDash([]);
    // Dots make a single sample (and each sample) visible.
    for (const p of history) {
      g.beginPath();
      g.arc(x(p), y(pick(p)), dot, 0, 2 * Math.PI);
      g.fill();
    }
  };
  // The two lines often coincide (no traffic: both 0; every request failing: equal). The
  // errors go on top, dashed and with smaller dots, so the request line still shows through.
  line((p) => p.total, ok, [], 4);
  line((p) => p.errors, bad, [6, 4], 2);
}
