// mdevkitd's dashboard: reads /v1 on the agent's own origin, redraws on every event of /v1/events,
// and asks /v1/plan what fits. Plain DOM calls only: the page's CSP allows no inline code or markup strings.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
// Every event type the agent sends (an EventSource hears only the named types it listens to).
const EVENT_TYPES = ['device-added', 'device-removed', 'device-changed', 'parent-registered',
  'parent-unregistered', 'definition-changed', 'events-lost', 'reconcile-action', 'reconcile-drift'];
const EVENTS_SHOWN = 50;

const state = { parents: [], devices: [], uses: new Map() };

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== undefined && child !== null));
  return node;
}

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

// The agent's problem body says what went wrong (and why, in causes): shown as it is.
async function problem(response) {
  try {
    const body = await response.json();
    return [body.detail || body.title, ...(body.causes || [])].join(': ');
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

function setStatus(kind, text) {
  const status = document.getElementById('status');
  status.dataset.state = kind;
  status.textContent = text;
}

// ---- capacity ----

// Running devices per parent and type: what each type's bar counts as used.
function usedCounts() {
  const used = new Map();
  for (const device of state.devices) {
    if (!device.active) continue;
    const key = `${device.parent}\u0000${device.type}`;
    used.set(key, (used.get(key) || 0) + 1);
  }
  return used;
}

// Each type's bar: used and free as the kernel says now; a type that offers nothing while another type
// of its parent runs devices is blocked by that type (NVIDIA's one type per GPU), unless the probed model
// says the parent is a shared pool, where an empty type is simply out of room.
function typeRows(parent, used) {
  const rows = parent.types.map((type) => ({
    id: type.id,
    name: type.name,
    used: used.get(`${parent.name}\u0000${type.id}`) || 0,
    free: type.availableInstances,
  }));
  const busy = rows.filter((row) => row.used > 0).map((row) => row.id);
  const pool = parent.model && parent.model.kind === 'shared-pool';
  for (const row of rows) {
    if (row.used > 0 || row.free > 0) row.state = 'available';
    else if (busy.length > 0 && !pool) { row.state = 'blocked'; row.blockedBy = busy.join(', '); }
    else row.state = 'none';
  }
  return rows;
}

function kindText(parent, rows) {
  const kind = !parent.model ? 'not probed'
    : parent.model.kind === 'exclusive' ? 'one type at a time'
      : parent.model.kind === 'shared-pool' ? `shared pool of ${parent.model.pool} units` : 'independent types';
  const blocker = rows.find((row) => row.state === 'blocked');
  return blocker ? `${kind} · holds ${blocker.blockedBy}` : kind;
}

// The chart's own units; the page scales it to its card, so a card about 400 pixels wide shows it 1:1.
const LABEL_WIDTH = 110;
const BAR_WIDTH = 170;
const ROW_HEIGHT = 22;
const WIDTH = 400;

function barRow(row, index, scale) {
  const y = index * ROW_HEIGHT;
  const group = svg('g', {
    class: `type ${row.state}`, 'data-type': row.id, 'data-used': row.used, 'data-free': row.free, 'data-state': row.state,
  });
  group.append(svg('text', { x: 0, y: y + 16, class: 'type-label' }, row.id));
  const x = LABEL_WIDTH;
  if (row.state === 'available') {
    const usedWidth = row.used * scale;
    group.append(svg('rect', { x, y: y + 4, width: BAR_WIDTH, height: 16, rx: 3, class: 'track' }));
    group.append(svg('rect', { x, y: y + 4, width: usedWidth, height: 16, rx: 3, class: 'used' }));
    group.append(svg('rect', { x: x + usedWidth, y: y + 4, width: row.free * scale, height: 16, class: 'free' }));
  } else {
    group.append(svg('rect', { x, y: y + 4, width: BAR_WIDTH, height: 16, rx: 3, class: row.state }));
  }
  const figures = row.state === 'blocked' ? 'blocked' : row.state === 'none' ? 'none left' : `${row.used} used · ${row.free} free`;
  group.append(svg('text', { x: x + BAR_WIDTH + 8, y: y + 16, class: 'figures' }, figures));
  group.append(svg('title', {}, `${row.id}${row.name ? ` (${row.name})` : ''}: ${row.state === 'blocked' ? `blocked by ${row.blockedBy}` : figures}`));
  return group;
}

// A shared pool as one bar: the units each type's running devices take, and what is left.
function poolBar(parent, rows) {
  const model = parent.model;
  const cost = new Map(model.types.map((type) => [type.type, type.cost || 0]));
  const scale = BAR_WIDTH / Math.max(1, model.pool);
  const group = svg('g', { class: 'pool', 'data-pool': model.pool });
  group.append(svg('text', { x: 0, y: 16, class: 'type-label' }, 'pool'));
  group.append(svg('rect', { x: LABEL_WIDTH, y: 4, width: BAR_WIDTH, height: 16, rx: 3, class: 'free' }));
  let x = LABEL_WIDTH;
  let taken = 0;
  rows.forEach((row, index) => {
    const units = row.used * (cost.get(row.id) || 0);
    if (units === 0) return;
    group.append(svg('rect', { x, y: 4, width: units * scale, height: 16, class: `used shade${index % 4}` },
      svg('title', {}, `${row.id}: ${units} units`)));
    x += units * scale;
    taken += units;
  });
  group.append(svg('text', { x: LABEL_WIDTH + BAR_WIDTH + 8, y: 16, class: 'figures' }, `${taken} of ${model.pool} units`));
  return group;
}

function parentCard(parent, used) {
  const rows = typeRows(parent, used);
  const pooled = parent.model && parent.model.kind === 'shared-pool' && parent.model.pool;
  const offset = pooled ? 1 : 0;
  const height = Math.max(1, rows.length + offset) * ROW_HEIGHT + 4;
  const scale = BAR_WIDTH / Math.max(1, ...rows.map((row) => row.used + row.free));
  const summary = rows.map((row) => row.state === 'available' ? `${row.id} ${row.used} used, ${row.free} free`
    : row.state === 'blocked' ? `${row.id} blocked by ${row.blockedBy}` : `${row.id} none left`).join('; ');
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `${parent.name}: ${summary || 'no types'}` });
  if (pooled) chart.append(poolBar(parent, rows));
  rows.forEach((row, index) => chart.append(barRow(row, index + offset, scale)));
  if (rows.length === 0) chart.append(svg('text', { x: 0, y: 16, class: 'figures' }, 'offers no types now'));
  return el('article', { class: 'parent', 'data-parent': parent.name },
    el('h3', {}, parent.name),
    el('p', { class: 'kind' }, kindText(parent, rows)),
    chart);
}

