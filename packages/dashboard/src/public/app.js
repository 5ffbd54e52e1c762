// The teamchat metrics dashboard. Plain browser JS (an ES module, no bundler): Chart.js, its zoom
// plugin and Hammer.js are loaded as UMD scripts by index.html, all served by the teamchat server.
//
// Data flow: on load, GET api/metrics for the selected range (stored history), then the WebSocket
// api/live pushes every new snapshot. When the socket drops (server restart), the page reconnects
// with backoff and fetches the gap. Replay fetches a stored range and plays it back as an animation.
//
// Bounded whatever the number of rooms: the server names at most ROOMS_SHOWN rooms per answer and
// sums the rest under "(other)" (keyed and invite-only rooms are always summed under "(private)");
// live snapshots are cut down the same way as they arrive, and the charts draw the ROOMS_SHOWN
// busiest rooms of what is on screen.
import { csvHeader, csvRow } from './metrics-csv.js';
import { OTHER_ROOMS, PRIVATE_ROOMS, compactSnapshot, foldSnapshot, isAggregate, pickRooms } from './snapshot-rooms.js';

const Chart = window.Chart;
const $ = (id) => document.getElementById(id);

const MAX_SNAPSHOTS = 20_000;
const HISTORY_POINTS = 3000;
// The server answers at most 100,000 room entries: points x (rooms + 2).
const REPLAY_POINTS = 4000;
/** Rooms drawn, kept per snapshot and asked of the server (`rooms=`); the rest are "(other)". */
const ROOMS_SHOWN = 20;
/** The server refused a range as too large: the history shows its newest part, down to this. */
const MIN_HISTORY_MS = 2 * 60_000;
/** Colours of the aggregates, outside the palette. */
const AGGREGATE_COLORS = { [OTHER_ROOMS]: '#6b7790', [PRIVATE_ROOMS]: '#a3acbf' };
const GRID = '#1b2640';
const TICK = '#8b97b0';

const state = {
  info: null,
  /** server clock minus browser clock (ms) */
  clockOffset: 0,
  intervalMs: 2000,
  window: 5,
  rangeMs: Number($('range').value),
  /** live snapshots, oldest first, unique by ts */
  snapshots: [],
  status: 'connecting',
  ws: null,
  reconnectDelay: 500,
  replay: null,
  replayInputsTouched: false,
  hiddenRooms: new Set(),
};

const serverNow = () => Date.now() + state.clockOffset;

// ---------- formatting ----------

