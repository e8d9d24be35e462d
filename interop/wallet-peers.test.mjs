// Our wallet (`intyg wallet --dev`, a separate process) against an
// independent issuer and verifier that this file runs in-process on Node's
// `http`, built on the server-side APIs of oid4vc-ts 0.4.6 (OpenWallet
// Foundation):
//
// - The peer issuer: `Oauth2AuthorizationServer` (`@openid4vc/oauth2`) for
//   the authorization server metadata, the pre-authorized code token request
//   with `tx_code` and the access token, DPoP required (RFC 9449: the
//   metadata lists ES256, the token request's proof is checked and the
//   token bound to its key); `Openid4vciIssuer`
//   (`@openid4vc/openid4vci`) for the issuer metadata, the credential offer
//   (by reference), the nonce, the credential request and its `jwt` proofs,
//   and the credential response; `Oauth2ResourceServer` checks the access
//   token and its DPoP proof (`cnf.jkt`, `ath`) at `/credential`. `@sd-jwt/sd-jwt-vc` 0.19.0 makes the SD-JWT VC
//   (`cnf.jwk` = the proof key) and `@sd-jwt/jwt-status-list` its status list.
// - The peer verifier: `Openid4vpVerifier` (`@openid4vc/openid4vp`) makes the
//   signed Request Object (JAR, `x5c`, `x509_san_dns:` or `x509_hash:`),
//   served at its `request_uri`, and parses the response (`direct_post`, or
//   `direct_post.jwt` decrypted with `jose`); `@sd-jwt/sd-jwt-vc` verifies
//   each presentation (issuer key, status list, KB-JWT nonce and `sd_hash`;
//   `aud` is checked here) and `dcql` 3.0.0 validates the query and evaluates
//   the presentations against it. Its CA and leaf certificates are made with
//   the `openssl` command.
//
// The wallet receives from the peer issuer and presents to the peer
// verifier. No Intyg code runs on the peers' side. Both peers serve http on
// loopback (our wallet's dev mode allows it), so the libraries'
// `allowInsecureUrls` is on for this file; nothing else is relaxed.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Oauth2AuthorizationServer,
  Oauth2ResourceServer,
  Oauth2ResourceUnauthorizedError,
  Oauth2ServerErrorResponseError,
  preAuthorizedCodeGrantIdentifier,
  zAuthorizationErrorResponse,
} from '@openid4vc/oauth2';
import { Openid4vciIssuer, Openid4vciVersion } from '@openid4vc/openid4vci';
import { Openid4vpVerifier, verifyJarmAuthorizationResponse } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { ES256 } from '@sd-jwt/crypto-nodejs';
import { StatusList, createHeaderAndPayload } from '@sd-jwt/jwt-status-list';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { DcqlPresentationResult, DcqlQuery } from 'dcql';
import { CompactSign, compactDecrypt, compactVerify, exportJWK, generateKeyPair } from 'jose';

import {
  INTYG_BIN,
  cnfKbVerifier,
  decodeDisclosure,
  decodeJwt,
  es256Verifier,
  freePort,
  hashing,
  scratch,
  split,
} from './helpers.mjs';

// Both peers serve http on loopback: the libraries refuse http URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