function renderParents() {
  const used = usedCounts();
  document.getElementById('parents').replaceChildren(...state.parents.map((parent) => parentCard(parent, used)));
  renderTypeChoices();
}

// ---- devices and definitions ----

// The simulator's (and a VMM's) use of a device, as its change events name it.
const LIFECYCLE = { open: 'open', running: 'in use', 'release-requested': 'release requested' };

function deviceState(device) {
  const use = state.uses.get(device.uuid);
  if (device.active && use) return LIFECYCLE[use] || use;
  if (device.active && device.holder) return 'in use';
  if (device.active) return device.defined ? 'running' : 'running (transient)';
  return 'stopped';
}

function uuidCell(uuid) {
  return el('td', {}, el('code', {}, uuid));
}

function renderDevices() {
  const rows = state.devices.map((device) => {
    const current = deviceState(device);
    return el('tr', { 'data-uuid': device.uuid, 'data-parent': device.parent, 'data-state': current },
      uuidCell(device.uuid),
      el('td', {}, device.parent),
      el('td', {}, device.type),
      el('td', {}, el('span', { class: `badge ${current.split(' ')[0]}` }, current)),
      el('td', {}, holderText(device.holder)),
      el('td', {}, device.groups.length ? device.groups.join(', ') : '—'));
  });
  document.querySelector('#devices tbody').replaceChildren(...(rows.length ? rows : [emptyRow(6, 'No devices.')]));

  const definitions = state.devices.filter((device) => device.defined).map((device) =>
    el('tr', { 'data-uuid': device.uuid, 'data-parent': device.parent },
      uuidCell(device.uuid),
      el('td', {}, device.parent),
      el('td', {}, device.type),
      el('td', {}, device.autoStart ? 'auto' : 'manual'),
      el('td', {}, device.attributes.length
        ? el('ul', { class: 'attributes' }, ...device.attributes.map((attribute) => el('li', {}, el('code', {}, `${attribute.name}=${attribute.value}`))))
        : '—')));
  document.querySelector('#definitions tbody').replaceChildren(...(definitions.length ? definitions : [emptyRow(5, 'No definitions.')]));
}

// The process the agent found with the device open: its command and pid, and the libvirt domain it runs.
function holderText(holder) {
  if (!holder) return '—';
  const process = `${holder.command} (pid ${holder.pid})`;
  return holder.domain ? `${holder.domain}: ${process}` : process;
}

function emptyRow(columns, text) {
  return el('tr', { class: 'empty' }, el('td', { colspan: columns }, text));
}

// ---- reading the host ----

let refreshing = null;
let again = false;

