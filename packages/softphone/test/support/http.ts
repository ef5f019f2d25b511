import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** A response as it came over the wire. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** `Set-Cookie` values, as sent. */
  cookies: string[];
  json(): unknown;
}

/** One HTTP(S) request over a fresh socket (no cookie jar, no redirects: what we send is what goes). */
export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string; servername?: string } = {}): Promise<RawResponse> {
  const target = new URL(url);
  const make = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(
      target,
      { method: options.method ?? 'GET', headers: { ...options.headers, ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}) }, agent: false, ...(options.ca ? { ca: options.ca } : {}), ...(options.servername ? { servername: options.servername, checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(options.servername!, cert) } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const setCookie = res.headers['set-cookie'];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cookies: setCookie ?? [], json: () => JSON.parse(body) as unknown });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The headers the agent desktop of the spec's transcript sends (Chrome 75 on Windows, WWE at bsgwsfanch:8080). */
export function desktopHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Accept: '*/*',
    Origin: 'http://bsgwsfanch:8080',
    'X-CSRF-TOKEN': 'd3c1f001-8f8b-4ab7-b016-5312d24b5f79',
    'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36',
    Referer: 'http://bsgwsfanch:8080/ui/ad/v1/index.html',
    'Accept-Language': 'fr-FR, fr; q=0.9, en-US; q=0.8, en; q=0.7',
    ...extra,
  };
}

/** The session id of a `Set-Cookie: SEPSESSIONID=<id>; ...`. */
export function sessionIdOf(response: RawResponse): string | undefined {
  for (const cookie of response.cookies) {
    const match = /^SEPSESSIONID=([^;]*)/.exec(cookie);
    if (match) return match[1];
  }
  return undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` holds (sync or async), polling every 50 ms; throws after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
