/* The page's subscriptions view: this token's subscriptions, their firings, and a form for the common case. */
(function () {
  const $ = (id) => document.getElementById(id);
  const token = () => $('token').value.trim();

  async function call(method, path, body) {
    const res = await fetch('/api/v1/' + path, {
      method,
      headers: Object.assign({ authorization: 'Bearer ' + token() }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : {};
    if (!res.ok) throw new Error((data.problems && data.problems.join('; ')) || data.message || res.statusText);
    return data;
  }

  function say(text) {
    $('message').textContent = text || '';
  }

  function cell(tr, text, tag) {
    const td = document.createElement(tag || 'td');
    td.textContent = text == null ? '' : String(text);
    tr.appendChild(td);
    return td;
  }

  function describe(c) {
    const parts = [c.on];
    if (c.stage) parts.push(c.stage);
    if (c.artifact) parts.push(c.artifact);
    if (c.type) parts.push(c.type);
    if (c.site) parts.push('at ' + c.site);
    if (c.outcome && c.outcome !== 'any') parts.push(c.outcome);
    if (c.after) parts.push('after ' + c.after);
    // An insight condition's lists (types, metrics, segments; sites or areas).
    for (const k of ['types', 'metrics', 'segments']) if (c[k]) parts.push(c[k].join('|'));
    if (c.sites) parts.push('at ' + c.sites.join('|'));
    if (c.areas) parts.push('in ' + c.areas.join('|'));
    if (c.change)
      parts.push(
        Object.entries(c.change)
          .map(([k, v]) => k + '=' + v)
          .join(' '),
      );
    return parts.join(' ');
  }

  async function firings(s) {
    const list = await call('GET', 'subscriptions/' + encodeURIComponent(s.id) + '/firings?limit=50');
    $('sub-firings-title').hidden = false;
    $('sub-firings-title').textContent = 'Firings of ' + s.name + ' (' + list.length + ')';
    const t = $('sub-firings');
    t.textContent = '';
    const head = document.createElement('tr');
    for (const h of ['subject', 'status', 'attempts', 'recorded', 'delivered / next attempt', 'last error']) cell(head, h, 'th');
    t.appendChild(head);
    for (const f of list) {
      const tr = document.createElement('tr');
      tr.className = 'firing-' + f.status;
      for (const v of [f.subject, f.status, f.attempts, f.createdAt, f.deliveredAt || f.nextAttemptAt, f.lastError]) cell(tr, v);
      t.appendChild(tr);
    }
  }

  async function load() {
    for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== 'subscriptions-view';
    const subs = await call('GET', 'subscriptions');
    const t = $('sub-table');
    t.textContent = '';
    const head = document.createElement('tr');
    for (const h of ['name', 'condition', 'delivery', 'created', '']) cell(head, h, 'th');
    t.appendChild(head);
    for (const s of subs) {
      const tr = document.createElement('tr');
      tr.dataset.id = s.id;
      cell(tr, s.name);
      cell(tr, describe(s.condition));
      cell(tr, s.delivery.type === 'webhook' ? s.delivery.url : 'amqp ' + (s.delivery.routingKey || 'subscription.' + s.id));
      cell(tr, s.createdAt);
      const actions = cell(tr, '');
      const show = document.createElement('button');
      show.textContent = 'Firings';
      show.addEventListener('click', () => firings(s).catch((e) => say(e.message)));
      const del = document.createElement('button');
      del.textContent = 'Delete';
      del.addEventListener('click', () =>
        call('DELETE', 'subscriptions/' + encodeURIComponent(s.id))
          .then(load)
          .catch((e) => say(e.message)),
      );
      actions.append(show, del);
      t.appendChild(tr);
    }
    say(subs.length ? '' : 'No subscriptions for this token yet.');
  }

  // The stages a finding can be about are the trends view's: one list on the page.
  for (const o of $('tr-segment').options) $('sub-in-segment').add(new Option(o.value, o.value));
  $('sub-on').addEventListener('change', () => {
    const insight = $('sub-on').value === 'insight';
    $('sub-stage-fields').hidden = insight;
    $('sub-insight-fields').hidden = !insight;
  });

  /** The condition the form describes; a field left empty means any. */
  function condition() {
    if ($('sub-on').value === 'insight') {
      const c = { on: 'insight' };
      const one = (key, value) => {
        if (value) c[key] = [value];
      };
      one('types', $('sub-in-type').value);
      one('segments', $('sub-in-segment').value);
      one('sites', $('sub-in-site').value.trim());
      one('areas', $('sub-in-area').value.trim());
      return c;
    }
    const repo = $('sub-repo').value.trim();
    return Object.assign({ on: 'stage', stage: $('sub-stage').value }, repo ? { change: { repository: repo } } : {});
  }

  $('subscriptions-go').addEventListener('click', () => load().catch((e) => say(e.message)));
  $('sub-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {
      name: $('sub-name').value.trim(),
      condition: condition(),
      delivery: { type: 'webhook', url: $('sub-url').value.trim() },
    };
    call('POST', 'subscriptions', body)
      .then((s) => {
        $('sub-secret').textContent = s.secret ? 'Subscribed. Signing secret (shown once): ' + s.secret : 'Subscribed.';
        return load();
      })
      .catch((err) => say(err.message));
  });
})();