// One read of parents and devices at a time; events that come during a read ask for one more after it.
function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    try {
      do {
        again = false;
        const [parents, devices] = await Promise.all([getJson('/v1/parents'), getJson('/v1/devices')]);
        state.parents = parents;
        state.devices = devices;
        renderParents();
        renderDevices();
      } while (again);
      document.body.dataset.loaded = 'true';
    } catch (error) {
      setStatus('error', `cannot read the host: ${error.message}`);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// ---- events ----

// The simulator's change events tell how far a device's use went (MDEV_LIFECYCLE): open, in use, release requested.
function noteUse(event) {
  const properties = event.properties || {};
  if (event.type === 'device-removed') state.uses.delete(event.uuid);
  if (event.type !== 'device-changed' || !event.uuid) return;
  const lifecycle = properties.MDEV_LIFECYCLE;
  if (lifecycle === 'released') state.uses.delete(event.uuid);
  else if (lifecycle) state.uses.set(event.uuid, lifecycle);
}

function describe(event) {
  const properties = event.properties || {};
  const what = [event.uuid, event.parent].filter(Boolean).join(' on ');
  const lifecycle = properties.MDEV_LIFECYCLE;
  // The reconciler's events say what it did or what differs, and why.
  const reconciled = properties.kind && [properties.kind, properties.reason || properties.detail].filter(Boolean).join(': ');
  return [what, lifecycle && `(${lifecycle})`, reconciled].filter(Boolean).join(' ');
}

function showEvent(event) {
  const list = document.getElementById('events');
  const time = new Date(event.time);
  list.prepend(el('li', { 'data-type': event.type, 'data-id': event.id },
    el('time', { datetime: event.time }, time.toTimeString().slice(0, 8)),
    el('span', { class: `event-type ${event.type}` }, event.type),
    el('span', { class: 'event-what' }, describe(event))));
  while (list.children.length > EVENTS_SHOWN) list.lastElementChild.remove();
}

function listen() {
  const source = new EventSource('/v1/events');
  source.addEventListener('open', () => {
    setStatus('live', 'live');
    // Whatever changed while the stream was down is read afresh.
    refresh();
  });
  source.addEventListener('error', () => setStatus('reconnecting', 'reconnecting…'));
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      noteUse(event);
      showEvent(event);
      refresh();
    });
  }
}

// ---- what fits? ----

function typeIds() {
  return [...new Set(state.parents.flatMap((parent) => parent.types.map((type) => type.id)))].sort();
}

let planRowCount = 0;

function planRow() {
  const index = ++planRowCount;
  const remove = el('button', { type: 'button', class: 'secondary remove', 'aria-label': `Remove row ${index}` }, 'Remove');
  const row = el('div', { class: 'plan-row' },
    el('label', { for: `plan-type-${index}` }, 'Type'),
    el('select', { id: `plan-type-${index}`, name: 'type', class: 'plan-type', required: '' }),
    el('label', { for: `plan-count-${index}` }, 'Count'),
    el('input', { id: `plan-count-${index}`, name: 'count', class: 'plan-count', type: 'number', min: 1, value: 1, required: '' }),
    remove);
  remove.addEventListener('click', () => {
    if (document.querySelectorAll('.plan-row').length > 1) row.remove();
  });
  fillTypeChoice(row.querySelector('select'));
  return row;
}

function fillTypeChoice(select) {
  const chosen = select.value;
  const ids = typeIds();
  select.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
  if (ids.includes(chosen)) select.value = chosen;
}

function renderTypeChoices() {
  document.querySelectorAll('.plan-type').forEach(fillTypeChoice);
}

// Placements counted per parent and type, as the plan lists one device at a time.
function placements(plan) {
  const counts = new Map();
  for (const device of plan.devices) {
    const key = `${device.parent}\u0000${device.type}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts].map(([key, count]) => { const [parent, type] = key.split('\u0000'); return { parent, type, count }; });
}

function table(id, caption, headers, rows) {
  return el('table', { id },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((header) => el('th', { scope: 'col' }, header)))),
    el('tbody', {}, ...rows));
}

function renderPlan(plan) {
  const placed = placements(plan);
  const parts = [];
  parts.push(el('p', { class: plan.unplaced.length ? 'verdict partial' : 'verdict fits' },
    plan.unplaced.length ? `${plan.devices.length} placed; ${plan.unplaced.reduce((sum, item) => sum + item.count, 0)} cannot fit.` : `Everything fits: ${plan.devices.length} devices.`));
  if (placed.length) {
    parts.push(table('plan-placements', 'Placements', ['Parent', 'Type', 'Devices'],
      placed.map((item) => el('tr', { 'data-parent': item.parent, 'data-type': item.type },
        el('td', {}, item.parent), el('td', {}, item.type), el('td', { class: 'number' }, String(item.count))))));
  }
  if (plan.unplaced.length) {
    parts.push(table('plan-unplaced', 'Cannot fit', ['Type', 'Devices', 'Why'],
      plan.unplaced.map((item) => el('tr', { 'data-type': item.type },
        el('td', {}, item.type), el('td', { class: 'number' }, String(item.count)), el('td', { class: 'reason' }, item.reason)))));
  }
  document.getElementById('plan-result').replaceChildren(...parts);
}

async function submitPlan(event) {
  event.preventDefault();
  const request = [...document.querySelectorAll('.plan-row')].map((row) => ({
    type: row.querySelector('.plan-type').value,
    count: Number(row.querySelector('.plan-count').value),
  }));
  const result = document.getElementById('plan-result');
  try {
    const response = await fetch('/v1/plan', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request),
    });
    if (!response.ok) {
      result.replaceChildren(el('p', { class: 'error', role: 'alert' }, await problem(response)));
      return;
    }
    renderPlan(await response.json());
  } catch (error) {
    result.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('host').textContent = location.host;
  document.getElementById('plan-rows').append(planRow());
  document.getElementById('plan-add').addEventListener('click', () => document.getElementById('plan-rows').append(planRow()));
  document.getElementById('plan-form').addEventListener('submit', submitPlan);
  refresh();
  listen();
});
