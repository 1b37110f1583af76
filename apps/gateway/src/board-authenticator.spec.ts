import type { IncomingMessage } from 'node:http';
import { createBoardAuthenticator } from './board-authenticator';
import { TokenDigestVerifier, tokenDigest } from './token-digest.verifier';

const ADMIN = 'ops-secret-token';
const verifier = new TokenDigestVerifier(new Map([['ops', tokenDigest(ADMIN)]]));
const authenticate = createBoardAuthenticator((t) => verifier.match(t));
const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('queue board authentication (admin token as Bearer, or as the password of HTTP Basic)', () => {
  it('accepts the admin token as the Basic password, whatever the user name, and as a bearer token', () => {
    for (const header of [
      basic(`ops:${ADMIN}`),
      basic(`:${ADMIN}`),
      basic(`anyone:${ADMIN}`),
      `basic ${Buffer.from(`x:${ADMIN}`).toString('base64')}`,
      `Bearer ${ADMIN}`,
    ]) {
      expect({ header, result: authenticate(req(header)) }).toEqual({ header, result: { ok: true, match: { principal: 'ops', digest: tokenDigest(ADMIN) } } });
    }
  });

  it('keeps the colon-separated rest of the password (a token may contain colons)', () => {
    const v = new TokenDigestVerifier(new Map([['ops', tokenDigest('a:b:c')]]));
    expect(createBoardAuthenticator((t) => v.match(t))(req(basic('ops:a:b:c')))).toMatchObject({ ok: true });
  });

  it('refuses an unknown token with its digest (for the audit log), and says missing or malformed otherwise', () => {
    expect(authenticate(req(basic('ops:wrong')))).toEqual({ ok: false, reason: 'unknown_token', digest: tokenDigest('wrong') });
    expect(authenticate(req())).toEqual({ ok: false, reason: 'missing', digest: null });
    for (const header of [basic('ops'), basic('ops:'), basic(`ops:${'x'.repeat(513)}`), 'Basic', 'Basic !!!', 'Digest abc', `Bearer`]) {
      expect({ header, result: authenticate(req(header)) }).toEqual({ header, result: { ok: false, reason: 'malformed', digest: null } });
    }
  });
});
