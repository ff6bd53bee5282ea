// `npm start`: install what is missing, bring up the local mesh with the three apps,
// publish the demo pipeline across both sites, and say where to look.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { prepare, root, say, traces } from './prepare.mjs';

prepare();
traces(['mesh', 'up'], 'traces mesh up');
traces(['demo'], 'traces demo');

const status = JSON.parse(
  spawnSync(process.execPath, [join(root, 'bin', 'traces.js'), 'mesh', 'status', '--json'], { cwd: root, encoding: 'utf8' }).stdout,
);
const { default: neo4j } = await import('neo4j-driver');
const driver = neo4j.driver(status.neo4j.bolt, neo4j.auth.basic(status.neo4j.user, status.neo4j.password));
const { DEMO_EVENT_IDS } = await import(join(root, 'dist', 'libs', 'mesh', 'src', 'demo.js'));
let found = 0;
for (let i = 0; i < 60 && found < DEMO_EVENT_IDS.length; i++) {
  const res = await driver.executeQuery(
    'MATCH (e:Event) WHERE e.id IN $ids AND NOT e:Placeholder RETURN count(e) AS n',
    { ids: DEMO_EVENT_IDS },
    { database: 'neo4j' },
  );
  found = res.records[0].get('n').toNumber();
  if (found < DEMO_EVENT_IDS.length) await new Promise((r) => setTimeout(r, 1000));
}
await driver.close();
say(`demo: ${found} of ${DEMO_EVENT_IDS.length} demo events are in Neo4j`);

process.stdout.write(`
Network of Traces is running.

  Explorer page     ${status.explorer.url}/   (token: ${status.explorer.token})
  Explorer API      curl -H "Authorization: Bearer ${status.explorer.token}" ${status.explorer.url}/api/v1/trace/commit/3f786850
  Trace a commit    npx traces trace commit 3f786850      (finds this mesh's explorer and token by itself)
  Prometheus        ${status.prometheus.url}   (try: traces_correlator_events_total)
  Central RabbitMQ  ${status.central.management}   (user admin, password in "traces mesh status --json")
  Neo4j (Bolt)      ${status.neo4j.bolt}   user neo4j, password: ${status.neo4j.password}
                    e.g. MATCH (e:Event)-[r]->(t:Event) RETURN e.type, type(r), t.type

  Publish events:   npx traces publish --site site-a --source ci events.ndjson
  Status:           npx traces mesh status
  Stop:             npx traces mesh down      (add --purge to delete the data)
`);
process.exit(found === DEMO_EVENT_IDS.length ? 0 : 1);
