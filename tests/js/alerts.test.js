// Alerts on failure rate: threshold, minimum volume, one per deployment per
// window, and a new window allowing a new alert. Fake post, injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alerts } from '../../js/alerts.js';

function setup() {
  let now = 1_000_000;
  const posts = [];
  const alerts = new Alerts({ webhook_url: 'http://127.0.0.1:1/hook', window: 10, failure_rate: 0.5, min_requests: 4 }, {
    fetch: async (url, init) => { posts.push(JSON.parse(init.body)); return new Response('ok'); },
    now: () => now,
  });
  const end = (deployment, cls) => alerts.observe({ type: 'attempt_end', deployment, class: cls });
  return { alerts, posts, end, advance: (ms) => (now += ms) };
}

test('the failure rate alerts only past the minimum volume and the threshold', () => {
  const { posts, end } = setup();
  end('d', 'server');
  end('d', 'server');
  end('d', 'server'); // 3 of 3 failed, but under min_requests
  assert.equal(posts.length, 0);
  end('d', 'ok'); // 3 of 4: 0.75 >= 0.5
  assert.equal(posts.length, 1);
  assert.deepEqual([posts[0].alert, posts[0].deployment, posts[0].failure_rate, posts[0].attempts], ['failure_rate', 'd', 0.75, 4]);
  end('other', 'ok');
  end('other', 'ok');
  end('other', 'ok');
  end('other', 'server'); // 1 of 4: under the threshold
  assert.equal(posts.length, 1);
});

test('once per deployment per window; a new window may alert again', () => {
  const { posts, end, alerts, advance } = setup();
  for (let i = 0; i < 8; i++) end('d', 'timeout');
  alerts.observe({ type: 'cooldown', deployment: 'd', group: 'g', reason: 'timeout', until: 2_000_000 });
  assert.equal(posts.length, 1);
  advance(9_999);
  alerts.observe({ type: 'cooldown', deployment: 'd', group: 'g', reason: 'timeout', until: 2_000_000 });
  assert.equal(posts.length, 1, 'still in the window at t-1');
  advance(1);
  alerts.observe({ type: 'cooldown', deployment: 'd', group: 'g', reason: 'timeout', until: 2_000_000 });
  assert.equal(posts.length, 2, 'a new window at t');
  assert.equal(posts[1].alert, 'cooldown');
});

test('a config without webhook_url is refused with the path', () => {
  assert.throws(() => new Alerts({}), /router_settings\.alerting\.webhook_url: expected a URL/);
});