const PIN = '246810';
const CONFIGURATION_ID = 'membership';
const ISSUER_KID = 'peer-issuer-es256';
const AS_KID = 'peer-as-es256';
// OpenID4VP 1.0 §5.8: under static discovery of the wallet, a Request
// Object's `aud` MUST be this value.
const SELF_ISSUED = 'https://self-issued.me/v2';
const REGISTERED = ['iss', 'sub', 'iat', 'nbf', 'exp', 'vct', 'cnf', 'status'];

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const sha256 = (data) => createHash('sha256').update(data).digest();
const hash = (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unsupported hash ${alg}`);
  return sha256(data);
};
const now = () => Math.floor(Date.now() / 1000);
const jsonOf = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

/** A P-256 key pair: Node `KeyObject`s and the public JWK with `kid`. */
function es256Key(kid) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return { publicKey, privateKey, jwk };
}

/** `jose` compact JWS over the exact header and payload a library hands to `signJwt`. */
async function jws(privateKey, header, payload) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(privateKey);
}

/**
 * The `verifyJwt` callback of the oid4vc-ts libraries for `jwk` signers
 * (the wallet's proof JWTs, the peer's access tokens): ES256 with `jose`.
 */
async function verifyJwkJwt(signer, { compact, header }) {
  if (signer.method !== 'jwk' || header.alg !== 'ES256') return { verified: false };
  try {
    await compactVerify(compact, createPublicKey({ key: signer.publicJwk, format: 'jwk' }));
    return { verified: true, signerJwk: signer.publicJwk };
  } catch {
    return { verified: false };
  }
}

/** Reads a request body. */
function body(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

/** Answers `value` (JSON unless a string); returns true, "handled". */
function send(res, status, value, type = 'application/json') {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
  return true;
}

/**
 * Starts a Node `http` server on 127.0.0.1:<free port> whose `handle(req,
 * url, res)` answers. A thrown `Oauth2ServerErrorResponseError` becomes its
 * OAuth error object, anything else a 500 that is also recorded in
 * `failures` (a test that expects success then sees it).
 */
async function listen(handle) {
  const port = await freePort();
  const failures = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    try {
      if (!(await handle(req, url, res))) send(res, 404, { error: 'not_found' });
    } catch (error) {
      if (error instanceof Oauth2ServerErrorResponseError) {
        send(res, error.status, error.errorResponse);
      } else if (error instanceof Oauth2ResourceUnauthorizedError) {
        res.setHeader('www-authenticate', error.toHeaderValue());
        send(res, 401, { error: 'invalid_token' });
      } else {
        failures.push(error);
        send(res, 500, { error: 'server_error', error_description: String(error.message) });
      }
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  return { port, failures, stop };
}

// ---------------------------------------------------------------- issuer --

/** The peer's credential type. */
const typeMetadata = (vct) => ({
  vct,
  name: 'Peer membership card (interop test)',
  display: [{ locale: 'en', name: 'Peer membership card' }],
  claims: [
    { path: ['member_id'], display: [{ locale: 'en', label: 'Member number' }], sd: 'always' },
    { path: ['email'], display: [{ locale: 'en', label: 'E-mail address' }], sd: 'always' },
  ],
});

const MEMBER = {
  given_name: 'Ada',
  family_name: 'Lovelace',
  member_id: 'M-1815-12',
  level: 'gold',
  email: 'ada@example.org',
  address: { locality: 'London', country: 'GB' },
  birthdate: '1815-12-10',
};
// Every subject claim is disclosable; `address.country` stays in the clear
// inside the `address` Disclosure, `address.locality` has its own; two decoys.
const DISCLOSURE_FRAME = {
  _sd: ['given_name', 'family_name', 'member_id', 'level', 'email', 'address', 'birthdate'],
  _sd_decoy: 2,
  address: { _sd: ['locality'] },
};

/**
 * The peer issuer. `offer({ mode })` makes a pre-authorized offer with a
 * numeric `tx_code`; `mode` changes what `/credential` hands out: 'valid',
 * 'foreign-cnf' (bound to a key the wallet never proved) or 'revoked'
 * (its status list entry set before delivery).
 */
async function startPeerIssuer() {
  const issuerKey = es256Key(ISSUER_KID);
  const asKey = es256Key(AS_KID);
  const callbacks = {
    hash,
    fetch,
    generateRandom: randomBytes,
    verifyJwt: verifyJwkJwt,
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.publicJwk.x !== asKey.jwk.x) {
        throw new Error(`the peer issuer signs access tokens only, asked ${signer.method}`);
      }
      return { jwt: await jws(asKey.privateKey, header, payload), signerJwk: signer.publicJwk };
    },
  };
  const authorizationServer = new Oauth2AuthorizationServer({ callbacks });
  const resourceServer = new Oauth2ResourceServer({ callbacks });
  const issuer = new Openid4vciIssuer({ callbacks });
  const sdjwt = new SDJwtVcInstance({
    ...hashing,
    signer: await ES256.getSigner(issuerKey.privateKey.export({ format: 'jwk' })),
    signAlg: 'ES256',
  });

  const state = {
    offers: new Map(), // id → { id, object, code, txCode, mode, redeemed, statusListFetches }
    tokens: new Map(), // access token → offer
    nonces: new Set(),
    statusList: new StatusList(new Array(256).fill(0), 1),
    nextIndex: randomInt(8, 64),
    log: [], // what the wallet did: { endpoint: 'token' | 'credential', offer, ... }
    typeMetadataFetches: 0,
  };

  const server = await listen(async (req, url, res) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/.well-known/openid-credential-issuer') {
      return send(res, 200, credentialIssuer);
    }
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') {
      return send(res, 200, asMetadata);
    }
    if (req.method === 'GET' && path === '/.well-known/jwt-vc-issuer') {
      return send(res, 200, { issuer: base, jwks: { keys: [issuerKey.jwk] } });
    }
    if (req.method === 'GET' && path === '/jwks') {
      return send(res, 200, { keys: [asKey.jwk] });
    }
    if (req.method === 'GET' && path === new URL(vct).pathname) {
      state.typeMetadataFetches += 1;
      return send(res, 200, typeMetadata(vct));
    }
    if (req.method === 'GET' && path.startsWith('/status/')) {
      // One list, published under one URI per offer so that fetches can be told apart.
      const offer = state.offers.get(path.slice('/status/'.length));
      if (!offer) return false;
      offer.statusListFetches += 1;
      return send(res, 200, await statusListJwt(`${base}${path}`), 'application/statuslist+jwt');
    }
    if (req.method === 'GET' && path.startsWith('/offers/')) {
      const offer = state.offers.get(path.slice('/offers/'.length));
      if (!offer) return false;
      return send(res, 200, offer.object);
    }
    if (req.method === 'POST' && path === '/token') return token(req, url, res);
    if (req.method === 'POST' && path === '/nonce') {
      const cNonce = b64url(randomBytes(24));
      state.nonces.add(cNonce);
      return send(res, 200, issuer.createNonceResponse({ cNonce, cNonceExpiresIn: 300 }));
    }
    if (req.method === 'POST' && path === '/credential') return credential(req, url, res);
    return false;
  });
  const base = `http://127.0.0.1:${server.port}`;
  const vct = `${base}/types/membership/v1`;

  const credentialIssuer = issuer.createCredentialIssuerMetadata({
    credential_issuer: base,
    credential_endpoint: `${base}/credential`,
    nonce_endpoint: `${base}/nonce`,
    batch_credential_issuance: { batch_size: 2 },
    display: [{ name: 'Peer issuer (oid4vc-ts)', locale: 'en' }],
    credential_configurations_supported: {
      [CONFIGURATION_ID]: {
        format: 'dc+sd-jwt',
        vct,
        scope: CONFIGURATION_ID,
        cryptographic_binding_methods_supported: ['jwk'],
        credential_signing_alg_values_supported: ['ES256'],
        proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
        credential_metadata: {
          display: [{ name: 'Membership card', locale: 'en' }],
          claims: [{ path: ['given_name'], display: [{ name: 'Given name', locale: 'en' }] }],
        },
      },
    },
  });
  const asMetadata = authorizationServer.createAuthorizationServerMetadata({
    issuer: base,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwks`,
    grant_types_supported: [preAuthorizedCodeGrantIdentifier],
    'pre-authorized_grant_anonymous_access_supported': true,
    // DPoP (RFC 9449) required: our wallet must bind its token.
    dpop_signing_alg_values_supported: ['ES256'],
  });
  // What `parseCredentialRequest` and `verifyCredentialRequestJwtProof` take
  // (the shape the client's `resolveIssuerMetadata` returns).
  const issuerMetadata = {
    originalDraftVersion: Openid4vciVersion.V1,
    credentialIssuer,
    authorizationServers: [asMetadata],
    knownCredentialConfigurations:
      issuer.getKnownCredentialConfigurationsSupported(credentialIssuer),
  };

  async function statusListJwt(uri) {
    const iat = now();
    const { header, payload } = createHeaderAndPayload(
      state.statusList,
      { iss: base, sub: uri, iat, exp: iat + 600, ttl: 60 },
      { alg: 'ES256', typ: 'statuslist+jwt', kid: ISSUER_KID },
    );
    return jws(issuerKey.privateKey, header, payload);
  }

  const requestLike = (req, url) => ({
    method: req.method,
    url: url.toString(),
    headers: new Headers(req.headers),
  });

  async function token(req, url, res) {
    const form = Object.fromEntries(new URLSearchParams(await body(req)));
    const { grant, accessTokenRequest, dpop } = authorizationServer.parseAccessTokenRequest({
      accessTokenRequest: form,
      request: requestLike(req, url),
    });
    const offer = [...state.offers.values()].find(
      (o) => o.code === grant.preAuthorizedCode && !o.redeemed,
    );
    const verified = await authorizationServer.verifyPreAuthorizedCodeAccessTokenRequest({
      grant,
      accessTokenRequest,
      request: requestLike(req, url),
      dpop: { required: true, jwt: dpop?.jwt, allowedSigningAlgs: ['ES256'] },
      authorizationServerMetadata: asMetadata,
      expectedPreAuthorizedCode: offer?.code ?? 'no offer has this code',
      expectedTxCode: offer?.txCode,
      preAuthorizedCodeExpiresAt: new Date(Date.now() + 300_000),
    });
    offer.redeemed = true;
    state.log.push({ endpoint: 'token', offer: offer.id, form });
    const response = await authorizationServer.createAccessTokenResponse({
      audience: base,
      authorizationServer: base,
      expiresInSeconds: 300,
      subject: offer.id,
      signer: { method: 'jwk', alg: 'ES256', publicJwk: asKey.jwk },
      dpop: { jwk: verified.dpop.jwk },
    });
    assert.equal(response.token_type, 'DPoP', 'the token is bound to the DPoP key');
    state.tokens.set(response.access_token, offer);
    send(res, 200, response);
    return true;
  }

  async function credential(req, url, res) {
    const { tokenPayload, accessToken } = await resourceServer.verifyResourceRequest({
      request: requestLike(req, url),
      resourceServer: base,
      authorizationServers: [asMetadata],
    });
    const offer = state.tokens.get(accessToken);
    assert.ok(offer, 'the access token is one the peer handed out');
    assert.equal(tokenPayload.sub, offer.id);
    // The library checked the DPoP proof (key, `ath`) against `cnf.jkt`.
    assert.ok(tokenPayload.cnf?.jkt, 'the wallet presented a DPoP-bound token');
    const credentialRequest = JSON.parse(await body(req));
    const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest });
    if (parsed.credentialConfigurationId !== CONFIGURATION_ID || !parsed.proofs?.jwt) {
      throw new Oauth2ServerErrorResponseError({
        error: 'invalid_credential_request',
        error_description: 'expected credential_configuration_id membership with jwt proofs',
      });
    }
    const proofs = [];
    for (const jwt of parsed.proofs.jwt) {
      // The library checks one expected nonce; the peer may have issued
      // several, so it passes the one the proof names if it handed it out.
      const { nonce } = decodeJwt(jwt).payload;
      const verified = await issuer.verifyCredentialRequestJwtProof({
        issuerMetadata,
        jwt,
        expectedNonce: state.nonces.has(nonce) ? nonce : 'a nonce this issuer handed out',
        nonceExpiresAt: new Date(Date.now() + 300_000),
      });
      proofs.push(verified);
    }
    for (const { payload } of proofs) state.nonces.delete(payload.nonce);
    const credentials = [];
    for (const { signer } of proofs) {
      const holderJwk =
        offer.mode === 'foreign-cnf'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
          : signer.publicJwk;
      const idx = state.nextIndex++;
      if (offer.mode === 'revoked') state.statusList.setStatus(idx, 1);
      const iat = now();
      const credential = await sdjwt.issue(
        {
          iss: base,
          iat,
          exp: iat + 3600,
          vct,
          cnf: { jwk: holderJwk },
          status: { status_list: { idx, uri: `${base}/status/${offer.id}` } },
          ...MEMBER,
        },
        DISCLOSURE_FRAME,
        { header: { typ: 'dc+sd-jwt', kid: ISSUER_KID } },
      );
      credentials.push({ credential });
    }
    state.log.push({ endpoint: 'credential', offer: offer.id, proofs, credentials });
    send(res, 200, issuer.createCredentialResponse({ credentialRequest: parsed, credentials }));
    return true;
  }

  /** A new offer by reference: its link, `tx_code`, id and the peer's record of it. */
  async function offer({ mode = 'valid' } = {}) {
    const id = b64url(randomBytes(12));
    const code = b64url(randomBytes(24));
    const txCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const { credentialOffer, credentialOfferObject } = await issuer.createCredentialOffer({
      issuerMetadata,
      credentialConfigurationIds: [CONFIGURATION_ID],
      grants: {
        [preAuthorizedCodeGrantIdentifier]: {
          'pre-authorized_code': code,
          tx_code: { input_mode: 'numeric', length: 6, description: 'The code in your e-mail' },
        },
      },
      credentialOfferUri: `${base}/offers/${id}`,
    });
    const record = { id, object: credentialOfferObject, code, txCode, mode, statusListFetches: 0 };
    state.offers.set(id, record);
    return { link: credentialOffer, txCode, id, record };
  }

  return {
    base,
    vct,
    issuerJwk: issuerKey.jwk,
    state,
    offer,
    failures: server.failures,
    stop: server.stop,
  };
}

// -------------------------------------------------------------- verifier --

/**
 * A CA and a leaf for `localhost` (dNSName SAN), P-256, made with the
 * `openssl` command in `dir`: `{ caPem, leafDer, leafKey }`.
 */
function makePki(dir, name) {
  const openssl = (...args) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw new Error('the `openssl` command is needed for the peer verifier certificates');
      }
      throw new Error(`openssl ${args.join(' ')}: ${error.stderr}`);
    }
  };
  const file = (suffix) => `${name}-${suffix}`;
  const ec = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out'];
  openssl(...ec, file('ca.key'));
  openssl(
    'req', '-x509', '-new', '-key', file('ca.key'), '-sha256', '-days', '2',
    '-subj', `/CN=${name} verifier root`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', file('ca.pem'),
  );
  openssl(...ec, file('leaf.key'));
  openssl('req', '-new', '-key', file('leaf.key'), '-subj', '/CN=localhost', '-out', file('csr'));
  writeFileSync(
    join(dir, file('leaf.ext')),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'subjectAltName=DNS:localhost',
    ].join('\n'),
  );
  openssl(
    'x509', '-req', '-in', file('csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-sha256',
    '-extfile', file('leaf.ext'), '-out', file('leaf.pem'),
  );
  const read = (suffix) => readFileSync(join(dir, file(suffix)), 'utf8');
  return {
    caPem: read('ca.pem'),
    leafDer: new X509Certificate(read('leaf.pem')).raw,
    leafKey: createPrivateKey(read('leaf.key')),
  };
}

/** The peer verifier's DCQL query: names and locality, and optionally the e-mail. */
const dcqlQueryFor = (vct) => ({
  credentials: [
    {
      id: 'membership',
      format: 'dc+sd-jwt',
      meta: { vct_values: [vct] },
      claims: [
        { id: 'given', path: ['given_name'] },
        { id: 'family', path: ['family_name'] },
        { id: 'locality', path: ['address', 'locality'] },
        { id: 'email', path: ['email'] },
      ],
      // The first option asks for the e-mail too; the second leaves it out,
      // so a wallet may withhold it (OpenID4VP 1.0 §6.4.1).
      claim_sets: [
        ['given', 'family', 'locality', 'email'],
        ['given', 'family', 'locality'],
      ],
    },
  ],
});

/**
 * The peer verifier. `request({ mode, prefix, pki, answer })` makes a
 * signed request (`direct_post` or `direct_post.jwt`; `x509_san_dns` or
 * `x509_hash`; signed by the `trusted` or the `rogue` leaf) and returns a
 * transaction: its `openid4vp://` link, and `received`, which settles with
 * what the Response URI got. A verified response gets `answer` (JSON).
 */
async function startPeerVerifier({ issuerJwk, vct, trusted, rogue }) {
  const leafKeys = new Map(
    [trusted, rogue].map((pki) => [pki.leafDer.toString('base64'), pki.leafKey]),
  );
  const transactions = new Map();
  /** Decrypts `direct_post.jwt` with the ephemeral key of the transaction the `kid` names. */
  const decryptJwe = async (jwe, options) => {
    const { kid } = jsonOf(jwe.split('.')[0]);
    const transaction = [...transactions.values()].find((t) => t.encryption?.jwk.kid === kid);
    if (!transaction || options?.jwk?.kid !== kid) return { decrypted: false };
    const { privateKey } = transaction.encryption;
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey, {
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A128GCM'],
    });
    transaction.jweHeader = protectedHeader;
    return {
      decrypted: true,
      decryptionJwk: transaction.encryption.jwk,
      payload: new TextDecoder().decode(plaintext),
    };
  };
  const verifier = new Openid4vpVerifier({
    callbacks: {
      hash,
      fetch,
      generateRandom: randomBytes,
      decryptJwe,
      signJwt: async (signer, { header, payload }) => {
        const key = signer.method === 'x5c' && leafKeys.get(signer.x5c[0]);
        if (!key) throw new Error('the peer verifier signs with its x5c leaves only');
        return { jwt: await jws(key, header, payload), signerJwk: undefined };
      },
    },
  });
  /** @sd-jwt verifies the presentations: the peer issuer's key, its status list, the KB-JWT. */
  const sdjwt = new SDJwtVcInstance({
    ...hashing,
    verifier: es256Verifier(issuerJwk),
    kbVerifier: cnfKbVerifier,
  });

  const server = await listen(async (req, url, res) => {
    const [, kind, id] = url.pathname.split('/');
    const transaction = transactions.get(id);
    if (!transaction) return false;
    if (req.method === 'GET' && kind === 'request') {
      transaction.requestFetches += 1;
      return send(res, 200, transaction.requestJwt, 'application/oauth-authz-req+jwt');
    }
    if (req.method === 'POST' && kind === 'response') {
      transaction.posts += 1;
      const form = Object.fromEntries(new URLSearchParams(await body(req)));
      let outcome;
      try {
        outcome = await respond(transaction, form);
      } catch (error) {
        // Refused: the wallet is told, and the test sees why.
        transaction.resolve({ refused: error });
        return send(res, 400, { error: 'invalid_request', error_description: error.message });
      }
      transaction.resolve(outcome);
      return send(res, 200, transaction.answer);
    }
    return false;
  });
  // The certificates name `localhost`: the wallet checks the response URI's host against them.
  const base = `http://localhost:${server.port}`;

  /** Checks one response: an error response, or a VP Token that must verify. */
  async function respond(transaction, form) {
    const request = transaction.payload;
    if (form.error) return { error: zAuthorizationErrorResponse.parse(form), form };
    if (form.response) {
      // An encrypted error response (direct_post.jwt): the library's JARM
      // decryption reads it; its response parser expects a VP Token.
      const { jarmAuthorizationResponse } = await verifyJarmAuthorizationResponse({
        jarmAuthorizationResponseJwt: form.response,
        callbacks: { decryptJwe },
        expectedClientId: request.client_id,
        authorizationRequestPayload: request,
      });
      if (jarmAuthorizationResponse.error) {
        return {
          error: zAuthorizationErrorResponse.parse(jarmAuthorizationResponse),
          form: jarmAuthorizationResponse,
          encrypted: true,
        };
      }
    }
    const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
      authorizationResponse: form,
      authorizationRequestPayload: request,
      callbacks: { decryptJwe },
    });
    assert.equal(parsed.type, 'dcql');
    const presentations = {};
    const verified = {};
    for (const [queryId, entries] of Object.entries(parsed.dcql.presentations)) {
      assert.equal(entries.length, 1, 'one presentation per query');
      const [presentation] = entries;
      const result = await sdjwt.verify(presentation, { keyBindingNonce: request.nonce });
      // @sd-jwt checks the KB-JWT's nonce and sd_hash, not its audience or age.
      assert.equal(result.kb.header.typ, 'kb+jwt');
      assert.equal(result.kb.payload.aud, request.client_id, 'KB-JWT aud is the client_id');
      assert.ok(Math.abs(now() - result.kb.payload.iat) < 300, 'KB-JWT iat is fresh');
      presentations[queryId] = {
        credential_format: 'dc+sd-jwt',
        vct: result.payload.vct,
        claims: result.payload,
        cryptographic_holder_binding: true,
      };
      verified[queryId] = { presentation, ...result };
    }
    const result = DcqlPresentationResult.fromDcqlPresentation(presentations, {
      dcqlQuery: transaction.dcqlQuery,
    });
    const dcql = DcqlPresentationResult.validate(result);
    return { parsed, verified, dcql };
  }

  async function request({ mode, prefix, pki = trusted, answer = {} }) {
    const id = b64url(randomBytes(12));
    const clientId =
      prefix === 'x509_san_dns'
        ? 'x509_san_dns:localhost'
        : `x509_hash:${b64url(sha256(pki.leafDer))}`;
    const dcqlQuery = DcqlQuery.parse(dcqlQueryFor(vct));
    DcqlQuery.validate(dcqlQuery);
    const clientMetadata = {
      client_name: 'Peer verifier (oid4vc-ts)',
      vp_formats_supported: {
        'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] },
      },
    };
    let encryption;
    if (mode === 'direct_post.jwt') {
      const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256' });
      const jwk = { ...(await exportJWK(publicKey)), kid: `enc-${id}`, use: 'enc' };
      // OpenID4VP 1.0 §8.3: "The `alg` parameter MUST be present in the JWKs."
      jwk.alg = 'ECDH-ES';
      encryption = { jwk, privateKey };
      clientMetadata.jwks = { keys: [jwk] };
      clientMetadata.encrypted_response_enc_values_supported = ['A128GCM'];
    }
    const created = await verifier.createOpenId4vpAuthorizationRequest({
      authorizationRequestPayload: {
        response_type: 'vp_token',
        client_id: clientId,
        response_uri: `${base}/response/${id}`,
        response_mode: mode,
        nonce: b64url(randomBytes(24)),
        state: b64url(randomBytes(16)),
        dcql_query: dcqlQuery,
        client_metadata: clientMetadata,
      },
      jar: {
        requestUri: `${base}/request/${id}`,
        jwtSigner: { method: 'x5c', alg: 'ES256', x5c: [pki.leafDer.toString('base64')] },
        expiresInSeconds: 300,
        // The library's default `aud` is the request_uri; OpenID4VP 1.0 §5.8
        // wants `https://self-issued.me/v2` when the wallet's metadata is
        // static (not discovered), as here.
        additionalJwtPayload: { aud: SELF_ISSUED },
      },
    });
    let resolve;
    const received = new Promise((r) => (resolve = r));
    const transaction = {
      id,
      link: created.authorizationRequest,
      payload: created.authorizationRequestPayload,
      requestJwt: created.jar.authorizationRequestJwt,
      dcqlQuery,
      encryption,
      answer,
      requestFetches: 0,
      posts: 0,
      received,
      resolve,
    };
    transactions.set(id, transaction);
    return transaction;
  }
  return {
    base,
    request,
    failures: server.failures,
    stop: server.stop,
  };
}