const pad = (n) => String(n).padStart(2, '0');
function fmtTime(ms, withDate = false) {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}` : time;
}
function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtRate = (n) => (n >= 100 ? fmtInt(n) : n.toFixed(1));
function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  return h > 0
    ? `${h}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`
    : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

/**
 * One colour per room, the same in both charts, the table and the legend. New rooms take the
 * first palette colour no room on this screen has yet (in name order), so the first dozen rooms
 * are all clearly different; the choice is remembered in localStorage, so a room keeps its colour
 * across reloads and server restarts. Past the palette, a room's name hashes to a colour.
 */
const PALETTE = [
  '#5aa9f7',
  '#f28e2b',
  '#6cc24a',
  '#e15759',
  '#c08bd6',
  '#edc948',
  '#76d7c4',
  '#ff7eb6',
  '#c49a7c',
  '#d0d4dc',
  '#3b6fd1',
  '#b6e35a',
];
const COLOR_KEY = 'teamchat.dashboard.roomColors';
const colorOf = new Map(loadColors());
function loadColors() {
  try {
    const saved = JSON.parse(localStorage.getItem(COLOR_KEY) ?? '{}');
    return Object.entries(saved).filter(([, c]) => PALETTE.includes(c));
  } catch {
    return [];
  }
}
function hashName(room) {
  let h = 0x811c9dc5;
  for (let i = 0; i < room.length; i++) {
    h ^= room.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
function assignColors(rooms) {
  const fresh = [...rooms].filter((room) => !colorOf.has(room) && !isAggregate(room)).sort();
  if (fresh.length === 0) return;
  const onScreen = new Set([...rooms].map((room) => colorOf.get(room)).filter(Boolean));
  for (const room of fresh) {
    const free = PALETTE.find((c) => !onScreen.has(c)) ?? PALETTE[hashName(room) % PALETTE.length];
    colorOf.set(room, free);
    onScreen.add(free);
  }
  try {
    localStorage.setItem(COLOR_KEY, JSON.stringify(Object.fromEntries(colorOf)));
  } catch {
    // Private mode: colours still hold for this page.
  }
}
function roomColor(room, alpha = 1) {
  if (!isAggregate(room) && !colorOf.has(room)) assignColors([room]);
  const hex = AGGREGATE_COLORS[room] ?? colorOf.get(room) ?? PALETTE[hashName(room) % PALETTE.length];
  if (alpha === 1) return hex;
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** A round tick step (1 s … 1 day) giving about 8 ticks over `span` ms. */
function niceStep(span) {
  const steps = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5];
  return steps.find((step) => span / step <= 9) ?? 864e5;
}

// ---------- charts ----------

Chart.defaults.color = TICK;
Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;

function onViewChanged() {
  render();
}

const mpsChart = new Chart($('chart-mps'), {
  type: 'line',
  data: { datasets: [] },
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hoverRadius: 4 }, line: { borderWidth: 2.2, cubicInterpolationMode: 'monotone' } },
    scales: {
      x: {
        type: 'linear',
        grid: { color: GRID },
        // Ticks on round local times (every 15 s, 1 min, 1 h …), whatever the edges of the view.
        afterBuildTicks: (scale) => {
          const step = niceStep(scale.max - scale.min);
          const tz = new Date(scale.min).getTimezoneOffset() * 60_000;
          const ticks = [];
          for (let t = Math.ceil((scale.min - tz) / step) * step + tz; t <= scale.max; t += step)
            ticks.push({ value: t });
          scale.ticks = ticks;
        },
        ticks: {
          maxRotation: 0,
          autoSkipPadding: 24,
          callback: (value, _i, ticks) => {
            const span = ticks.length > 1 ? ticks[ticks.length - 1].value - ticks[0].value : 0;
            return fmtTime(value, span > 86_400_000);
          },
        },
      },
      y: { beginAtZero: true, grid: { color: GRID }, title: { display: true, text: 'messages / s' } },
    },
    plugins: {
      legend: {
        position: 'top',
        align: 'end',
        labels: {
          boxWidth: 14,
          boxHeight: 3,
          filter: (item, data) => !data.datasets[item.datasetIndex].isAverage,
        },
        onClick: (_e, item) => {
          const room = mpsChart.data.datasets[item.datasetIndex].room;
          if (state.hiddenRooms.has(room)) state.hiddenRooms.delete(room);
          else state.hiddenRooms.add(room);
          render();
        },
      },
      tooltip: {
        callbacks: {
          title: (items) => (items.length ? fmtTime(items[0].parsed.x, true) : ''),
          label: (item) => ` ${item.dataset.label}: ${item.parsed.y} msg/s`,
        },
      },
      zoom: {
        limits: { y: { min: 0 } },
        zoom: {
          wheel: { enabled: true },
          pinch: { enabled: true },
          drag: {
            enabled: true,
            modifierKey: 'shift',
            backgroundColor: 'rgba(56,189,248,0.15)',
            borderColor: '#38bdf8',
            borderWidth: 1,
          },
          mode: 'x',
          onZoomComplete: onViewChanged,
        },
        pan: { enabled: true, mode: 'x', onPanComplete: onViewChanged },
      },
    },
  },
});

const barChart = new Chart($('chart-joins'), {
  type: 'bar',
  data: {
    labels: [],
    datasets: [
      { label: 'joins', data: [], backgroundColor: 'rgba(52, 211, 153, 0.85)', borderRadius: 4 },
      { label: 'leaves', data: [], backgroundColor: 'rgba(248, 113, 113, 0.85)', borderRadius: 4 },
    ],
  },
  options: {
    animation: { duration: 250 },
    responsive: true,
    maintainAspectRatio: false,
    scales: {
      x: {
        grid: { display: false },
        ticks: { color: (ctx) => roomColor(String(ctx.chart.data.labels[ctx.index] ?? '')), font: { weight: 600 } },
      },
      y: { beginAtZero: true, grid: { color: GRID }, ticks: { precision: 0 } },
    },
    plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 12 } } },
  },
});

// ---------- what is on screen ----------

/** The snapshots the charts draw from: live data, or the replay up to its cursor. */
function source() {
  const r = state.replay;
  return r ? r.frames.slice(0, r.index) : state.snapshots;
}

/** The x range on screen. */
function visibleRange() {
  const x = mpsChart.scales.x;
  if (x && Number.isFinite(x.min) && Number.isFinite(x.max) && x.max > x.min) return { min: x.min, max: x.max };
  const now = serverNow();
  return { min: now - state.rangeMs, max: now };
}

function onScreen() {
  const { min, max } = visibleRange();
  return source().filter((s) => s.ts >= min && s.ts <= max);
}

/** Snapshots folded onto `rooms` (the rest summed under "(other)"); cached per snapshot and room set. */
const folded = new WeakMap();
function foldAll(snaps, rooms) {
  const key = rooms.join('\n');
  const keep = new Set(rooms.filter((room) => !isAggregate(room)));
  return snaps.map((s) => {
    const cached = folded.get(s);
    if (cached?.key === key) return cached.view;
    const view = foldSnapshot(s, keep);
    folded.set(s, { key, view });
    return view;
  });
}

function buildDatasets(snaps, rooms) {
  const datasets = [];
  const gapMs = state.intervalMs * 3.5;
  for (const room of rooms) {
    const instant = [];
    const average = [];
    let prev = null;
    for (const s of snaps) {
      const r = s.rooms[room];
      if (!r) {
        prev = null;
        continue;
      }
      // A hole in the data (server down) shows as a gap, not as a straight line across it.
      if (prev !== null && s.ts - prev > gapMs + (s.intervalMs || 0)) {
        instant.push({ x: prev + 1, y: null });
        average.push({ x: prev + 1, y: null });
      }
      instant.push({ x: s.ts, y: r.mps });
      average.push({ x: s.ts, y: r.avgMps });
      prev = s.ts;
    }
    const hidden = state.hiddenRooms.has(room);
    datasets.push(
      {
        label: room,
        room,
        data: instant,
        borderColor: roomColor(room),
        backgroundColor: roomColor(room),
        hidden,
        spanGaps: false,
      },
      {
        label: `${room} avg`,
        room,
        isAverage: true,
        data: average,
        borderColor: roomColor(room, 0.75),
        backgroundColor: roomColor(room, 0.75),
        borderDash: [7, 5],
        borderWidth: 1.6,
        hidden,
        spanGaps: false,
      },
    );
  }
  return datasets;
}

function render() {
  const snaps = source();
  const rooms = pickRooms(snaps, ROOMS_SHOWN);
  assignColors(rooms);
  mpsChart.data.datasets = buildDatasets(foldAll(snaps, rooms), rooms);
  const x = mpsChart.options.scales.x;
  if (!mpsChart.isZoomedOrPanned()) {
    if (state.replay) {
      x.min = state.replay.from;
      x.max = state.replay.to;
    } else {
      // The selected range, or less while the stored history is shorter (at least 20 intervals).
      // The newest snapshot is always in view, even if the clocks disagree by a few ms.
      const now = Math.max(serverNow(), state.snapshots[state.snapshots.length - 1]?.ts ?? 0);
      const first = state.snapshots[0]?.ts ?? now;
      x.min = Math.min(
        Math.max(now - state.rangeMs, first - state.intervalMs),
        now - Math.max(20 * state.intervalMs, 10_000),
      );
      x.max = now;
    }
  }
  mpsChart.update('none');
  $('mps-empty').hidden = rooms.length > 0;
  $('mps-empty').textContent = snaps.length === 0 ? 'Waiting for data…' : 'No rooms yet: waiting for the first join';

  const shown = onScreen();
  const barRooms = pickRooms(shown, ROOMS_SHOWN);
  const bars = foldAll(shown, barRooms);
  barChart.data.labels = barRooms;
  barChart.data.datasets[0].data = barRooms.map((room) =>
    bars.reduce((sum, s) => sum + (s.rooms[room]?.joins ?? 0), 0),
  );
  barChart.data.datasets[1].data = barRooms.map((room) =>
    bars.reduce((sum, s) => sum + (s.rooms[room]?.leaves ?? 0), 0),
  );
  $('omitted-note').hidden = !snaps.some((s) => s.roomsOmitted);
  barChart.update();
  const { min, max } = visibleRange();
  $('bars-range').textContent = `${fmtTime(min)} – ${fmtTime(max)}`;

  renderHeadline(snaps[snaps.length - 1], shown);
  renderTable(snaps[snaps.length - 1]);
  if (!state.replay && !state.replayInputsTouched) {
    $('replay-from').value = toLocalInput(min);
    $('replay-to').value = toLocalInput(max);
  }
}

function renderHeadline(latest, shown) {
  if (!latest) return;
  const t = latest.totals;
  $('total-messages').textContent = fmtInt(t.messagesTotal);
  const inRange = shown.reduce((sum, s) => sum + s.totals.messages, 0);
  $('total-sub').textContent = `${fmtInt(inRange)} in the range shown · ${fmtInt(t.privateMessagesTotal ?? 0)} private`;
  $('mps-now').textContent = fmtRate(t.mps);
  $('mps-sub').textContent = `average ${fmtRate(t.avgMps)}/s over ${state.window} intervals`;
  $('connections').textContent = fmtInt(t.connections);
  const peak = shown.reduce((m, s) => Math.max(m, s.totals.connections), 0);
  $('connections-sub').textContent = `peak ${fmtInt(peak)} in the range shown`;
  // What the server held back in the range shown (snapshots of older servers do not count it).
  const refused = shown.reduce((sum, s) => sum + (s.totals.connectionsRefused ?? 0), 0);
  const delayed = shown.reduce((sum, s) => sum + (s.totals.floodDelayed ?? 0), 0);
  const heldBack = $('held-back');
  heldBack.textContent = `${fmtInt(refused)} refused · ${fmtInt(delayed)} delayed by flood control`;
  heldBack.classList.toggle('warn', refused > 0 || delayed > 0);
  $('rooms').textContent = fmtInt(t.rooms);
  const members = Object.values(latest.rooms).reduce((sum, r) => sum + r.members, 0);
  $('rooms-sub').textContent = `${fmtInt(members)} members online`;
}

function renderTable(latest) {
  const body = $('room-table').tBodies[0];
  body.replaceChildren();
  if (!latest) return;
  $('table-when').textContent = `at ${fmtTime(latest.ts)}`;
  const rows = Object.entries(latest.rooms).sort(
    (a, b) => b[1].members - a[1].members || b[1].mps - a[1].mps || a[0].localeCompare(b[0]),
  );
  for (const [room, r] of rows) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = roomColor(room);
    name.append(swatch, document.createTextNode(room));
    tr.append(name);
    for (const value of [fmtInt(r.members), fmtRate(r.mps), fmtRate(r.avgMps), fmtInt(r.messagesTotal ?? 0)]) {
      const td = document.createElement('td');
      td.className = 'num';
      td.textContent = value;
      tr.append(td);
    }
    body.append(tr);
  }
}

// ---------- data ----------

/** Adds snapshots (any order) to the live store, keeping it sorted, unique by ts and bounded. */
function mergeSnapshots(incoming) {
  if (incoming.length === 0) return;
  const byTs = new Map(state.snapshots.map((s) => [s.ts, s]));
  for (const s of incoming) byTs.set(s.ts, compactSnapshot(s, ROOMS_SHOWN));
  let all = [...byTs.values()].sort((a, b) => a.ts - b.ts);
  const keepFrom = serverNow() - Math.max(state.rangeMs, 3_600_000) * 1.2;
  all = all.filter((s) => s.ts >= keepFrom);
  if (all.length > MAX_SNAPSHOTS) all = all.slice(-MAX_SNAPSHOTS);
  state.snapshots = all;
}

async function fetchSnapshots(from, to, limit) {
  const url = `api/metrics?from=${Math.floor(from)}&to=${Math.ceil(to)}&limit=${limit}&rooms=${ROOMS_SHOWN}`;
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    err.code = body?.error?.code;
    throw err;
  }
  return (await res.json()).snapshots;
}

/**
 * Loads stored history: the whole range, or only what is newer than what the page has. When the
 * server refuses the range as too large to read at once, it loads the newest part it will answer.
 */
async function loadHistory({ gapOnly = false } = {}) {
  const now = serverNow();
  const last = state.snapshots[state.snapshots.length - 1];
  let from = gapOnly && last ? last.ts + 1 : now - state.rangeMs;
  for (;;) {
    try {
      mergeSnapshots(await fetchSnapshots(from, now + 60_000, HISTORY_POINTS));
      if (!gapOnly) {
        const cut = from > now - state.rangeMs + 1;
        $('history-note').hidden = !cut;
        $('history-note').textContent = cut
          ? ` · the range holds too much data for one request: showing its last ${fmtDuration(now - from)}`
          : '';
      }
      render();
      return;
    } catch (err) {
      if (err.code === 'TC_HTTP_RANGE_TOO_LARGE' && now - from > MIN_HISTORY_MS) {
        from = now - Math.max(MIN_HISTORY_MS, (now - from) / 4);
        continue;
      }
      $('notice').textContent = `could not load history: ${err.message}`;
      return;
    }
  }
}

async function loadInfo() {
  try {
    const res = await fetch('api/info', { cache: 'no-store' });
    if (res.ok) applyInfo(await res.json());
  } catch {
    // The live feed's hello carries the same; the page retries on reconnect.
  }
}

function applyInfo(info) {
  if (typeof info.now === 'number') state.clockOffset = info.now - Date.now();
  state.info = info.info ?? info;
  if (info.metrics) {
    state.intervalMs = info.metrics.intervalMs;
    state.window = info.metrics.window;
  }
  const i = state.info;
  $('server-name').textContent = `${i.name ?? 'teamchat'} ${i.version ?? ''} · up since ${fmtTime(i.startedAt, true)}`;
  $('notice').textContent = `snapshots every ${state.intervalMs / 1000} s · moving average over ${state.window}`;
  updateClock();
}

// ---------- live feed ----------

function setStatus(status, text) {
  state.status = status;
  const el = $('status');
  el.className = `status status-${state.replay ? 'replay' : status}`;
  $('status-text').textContent = state.replay ? 'replay' : text;
}

function connect() {
  const url = new URL('api/live', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  state.ws = ws;
  ws.onmessage = (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type === 'hello') {
      state.reconnectDelay = 500;
      applyInfo(msg);
      setStatus('live', 'live');
      void loadHistory({ gapOnly: state.snapshots.length > 0 });
    } else if (msg.type === 'snapshot') {
      mergeSnapshots([msg.snapshot]);
      if (!state.replay) render();
    }
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    const delay = state.reconnectDelay;
    state.reconnectDelay = Math.min(delay * 2, 5000);
    setStatus('reconnecting', `reconnecting in ${Math.ceil(delay / 1000)} s…`);
    setTimeout(connect, delay);
  };
}

// ---------- clock and demo countdown ----------

function updateClock() {
  const now = serverNow();
  $('clock').textContent = fmtTime(now);
  const endsAt = state.info?.demoEndsAt;
  const demo = $('demo');
  if (typeof endsAt === 'number') {
    demo.hidden = false;
    const left = endsAt - now;
    demo.classList.toggle('ended', left <= 0);
    if (left > 0) demo.innerHTML = `Demo ends in <strong id="demo-left">${fmtDuration(left)}</strong>`;
    else demo.textContent = 'Demo ended';
  } else {
    demo.hidden = true;
  }
  // Keep the live view sliding even when no snapshot arrives (server down).
  if (!state.replay && !mpsChart.isZoomedOrPanned() && state.status !== 'live') render();
}

// ---------- export ----------

function exportCsv() {
  const shown = onScreen();
  const rooms = pickRooms(shown, ROOMS_SHOWN);
  let text = csvHeader(rooms);
  for (const s of foldAll(shown, rooms)) text += csvRow(s, rooms);
  const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  const { min, max } = visibleRange();
  a.download = `teamchat-metrics-${toLocalInput(min).replace(/:/g, '')}-${toLocalInput(max).replace(/:/g, '')}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30_000);
}

