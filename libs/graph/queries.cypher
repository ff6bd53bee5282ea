// Every Cypher statement the apps send, by file and function (libs/graph/src/queries.spec.ts writes it).
// ${…} is a part put in from code: labels and property names from fixed lists, never request text.

// libs/graph/src/cdevents-links.ts LOCK_CONTEXT_IDS
UNWIND $ids AS id
MERGE (k:CdeventsContextLock {id: id})
WITH collect(k) AS locks
FOREACH (k IN locks | DELETE k);

// libs/graph/src/cdevents-links.ts FIND_FOR_NEW_LINKS
UNWIND $links AS l
MATCH (p:Event:Placeholder {id: l.to})
SET p.contextId = l.contextId
WITH p, l
OPTIONAL MATCH (e:Event {contextId: l.contextId})
  WHERE e.format = 'cdevents' AND NOT e:Placeholder AND (l.global OR (l.chainId IS NOT NULL AND e.chainId = l.chainId))
WITH p, l, collect(e.id) AS found
WHERE size(found) = 1
RETURN l.from AS from, l.type AS type, p.id AS placeholder, found[0] AS target;

// libs/graph/src/cdevents-links.ts FIND_WAITING_LINKS
UNWIND $events AS ev
MATCH (p:Event:Placeholder {contextId: ev.contextId})
MATCH (e:Event {id: ev.id})
  WHERE NOT e:Placeholder
WITH p, e, ev
WHERE COUNT { (o:Event {contextId: ev.contextId}) WHERE o.format = 'cdevents' AND NOT o:Placeholder } = 1
MATCH (a:Event)-[r]->(p)
  WHERE ev.global OR (a.chainId IS NOT NULL AND a.chainId = e.chainId)
RETURN a.id AS from, type(r) AS type, p.id AS placeholder, e.id AS target;

// libs/graph/src/cdevents-links.ts DROP_EMPTY_PLACEHOLDERS
UNWIND $ids AS id
MATCH (p:Event:Placeholder {id: id})
WHERE NOT EXISTS { ()-->(p) }
DELETE p;

// libs/graph/src/cdevents-links.ts joinCdeventsLinks
UNWIND $moves AS m
MATCH (a:Event {id: m.from})-[r:${cypherIdent(type)}]->(p:Event:Placeholder {id: m.placeholder})
MATCH (e:Event {id: m.target})
MERGE (a)-[moved:${cypherIdent(type)}]->(e)
  ON CREATE SET moved.illegal = r.illegal
DELETE r;

// libs/graph/src/deliveries.ts DeliveryReads.inWindow.rows
MATCH (e:Event) WHERE e.time >= datetime($from) AND e.time < datetime($to) AND e.stage = $stage AND NOT e:Placeholder
WITH e ORDER BY e.time, e.id LIMIT $limit
RETURN ${DELIVERY_FIELDS};

// libs/graph/src/deliveries.ts DeliveryReads.workItemTimes.rows
UNWIND $keys AS k MATCH (w:WorkItem {key: k})<-[:ABOUT]-(e:Event) WHERE e.stage = 'work-item' AND NOT e:Placeholder
WITH k, min(CASE WHEN e.phase = 'created' THEN e.time END) AS created, min(CASE WHEN e.phase = 'started' THEN e.time END) AS started
RETURN k AS key, toString(created) AS created, toString(started) AS started;

// libs/graph/src/deliveries.ts DeliveryReads.byIds.rows
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${DELIVERY_FIELDS};

// libs/graph/src/deliveries.ts DeliveryReads.journeysAt.rows
MATCH (j:Journey) WHERE j.${first} < $to AND j.${last} >= $from
WITH j ORDER BY j.${first}, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j;

// libs/graph/src/eiffel.reads.ts RawEventReads.rawOf
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${FIELDS};

// libs/graph/src/eiffel.reads.ts RawEventReads.count
MATCH (e:Event) ${WHERE} RETURN count(e) AS n;

// libs/graph/src/eiffel.reads.ts RawEventReads.page
MATCH (e:Event) ${WHERE} RETURN ${FIELDS} ORDER BY e.time, e.id SKIP $skip LIMIT $limit;

// libs/graph/src/entity.reads.ts EntityReads.commitsBySha.rows
UNWIND $lookups AS q
CALL (q) {
  MATCH (c:Commit) WHERE c.sha STARTS WITH q.prefix AND (q.repository IS NULL OR c.repository = q.repository)
  WITH c ORDER BY c.key LIMIT $limit
  OPTIONAL MATCH (j:Journey {key: c.key})
  RETURN ${ENTITY_FIELDS('c')} AS x, CASE WHEN j IS NULL OR j:JourneyDirty THEN null ELSE j.basis END AS basis
}
RETURN q.i AS i, x, basis;

