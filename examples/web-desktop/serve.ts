// Serves the sample agent desktop on http://127.0.0.1:8080/ (another port with --port N), after
// bundling it (build.ts). Run a Softphone in connector mode beside it (`npx softphone --config X`,
// with `policy.connector.port` set and `allowed_origin_headers` empty or naming this origin).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { buildWebDesktop } from './build';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/desktop.css': { file: 'desktop.css', type: 'text/css; charset=utf-8' },
  '/desktop.js': { file: join('dist', 'desktop.js'), type: 'text/javascript; charset=utf-8' },
  '/desktop.js.map': { file: join('dist', 'desktop.js.map'), type: 'application/json' },
};

/** Bundles the page and serves it on 127.0.0.1:`port` (0: any free port); resolves once listening. */
export async function serveWebDesktop(port: number): Promise<{ server: Server; url: string }> {
  await buildWebDesktop();
  const server = createServer((request, response) => {
    // Only the page's own files, by a fixed table: no path from the request reaches the disk.
    const entry = FILES[new URL(request.url ?? '/', 'http://page').pathname];
    if (!entry || request.method !== 'GET') {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    readFile(join(__dirname, entry.file)).then(
      (body) => response.writeHead(200, { 'Content-Type': entry.type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).end(body),
      () => response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('the page is not built'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return { server, url: `http://127.0.0.1:${actual}/` };
}

if (require.main === module) {
  const at = process.argv.indexOf('--port');
  const port = at >= 0 ? Number(process.argv[at + 1]) : 8080;
  serveWebDesktop(Number.isInteger(port) ? port : 8080).then(
    ({ url }) => process.stdout.write(`sample agent desktop at ${url} (Ctrl-C to stop)\n`),
    (error: Error) => {
      process.stderr.write(`web-desktop: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
