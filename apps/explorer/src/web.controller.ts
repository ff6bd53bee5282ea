import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The page's own files (apps/explorer/web), found from the compiled file or the source tree alike. */
function webDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'apps', 'explorer', 'web');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('apps/explorer/web not found beside the explorer');
}

const WEB = webDir();
const OWN: Readonly<Record<string, { file: string; type: string }>> = {
  'app.js': { file: join(WEB, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: join(WEB, 'app.css'), type: 'text/css; charset=utf-8' },
  'subscriptions.js': { file: join(WEB, 'subscriptions.js'), type: 'text/javascript; charset=utf-8' },
};
/** Graph layout and charts come from their npm packages and are served from here: the page needs no outside network. */
const VENDOR: Readonly<Record<string, string>> = {
  'cytoscape.min.js': join(packageRoot('cytoscape'), 'dist', 'cytoscape.min.js'),
  'chart.umd.min.js': join(packageRoot('chart.js'), 'dist', 'chart.umd.min.js'),
};

/** A package's folder (its `exports` hide the browser builds from require.resolve). */
function packageRoot(name: string): string {
  const main = require.resolve(name);
  const marker = join('node_modules', name);
  return main.slice(0, main.lastIndexOf(marker) + marker.length);
}

/** The web page at `/`: plain HTML and JavaScript, no build step. Open, like the page itself; its data calls carry the token. */
@Controller()
export class WebController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  index(): StreamableFile {
    return new StreamableFile(createReadStream(join(WEB, 'index.html')));
  }

  @Get('ui/:name')
  @Header('Cache-Control', 'no-cache')
  own(@Param('name') name: string): StreamableFile {
    const f = OWN[name];
    if (!f) throw new NotFoundException(`no file ${name}`);
    return new StreamableFile(createReadStream(f.file), { type: f.type });
  }

  @Get('ui/vendor/:name')
  @Header('Cache-Control', 'public, max-age=86400')
  vendor(@Param('name') name: string): StreamableFile {
    const f = VENDOR[name];
    if (!f) throw new NotFoundException(`no file ${name}`);
    return new StreamableFile(createReadStream(f), { type: 'text/javascript; charset=utf-8' });
  }
}