// libs/graph/src/entity.reads.ts EntityReads.entity.rows
OPTIONAL MATCH (k:${label} {key: $key})
CALL (k) { WITH k WHERE k IS NOT NULL RETURN k AS x UNION WITH k WHERE k IS NULL ${byAlias} }
RETURN ${ENTITY_FIELDS('x')} AS x LIMIT 20;

// libs/graph/src/entity.reads.ts EntityReads.artifactsLike.rows
MATCH (x:Artifact) WHERE x.key ENDS WITH $value OR any(a IN coalesce(x.aliases, []) WHERE a ENDS WITH $value OR a = $value)
RETURN ${ENTITY_FIELDS('x')} AS x LIMIT 20;

// libs/graph/src/entity.reads.ts EntityReads.releasesOf.rows
MATCH (r:Release) WHERE r.product = $product RETURN r.version AS version ORDER BY version DESC LIMIT 20;

// libs/graph/src/entity.reads.ts EntityReads.referencing.rows
MATCH (w) WHERE elementId(w) = $eid MATCH (x)-[:REFERENCES]->(w) RETURN ${ENTITY_FIELDS('x')} AS x;

// libs/graph/src/entity.reads.ts EntityReads.mergesOf
UNWIND $eids AS eid MATCH (c:Change) WHERE elementId(c) = eid MATCH (c)-[:MERGED_AS]->(m:Commit)
RETURN c.key AS change, m.key AS commit ORDER BY change, commit;

// libs/graph/src/entity.reads.ts EntityReads.changeCommits.rows
MATCH (c) WHERE elementId(c) = $eid MATCH (c)-[:INCLUDES]->(x:Commit) RETURN ${ENTITY_FIELDS('x')} AS x;

// libs/graph/src/entity.reads.ts EntityReads.relationsAmong
UNWIND $eids AS eid MATCH (x) WHERE elementId(x) = eid
MATCH (x)-[r:BUILT|PRODUCED|TESTED|CONTAINS|INCLUDES|MERGED_AS|REFERENCES]->(y) WHERE elementId(y) IN $eids
RETURN eid AS from, type(r) AS type, elementId(y) AS to;

// libs/graph/src/entity.reads.ts EntityReads.workItemsOf.rows
UNWIND $eids AS eid MATCH (c) WHERE elementId(c) = eid MATCH (c)-[:REFERENCES]->(w:WorkItem) RETURN DISTINCT ${ENTITY_FIELDS('w')} AS x;

// libs/graph/src/event-search.reads.ts EventSearchReads.eventsInWindow.rows
MATCH (e:Event) WHERE e.time >= datetime($from) AND e.time < datetime($to) AND e.stage = $stage
RETURN ${EVENT_FIELDS} AS e ORDER BY e.time LIMIT $limit;

// libs/graph/src/event-search.reads.ts EventSearchReads.incidentEventsInWindow
MATCH (e:Event) WHERE e.stage = 'other' AND e.time >= datetime($from) AND e.time < datetime($to)
  AND e.type STARTS WITH 'dev.cdevents.incident.' AND NOT e:Placeholder
WITH e ORDER BY e.time LIMIT $limit
RETURN e.id AS id, coalesce(e.subjectSource, e.source) + '|' + e.subjectId AS incident,
       split(e.type, '.')[3] AS predicate, toString(e.time) AS time,
       [(e)-[:ABOUT]->(a:Artifact) | a.key] AS artifacts, e.service AS service,
       [(e)-[:ABOUT]->(x:Environment) | x.key] AS environments;

// libs/graph/src/event-search.reads.ts EventSearchReads.eventsPage
MATCH (e:Event) ${where} RETURN count(e) AS n;

// libs/graph/src/event-search.reads.ts EventSearchReads.eventsPage.rows
MATCH (e:Event) ${where} RETURN ${EVENT_FIELDS} AS e ORDER BY e.time DESC, e.id SKIP $skip LIMIT $limit;

// libs/graph/src/event-search.reads.ts EventSearchReads.idsIngestedWithin.rows
MATCH (e:Event) WHERE e.ingestedAt >= datetime.realtime() - duration({seconds: $seconds}) AND NOT e:Placeholder
RETURN e.id AS id ORDER BY e.ingestedAt DESC LIMIT $limit;

// libs/graph/src/event.reads.ts EventReads.events.rows
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${EVENT_FIELDS} AS e;

// libs/graph/src/event.reads.ts EventReads.details.rows
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder
RETURN ${EVENT_FIELDS} AS e,
       [(e)-[l]->(t:Event) | {type: type(l), to: t.id}] AS links,
       [(e)-[a:ABOUT]->(x) | {role: a.role, entity: ${ENTITY_FIELDS('x')}}] AS about;

