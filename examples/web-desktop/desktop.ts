// A minimal agent desktop in the browser: the specification's transcript (session, register,
// keep-alive, calls, logout) driven by @sip-endpoint/connector-client, bundled for the page by
// build.ts. The browser keeps the Softphone's HttpOnly session cookie (credentials: 'include')
// and sends the page's own Origin, which the Softphone's allowed_origin_headers must allow.
import { ConnectorClient, ConnectorError, ConnectorForbiddenError, type Session, type SessionWatcher } from '@sip-endpoint/connector-client';

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const form = byId<HTMLFormElement>('login');
const buttons = {
  open: byId<HTMLButtonElement>('open'),
  register: byId<HTMLButtonElement>('register'),
  release: byId<HTMLButtonElement>('release'),
  pause: byId<HTMLButtonElement>('pause'),
  logout: byId<HTMLButtonElement>('logout'),
};
const status = byId('status');
const lines = byId('lines');
const calls = byId('calls');
const log = byId('log');

let client: ConnectorClient | undefined;
let watcher: SessionWatcher | undefined;

/** One line of the events list (the newest last). */
function note(text: string): void {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.append(item);
}

function row(cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/** The session model's parts are optional on the wire: what is absent shows as such. */
function show(session: Session): void {
  status.textContent = `Status ${session.status ?? 'unknown'}${session.phone?.vq_alarm_on ? ' (voice quality alarm)' : ''}.`;
  lines.replaceChildren(...(session.connectivities?.connections ?? []).map((connection) => row([`${connection.user ?? '?'}@${connection.server ?? '?'}`, connection.state ?? '?'])));
  calls.replaceChildren(...(session.phone?.calls ?? []).map((call) => row([call.uuid ?? '?', call.state ?? '?'])));
}

function enable(loggedIn: boolean): void {
  buttons.open.disabled = loggedIn;
  buttons.register.disabled = !loggedIn;
  buttons.release.disabled = !loggedIn;
  buttons.pause.disabled = !loggedIn;
  buttons.logout.disabled = !loggedIn;
}

/** Runs a step, showing its failure (a typed ConnectorError names its status and code) in the events. */
async function step(name: string, action: () => Promise<void>): Promise<void> {
  note(`> ${name}`);
  try {
    await action();
  } catch (error) {
    note(error instanceof ConnectorError ? `${name} failed: ${error.code}: ${error.message}` : `${name} failed: ${String(error)}`);
  }
}

function watch(current: ConnectorClient): void {
  watcher = current.watch({ intervalMs: 1000 });
  watcher.on('session', show);
  watcher.on('connectionStateChanged', (connection, state, previous) => note(`line ${connection.user}: ${previous ?? 'none'} -> ${state ?? 'gone'}`));
  watcher.on('callAdded', (call) => note(`call ${call.uuid} added (${call.state})`));
  watcher.on('callStateChanged', (call, state, previous) => note(`call ${call.uuid}: ${previous ?? 'none'} -> ${state ?? 'gone'}`));
  watcher.on('callRemoved', (call) => note(`call ${call.uuid} removed`));
  const lost = (): void => {
    note('the session expired or was closed by the Softphone');
    status.textContent = 'Session expired: log in again.';
    watcher?.stop();
    watcher = undefined;
    buttons.pause.textContent = 'Stop the keep-alive';
    enable(false);
  };
  watcher.on('sessionLost', lost);
  // A watcher resumed after the session ended: its first poll is refused.
  watcher.on('pollFailed', (error) => {
    if (error instanceof ConnectorForbiddenError) lost();
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const expire = Number(data.get('expire'));
  void step('log in', async () => {
    client = new ConnectorClient({ baseUrl: String(data.get('softphone')), credentials: 'include', retry: { retries: 0 } });
    const session = await client.openSession({
      options: {
        sipendpoint: { 'policy.session.auto_answer': byId<HTMLInputElement>('auto-answer').checked ? '1' : '0' },
        softphone: { session_expire: Number.isInteger(expire) ? expire : 30 },
      },
      connectivities: { protocol: 'udp', connections: [{ server: String(data.get('server')), user: String(data.get('user')) }] },
    });
    show(session);
    note(`session opened (Softphone ${client.softphoneVersion ?? 'unknown'})`);
    enable(true);
    watch(client);
  });
});

buttons.register.addEventListener('click', () => void step('register', async () => client?.register()));
buttons.release.addEventListener('click', () => void step('hang up every call', async () => client?.releaseCalls()));
// The transcript's session expiry: without GET /session for session_expire seconds the Softphone
// ends the session; the keep-alive resumed then finds it gone.
buttons.pause.addEventListener('click', () => {
  if (watcher) {
    watcher.stop();
    watcher = undefined;
    buttons.pause.textContent = 'Resume the keep-alive';
    note('keep-alive stopped: the Softphone ends the session after its session_expire');
  } else if (client) {
    buttons.pause.textContent = 'Stop the keep-alive';
    note('keep-alive resumed');
    watch(client);
  }
});
buttons.logout.addEventListener('click', () =>
  void step('log out', async () => {
    watcher?.stop();
    watcher = undefined;
    await client?.closeSession();
    status.textContent = 'Logged out.';
    buttons.pause.textContent = 'Stop the keep-alive';
    enable(false);
  }),
);