// ---------- replay ----------

function replayStatus(text) {
  $('replay-status').textContent = text;
}

async function startReplay() {
  const from = new Date($('replay-from').value).getTime();
  const to = new Date($('replay-to').value).getTime();
  $('replay-bar').hidden = false;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    replayStatus('Pick a replay start before its end.');
    return;
  }
  replayStatus('Loading…');
  let frames;
  try {
    frames = await fetchSnapshots(from, to, REPLAY_POINTS);
  } catch (err) {
    replayStatus(`Could not load the range: ${err.message}`);
    return;
  }
  if (frames.length === 0) {
    replayStatus('No snapshots stored in that range.');
    return;
  }
  state.replay = { frames, from, to, cursor: from, index: 0, playing: true, last: performance.now(), timer: 0 };
  mpsChart.resetZoom('none');
  $('replay-stop').disabled = false;
  setStatus(state.status, '');
  state.replay.timer = setInterval(stepReplay, 100);
  stepReplay();
}

function stepReplay() {
  const r = state.replay;
  if (!r) return;
  const now = performance.now();
  if (r.playing) r.cursor = Math.min(r.to, r.cursor + (now - r.last) * Number($('replay-speed').value));
  r.last = now;
  let index = r.index;
  if (index > 0 && r.frames[index - 1].ts > r.cursor) index = 0;
  while (index < r.frames.length && r.frames[index].ts <= r.cursor) index++;
  if (index !== r.index) {
    r.index = index;
    render();
  }
  const pct = ((r.cursor - r.from) / (r.to - r.from)) * 100;
  $('replay-progress-fill').style.width = `${pct.toFixed(1)}%`;
  if (r.cursor >= r.to) {
    r.playing = false;
    clearInterval(r.timer);
    $('replay-play').textContent = '↻ Again';
    replayStatus(
      `Finished · ${r.frames.length} snapshots replayed · ${fmtTime(r.from, true)} – ${fmtTime(r.to, true)}`,
    );
    return;
  }
  $('replay-play').textContent = r.playing ? '❚❚ Pause' : '▶ Play';
  replayStatus(
    `${r.playing ? 'Playing' : 'Paused'} · ${$('replay-speed').value}× · ${fmtTime(r.cursor, true)} · ${r.index}/${r.frames.length} snapshots · ${pct.toFixed(0)}%`,
  );
}