// libs/graph/src/event.reads.ts EventReads.linksOf
UNWIND $ids AS id MATCH (e:Event {id: id})-[l]->(t:Event) RETURN e.id AS from, type(l) AS type, t.id AS to;

// libs/graph/src/event.reads.ts EventReads.eventStepTyped
UNWIND $ids AS id MATCH (x:Event {id: id}) MATCH ${pattern}
WHERE ($types IS NULL OR type(l) IN $types) AND NOT d:Placeholder
RETURN DISTINCT startNode(l).id AS from, type(l) AS type, endNode(l).id AS to;

// libs/graph/src/graph.repository.ts WRITE_EVENTS
UNWIND $events AS e
MERGE (n:Event {id: e.id})
WITH n, e, n.hash IS NULL AS fresh, n.hash AS oldHash
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET n += e.props, n.time = datetime(e.time), n.hash = e.hash, n.ingestedAt = datetime.realtime()
  REMOVE n:Placeholder)
RETURN e.id AS id, fresh, (NOT fresh AND oldHash <> e.hash) AS conflict;

// libs/graph/src/graph.repository.ts WRITE_RAW
UNWIND $rows AS r
MATCH (n:Event {id: r.id}) WHERE n.raw IS NULL AND n.hash = r.hash
SET n.raw = r.raw
FOREACH (_ IN CASE WHEN r.outbox IS NULL THEN [] ELSE [1] END | SET n.outbox = r.outbox);

// libs/graph/src/graph.repository.ts GraphRepository.verify
RETURN 1;

// libs/graph/src/graph.repository.ts GraphRepository.indexAliases.res
MATCH (x:${cypherIdent(label)}) WHERE x.keyRank IS NULL RETURN elementId(x) AS id, x.key AS key, x.aliases AS aliases LIMIT 1000;

// libs/graph/src/graph.repository.ts GraphRepository.indexAliases
UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
SET x.keyRank = r.rank
WITH x, r UNWIND r.ids AS id
MERGE (al:Alias {id: id}) MERGE (al)-[:ALIAS_OF]->(x);

// libs/graph/src/graph.repository.ts GraphRepository.outbox.res
MATCH (n:Event) WHERE n.outbox IS NOT NULL RETURN n.id AS id, n.outbox AS key, n.raw AS raw ORDER BY n.ingestedAt LIMIT $limit;

// libs/graph/src/graph.repository.ts GraphRepository.clearOutbox
UNWIND $ids AS id MATCH (n:Event {id: id}) REMOVE n.outbox;

// libs/graph/src/graph.repository.ts GraphRepository.placeholders
MATCH (p:Placeholder) RETURN count(p) AS n;

// libs/graph/src/graph.repository.ts GraphRepository.ping
RETURN 1;

// libs/graph/src/graph.repository.ts writeBatch
UNWIND $sites AS s MERGE (:Site {key: s});

// libs/graph/src/graph.repository.ts writeBatch
UNWIND $rows AS r
MERGE (x:${cypherIdent(label)} {key: r.key}) SET x += r.props
SET x.aliases = coalesce(x.aliases, []) + [a IN r.aliases WHERE NOT a IN coalesce(x.aliases, [])]
WITH x, r UNWIND r.about AS ab
MATCH (e:Event {id: ab.event})
MERGE (e)-[:ABOUT {role: ab.role}]->(x);

// libs/graph/src/graph.repository.ts writeBatch
UNWIND $rows AS l
MATCH (a:Event {id: l.from})
MERGE (b:Event {id: l.to}) ON CREATE SET b:Placeholder
MERGE (a)-[r:${cypherIdent(type)}]->(b)
ON CREATE SET r.illegal = l.illegal;

// libs/graph/src/graph.repository.ts writeBatch
UNWIND $rows AS r ${end('a', from, 'from')} WITH a, r ${end('b', to, 'to')} MERGE (a)-[:${cypherIdent(type)}]->(b);

// libs/graph/src/graph.repository.ts writeAliased.res
UNWIND range(0, size($rows) - 1) AS i
WITH i, $rows[i] AS r
CALL (r) {
  UNWIND r.ids AS id
  MERGE (al:Alias {id: id})
  WITH al
  OPTIONAL MATCH (al)-[:ALIAS_OF]->(x)
  RETURN collect(DISTINCT x) AS xs, collect(al) AS als
}
WITH i, r, xs, als WHERE size(xs) <= 1
CALL (r, xs) {
  WITH r, xs WHERE size(xs) = 0
  MERGE (n:${L} {key: r.keys[0]}) ON CREATE SET n.keyRank = r.ranks[0]
  RETURN n
  UNION
  WITH xs WHERE size(xs) = 1
  RETURN xs[0] AS n
}
WITH i, r, als, n, n.key AS old,
     (r.ranks[0] < coalesce(n.keyRank, 99) OR (r.ranks[0] = coalesce(n.keyRank, 99) AND r.keys[0] < n.key)) AS better
