/* The explorer page: plain script, no build step. Talks to /api/v1 with the token kept in localStorage. */
(function () {
  'use strict';
  const STAGES = [
    'work-item',
    'commit',
    'review',
    'merge',
    'build',
    'artifact',
    'test',
    'publication',
    'promotion',
    'deployment',
    'release',
  ];
  const STAGE_COLOURS = {
    'work-item': '#a78bfa',
    commit: '#60a5fa',
    review: '#38bdf8',
    merge: '#22d3ee',
    build: '#fbbf24',
    artifact: '#f59e0b',
    test: '#34d399',
    publication: '#10b981',
    promotion: '#14b8a6',
    deployment: '#0ea5e9',
    release: '#6366f1',
    other: '#9ca3af',
  };
  // Sites are told apart by border colour; none is red, orange or pink, which would read as failure (red fill).
  const SITE_COLOURS = ['#1d4ed8', '#7e22ce', '#334155', '#0f766e', '#78350f', '#4338ca'];
  const FAILED = new Set(['failure', 'error', 'canceled']);
  const $ = (id) => document.getElementById(id);

  const tokenInput = $('token');
  tokenInput.value = localStorage.getItem('explorer-token') || '';
  tokenInput.addEventListener('change', () => localStorage.setItem('explorer-token', tokenInput.value.trim()));

  let source = null;
  let chart = null;
  let current = null;

  async function api(path) {
    const res = await fetch('/api/v1/' + path, { headers: { authorization: 'Bearer ' + tokenInput.value.trim() } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const extra = body.hint ? ' — ' + body.hint : body.candidates ? ' — candidates: ' + body.candidates.join(', ') : '';
      throw new Error((body.message || res.statusText) + extra);
    }
    return body;
  }

  function say(text) {
    $('message').textContent = text || '';
  }
  function show(id) {
    for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  }
  function esc(s) {
    return String(s == null ? '' : s).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  }
  function dur(sec) {
    if (sec == null) return '';
    if (sec < 90) return Math.round(sec) + 's';
    if (sec < 5400) return Math.round(sec / 60) + 'm';
    if (sec < 172800) return (sec / 3600).toFixed(1) + 'h';
    return (sec / 86400).toFixed(1) + 'd';
  }
  function table(el, head, rows, cls) {
    el.innerHTML =
      '<tr>' +
      head.map((h) => '<th>' + esc(h) + '</th>').join('') +
      '</tr>' +
      rows.map((r, i) => '<tr class="' + (cls ? cls(i) : '') + '">' + r.map((c) => '<td>' + esc(c) + '</td>').join('') + '</tr>').join('');
  }

  function detect(q) {
    if (/^[0-9a-f]{4,40}$/i.test(q)) return 'commit';
    if (/^(sha\d*:|pkg:|purl:|gav:)/.test(q)) return 'artifact';
    if (/^[^@\s]+@[^@\s]+$/.test(q) && !q.includes('/')) return 'release';
    if (q.includes('!')) return 'change';
    return 'work-item';
  }

  async function search(q, kind) {
    say('');
    kind = kind === 'auto' ? detect(q) : kind;
    location.hash = kind + '=' + encodeURIComponent(q);
    try {
      if (kind === 'release') {
        const at = q.lastIndexOf('@');
        return await showRelease(q.slice(0, at), q.slice(at + 1));
      }
      const trace = await api('trace/' + kind + '/' + encodeURIComponent(q));
      showTrace(trace);
      listen(kind, q);
    } catch (e) {
      say(e.message);
    }
  }

  function showTrace(t) {
    current = t;
    show('trace-view');
    $('trace-title').textContent = t.subject.kind + ' ' + t.subject.key;
    $('trace-summary').innerHTML =
      'furthest stage: <b data-testid="furthest">' +
      esc(t.furthestStage || 'none') +
      '</b>' +
      (t.stoppedAt
        ? ' — <span class="removed" data-testid="stopped">stopped at ' + esc(t.stoppedAt.stage) + ': ' + esc(t.stoppedAt.reason) + '</span>'
        : '') +
      ' — sites: ' +
      esc(t.sites.join(', ')) +
      ' — ' +
      t.events.length +
      ' events';
    const reached = t.stages.filter((s) => s.reached);
    const parts = [];
    reached.forEach((s, i) => {
      if (i > 0) {
        const gap = (Date.parse(s.first) - Date.parse(reached[i - 1].last)) / 1000;
        if (gap > 0) parts.push('<li class="wait" title="waiting between stages">wait ' + dur(gap) + '</li>');
      }
      parts.push(
        '<li class="reached ' +
          (s.outcome === 'failure' ? 'failure' : '') +
          '" data-stage="' +
          esc(s.stage) +
          '">' +
          esc(s.stage) +
          '<small>' +
          esc(s.sites.join(', ')) +
          ' · ' +
          s.events +
          ' ev · ' +
          dur((Date.parse(s.last) - Date.parse(s.first)) / 1000) +
          '</small></li>',
      );
    });
    $('stages').innerHTML = parts.join('');
    drawGraph(t);
    table(
      $('builds'),
      ['build', 'site', 'job', 'number', 'result', 'queued', 'ran'],
      t.builds.map((b) => [b.key, b.site, b.job || b.name, b.number, b.result, dur(b.queueSeconds), dur(b.runSeconds)]),
      (i) => (FAILED.has(t.builds[i].result) ? 'failure' : ''),
    );
    table(
      $('tests'),
      ['test run', 'site', 'name', 'result', 'took'],
      t.testRuns.map((r) => [r.key, r.site, r.name, r.result, dur(r.seconds)]),
      (i) => (FAILED.has(t.testRuns[i].result) ? 'failure' : ''),
    );
    table(
      $('artifacts'),
      ['artifact', 'purls', 'digests', 'sites', 'created'],
      t.artifacts.map((a) => [a.key, a.purls.join(' '), a.digests.join(' '), a.sites.join(', '), a.created]),
    );
    table(
      $('later'),
      ['what', 'when', 'site', 'outcome', 'detail'],
      [
        ...t.publications.map((p) => ['publication', p.time, p.site, p.outcome, (p.details.locations || []).join(' ')]),
        ...t.promotions.map((p) => ['promotion', p.time, p.site, p.outcome, [p.details.name, p.details.value].filter(Boolean).join(' ')]),
        ...t.deployments.map((p) => ['deployment', p.time, p.site, p.outcome, p.details.uri || '']),
        ...t.releases.map((r) => ['release', r.time, '', '', r.key]),
      ],
    );
  }

  // The journey graph: one column per stage, in the stage bar's order, left to right; events as boxes
  // (fill: stage, or red when failed; border: site), the events' own links as solid edges, and the joins
  // through a shared commit, build, artifact (…) that the trace answers in `joins` as dashed edges
  // labelled with that identity. Drawn at full size in a scrolling frame, so labels stay readable.
  const GRAPH = { nodeW: 150, nodeH: 58, colGap: 140, rowGap: 56, margin: 24, head: 44, maxW: 4000, maxH: 3000 };
  let graph = null;

  function clip(s, n) {
    s = String(s == null ? '' : s);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }
  /** A type as a person reads it: `ArtifactCreated` for Eiffel, `service deployed` for CDEvents, the tool's own name else. */
  function eventTitle(e) {
    const ce = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\./.exec(e.type);
    if (ce) return ce[1] + ' ' + ce[2];
    return e.type.replace(/^Eiffel|Event$/g, '');
  }
  /** An identity, short enough for the gap between two columns: a long one keeps its start and its end. */
  function identity(v, t) {
    const s = identityOf(v, t);
    return s.length > 22 ? s.slice(0, 10) + '…' + s.slice(-11) : s;
  }
  /** An identity as a person names it: a commit's short sha, a build's job and number, an artifact's name@version or short digest. */
  function identityOf(v, t) {
    const k = v.key;
    switch (v.label) {
      case 'Commit':
        return 'commit ' + k.slice(k.lastIndexOf('@') + 1, k.lastIndexOf('@') + 8);
      case 'Build': {
        const run = /\/run\/(.+)$/.exec(k);
        if (run) return 'run ' + clip(run[1], 12);
        const m = /([^/]+)#([^#]+)$/.exec(k);
        return 'build ' + (m ? m[1] + '#' + m[2] : k);
      }
      case 'Artifact': {
        const a = (t.artifacts || []).find((x) => x.key === k);
        const purl = a && a.purls[0] ? a.purls[0] : k.startsWith('purl:') ? k.slice(5) : null;
        if (purl) return purl.slice(purl.lastIndexOf('/') + 1).split('?')[0];
        const d = /^([a-z0-9]+):([0-9a-f]{8})[0-9a-f]*$/.exec(k);
        return d ? d[1] + ':' + d[2] : k.slice(k.lastIndexOf('/') + 1);
      }
      case 'Change':
        return 'change ' + (k.includes('!') ? '!' + k.slice(k.lastIndexOf('!') + 1) : clip(k.slice(k.lastIndexOf('/') + 1), 10));
      case 'TestRun':
        return 'test run ' + clip(k.slice(k.lastIndexOf('/') + 1), 12);
      default:
        return k.slice(k.lastIndexOf('/') + 1);
    }
  }

  /**
   * Columns by stage; an edge that spans columns keeps a row of its own in each column it passes, so it
   * runs around the boxes there, not through them. In each column the order keeps edges short: each box
   * (or passing edge) near what it joins on either side, found by a few sweeps across the columns.
   */
  function layoutJourney(t, edges) {
    const order = (s) => (STAGES.indexOf(s) < 0 ? STAGES.length : STAGES.indexOf(s));
    const stages = [...new Set(t.events.map((e) => e.stage))].sort((a, b) => order(a) - order(b));
    const column = new Map(stages.map((s, i) => [s, i]));
    const colOf = new Map(t.events.map((e) => [e.id, column.get(e.stage)]));
    const cols = stages.map((s) => t.events.filter((e) => e.stage === s).map((e) => e.id)); // by time
    const near = new Map(t.events.map((e) => [e.id, []]));
    const tie = (a, b) => {
      near.get(a).push(b);
      near.get(b).push(a);
    };
    const through = new Map(); // edge id -> the ids of its rows in the columns it passes
    for (const { id, source, target } of edges) {
      const [from, to] = [colOf.get(source), colOf.get(target)];
      const step = to > from ? 1 : -1;
      let prev = source;
      const rows = [];
      for (let c = from + step; Math.abs(to - from) > 1 && c !== to; c += step) {
        const slot = '|' + id + '|' + c;
        near.set(slot, []);
        colOf.set(slot, c);
        cols[c].push(slot);
        tie(prev, slot);
        rows.push(slot);
        prev = slot;
      }
      tie(prev, target);
      through.set(id, rows);
    }
    const pitch = GRAPH.nodeH + GRAPH.rowGap;
    const y = new Map();
    const place = (ids) => ids.forEach((id, i) => y.set(id, (i - (ids.length - 1) / 2) * pitch));
    cols.forEach(place);
    const sweep = (c, side) => {
      const w = new Map(
        cols[c].map((id) => {
          const ys = near
            .get(id)
            .filter((n) => colOf.get(n) !== c && (side === 0 || Math.sign(colOf.get(n) - c) === side))
            .map((n) => y.get(n));
          return [id, ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : y.get(id)];
        }),
      );
      cols[c].sort((a, b) => w.get(a) - w.get(b)); // stable: time breaks ties
      place(cols[c]);
    };
    for (let c = 1; c < cols.length; c++) sweep(c, -1);
    for (let c = cols.length - 2; c >= 0; c--) sweep(c, 1);
    for (let c = 1; c < cols.length; c++) sweep(c, 0);
    const rows = Math.max(1, ...cols.map((c) => c.length));
    const x = (c) => GRAPH.margin + GRAPH.nodeW / 2 + c * (GRAPH.nodeW + GRAPH.colGap);
    const at = (id) => ({ x: x(colOf.get(id)), y: y.get(id) });
    /** An edge through the rows it keeps: cytoscape's segment points, relative to its two ends. */
    const route = (e) => {
      const rowsOf = through.get(e.id) || [];
      const s = at(e.source);
      // Within a column: straight down to the next box, past the boxes between with a curve out to the side.
      if (colOf.get(e.source) === colOf.get(e.target)) return { within: true, aside: Math.abs(at(e.target).y - s.y) > pitch };
      if (!rowsOf.length) return null;
      const d = { x: at(e.target).x - s.x, y: at(e.target).y - s.y };
      const len2 = d.x * d.x + d.y * d.y;
      const pts = rowsOf.map(at);
      return {
        weights: pts.map((p) => ((p.x - s.x) * d.x + (p.y - s.y) * d.y) / len2),
        distances: pts.map((p) => ((p.x - s.x) * d.y - (p.y - s.y) * d.x) / Math.sqrt(len2)),
      };
    };
    return {
      stages,
      position: (e) => at(e.id),
      route,
      head: (s) => ({ x: x(column.get(s)), y: -((rows - 1) / 2) * pitch - GRAPH.nodeH / 2 - GRAPH.head / 2 }),
      width: 2 * GRAPH.margin + stages.length * GRAPH.nodeW + (stages.length - 1) * GRAPH.colGap,
      height: 2 * GRAPH.margin + GRAPH.head + rows * GRAPH.nodeH + (rows - 1) * GRAPH.rowGap,
    };
  }

  function drawGraph(t) {
    const sites = t.sites;
    const siteColour = (s) => SITE_COLOURS[Math.max(0, sites.indexOf(s)) % SITE_COLOURS.length];
    $('legend').innerHTML =
      sites.map((s) => '<span style="--c:' + siteColour(s) + '">' + esc(s) + '</span>').join('') +
      '<span style="--c:#dc2626">failed</span>' +
      '<span class="line">link</span><span class="line join">joined through the same commit, build, artifact…</span>';
    $('graph-info').textContent = '';
    const ids = new Set(t.events.map((e) => e.id));
    const byId = new Map(t.events.map((e) => [e.id, e]));
    const edges = [];
    for (const e of t.events) {
      for (const l of e.links) {
        if (!ids.has(l.target)) continue;
        const wait = (Date.parse(e.time) - Date.parse(byId.get(l.target).time)) / 1000;
        // Drawn cause → effect.
        edges.push({
          data: {
            id: e.id + '>' + l.type + '>' + l.target,
            source: l.target,
            target: e.id,
            label: l.type.toLowerCase() + (wait > 0 ? ' +' + dur(wait) : ''),
          },
          classes: 'link',
        });
      }
    }
    for (const j of t.joins || []) {
      if (!ids.has(j.from) || !ids.has(j.to)) continue;
      const names = j.via.map((v) => identity(v, t));
      edges.push({
        data: {
          id: j.from + '~' + j.to,
          source: j.from,
          target: j.to,
          label: names.slice(0, 2).join('\n') + (names.length > 2 ? ' +' + (names.length - 2) : ''),
          identity: j.via.map((v) => v.label + ' ' + v.key).join('\n'),
          via: j.via.map((v) => v.key),
        },
        classes: 'join',
      });
    }
    const layout = layoutJourney(
      t,
      edges.map((x) => x.data),
    );
    for (const x of edges) {
      const r = layout.route(x.data);
      if (r && r.within) x.classes += r.aside ? ' within aside' : ' within';
      else if (r) {
        x.classes += ' through';
        Object.assign(x.data, r);
      }
    }
    const nodes = t.events.map((e) => ({
      data: {
        id: e.id,
        label: [
          clip(eventTitle(e), 22),
          clip(e.format + (e.outcome ? ' · ' + e.outcome : e.phase ? ' · ' + e.phase : ''), 22),
          clip(e.site, 22),
        ].join('\n'),
        bg: FAILED.has(e.outcome) ? '#dc2626' : STAGE_COLOURS[e.stage] || '#9ca3af',
        border: siteColour(e.site),
        stage: e.stage,
        site: e.site,
        format: e.format,
        type: e.type,
        outcome: e.outcome || '',
      },
      position: layout.position(e),
      classes: 'event',
    }));
    const heads = layout.stages.map((s) => ({
      data: { id: 'stage:' + s, label: s, stage: s },
      position: layout.head(s),
      classes: 'stage',
      selectable: false,
      grabbable: false,
    }));
    // Full size in a frame that scrolls; only a very large journey is shrunk to fit.
    const box = $('graph');
    const frame = $('graph-frame');
    box.style.width = Math.max(frame.clientWidth - 2, Math.min(layout.width, GRAPH.maxW)) + 'px';
    box.style.height = Math.max(200, Math.min(layout.height, GRAPH.maxH)) + 'px';
    if (graph) graph.destroy();
    graph = null;
    box.dataset.nodes = String(t.events.length);
    box.dataset.joins = String(edges.filter((x) => x.classes.startsWith('join')).length);
    if (!window.cytoscape) return;
    graph = window.cytoscape({
      container: box,
      elements: [...heads, ...nodes, ...edges],
      layout: { name: 'preset', fit: true, padding: GRAPH.margin },
      maxZoom: 2,
      minZoom: 0.2,
      autoungrabify: true,
      style: [
        {
          selector: 'node.event',
          style: {
            shape: 'round-rectangle',
            width: GRAPH.nodeW,
            height: GRAPH.nodeH,
            'background-color': 'data(bg)',
            'border-width': 4,
            'border-color': 'data(border)',
            label: 'data(label)',
            'text-wrap': 'wrap',
            'text-max-width': GRAPH.nodeW - 12,
            'line-height': 1.25,
            'font-size': 10,
            'text-valign': 'center',
            color: '#111',
          },
        },
        {
          selector: 'node.stage',
          style: {
            shape: 'rectangle',
            width: GRAPH.nodeW,
            height: 20,
            'background-opacity': 0,
            'border-width': 0,
            label: 'data(label)',
            'font-size': 12,
            'font-weight': 'bold',
            'text-valign': 'center',
            color: '#4b5563',
            events: 'no',
          },
        },
        {
          selector: 'edge',
          style: {
            width: 1.5,
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'line-color': '#9ca3af',
            'target-arrow-color': '#9ca3af',
            label: 'data(label)',
            'font-size': 9,
            'text-wrap': 'wrap',
            'text-max-width': GRAPH.colGap - 8,
            'text-background-color': '#fff',
            'text-background-opacity': 0.9,
            'text-background-padding': 2,
            color: '#92400e',
          },
        },
        {
          selector: 'edge.through',
          style: {
            'curve-style': 'segments',
            'edge-distances': 'node-position',
            'segment-distances': 'data(distances)',
            'segment-weights': 'data(weights)',
          },
        },
        {
          // Labels in a column (between two boxes, or where an edge passes) have the column's width.
          selector: 'edge.within, edge.through',
          style: { 'text-max-width': GRAPH.nodeW },
        },
        {
          selector: 'edge.aside',
          style: {
            'curve-style': 'unbundled-bezier',
            'edge-distances': 'node-position',
            // A curve's middle lies at half its control point's distance: out in the gap beside the column.
            'control-point-distances': GRAPH.nodeW + GRAPH.colGap,
            'control-point-weights': 0.5,
            'text-max-width': GRAPH.colGap - 12,
          },
        },
        {
          selector: 'edge.join',
          style: {
            width: 2,
            'line-style': 'dashed',
            'line-color': '#2563eb',
            'target-arrow-color': '#2563eb',
            'font-size': 10,
            color: '#1e3a8a',
          },
        },
      ],
    });
    if (layout.width <= GRAPH.maxW && layout.height <= GRAPH.maxH) {
      graph.zoom(1);
      graph.pan({ x: 0, y: 0 });
      const bb = graph.elements().boundingBox();
      graph.pan({ x: GRAPH.margin - bb.x1, y: GRAPH.margin - bb.y1 });
    }
    graph.on('tap', 'node.event, edge', (ev) => {
      const d = ev.target.data();
      const e = byId.get(d.id);
      $('graph-info').textContent = e
        ? e.time +
          ' ' +
          e.site +
          ' ' +
          e.type +
          (e.outcome ? ' ' + e.outcome : '') +
          ' — about ' +
          e.about.map((a) => a.label + ' ' + a.key).join(', ')
        : d.identity
          ? 'joined through ' + d.identity.split('\n').join(', ')
          : d.label;
    });
    // For the console and the browser tests: the graph as drawn.
    window.traceGraph = graph;
  }

  async function showRelease(product, version, diff) {
    const r = await api(
      'releases/' + encodeURIComponent(product) + '/' + encodeURIComponent(version) + (diff ? '?diff=' + encodeURIComponent(diff) : ''),
    );
    show('release-view');
    $('release-title').textContent =
      'release ' +
      r.key +
      ' — ' +
      r.artifacts.length +
      ' artifacts, ' +
      r.commits.length +
      ' commits, ' +
      r.workItems.length +
      ' work items';
    $('release-title').dataset.product = product;
    $('release-title').dataset.version = version;
    const li = (xs) => xs.map((x) => '<li>' + esc(x) + '</li>').join('');
    $('release-artifacts').innerHTML = li(r.artifacts);
    $('release-commits').innerHTML = li(r.commits.map((c) => c.key));
    $('release-work-items').innerHTML = li(r.workItems);
    $('release-ships').textContent =
      (r.previous ? 'since ' + r.previous : 'first release') +
      (r.productArtifacts && r.productArtifacts.length ? '; ships ' + r.productArtifacts.join(', ') : '');
    table(
      $('release-components'),
      ['component', 'version', 'since', 'history', 'commits', 'work items'],
      (r.components || []).map((c) => [
        c.name,
        c.version || c.artifact,
        c.previous ? c.previous.version || c.previous.artifact : '',
        c.history,
        c.commits.length +
          (c.commits.length ? ': ' + c.commits.map((k) => k.slice(k.lastIndexOf('@') + 1, k.lastIndexOf('@') + 9)).join(' ') : ''),
        c.workItems.join(' '),
      ]),
    );
    if (r.diff) {
      const d = r.diff;
      const v = (x) => (x ? x.version || x.artifact : '');
      const short = (ks) => ks.map((k) => k.slice(k.lastIndexOf('@') + 1, k.lastIndexOf('@') + 9)).join(' ');
      const comp = (c) =>
        '<li class="' +
        esc(c.status === 'added' || c.status === 'upgraded' ? 'added' : c.status === 'unchanged' ? '' : 'removed') +
        '" data-status="' +
        esc(c.status) +
        '">' +
        esc(c.name) +
        ': ' +
        esc(c.status) +
        (c.status === 'upgraded' || c.status === 'downgraded' ? ' ' + esc(v(c.from)) + ' → ' + esc(v(c.to)) : '') +
        (c.commitsAdded.length ? ' <span class="added">+' + c.commitsAdded.length + ' ' + esc(short(c.commitsAdded)) + '</span>' : '') +
        (c.commitsRemoved.length
          ? ' <span class="removed">−' + c.commitsRemoved.length + ' ' + esc(short(c.commitsRemoved)) + '</span>'
          : '') +
        '</li>';
      const line = (what) =>
        '<li>' +
        what +
        ': <span class="added">+' +
        d.added[what].length +
        ' ' +
        esc(d.added[what].join(' ')) +
        '</span> <span class="removed">−' +
        d.removed[what].length +
        ' ' +
        esc(d.removed[what].join(' ')) +
        '</span></li>';
      $('release-diff').innerHTML =
        '<h3>against ' +
        esc(d.against) +
        '</h3><ul data-testid="diff-components">' +
        (d.components || []).map(comp).join('') +
        '</ul><ul data-testid="diff">' +
        line('artifacts') +
        line('commits') +
        line('workItems') +
        '</ul>';
    } else $('release-diff').innerHTML = '';
  }

  let leadTimeRequest = 0;
  async function showLeadTime() {
    say('');
    const mine = ++leadTimeRequest;
    const params = new URLSearchParams();
    if ($('lt-from').value) params.set('from', $('lt-from').value);
    if ($('lt-to').value) params.set('to', $('lt-to').value);
    params.set('until', $('lt-until').value);
    const env = $('lt-env').value;
    if (env && $('lt-until').value === 'deployment') params.set('environment', env);
    // The form is part of the view: show it at once, so the window can be changed while the figures load.
    show('lead-time-view');
    $('lead-summary').textContent = 'computing lead time…';
    try {
      const lt = await api('lead-time?' + params);
      if (mine !== leadTimeRequest) return; // a newer window was asked for meanwhile
      const segs = Object.keys(lt.overall.segments);
      const b = lt.overall.bottleneck;
      $('lead-summary').innerHTML =
        lt.changes +
        ' changes; lead time p50 ' +
        dur(lt.overall.total.p50) +
        ', p90 ' +
        dur(lt.overall.total.p90) +
        ', max ' +
        dur(lt.overall.total.max) +
        (b.overall
          ? '; bottleneck: <span class="bottleneck" data-testid="bottleneck">' +
            esc(b.overall.segment) +
            '</span> (' +
            Math.round(b.overall.share * 100) +
            '%)'
          : '') +
        '; DORA: ' +
        lt.dora.deployments +
        ' deployments (' +
        lt.dora.deploymentFrequencyPerDay.toFixed(2) +
        '/day), change failure rate ' +
        (lt.dora.changeFailureRate == null ? 'n/a' : Math.round(lt.dora.changeFailureRate * 100) + '%') +
        ', time to restore ' +
        (dur(lt.dora.timeToRestoreSeconds) || 'n/a') +
        ', rollbacks ' +
        (lt.dora.rollbacks || 0) +
        (lt.until === 'deployment' ? ' (' + esc(lt.environment || 'production environments') + ')' : '');
      const envs = lt.environments || [];
      const picked = $('lt-env').value;
      $('lt-env').innerHTML =
        '<option value="">all production environments</option>' +
        envs.map((e) => '<option' + (e.name === picked ? ' selected' : '') + '>' + esc(e.name) + '</option>').join('');
      table(
        $('lead-envs'),
        ['environment', 'deployments', 'per day', 'lead time p50', 'change failure', 'restore', 'rollbacks'],
        envs.map((e) => [
          e.name + (e.production ? ' (production)' : ''),
          e.dora.deployments,
          e.dora.deploymentFrequencyPerDay.toFixed(2),
          dur(e.dora.leadTimeForChangesSeconds) || 'n/a',
          e.dora.changeFailureRate == null ? 'n/a' : Math.round(e.dora.changeFailureRate * 100) + '%',
          dur(e.dora.timeToRestoreSeconds) || 'n/a',
          e.dora.rollbacks,
        ]),
      );
      table(
        $('lead-table'),
        ['segment', 'p50', 'p90', 'max', 'count', 'share'],
        segs.map((s) => {
          const x = lt.overall.segments[s];
          return [s, dur(x.p50), dur(x.p90), dur(x.max), x.count, Math.round(x.share * 100) + '%'];
        }),
      );
      if (chart) chart.destroy();
      if (!window.Chart) return;
      const hot = b.overall && b.overall.segment;
      chart = new window.Chart($('lead-chart'), {
        type: 'bar',
        data: {
          labels: segs,
          datasets: [
            {
              label: 'p50 (h)',
              data: segs.map((s) => (lt.overall.segments[s].p50 || 0) / 3600),
              backgroundColor: segs.map((s) => (s === hot ? '#dc2626' : '#60a5fa')),
            },
            {
              label: 'p90 (h)',
              data: segs.map((s) => (lt.overall.segments[s].p90 || 0) / 3600),
              backgroundColor: segs.map((s) => (s === hot ? '#fca5a5' : '#bfdbfe')),
            },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { title: { display: true, text: 'time per stage (bottleneck in red)' } },
        },
      });
    } catch (e) {
      say(e.message);
    }
  }

  // Trends: the chosen series (p90 wait and queue per hour, anomalies in red, the forecast band
  // toward the objective) and the current findings; a click on an anomaly lists its changes.
  let trendsChart = null;
  async function showTrends() {
    say('');
    show('trends-view');
    const segment = $('tr-segment').value;
    const groupBy = $('tr-group-by').value;
    const group = $('tr-group').value.trim();
    const params = new URLSearchParams({ segment, groupBy, bucket: 'hour' });
    if (groupBy !== 'all' && group) params.set('group', group);
    const where = new URLSearchParams({ segment, limit: '50' });
    if (groupBy === 'site' && group) where.set('site', group);
    if (groupBy === 'area' && group) where.set('area', group);
    $('trends-summary').textContent = 'loading…';
    try {
      const [tr, ins] = await Promise.all([api('trends?' + params), api('insights?' + where)]);
      table(
        $('insights-table'),
        ['severity', 'type', 'metric', 'where', 'finding'],
        ins.findings.map((f) => [
          f.severity.toFixed(2),
          f.type,
          f.metric,
          f.dimension === 'all' ? 'all' : f.dimension + ' ' + f.group,
          f.summary,
        ]),
        (i) => 'finding-' + ins.findings[i].type,
      );
      const s = tr.series[0];
      $('trends-summary').textContent = s
        ? tr.journeys +
          ' journeys; ' +
          s.segment +
          ' (' +
          (s.dimension === 'all' ? 'all' : s.dimension + ' ' + s.group) +
          '), computed ' +
          tr.generatedAt
        : 'no changes in this series';
      // The series' forecast in words: when it crosses its objective, and the interval of that.
      const fc = s && s.findings.find((f) => f.type === 'forecast');
      const forecastLine = $('trends-forecast');
      forecastLine.hidden = !fc;
      forecastLine.textContent = fc
        ? fc.summary +
          '; between ' +
          new Date(fc.evidence.interval[0]).toISOString().slice(0, 16) +
          'Z and ' +
          (fc.evidence.interval[1] == null ? 'later' : new Date(fc.evidence.interval[1]).toISOString().slice(0, 16) + 'Z')
        : '';
      if (fc) forecastLine.dataset.crossing = new Date(fc.evidence.crossing).toISOString();
      else delete forecastLine.dataset.crossing;
      $('trend-changes').innerHTML = '';
      if (trendsChart) trendsChart.destroy();
      if (!s || !window.Chart) return;
      const labels = s.points.map((p) => new Date(p.t).toISOString().slice(5, 13) + 'h');
      const band = s.forecast ? s.forecast.points : [];
      const pad = band.map(() => null);
      const anomalies = s.findings.filter((f) => f.type === 'anomaly');
      const datasets = [
        {
          label: 'p90 wait (h)',
          data: [...s.points.map((p) => (p.waitP90 == null ? null : p.waitP90 / 3600)), ...pad],
          borderColor: '#60a5fa',
          pointBackgroundColor: s.points.map((p) => (p.anomaly ? '#dc2626' : '#60a5fa')),
          pointRadius: s.points.map((p) => (p.anomaly ? 4 : 1)),
          spanGaps: true,
          yAxisID: 'y',
        },
        { label: 'queue', data: [...s.points.map((p) => p.queue), ...pad], borderColor: '#a3a3a3', pointRadius: 0, yAxisID: 'q' },
      ];
      if (band.length) {
        const scale = s.forecast.metric === 'wait' ? 1 / 3600 : 1;
        const axis = s.forecast.metric === 'wait' ? 'y' : 'q';
        const at = (k) => [...s.points.map(() => null), ...band.map((b) => b[k] * scale)];
        labels.push(...band.map((b) => new Date(b.t).toISOString().slice(5, 10) + ' (forecast)'));
        datasets.push(
          { label: 'forecast', data: at('value'), borderColor: '#f97316', borderDash: [6, 4], pointRadius: 0, yAxisID: axis },
          { label: 'forecast band', data: at('low'), borderColor: '#fdba74', pointRadius: 0, yAxisID: axis },
          {
            label: '',
            data: at('high'),
            borderColor: '#fdba74',
            pointRadius: 0,
            fill: '-1',
            backgroundColor: 'rgba(253,186,116,0.3)',
            yAxisID: axis,
          },
          {
            label: 'objective',
            data: labels.map(() => s.forecast.objective * scale),
            borderColor: '#dc2626',
            pointRadius: 0,
            yAxisID: axis,
          },
        );
      }
      trendsChart = new window.Chart($('trends-chart'), {
        type: 'line',
        data: { labels, datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            y: { position: 'left', title: { display: true, text: 'hours' } },
            q: { position: 'right', title: { display: true, text: 'changes' } },
          },
          onClick: (_e, items) => {
            const i = items.length ? items[0].index : -1;
            const p = s.points[i];
            if (!p || !p.anomaly) return;
            const changes = anomalies.flatMap((f) => (f.evidence.changes || []).map((c) => [f.summary, c]));
            $('trend-changes').innerHTML = changes.length
              ? changes
                  .map(
                    ([why, c]) =>
                      '<li title="' +
                      esc(why) +
                      '"><a href="#commit=' +
                      esc(c.split('@').pop()) +
                      '" data-sha="' +
                      esc(c.split('@').pop()) +
                      '">' +
                      esc(c) +
                      '</a></li>',
                  )
                  .join('')
              : '<li>' + esc(anomalies.map((f) => f.summary).join('; ')) + '</li>';
          },
        },
      });
    } catch (e) {
      $('trends-summary').textContent = '';
      say(e.message);
    }
  }

  function listen(kind, q) {
    if (source) source.close();
    const params = new URLSearchParams({ access_token: tokenInput.value.trim() });
    if (kind === 'commit') params.set('commit', q.toLowerCase());
    else if (kind === 'work-item') params.set('workItem', q);
    source = new EventSource('/api/v1/stream?' + params);
    source.onopen = () => {
      $('live').className = 'live on';
    };
    source.onerror = () => {
      $('live').className = 'live off';
    };
    const onChange = (ev) => {
      const c = JSON.parse(ev.data);
      const li = document.createElement('li');
      li.className = c.kind;
      li.dataset.event = c.event.id;
      li.textContent =
        c.event.time +
        ' ' +
        c.event.site +
        ' ' +
        c.event.stage +
        ' ' +
        c.event.type +
        (c.event.outcome ? ' ' + c.event.outcome : '') +
        // The changes this event took to its stage for the first time (from the journey model).
        (c.reached && c.reached.length
          ? ' · ' + c.reached.map((r) => r.commit.split('@').pop().slice(0, 8) + ' reached ' + r.stage).join(', ')
          : '');
      $('feed').prepend(li);
      if (current)
        api('trace/' + current.subject.kind + '/' + encodeURIComponent(current.subject.query)).then(showTrace, (e) => say(e.message));
    };
    source.addEventListener('event', onChange);
    source.addEventListener('failure', onChange);
  }

  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('q').value.trim();
    if (q) search(q, $('kind').value);
  });
  $('lead-time-go').addEventListener('click', () => showLeadTime());
  $('trends-go').addEventListener('click', () => showTrends());
  $('trend-changes').addEventListener('click', (e) => {
    const a = e.target.closest('a[data-sha]');
    if (!a) return;
    e.preventDefault();
    $('q').value = a.dataset.sha;
    $('kind').value = 'commit';
    search(a.dataset.sha, 'commit');
  });
  $('trends-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showTrends();
  });
  $('lead-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showLeadTime();
  });
  $('diff-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('release-title').dataset;
    showRelease(t.product, t.version, $('diff').value.trim()).catch((err) => say(err.message));
  });
  const m = /^#([a-z-]+)=(.+)$/.exec(location.hash);
  if (m) {
    $('q').value = decodeURIComponent(m[2]);
    $('kind').value = m[1];
    search($('q').value, m[1]);
  }
})();
