import type { IncomingMessage } from 'node:http';
import { createBearerAuthenticator, queryTokenParam } from './bearer-authenticator';
import { bearerTokenOf, parseBearerHeader } from './log-token-hash';
import { TokenDigestVerifier, tokenDigest } from './token-digest.verifier';

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('queryTokenParam (issue 11 item 3)', () => {
  it('finds a credential parameter however it is spelled or percent-encoded', () => {
    for (const target of [
      '/jam/services?access_token=x',
      '/jam/services?access%5Ftoken=x',
      '/jam/services?%61ccess_token=x',
      '/jam/services?%61%63%63%65%73%73%5f%74%6f%6b%65%6e=x',
      '/jam/services?ACCESS_TOKEN=x',
      '/jam/services?limit=5&Access-Token=x',
      '/jam/services?access+token=x',
      '/admin/quotas?%74oken=x',
      '/jam/services?bearer=x',
      '/jam/services?auth=x',
      '/jam/services?api_key=x',
    ]) {
      expect({ target, found: queryTokenParam(target) !== undefined }).toEqual({ target, found: true });
    }
  });

  it('leaves ordinary parameters and paths alone', () => {
    for (const target of [
      '/jam/services',
      '/jam/services?limit=5&cursor=abc',
      '/jam/services/1/packages?status=failed',
      '/admin/audit?action=token.rotate',
      '/jam/preimages/0xab?tokenize=1',
    ]) {
      expect({ target, found: queryTokenParam(target) }).toEqual({ target, found: undefined });
    }
  });
});

describe('the one bearer parser (issue 11 item 4)', () => {
  it('accepts the scheme in any case and refuses anything that is not exactly "<scheme> <token>"', () => {
    for (const h of ['Bearer abc', 'bearer abc', 'BEARER abc', 'bEaReR abc']) expect(parseBearerHeader(req(h))).toEqual({ kind: 'bearer', token: 'abc' });
    expect(parseBearerHeader(req())).toEqual({ kind: 'missing' });
    for (const h of ['Bearer', 'Bearer  abc', 'Basic abc', 'Bearer a b', 'Bearer ' + 'x'.repeat(513), 'Bearer tök'])
      expect(parseBearerHeader(req(h))).toEqual({ kind: 'malformed' });
    expect(bearerTokenOf(req('bearer abc'))).toBe('abc');
  });

  it('authenticates exactly what the rate limiter keys on', () => {
    const verifier = new TokenDigestVerifier(new Map([['alice', tokenDigest('alice-secret-token')]]));
    const authenticate = createBearerAuthenticator((t) => verifier.match(t));
    for (const h of ['Bearer alice-secret-token', 'bearer alice-secret-token']) {
      const r = authenticate(req(h));
      expect(r).toEqual({ ok: true, match: { principal: 'alice', digest: tokenDigest('alice-secret-token') } });
      expect(bearerTokenOf(req(h))).toBe('alice-secret-token');
    }
    expect(authenticate(req('Bearer nope'))).toEqual({ ok: false, reason: 'unknown_token', digest: tokenDigest('nope') });
    expect(authenticate(req('Token alice-secret-token'))).toEqual({ ok: false, reason: 'malformed', digest: null });
    expect(authenticate(req())).toEqual({ ok: false, reason: 'missing', digest: null });
  });
});