SET n += r.props,
    n.key = CASE WHEN better THEN r.keys[0] ELSE old END,
    n.keyRank = CASE WHEN better THEN r.ranks[0] ELSE n.keyRank END
WITH i, r, als, n, reduce(acc = [], k IN coalesce(n.aliases, []) + [old] + r.keys | CASE WHEN k IN acc THEN acc ELSE acc + k END) AS known
SET n.aliases = [k IN known WHERE k <> n.key]
FOREACH (al IN als | MERGE (al)-[:ALIAS_OF]->(n))
WITH i, r, n
CALL (r, n) {
  UNWIND r.about AS ab
  MATCH (e:Event {id: ab.event})
  MERGE (e)-[:ABOUT {role: ab.role}]->(n)
}
RETURN collect(i) AS done;

// libs/graph/src/graph.repository.ts mergeAndWrite.found
UNWIND $ids AS id
MATCH (:Alias {id: id})-[:ALIAS_OF]->(x)
WITH DISTINCT x
RETURN elementId(x) AS id, x.key AS key, x.aliases AS aliases;

// libs/graph/src/graph.repository.ts mergeAndWrite
MATCH (x) WHERE elementId(x) = $node
SET x += $props, x.key = $key, x.keyRank = $rank, x.aliases = $aliases
WITH x
CALL (x) {
  UNWIND $ids AS id
  MERGE (al:Alias {id: id})
  MERGE (al)-[:ALIAS_OF]->(x)
}
WITH x
UNWIND $about AS ab
MATCH (e:Event {id: ab.event})
MERGE (e)-[:ABOUT {role: ab.role}]->(x);

// libs/graph/src/graph.repository.ts mergeNodes
MATCH (s) WHERE elementId(s) = $survivor
UNWIND $others AS oid
MATCH (o) WHERE elementId(o) = oid
CALL (s, o) {
  MATCH (e)-[r:ABOUT]->(o)
  MERGE (e)-[:ABOUT {role: r.role}]->(s)
}
CALL (s, o) {
  MATCH (a)-[r]->(o) WHERE type(r) <> 'ABOUT' AND a <> s AND a <> o
  MERGE (a)-[:$(type(r))]->(s)
}
CALL (s, o) {
  MATCH (o)-[r]->(b) WHERE b <> s AND b <> o
  MERGE (s)-[:$(type(r))]->(b)
}
REMOVE o.key, o.aliases
WITH s, o, properties(o) AS theirs, properties(s) AS ours
SET s += theirs
SET s += ours
DETACH DELETE o;

// libs/graph/src/history.ts HistoryReads.aroundRows
UNWIND $keys AS k MATCH (c:Commit {key: k})
CALL (c) {
  MATCH (c)-[:PARENT*0..${AROUND_DEPTH}]->(x:Commit) RETURN DISTINCT x
  UNION
  MATCH (c)<-[:ABOUT]-(s:Event)-[:PREVIOUS_VERSION*0..${AROUND_DEPTH}]->(:Event)-[:ABOUT]->(x:Commit)
  WHERE s.stage IN ['commit', 'merge'] RETURN DISTINCT x
}
WITH DISTINCT x AS c
RETURN c.key AS from, ${STEPS_BACK};

// libs/graph/src/history.ts HistoryReads.releasesInOrder.rows
MATCH (r:Release) WHERE r.product = $product
OPTIONAL MATCH (r)<-[:ABOUT]-(e:Event) WHERE NOT e:Placeholder
WITH r, min(e.time) AS t
RETURN r.key AS key, r.version AS version, toString(t) AS time ORDER BY t, r.key LIMIT $limit;

// libs/graph/src/history.ts HistoryReads.purls.rows
UNWIND $keys AS k MATCH (a:Artifact {key: k})
RETURN k AS key, coalesce(a.purl, [x IN coalesce(a.aliases, []) WHERE x STARTS WITH 'purl:' | substring(x, 5)][0],
                          CASE WHEN a.key STARTS WITH 'purl:' THEN substring(a.key, 5) END) AS purl;

// libs/graph/src/history.ts HistoryReads.productArtifacts.rows
MATCH (:Release {key: $key})<-[:ABOUT]-(:Event)<-[:COMPOSITION]-(e:Event)-[:ABOUT]->(a:Artifact)
RETURN DISTINCT a.key AS key ORDER BY key;

