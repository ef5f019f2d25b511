import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipEndpointError } from '@sip-endpoint/config';
import * as core from '@sip-endpoint/endpoint-core';
import {
  CallRefusedError,
  ConnectionFailedError,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidStateError,
  LineNotReadyError,
  LogFileError,
  MessageTooLargeError,
  NoMediaError,
  DtmfNotSentError,
  NoSuchLineError,
  NotConnectedError,
  PortUnavailableError,
  RequestFailedError,
  SipError,
  TlsSettingsError,
  TransferFailedError,
  TransportUnsupportedError,
  UnsupportedSipJsError,
  type SipErrorCode,
} from '@sip-endpoint/endpoint-core';

/**
 * One error per code, made as the package makes it. A Record, so that the compiler holds the
 * factories to the `SipErrorCode` union exactly (a code added without a factory does not compile).
 */
const MAKE: Record<SipErrorCode, () => SipEndpointError> = {
  ERR_INVALID_STATE: () => new InvalidStateError('cannot answer a call that is CONNECTED', 'CONNECTED'),
  ERR_SIP_INVALID_ARGUMENT: () => new InvalidArgumentError('a rejection needs a status from 300 to 699, not 200'),
  ERR_SIP_CALL_REFUSED: () => new CallRefusedError('the destination is barred'),
  ERR_SIP_NO_SUCH_LINE: () => new NoSuchLineError(3, 1),
  ERR_SIP_LINE_NOT_READY: () => new LineNotReadyError('line 0 cannot place calls while it is FAILED (403 Forbidden)', 'FAILED', '403 Forbidden'),
  ERR_SIP_NO_MEDIA: () => new NoMediaError('the call has no media to send DTMF on'),
  ERR_SIP_DTMF_NOT_SENT: () => new DtmfNotSentError('45'),
  ERR_SIP_TRANSFER_FAILED: () => new TransferFailedError('the transfer target answered 486', 486),
  ERR_SIP_REQUEST_FAILED: () => new RequestFailedError('re-INVITE rejected: 488', 488),
  ERR_SIP_TRANSPORT_UNSUPPORTED: () => new TransportUnsupportedError('SIP over TCP needs a server: stand-alone lines use UDP'),
  ERR_SIP_CONNECTION_FAILED: () => new ConnectionFailedError('cannot connect to 127.0.0.1:5061 over TLS: self-signed certificate in certificate chain'),
  ERR_SIP_NOT_CONNECTED: () => new NotConnectedError('the TCP transport is not connected'),
  ERR_SIP_PORT_UNAVAILABLE: () => new PortUnavailableError('no free port for SIP over UDP on 0.0.0.0 between 5060 and 5066'),
  ERR_SIP_INVALID_MESSAGE: () => new InvalidMessageError('a response without a Via cannot be routed'),
  ERR_SIP_MESSAGE_TOO_LARGE: () => new MessageTooLargeError('a SIP message of 70000 bytes is above the limit'),
  ERR_SIP_TLS_SETTINGS: () => new TlsSettingsError('system.security.sec_protocol SSLv3 is not available'),
  ERR_SIP_LOG_FILE: () => new LogFileError('/nonexistent/SipEndpoint.log', 'created', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })),
  ERR_SIP_UNSUPPORTED_SIP_JS: () => new UnsupportedSipJsError('sip.js is not the patched 0.21.2'),
};

const packageDir = join(__dirname, '..');

/** The members of the `SipErrorCode` union, read from the text of src/errors.ts. */
function unionCodes(): string[] {
  const source = readFileSync(join(packageDir, 'src', 'errors.ts'), 'utf8');
  const start = source.indexOf('export type SipErrorCode =');
  if (start < 0) throw new Error('src/errors.ts no longer declares `export type SipErrorCode =`');
  const union = source.slice(start, source.indexOf(';', start));
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1]!);
}

/** The rows of the README's error table (under `## Errors`), as code, class and when. */
function readmeRows(): { code: string; className: string; when: string }[] {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Errors\n');
  if (start < 0) throw new Error('the README has no "## Errors" section');
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^\| `([A-Z_]+)` \| `(\w+)` \| (.*) \|$/gm)].map((match) => ({ code: match[1]!, className: match[2]!, when: match[3]!.trim() }));
}

describe('the errors of @sip-endpoint/endpoint-core', () => {
  it("the README's error table lists each member of the SipErrorCode union once, with a class and when it is thrown", () => {
    const rows = readmeRows();
    const codes = rows.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(unionCodes().sort());
    expect([...codes].sort()).toEqual(Object.keys(MAKE).sort());
    for (const row of rows) expect(row.when).not.toBe('');
  });

  it.each(readmeRows())('$code: $className is exported, and an instance carries that code and its class name', ({ code, className }) => {
    const exported = (core as Record<string, unknown>)[className];
    expect(typeof exported).toBe('function');
    const error = MAKE[code as SipErrorCode]();
    expect(error).toBeInstanceOf(exported as new (...args: never[]) => unknown);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error.constructor).toBe(exported);
    expect(error.code).toBe(code);
    expect(error.name).toBe(className);
    // endpoint-core's own codes share the SipError base; ERR_INVALID_STATE is policy's InvalidStateError.
    if (code !== 'ERR_INVALID_STATE') expect(error).toBeInstanceOf(SipError);
  });
});
