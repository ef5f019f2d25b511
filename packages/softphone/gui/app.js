// @ts-check
// The Softphone page: the tabs of gui_tabs (status, calls, devices) drawn from the `state` events
// of /softphone/gui/events, and actions posted to /softphone/gui/. Plain DOM, no framework: the
// page is small, and a user's clone should run it without a bundler.

/**
 * @typedef {{ id: string; name: string; headset: boolean; selected: boolean; volume: number | undefined; muted: boolean | undefined }} GuiDevice
 * @typedef {{ id: string; slot: number | undefined; line: number; direction: 'incoming' | 'outgoing'; kind: 'voice' | 'im'; state: string; remote: string; connectedAt: number | undefined; heldBy: string | undefined; muted: boolean; codec: string | undefined; mos: number | undefined; jitterMs: number | undefined; vqAlarm: boolean }} GuiCall
 * @typedef {{ index: number; user: string; server: string; state: string; reason: string | undefined }} GuiConnection
 * @typedef {{ tabs: string[]; callLines: number; now: number; mode: string; inSession: boolean; status: string; connections: GuiConnection[]; calls: GuiCall[]; microphones: GuiDevice[]; speakers: GuiDevice[]; headsetUsed: boolean; mos: number | undefined; vqAlarm: boolean }} GuiState
 */