// libs/graph/src/history.ts HistoryReads.workItemRows
UNWIND $keys AS k MATCH (c:Commit {key: k})
RETURN k AS key, [(c)-[:REFERENCES]->(w:WorkItem) | w.key]
  + [(c)<-[:INCLUDES]-(:Change)-[:REFERENCES]->(w:WorkItem) | w.key]
  + [(c)<-[:ABOUT]-(s:Event)-[l]->(:Event)-[:ABOUT]->(w:WorkItem) WHERE s.stage IN ['commit', 'merge'] AND type(l) <> 'ABOUT' | w.key] AS items;

// libs/graph/src/journey.ts MARK_JOURNEYS_PENDING
UNWIND $ids AS id MATCH (e:Event {id: id}) SET e:JourneyPending;

// libs/graph/src/journeys.ts CHANGED_IN_WINDOW
MATCH (j:Journey) WHERE j.commitFirst >= $from
WITH j ORDER BY j.updatedAt, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j, j.updatedAt.epochMillis AS at;

// libs/graph/src/journeys.ts CHANGED_SINCE
MATCH (j:Journey) USING INDEX j:Journey(updatedAt)
WHERE j.updatedAt >= datetime({epochMillis: $since}) AND j.commitFirst >= $from
WITH j ORDER BY j.updatedAt, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j, j.updatedAt.epochMillis AS at;

// libs/graph/src/journeys.ts LAST_CHANGE
CALL {
  MATCH (e:Event) WHERE e.ingestedAt IS NOT NULL
  RETURN e.ingestedAt AS t ORDER BY e.ingestedAt DESC LIMIT 1
  UNION ALL
  MATCH (j:Journey) WHERE j.updatedAt IS NOT NULL
  RETURN j.updatedAt AS t ORDER BY j.updatedAt DESC LIMIT 1
}
RETURN max(t).epochMillis AS at;

// libs/graph/src/journeys.ts ANY_EVENT_IN
UNWIND $spans AS s
RETURN EXISTS {
  MATCH (e:Event) WHERE e.time >= datetime({epochMillis: s.from}) AND e.time < datetime({epochMillis: s.to})
} AS any;

// libs/graph/src/journeys.ts Journeys.propagate.pending
MATCH (e:JourneyPending) RETURN e.id AS id, coalesce(e.ingestedAt, datetime.realtime()).epochMillis AS at LIMIT $limit;

// libs/graph/src/journeys.ts Journeys.propagate
CALL () {
  UNWIND $keys AS k
  MERGE (j:Journey {key: k})
  SET j:JourneyDirty, j.dirtyToken = $token,
      j.dirtySince = CASE WHEN j.dirtySince IS NULL OR j.dirtySince > $since THEN $since ELSE j.dirtySince END
}
CALL () {
  UNWIND $passes AS p MATCH (e:Event {id: p.id})
  UNWIND p.keys AS k MATCH (j:Journey {key: k})
  MERGE (j)-[:PASSED]->(e)
}
CALL () { ${RECORD_FIRINGS} }
UNWIND $ids AS id MATCH (e:Event {id: id}) REMOVE e:JourneyPending;

// libs/graph/src/journeys.ts Journeys.eventFirings.events
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE e.type IN $types
RETURN e.id AS id, e.type AS type, e.site AS site, e.time AS time, e.raw AS raw,
       coalesce(e.ingestedAt, datetime.realtime()).epochMillis AS at;

// libs/graph/src/journeys.ts Journeys.recompute.dirty
MATCH (j:JourneyDirty) WITH j ORDER BY j.dirtySince LIMIT $limit
RETURN j.key AS key, j.dirtyToken AS token, datetime.realtime().epochMillis AS basis, j.dirtySince AS since,
       CASE WHEN $prev AND j.evIds IS NOT NULL THEN j {${JOURNEY_RECORD}} END AS prev;

// libs/graph/src/journeys.ts Journeys.recompute
UNWIND $rows AS r MATCH (j:Journey {key: r.key}) WHERE coalesce(j.basis, -1) <= r.basis DETACH DELETE j;

// libs/graph/src/journeys.ts Journeys.recompute
UNWIND $rows AS r
MATCH (j:Journey {key: r.key}) WHERE coalesce(j.basis, -1) <= r.basis
SET j += r.props, j.basis = r.basis, j.updatedAt = datetime.realtime()
WITH j, r
CALL (j, r) {
  MATCH (j)-[p:PASSED]->(e:Event) WHERE NOT e.id IN r.events
  DELETE p
}
CALL (j, r) {
  UNWIND r.events AS id
  MATCH (e:Event {id: id})
  MERGE (j)-[:PASSED]->(e)
}
CALL (r) {
  WITH r.firings AS firings
  ${RECORD_FIRINGS.replace('$firings', 'firings')}
}
WITH j, r WHERE j.dirtyToken = r.token
REMOVE j:JourneyDirty, j.dirtyToken, j.dirtySince;