// ---------------------------------------------------------------- wallet --

/**
 * Runs `intyg wallet --dev args...` asynchronously (the peers answer from
 * this process meanwhile): `{ status, stdout, stderr }`.
 */
function walletRun(dir, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(INTYG_BIN, ['wallet', '--dev', ...args], {
      env: { ...process.env, INTYG_WALLET_DIR: dir, INTYG_WALLET_PIN: PIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** `intyg wallet` over the wallet in `dir`: `run` must exit 0, `fails` must not. */
function walletCli(dir) {
  const run = async (...args) => {
    const result = await walletRun(dir, args);
    const command = `intyg wallet ${args.join(' ')}`;
    assert.equal(result.status, 0, `${command} exited ${result.status}:\n${result.stderr}`);
    return result;
  };
  /** A failing run: `{ code, message }` from the `<code>: <message>` last stderr line. */
  const fails = async (...args) => {
    const result = await walletRun(dir, args);
    assert.notEqual(result.status, 0, `intyg wallet ${args.join(' ')} succeeded: ${result.stdout}`);
    const match = /^([a-z0-9_]+): (.*)$/s.exec(result.stderr.split('\n').at(-1));
    assert.ok(match, `stderr ends with "<code>: <message>": ${result.stderr}`);
    return { code: match[1], message: match[2] };
  };
  const list = async () => JSON.parse((await run('--json', 'list')).stdout);
  const history = async () => JSON.parse((await run('--json', 'history')).stdout);
  return { run, fails, list, history };
}

/** Subject claims of a verified payload: the registered ones left out. */
const subjectClaims = (payload) =>
  Object.fromEntries(Object.entries(payload).filter(([name]) => !REGISTERED.includes(name)));
/** The claim names of a presentation's Disclosures, sorted. */
const disclosureNames = (presentation) =>
  split(presentation)
    .disclosures.map((d) => decodeDisclosure(d)[1])
    .sort();

// Each `intyg wallet` call costs about half a second (argon2id on the PIN in
// a debug build), so two wallets run side by side; each one's tests run in
// order.
const SEQUENTIAL = { concurrency: 1 };
describe('intyg wallet ↔ oid4vc-ts peer issuer and verifier', { concurrency: true }, () => {
  let tmp;
  let issuer;
  let verifier;
  let trusted;
  let rogue;

  before(async () => {
    tmp = scratch();
    trusted = makePki(tmp.dir, 'trusted');
    rogue = makePki(tmp.dir, 'rogue');
    issuer = await startPeerIssuer();
    const { issuerJwk, vct } = issuer;
    verifier = await startPeerVerifier({ issuerJwk, vct, trusted, rogue });
  });
  after(async () => {
    await verifier?.stop();
    await issuer?.stop();
    tmp?.cleanup();
  });

  /** The peer issuer's log entry of `endpoint` for `offer`. */
  const logged = (endpoint, offer) =>
    issuer.state.log.find((e) => e.endpoint === endpoint && e.offer === offer.id);
  /** Neither peer had an internal error (the wallet would fail too, but say less). */
  const assertPeersHealthy = () => {
    assert.deepEqual(issuer.failures.map(String), [], 'the peer issuer had no internal error');
    assert.deepEqual(verifier.failures.map(String), [], 'the peer verifier had no internal error');
  };
  /** What the peer verifier's Response URI got, which must have verified. */
  const accepted = async (transaction) => {
    const outcome = await transaction.received;
    assertPeersHealthy();
    assert.equal(outcome.refused, undefined, `the peer verifier refused: ${outcome.refused}`);
    return outcome;
  };

  describe('wallet 1: receive from one peer, present to the other', SEQUENTIAL, () => {
    let wallet;
    /** The holder key of each presentation so far (`cnf.jwk.x`). */
    const presentedKeys = [];

    before(async () => {
      wallet = walletCli(join(tmp.dir, 'wallet-1'));
      await wallet.run('init');
      await wallet.run('trust', 'add-verifier-root', join(tmp.dir, 'trusted-ca.pem'));
    });

    test('accept: a batch of two over the pre-authorized code flow with a tx_code', async () => {
      const offer = await issuer.offer();
      assert.match(offer.link, /^openid-credential-offer:\/\/\?credential_offer_uri=/);
      const run = await wallet.run('--json', 'accept', offer.link, '--tx-code', offer.txCode);
      assertPeersHealthy();

      // What the peer saw: the tx_code at /token, and two proofs (batch_size
      // 2) the library verified, each with its own key and a nonce the peer issued.
      const token = logged('token', offer);
      assert.equal(token.form.grant_type, preAuthorizedCodeGrantIdentifier);
      assert.equal(token.form.tx_code, offer.txCode);
      const issued = logged('credential', offer);
      assert.equal(issued.proofs.length, 2, 'one proof per batch copy');
      for (const proof of issued.proofs) {
        assert.equal(proof.header.typ, 'openid4vci-proof+jwt');
        assert.equal(proof.header.alg, 'ES256');
        assert.equal(proof.signer.method, 'jwk');
        assert.equal(proof.payload.aud, issuer.base);
      }
      assert.notEqual(issued.proofs[0].signer.publicJwk.x, issued.proofs[1].signer.publicJwk.x);
      assert.ok(offer.record.statusListFetches >= 1, 'the wallet read the status list');
      assert.ok(issuer.state.typeMetadataFetches >= 1, 'the wallet fetched the vct URL');

      // What the wallet stored: one entry with two copies, from the peer.
      const stored = JSON.parse(run.stdout);
      const credentials = await wallet.list();
      assert.deepEqual(credentials.map((c) => c.id), stored.map((c) => c.id));
      const [entry] = credentials;
      assert.equal(entry.issuer, issuer.base);
      assert.equal(entry.issuer_name, 'Peer issuer (oid4vc-ts)');
      assert.equal(entry.vct, issuer.vct);
      assert.equal(entry.format, 'dc+sd-jwt');
      assert.equal(entry.configuration_id, CONFIGURATION_ID);
      assert.equal(entry.copies, 2);
      // Every Disclosure was revealed to the holder.
      for (const [name, value] of Object.entries(MEMBER)) {
        assert.deepEqual(entry.claims[name], value);
      }
      // The type metadata at the vct URL was read: its name and labels.
      assert.equal(entry.display.names.en, 'Peer membership card');
      assert.deepEqual(entry.display.claims.find((c) => c.path[0] === 'member_id')?.labels, {
        en: 'Member number',
      });
    });

    test('present: direct_post.jwt, x509_san_dns:, an optional claim included', async () => {
      const redirect = `${verifier.base}/done#response_code=${b64url(randomBytes(16))}`;
      const transaction = await verifier.request({
        mode: 'direct_post.jwt',
        prefix: 'x509_san_dns',
        answer: { redirect_uri: redirect },
      });
      const args = ['present', transaction.link, '--approve', '--include', 'email'];
      const run = await wallet.run('--json', ...args);
      const outcome = await accepted(transaction);

      // Our wallet's view of the peer: authenticated by its certificate.
      const proposal = JSON.parse(run.stderr.split('\n')[0]);
      assert.deepEqual(proposal.verifier, {
        client_id: 'x509_san_dns:localhost',
        authenticated: true,
        dns_names: ['localhost'],
        name: 'Peer verifier (oid4vc-ts)',
      });
      assert.equal(proposal.encrypted, true);
      const email = proposal.credentials[0].claims.find((c) => c.name === 'email');
      assert.equal(email.required, false, 'the e-mail is optional: another claim set omits it');
      const shared = JSON.parse(run.stdout);
      assert.equal(shared.result, 'shared');
      assert.equal(shared.redirect_uri, redirect, 'the wallet passes the redirect_uri on');

      // The peer: one GET of the Request Object, one encrypted response.
      assert.equal(transaction.requestFetches, 1);
      assert.equal(transaction.posts, 1);
      assert.equal(outcome.parsed.jarm?.type, 'Encrypted');
      assert.equal(transaction.jweHeader.alg, 'ECDH-ES');
      assert.equal(transaction.jweHeader.enc, 'A128GCM');
      assert.equal(transaction.jweHeader.kid, transaction.encryption.jwk.kid);
      const { presentation, payload, header } = outcome.verified.membership;
      assert.equal(header.typ, 'dc+sd-jwt');
      assert.equal(payload.iss, issuer.base);
      assert.equal(payload.vct, issuer.vct);
      const proved = issuer.state.log
        .filter((e) => e.endpoint === 'credential')
        .flatMap((e) => e.proofs.map((p) => p.signer.publicJwk.x));
      assert.ok(proved.includes(payload.cnf.jwk.x), 'bound to a key the wallet proved');
      presentedKeys.push(payload.cnf.jwk.x);
      assert.deepEqual(subjectClaims(payload), {
        given_name: MEMBER.given_name,
        family_name: MEMBER.family_name,
        address: MEMBER.address,
        email: MEMBER.email,
      });
      assert.deepEqual(disclosureNames(presentation), [
        'address',
        'email',
        'family_name',
        'given_name',
        'locality',
      ]);
      // dcql: the first claim set (the one with the e-mail) is met.
      const match = outcome.dcql.credential_matches.membership;
      assert.equal(match.success, true);
      assert.equal(match.valid_credentials[0].claims.valid_claim_sets[0].claim_set_index, 0);
    });

    test('present: direct_post, x509_hash:, an optional claim left out is absent', async () => {
      const transaction = await verifier.request({ mode: 'direct_post', prefix: 'x509_hash' });
      const run = await wallet.run('--json', 'present', transaction.link, '--approve');
      const outcome = await accepted(transaction);

      const clientId = transaction.payload.client_id;
      assert.match(clientId, /^x509_hash:[A-Za-z0-9_-]{43}$/);
      assert.equal(JSON.parse(run.stderr.split('\n')[0]).encrypted, false);
      assert.equal(JSON.parse(run.stdout).result, 'shared');
      assert.equal(outcome.parsed.jarm, undefined, 'a plain direct_post response');
      const { presentation, payload, kb } = outcome.verified.membership;
      assert.equal(kb.payload.aud, clientId);
      assert.deepEqual(subjectClaims(payload), {
        given_name: MEMBER.given_name,
        family_name: MEMBER.family_name,
        address: MEMBER.address,
      });
      assert.equal('email' in payload, false, 'the e-mail was not consented to');
      assert.deepEqual(disclosureNames(presentation), [
        'address',
        'family_name',
        'given_name',
        'locality',
      ]);
      // dcql: only the second claim set (the one without the e-mail) is met.
      const match = outcome.dcql.credential_matches.membership;
      assert.equal(match.valid_credentials[0].claims.valid_claim_sets[0].claim_set_index, 1);
      // The least used copy: the other one of the batch, which verifies too.
      presentedKeys.push(payload.cnf.jwk.x);
      assert.notEqual(presentedKeys[1], presentedKeys[0], 'the second copy was presented');
    });

    test('present --deny: the peer gets an encrypted access_denied; the history has each exchange', async () => {
      const transaction = await verifier.request({ mode: 'direct_post.jwt', prefix: 'x509_san_dns' });
      const run = await wallet.run('--json', 'present', transaction.link, '--deny');
      const outcome = await transaction.received;
      assertPeersHealthy();
      assert.equal(JSON.parse(run.stdout).result, 'denied');
      assert.equal(outcome.encrypted, true, 'direct_post.jwt: the error is encrypted too');
      assert.equal(outcome.error?.error, 'access_denied', JSON.stringify(outcome));
      assert.equal(outcome.error.state, transaction.payload.state);
      assert.deepEqual(Object.keys(outcome.form).sort(), ['error', 'error_description', 'state']);

      const history = await wallet.history();
      const of = (kind) => history.filter((h) => h.kind === kind);
      assert.deepEqual(
        of('issuance').map((h) => [h.counterparty, h.counterparty_name, h.result.status]),
        [[issuer.base, 'Peer issuer (oid4vc-ts)', 'success']],
      );
      const shares = of('presentation').sort((a, b) =>
        a.counterparty.localeCompare(b.counterparty),
      );
      assert.equal(shares.length, 2);
      const claimsOf = (h) => h.credentials.flatMap((c) => c.claims.map((p) => p.join('.'))).sort();
      assert.match(shares[0].counterparty, /^x509_hash:/);
      assert.deepEqual(claimsOf(shares[0]), ['address.locality', 'family_name', 'given_name']);
      assert.equal(shares[1].counterparty, 'x509_san_dns:localhost');
      assert.deepEqual(claimsOf(shares[1]), [
        'address.locality',
        'email',
        'family_name',
        'given_name',
      ]);
      for (const share of shares) {
        assert.equal(share.counterparty_name, 'Peer verifier (oid4vc-ts)');
        assert.deepEqual(share.result, { status: 'success' });
        assert.equal(share.credentials[0].vct, issuer.vct);
      }
      assert.deepEqual(
        of('denial').map((h) => [h.counterparty, h.result.status]),
        [['x509_san_dns:localhost', 'success']],
      );
    });

    test('a request signed under an untrusted root is refused; nothing is sent', async () => {
      const transaction = await verifier.request({
        mode: 'direct_post.jwt',
        prefix: 'x509_san_dns',
        pki: rogue,
      });
      const { code, message } = await wallet.fails('present', transaction.link, '--approve');
      assertPeersHealthy();
      assert.equal(code, 'verifier_not_authenticated', message);
      assert.match(message, /no trusted root/);
      assert.equal(transaction.requestFetches, 1, 'the wallet fetched the Request Object');
      assert.equal(transaction.posts, 0, 'and sent nothing to the Response URI');
    });
  });

  describe('wallet 2: refuse what the peer issuer must not hand out', SEQUENTIAL, () => {
    let wallet;

    before(async () => {
      wallet = walletCli(join(tmp.dir, 'wallet-2'));
      await wallet.run('init');
    });

    test('cnf is a key the wallet never proved: holder_key_mismatch, nothing stored', async () => {
      const offer = await issuer.offer({ mode: 'foreign-cnf' });
      const { code, message } = await wallet.fails('accept', offer.link, '--tx-code', offer.txCode);
      assertPeersHealthy();
      assert.equal(code, 'holder_key_mismatch', message);
      const issued = logged('credential', offer);
      assert.equal(issued?.credentials.length, 2, 'the peer did issue, to other keys');
      assert.deepEqual(await wallet.list(), [], 'nothing was stored');
    });

    test('the status list says revoked: credential_not_valid, nothing stored', async () => {
      const offer = await issuer.offer({ mode: 'revoked' });
      const { code, message } = await wallet.fails('accept', offer.link, '--tx-code', offer.txCode);
      assertPeersHealthy();
      assert.equal(code, 'credential_not_valid', message);
      assert.ok(offer.record.statusListFetches >= 1, "the wallet read the peer's status list");
      assert.deepEqual(await wallet.list(), [], 'nothing was stored');
    });
  });
});