(() => {
  const TAB_LABELS = /** @type {Record<string, string>} */ ({ status: 'Status', calls: 'Calls', devices: 'Devices' });
  /** Samples kept per call for its chart (one a second). */
  const HISTORY = 120;

  const tabList = /** @type {HTMLElement} */ (document.getElementById('tabs'));
  const panels = /** @type {HTMLElement} */ (document.getElementById('panels'));
  const summary = /** @type {HTMLElement} */ (document.getElementById('summary'));
  const message = /** @type {HTMLElement} */ (document.getElementById('message'));

  /** @type {GuiState | undefined} */
  let state;
  /** The server's clock less ours, from the last state (for durations). */
  let clockOffset = 0;
  let selectedTab = '';
  let tabsKey = '';
  /** @type {Map<string, { mos: number[]; jitter: number[] }>} */
  const history = new Map();
  /** What each phone line shows, so that a redraw keeps a field being typed in. @type {Map<number, string>} */
  const lineKeys = new Map();
  let devicesKey = '';

  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, string>} [attributes]
   * @param {(Node | string)[]} [children]
   * @returns {HTMLElementTagNameMap[K]}
   */
  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  /** @param {string} text */
  function showMessage(text) {
    message.textContent = text;
    message.hidden = text === '';
  }

  /**
   * Posts an action; a refusal is shown on the page with the server's words.
   * @param {string} path
   * @param {unknown} [body]
   */
  async function post(path, body = {}) {
    try {
      const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) {
        const text = await response.text();
        let reason = text;
        try {
          reason = /** @type {{ message?: string }} */ (JSON.parse(text)).message ?? text;
        } catch {
          // not JSON: the text as it is
        }
        showMessage(reason || `${response.status} ${response.statusText}`);
        return false;
      }
      showMessage('');
      return true;
    } catch (error) {
      showMessage(`The softphone did not answer: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  /** @param {number} ms */
  function duration(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    const minutes = Math.floor(seconds / 60);
    return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
  }

  /** @param {GuiCall} call */
  function describeState(call) {
    if (call.state === 'HELD') return call.heldBy === 'remote' ? 'held by the other party' : 'on hold';
    return { IN_PROGRESS: 'calling', ALERTING: 'ringing at the other end', RINGING: 'ringing', CONNECTED: 'talking' }[call.state] ?? call.state.toLowerCase();
  }

  // ---------------------------------------------------------------- tabs

  function drawTabs() {
    if (!state) return;
    const key = state.tabs.join(',');
    if (key === tabsKey) return;
    tabsKey = key;
    tabList.replaceChildren();
    panels.replaceChildren();
    lineKeys.clear();
    devicesKey = '';
    if (!state.tabs.includes(selectedTab)) selectedTab = state.tabs[0] ?? 'status';
    for (const tab of state.tabs) {
      const button = el('button', { role: 'tab', id: `tab-${tab}`, 'aria-controls': `panel-${tab}`, type: 'button' }, [TAB_LABELS[tab] ?? tab]);
      button.addEventListener('click', () => selectTab(tab, true));
      button.addEventListener('keydown', (event) => {
        const at = state ? state.tabs.indexOf(tab) : -1;
        const tabs = state ? state.tabs : [];
        let next = -1;
        if (event.key === 'ArrowRight') next = (at + 1) % tabs.length;
        else if (event.key === 'ArrowLeft') next = (at - 1 + tabs.length) % tabs.length;
        else if (event.key === 'Home') next = 0;
        else if (event.key === 'End') next = tabs.length - 1;
        if (next < 0) return;
        event.preventDefault();
        selectTab(/** @type {string} */ (tabs[next]), true);
      });
      tabList.append(button);
      panels.append(el('section', { role: 'tabpanel', id: `panel-${tab}`, 'aria-labelledby': `tab-${tab}`, tabindex: '0' }));
    }
    selectTab(selectedTab, false);
  }

  /**
   * @param {string} tab
   * @param {boolean} focus
   */
  function selectTab(tab, focus) {
    selectedTab = tab;
    for (const button of tabList.querySelectorAll('[role="tab"]')) {
      const selected = button.id === `tab-${tab}`;
      button.setAttribute('aria-selected', String(selected));
      button.setAttribute('tabindex', selected ? '0' : '-1');
      if (selected && focus) /** @type {HTMLElement} */ (button).focus();
    }
    for (const panel of panels.querySelectorAll('[role="tabpanel"]')) /** @type {HTMLElement} */ (panel).hidden = panel.id !== `panel-${tab}`;
  }

  // ---------------------------------------------------------------- status

  /**
   * A small chart of a call's MOS (1 to 4.5, solid) and jitter (0 to 100 ms, dashed), a point a second.
   * @param {string} id
   */
  function chart(id) {
    const data = history.get(id);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', `0 0 ${HISTORY} 50`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const last = data && data.mos.length > 0 ? data.mos[data.mos.length - 1] : undefined;
    const lastJitter = data && data.jitter.length > 0 ? data.jitter[data.jitter.length - 1] : undefined;
    svg.setAttribute('aria-label', `MOS and jitter of ${id} over the last ${data ? data.mos.length : 0} seconds; now MOS ${last === undefined ? 'unknown' : last.toFixed(2)}, jitter ${lastJitter === undefined ? 'unknown' : `${lastJitter.toFixed(1)} ms`}`);
    /**
     * @param {number[]} values
     * @param {(value: number) => number} y
     * @param {string} cls
     */
    const line = (values, y, cls) => {
      if (values.length < 2) return;
      // Across the whole width: the first seconds of a call stretched, then a sliding window of HISTORY seconds.
      const step = HISTORY / (values.length - 1);
      const points = values.map((value, i) => `${(i * step).toFixed(2)},${y(value).toFixed(2)}`).join(' ');
      const polyline = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      polyline.setAttribute('class', cls);
      polyline.setAttribute('points', points);
      polyline.setAttribute('vector-effect', 'non-scaling-stroke');
      svg.append(polyline);
    };
    if (data) {
      line(data.mos, (mos) => 50 - ((Math.min(4.5, Math.max(1, mos)) - 1) / 3.5) * 48 - 1, 'mos');
      line(data.jitter, (jitter) => 50 - (Math.min(100, Math.max(0, jitter)) / 100) * 48 - 1, 'jitter');
    }
    return svg;
  }

  function drawStatus() {
    const panel = document.getElementById('panel-status');
    if (!panel || !state) return;
    const s = state;
    const connections = el('table', {}, [
      el('caption', { class: 'visually-hidden' }, ['SIP lines and their states']),
      el('thead', {}, [el('tr', {}, [el('th', { scope: 'col' }, ['Line']), el('th', { scope: 'col' }, ['User']), el('th', { scope: 'col' }, ['State'])])]),
      el(
        'tbody',
        {},
        s.connections.length === 0
          ? [el('tr', {}, [el('td', { colspan: '3' }, [s.mode === 'connector' ? 'No line yet: the desktop has not registered.' : 'No line.'])])]
          : s.connections.map((connection) =>
              el('tr', {}, [
                el('td', {}, [String(connection.index)]),
                el('td', {}, [`${connection.user}@${connection.server}`]),
                el('td', {}, [el('span', { class: connection.state === 'READY' || connection.state === 'STANDALONE' ? 'state ok' : connection.state === 'FAILED' ? 'state alarm' : 'state' }, [connection.state]), connection.reason ? ` (${connection.reason})` : '']),
              ]),
            ),
      ),
    ]);
    const quality = el('p', {}, [
      `Session status: ${s.status}. `,
      s.mos === undefined ? 'No call quality measured yet.' : `MOS ${s.mos.toFixed(2)}.`,
      ' ',
      s.vqAlarm ? el('span', { class: 'alarm' }, ['Voice quality alarm.']) : el('span', { class: 'ok' }, ['No voice quality alarm.']),
    ]);
    const charts = el(
      'div',
      {},
      s.calls
        .filter((call) => call.kind === 'voice')
        .map((call) =>
          el('figure', {}, [
            chart(call.id),
            el('figcaption', { class: 'legend' }, [`${call.remote}: MOS ${call.mos === undefined ? '–' : call.mos.toFixed(2)} (solid, 1 to 4.5), jitter ${call.jitterMs === undefined ? '–' : `${call.jitterMs.toFixed(1)} ms`} (dashed, 0 to 100 ms)`, call.vqAlarm ? ' — VQ alarm' : '']),
          ]),
        ),
    );
    panel.replaceChildren(el('h2', {}, ['Connections']), connections, el('h2', {}, ['Quality']), quality, charts);
  }

  // ---------------------------------------------------------------- calls

  /**
   * @param {number} slot
   * @param {GuiCall | undefined} call
   */
  function drawLine(slot, call) {
    const id = `line-${slot}`;
    let box = document.getElementById(id);
    const panel = document.getElementById('panel-calls');
    if (!panel) return;
    if (!box) {
      box = el('fieldset', { id, class: 'phone-line' });
      panel.append(box);
    }
    const key = call ? `${call.id}|${call.state}|${call.heldBy ?? ''}|${call.muted}` : 'free';
    if (lineKeys.get(slot) !== key) {
      lineKeys.set(slot, key);
      box.replaceChildren(...(call ? busyLine(slot, call) : freeLine(slot)));
    }
    const timer = box.querySelector('.duration');
    if (timer && call?.connectedAt !== undefined) timer.textContent = duration(Date.now() + clockOffset - call.connectedAt);
  }

  /** @param {number} slot */
  function freeLine(slot) {
    const input = el('input', { id: `dial-${slot}`, type: 'text', inputmode: 'tel', autocomplete: 'off', placeholder: 'number or sip:user@host', 'aria-label': `Number to dial on line ${slot}` });
    const form = el('form', { class: 'row', 'aria-label': `Dial on line ${slot}` }, [input, el('button', { type: 'submit', class: 'primary' }, ['Call'])]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const target = input.value.trim();
      if (target === '') {
        showMessage('Enter a number or a SIP address to dial.');
        return;
      }
      void post('dial', { target }).then((ok) => {
        if (ok) input.value = '';
      });
    });
    return [el('legend', {}, [`Line ${slot}: free`]), form];
  }

  /**
   * @param {number} slot
   * @param {GuiCall} call
   */
  function busyLine(slot, call) {
    /**
     * @param {string} label
     * @param {string} action
     * @param {unknown} [body]
     * @param {string} [cls]
     */
    const button = (label, action, body, cls) => {
      const b = el('button', { type: 'button', ...(cls ? { class: cls } : {}), 'data-action': action }, [label]);
      b.addEventListener('click', () => void post(`calls/${encodeURIComponent(call.id)}/${action}`, body));
      return b;
    };
    const talking = call.state === 'CONNECTED' || call.state === 'HELD';
    const actions = el('div', { class: 'row', role: 'group', 'aria-label': `Call on line ${slot}` });
    if (call.state === 'RINGING' && call.direction === 'incoming') actions.append(button('Answer', 'answer', {}, 'primary'));
    actions.append(button(call.state === 'RINGING' ? 'Decline' : 'Hang up', 'hangup'));
    if (talking && call.kind === 'voice') {
      if (call.heldBy === 'local' || call.heldBy === 'both') actions.append(button('Retrieve', 'retrieve'));
      else actions.append(button('Hold', 'hold'));
      const mute = button(call.muted ? 'Unmute' : 'Mute', 'mute', { muted: !call.muted });
      mute.setAttribute('aria-pressed', String(call.muted));
      actions.append(mute);
    }
    /** @type {HTMLElement[]} */
    const parts = [
      el('legend', {}, [`Line ${slot}: ${call.direction === 'incoming' ? 'from' : 'to'} ${call.remote}`]),
      el('p', { class: 'row' }, [el('span', { class: 'state' }, [describeState(call)]), call.connectedAt !== undefined ? el('span', { class: 'duration', 'aria-label': 'duration' }, ['0:00']) : '', call.codec ? el('span', { class: 'legend' }, [call.codec]) : '']),
      actions,
    ];
    if (talking && call.kind === 'voice') {
      const keypad = el('div', { class: 'keypad', role: 'group', 'aria-label': `Keypad (DTMF) for line ${slot}` });
      for (const digit of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
        const key = el('button', { type: 'button', 'aria-label': `DTMF ${digit}` }, [digit]);
        key.addEventListener('click', () => void post(`calls/${encodeURIComponent(call.id)}/dtmf`, { digits: digit }));
        keypad.append(key);
      }
      const target = el('input', { type: 'text', autocomplete: 'off', inputmode: 'tel', 'aria-label': `Transfer line ${slot} to`, placeholder: 'transfer to' });
      const transfer = el('form', { class: 'row', 'aria-label': `Transfer the call on line ${slot}` }, [target, el('button', { type: 'submit' }, ['Transfer'])]);
      transfer.addEventListener('submit', (event) => {
        event.preventDefault();
        void post(`calls/${encodeURIComponent(call.id)}/transfer`, { target: target.value.trim() });
      });
      parts.push(keypad, transfer);
    }
    return parts;
  }

  function drawCalls() {
    const panel = document.getElementById('panel-calls');
    if (!panel || !state) return;
    for (let slot = 1; slot <= state.callLines; slot++) drawLine(slot, state.calls.find((call) => call.slot === slot));
    // Lines beyond the setting (it changed with a new session's configuration).
    for (const box of panel.querySelectorAll('fieldset.phone-line')) {
      const slot = Number(box.id.slice('line-'.length));
      if (slot > state.callLines) {
        box.remove();
        lineKeys.delete(slot);
      }
    }
    let waiting = document.getElementById('waiting-calls');
    const unplaced = state.calls.filter((call) => call.slot === undefined);
    if (unplaced.length === 0) waiting?.remove();
    else {
      if (!waiting) {
        waiting = el('p', { id: 'waiting-calls' });
        panel.append(waiting);
      }
      waiting.textContent = `${unplaced.length} more call(s) without a free line: ${unplaced.map((call) => call.remote).join(', ')}`;
    }
  }

  // ---------------------------------------------------------------- devices

  function drawDevices() {
    const panel = document.getElementById('panel-devices');
    if (!panel || !state) return;
    const s = state;
    const key = JSON.stringify([s.microphones, s.speakers, s.headsetUsed]);
    if (key === devicesKey) return;
    devicesKey = key;
    /**
     * @param {'microphone' | 'speaker'} kind
     * @param {GuiDevice[]} list
     */
    const group = (kind, list) => {
      const label = kind === 'microphone' ? 'Microphone' : 'Speaker';
      const select = el('select', { id: `${kind}-select` }, list.map((device) => el('option', { value: device.name, ...(device.selected ? { selected: '' } : {}) }, [`${device.name}${device.headset ? ' (headset)' : ''}`])));
      if (list.length === 0) select.append(el('option', { value: '' }, ['none present']));
      select.addEventListener('change', () => void post('devices', { [kind]: { name: select.value } }));
      const selected = list.find((device) => device.selected);
      const volume = el('input', { id: `${kind}-volume`, type: 'range', min: '0', max: '100', step: '1', value: String(selected?.volume ?? 100) });
      volume.addEventListener('change', () => void post('devices', { [kind]: { volume: Number(volume.value) } }));
      const mute = el('input', { id: `${kind}-mute`, type: 'checkbox', ...(selected?.muted ? { checked: '' } : {}) });
      mute.addEventListener('change', () => void post('devices', { [kind]: { muted: mute.checked } }));
      if (!selected) {
        volume.disabled = true;
        mute.disabled = true;
      }
      return el('fieldset', { class: 'phone-line' }, [
        el('legend', {}, [label]),
        el('div', { class: 'row' }, [el('label', { for: `${kind}-select` }, [`${label} in use`]), select]),
        el('div', { class: 'row' }, [el('label', { for: `${kind}-volume` }, ['Volume']), volume, el('label', {}, [mute, ' Muted'])]),
      ]);
    };
    panel.replaceChildren(el('p', {}, [s.headsetUsed ? 'A headset is in use.' : 'No headset in use.']), group('microphone', s.microphones), group('speaker', s.speakers));
  }

  // ---------------------------------------------------------------- state

  /** @param {GuiState} next */
  function apply(next) {
    state = next;
    clockOffset = next.now - Date.now();
    for (const call of next.calls) {
      if (call.mos === undefined) continue;
      const data = history.get(call.id) ?? { mos: [], jitter: [] };
      data.mos.push(call.mos);
      data.jitter.push(call.jitterMs ?? 0);
      if (data.mos.length > HISTORY) {
        data.mos.shift();
        data.jitter.shift();
      }
      history.set(call.id, data);
    }
    for (const id of [...history.keys()]) if (!next.calls.some((call) => call.id === id)) history.delete(id);
    const ringing = next.calls.filter((call) => call.state === 'RINGING').length;
    summary.textContent = `${next.status === 'Unknown' && next.mode === 'connector' && !next.inSession ? 'Waiting for the desktop' : `Status ${next.status}`}; ${next.calls.length} call(s)${ringing > 0 ? `, ${ringing} ringing` : ''}.`;
    drawTabs();
    drawStatus();
    drawCalls();
    drawDevices();
  }

  const events = new EventSource('events');
  events.addEventListener('state', (event) => {
    try {
      apply(/** @type {GuiState} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data)));
    } catch (error) {
      showMessage(`The softphone sent a state the page cannot read: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  events.addEventListener('error', () => {
    summary.textContent = 'The connection to the softphone is lost; trying again…';
  });
  // Durations tick between states.
  setInterval(() => {
    if (state) drawCalls();
  }, 1000);
})();