// libs/graph/src/journeys.ts Journeys.compute.commits
UNWIND $keys AS k MATCH (c:Commit {key: k})
RETURN {eid: elementId(c), label: 'Commit', key: c.key, props: properties(c)} AS x;

// libs/graph/src/journeys.ts Journeys.compute
UNWIND $rows AS r
RETURN r.o AS o, COLLECT { UNWIND r.eids AS eid MATCH (c) WHERE elementId(c) = eid MATCH (c)-[:REFERENCES]->(w:WorkItem) RETURN DISTINCT w.key } AS keys;

// libs/graph/src/journeys.ts Journeys.compute.rows
UNWIND $keys AS k MATCH (a:Artifact {key: k}) RETURN a.key AS key, a.aliases AS aliases;

// libs/graph/src/journeys.ts Journeys.rebuild
MATCH (j:Journey) WHERE NOT EXISTS { MATCH (c:Commit {key: j.key}) } DETACH DELETE j;

// libs/graph/src/journeys.ts Journeys.rebuild.keys
MATCH (c:Commit) RETURN c.key AS key;

// libs/graph/src/journeys.ts Journeys.rebuildOf
UNWIND $keys AS k MERGE (j:Journey {key: k})
SET j:JourneyDirty, j.dirtyToken = $token, j.dirtySince = coalesce(j.dirtySince, datetime.realtime().epochMillis);

// libs/graph/src/journeys.ts Journeys.settled
WITH coalesce($now, datetime.realtime().epochMillis) AS now
RETURN now, EXISTS { MATCH (e:JourneyPending) WHERE e.ingestedAt IS NULL OR e.ingestedAt.epochMillis <= now }
         OR EXISTS { MATCH (j:JourneyDirty) WHERE j.dirtySince <= now } AS busy;

// libs/graph/src/journeys.ts Journeys.reachedIn.rows
MATCH (j:Journey) WHERE j.${p} >= $from AND j.${p} < $to
WITH j ORDER BY j.${p}, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j;

// libs/graph/src/journeys.ts Journeys.byKey
MATCH (j:Journey {key: $key}) RETURN j {${JOURNEY_RECORD}} AS j, j:JourneyDirty AS dirty, j.basis AS basis;

// libs/graph/src/journeys.ts Journeys.news.rows
UNWIND $ids AS id MATCH (e:Event {id: id})
RETURN id, e.stage AS stage, e:JourneyPending AS pending,
       [(j:Journey)-[:PASSED]->(e) | {key: j.key, dirty: j:JourneyDirty, workItems: j.workItems, releases: j.releases,
         first: [i IN range(0, size(coalesce(j.evIds, [])) - 1) WHERE j.evStages[i] = e.stage | j.evIds[i]][0]}] AS js;

// libs/graph/src/journeys.ts Journeys.passing.rows
UNWIND $ids AS id MATCH (e:Event {id: id})
OPTIONAL MATCH (j:Journey)-[:PASSED]->(e)
WITH id, collect(DISTINCT j.repository) AS repositories, collect(j) AS js
RETURN id, repositories,
       CASE WHEN size($named) = 0 THEN false ELSE any(x IN js WHERE any(a IN coalesce(x.artifacts, []) WHERE a IN $named)) END AS named;

// libs/graph/src/journeys.ts Journeys.eventTimes.rows
UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder
RETURN {id: e.id, type: e.type, stage: e.stage, phase: e.phase, outcome: e.outcome, time: toString(e.time),
        site: e.site, source: e.source, format: e.format, props: {}} AS e;

// libs/graph/src/lease.ts takeLease
MERGE (l:Lease {name: $name})
WITH l, datetime.realtime().epochMillis AS now
SET l.holder = CASE WHEN l.holder IS NULL OR l.holder = $holder OR coalesce(l.until, 0) < now THEN $holder ELSE l.holder END
SET l.until = CASE WHEN l.holder = $holder THEN now + $ttl ELSE l.until END
RETURN l.holder = $holder AS mine;

// libs/graph/src/lease.ts releaseLease
MATCH (l:Lease {name: $name}) WHERE l.holder = $holder SET l.until = 0;

// libs/graph/src/subscriptions.ts RECORD_FIRINGS
UNWIND $firings AS f
MERGE (x:Firing {key: f.key})
ON CREATE SET x.id = f.id, x.subscription = f.subscription, x.subject = f.subject, x.body = f.body,
  x.causeAt = f.causeAt, x.createdAt = datetime.realtime().epochMillis, x.status = 'pending', x.attempts = 0,
  x.nextAt = datetime.realtime().epochMillis, x:FiringPending;