function togglePlay() {
  const r = state.replay;
  if (!r) return void startReplay();
  if (r.cursor >= r.to) {
    // Again from the start.
    r.cursor = r.from;
    r.index = 0;
    r.playing = true;
    r.last = performance.now();
    r.timer = setInterval(stepReplay, 100);
    render();
  } else {
    r.playing = !r.playing;
    r.last = performance.now();
  }
  stepReplay();
}

function stopReplay() {
  const r = state.replay;
  if (r) clearInterval(r.timer);
  state.replay = null;
  state.replayInputsTouched = false;
  $('replay-bar').hidden = true;
  $('replay-stop').disabled = true;
  $('replay-play').textContent = '▶ Play';
  mpsChart.resetZoom('none');
  setStatus(state.status, state.status === 'live' ? 'live' : 'reconnecting…');
  render();
}

// ---------- wiring ----------

$('range').addEventListener('change', () => {
  state.rangeMs = Number($('range').value);
  mpsChart.resetZoom('none');
  void loadHistory();
});
$('reset-zoom').addEventListener('click', () => {
  mpsChart.resetZoom('none');
  render();
});
$('export').addEventListener('click', exportCsv);
$('replay-play').addEventListener('click', togglePlay);
$('replay-stop').addEventListener('click', stopReplay);
for (const id of ['replay-from', 'replay-to']) {
  $(id).addEventListener('input', () => (state.replayInputsTouched = true));
}

setInterval(updateClock, 1000);
render();
await loadInfo();
await loadHistory();
connect();
