// The gateway's dashboard (/ui): a Tracker fed by /ui/events (a snapshot,
// then the core's events in batches and the health every second), drawn by
// the same view as the in-browser demo. Countdowns use the gateway's clock
// (the offset is taken from each message), so a skewed laptop clock does
// not shift them.
import { Tracker } from './tracker.js';
import { createView } from './view.js';

const tracker = new Tracker({ maxRequests: 100 });
let offset = 0;
const now = () => Date.now() + offset;
const view = createView(document.getElementById('app'), tracker, { now });
const conn = document.getElementById('conn');
const store = document.getElementById('store');

const events = new EventSource('events');
events.addEventListener('snapshot', (e) => {
  const m = JSON.parse(e.data);
  offset = m.now - Date.now();
  tracker.load(m.tracker);
  tracker.setHealth(m.health);
  if (m.store) store.textContent = `Shared state: ${m.store.kind}${m.store.connected === false ? ' (disconnected)' : ''}.`;
  view.schedule();
});
events.addEventListener('events', (e) => {
  for (const ev of JSON.parse(e.data)) tracker.observe(ev);
  view.schedule();
});
events.addEventListener('health', (e) => {
  const m = JSON.parse(e.data);
  offset = m.now - Date.now();
  tracker.setHealth(m.health);
  view.schedule();
});
events.addEventListener('open', () => {
  conn.dataset.state = 'live';
  conn.textContent = 'live';
});
events.addEventListener('error', () => {
  conn.dataset.state = 'down';
  conn.textContent = events.readyState === EventSource.CLOSED ? 'disconnected (reload to retry)' : 'reconnecting…';
});