// libs/graph/src/subscriptions.ts SubscriptionStore.save
MERGE (s:Subscription {id: $p.id}) SET s = $p;

// libs/graph/src/subscriptions.ts SubscriptionStore.secretOf
MATCH (s:Subscription {id: $id}) RETURN s.secret AS secret;

// libs/graph/src/subscriptions.ts SubscriptionStore.get
MATCH (s:Subscription {id: $id}) RETURN properties(s) AS p;

// libs/graph/src/subscriptions.ts SubscriptionStore.list.rows
MATCH (s:Subscription) WHERE $owner IS NULL OR s.owner = $owner RETURN properties(s) AS p ORDER BY s.createdAt, s.id;

// libs/graph/src/subscriptions.ts SubscriptionStore.enabled.rows
MATCH (s:Subscription) WHERE s.enabled RETURN properties(s) AS p;

// libs/graph/src/subscriptions.ts SubscriptionStore.delete
OPTIONAL MATCH (s:Subscription {id: $id})
WITH s, s IS NOT NULL AS found
DETACH DELETE s
WITH found
CALL (found) {
  MATCH (f:FiringPending {subscription: $id}) WHERE found
  SET f.status = 'cancelled' REMOVE f:FiringPending
}
RETURN CASE WHEN found THEN 1 ELSE 0 END AS n;

// libs/graph/src/subscriptions.ts SubscriptionStore.firings.rows
MATCH (f:Firing {subscription: $id}) RETURN properties(f) AS f ORDER BY f.createdAt DESC, f.id LIMIT $limit;

// libs/graph/src/subscriptions.ts SubscriptionStore.sweepStuck.rows
MATCH (j:Journey) WHERE j.key > $after AND j.furthestStage = $stage AND j.stoppedStage IS NULL AND j.${last} < $before
  AND ($repository IS NULL OR j.repository STARTS WITH $repository)
  AND ($workItem IS NULL OR $workItem IN coalesce(j.workItems, []))
  AND NOT EXISTS { MATCH (f:Firing {key: $id + '|' + j.key}) }
WITH j ORDER BY j.key LIMIT $limit
RETURN j {${JOURNEY_RECORD}} AS j;

// libs/graph/src/subscriptions.ts SubscriptionStore.recordInsights.rows
UNWIND $ids AS id MATCH (e:InsightEpisode {finding: id}) RETURN properties(e) AS e;

// libs/graph/src/subscriptions.ts SubscriptionStore.recordInsights
CALL () {
  UNWIND $episodes AS e
  MERGE (x:InsightEpisode {finding: e.finding})
  SET x.since = e.since, x.firstSeen = e.firstSeen, x.lastSeen = e.lastSeen, x.missedSince = null
}
CALL () {
  MATCH (x:InsightEpisode) WHERE NOT x.finding IN $ids
  SET x.missedSince = coalesce(x.missedSince, $now)
  WITH x WHERE x.missedSince < $now - $gapMs
  DELETE x
}
CALL () { ${RECORD_FIRINGS} };

// libs/graph/src/subscriptions.ts SubscriptionStore.backlog
CALL () { MATCH (f:FiringPending) RETURN count(f) AS pending, min(f.createdAt) AS oldest }
CALL () { MATCH (f:Firing {status: 'dead'}) RETURN count(f) AS dead }
RETURN pending, oldest, dead;

// libs/graph/src/subscriptions.ts SubscriptionStore.claim.rows
WITH datetime.realtime().epochMillis AS now
MATCH (f:FiringPending) WHERE f.nextAt <= now AND coalesce(f.claimUntil, 0) < now
WITH f, now ORDER BY f.nextAt LIMIT $limit
SET f.claimUntil = now + $leaseMs, f.claimToken = $token
WITH f
OPTIONAL MATCH (s:Subscription {id: f.subscription})
RETURN properties(f) AS f, properties(s) AS s;

// libs/graph/src/subscriptions.ts SubscriptionStore.delivered
MATCH (f:FiringPending {id: $id}) WHERE f.claimToken = $token
SET f.status = 'delivered', f.deliveredAt = datetime.realtime().epochMillis, f.attempts = f.attempts + 1, f.lastError = null
REMOVE f:FiringPending, f.claimUntil, f.claimToken, f.nextAt;

// libs/graph/src/subscriptions.ts SubscriptionStore.failed
MATCH (f:FiringPending {id: $id}) WHERE f.claimToken = $token
SET f.attempts = f.attempts + 1, f.lastError = $error, f.nextAt = coalesce($at, f.nextAt)
REMOVE f.claimUntil, f.claimToken
WITH f WHERE $give IS NOT NULL
SET f.status = $give
REMOVE f:FiringPending, f.nextAt;

