import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** PEM files of a test certificate authority and of a server certificate it signed. */
export interface TestCertificates {
  dir: string;
  /** The authority's certificate (what a client trusts). */
  caCertificate: string;
  /** The server's certificate and key. */
  serverCertificate: string;
  serverKey: string;
  /** The server's certificate followed by its key, in one file. */
  serverBundle: string;
}

function openssl(dir: string, args: string[]): void {
  const run = spawnSync('openssl', args, { cwd: dir });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${run.stderr.toString()}`);
}

/**
 * Makes, with openssl in a temporary directory, a self-signed authority and a server certificate
 * it signs for `names` only: DNS names, and IP addresses where a name is one (a certificate of
 * names alone fails a name check against an address). With `expired`, the server's certificate
 * ended the day before it began (`-days -1`): expired from the start.
 */
export function makeTestCertificates(names: string[], options: { expired?: boolean } = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sep-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=SIP Endpoint SDK test CA']);
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0] ?? 'localhost'}`]);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${names.map((name) => (isIP(name) !== 0 ? `IP:${name}` : `DNS:${name}`)).join(',')}\n`);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', options.expired ? '-1' : '2', '-extfile', 'server.ext']);
  const bundle = join(dir, 'server-bundle.pem');
  writeFileSync(bundle, readFileSync(join(dir, 'server.pem'), 'latin1') + readFileSync(join(dir, 'server.key'), 'latin1'));
  return { dir, caCertificate: join(dir, 'ca.pem'), serverCertificate: join(dir, 'server.pem'), serverKey: join(dir, 'server.key'), serverBundle: bundle };
}