// libs/graph/src/walk.reads.ts WalkReads.eventsAbout
UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
MATCH (x)<-[:ABOUT]-(e:Event) WHERE NOT e.id IN $known RETURN DISTINCT r.o AS o, e.id AS id;

// libs/graph/src/walk.reads.ts WalkReads.eventsAbout.found
UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
RETURN r.os AS os, [(x)<-[:ABOUT]-(e:Event) WHERE NOT e.id IN $known | e.id] AS ids;

// libs/graph/src/walk.reads.ts WalkReads.step.rows
CALL () {
  UNWIND $entities AS r MATCH (x) WHERE elementId(x) = r.id
  CALL (x) { MATCH (x)<-[:${into}]-(y) RETURN y UNION MATCH (x)-[:${out}]->(y) RETURN y }
  RETURN r.os AS os, null AS id, y AS n
  UNION
  UNWIND $describe AS r MATCH (e:Event {id: r.id})-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect)
  RETURN r.os AS os, null AS id, y AS n
  UNION
  UNWIND $expand AS r MATCH (x) WHERE elementId(x) = r.id MATCH (x)<-[:ABOUT]-(d:Event)
  RETURN r.os AS os, d.id AS id, null AS n
  UNION
  UNWIND $events AS r MATCH (x:Event {id: r.id}) MATCH ${linked} WHERE NOT type(l) IN $skip AND NOT d:Placeholder
  RETURN r.os AS os, d.id AS id, null AS n
}
RETURN os, id, CASE WHEN n IS NULL THEN null ELSE ${ENTITY_FIELDS('n')} END AS x;

// libs/graph/src/walk.reads.ts WalkReads.closure
UNWIND $rows AS r MATCH (x:Event {id: r.id})
MATCH ${linked} AND NOT d:Placeholder
WITH DISTINCT r.o AS o, d
RETURN o, d.id AS id, [(d)-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect) | ${ENTITY_REF('y')}] AS xs;

// libs/graph/src/walk.reads.ts WalkReads.closure.found
UNWIND $rows AS r MATCH (x:Event {id: r.id})
MATCH ${linked} AND NOT d:Placeholder
WITH DISTINCT r, d
WITH d, collect(r.os) AS oss
RETURN oss, d.id AS id, [(d)-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect) | ${ENTITY_REF('y')}] AS xs;

// libs/graph/src/walk.reads.ts WalkReads.reach.rows
UNWIND $ids AS id MATCH (x:Event {id: id})
MATCH ${linked} WHERE all(l IN ls WHERE type(l) <> 'ABOUT' AND NOT type(l) IN $skip) AND NOT d:Placeholder
WITH collect(DISTINCT d) AS ds
CALL (ds) {
  UNWIND ds AS d MATCH (d)-[:ABOUT]->(y:${collect})
  WITH y, count(*) AS seen
  RETURN collect(y) AS ys, collect(CASE WHEN y:${expand} AND COUNT { (y)<-[:ABOUT]-() } > seen THEN elementId(y) END) AS more
}
CALL (ys) { UNWIND ys AS y MATCH (y)<-[:${into}]-(n) RETURN collect(DISTINCT n) AS n1 }
CALL (ys) { UNWIND ys AS y MATCH (y)-[:${out}]->(n) RETURN collect(DISTINCT n) AS n2 }
WITH ds, ys, more, n1 + n2 AS ns
CALL (ds, ys, more, ns) {
  UNWIND range(0, size(ds) - 1, $chunk) AS i RETURN 'events' AS kind, [d IN ds[i..i + $chunk] | d.id] AS items
  UNION ALL
  UNWIND range(0, size(ys) - 1, $chunk) AS i RETURN 'entities' AS kind, [y IN ys[i..i + $chunk] | [elementId(y), ${label('y')}, y.key]] AS items
  UNION ALL
  UNWIND range(0, size(more) - 1, $chunk) AS i RETURN 'more' AS kind, more[i..i + $chunk] AS items
  UNION ALL
  UNWIND range(0, size(ns) - 1, $chunk) AS i
  RETURN 'neighbours' AS kind,
         [n IN ns[i..i + $chunk] | [elementId(n), ${label('n')}, n.key, CASE WHEN $props THEN properties(n) END,
           EXISTS { (n)<-[:${into}]-() } OR EXISTS { (n)-[:${out}]->() } OR (n:${expand} AND EXISTS { (n)<-[:ABOUT]-() })]] AS items
}
RETURN kind, items;
