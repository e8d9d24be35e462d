// Our verifier (`intyg-verifier --dev`, a separate process on loopback)
// against an independent OpenID4VP 1.0 holder: `@openid4vc/openid4vp` 0.4.6
// (OpenWallet Foundation `oid4vc-ts`) parses the `openid4vp://` link,
// fetches and checks our signed Request Object (JAR, `x509_hash:` client
// id, `x5c` chained by this file to `DIR/ca.pem`), `dcql` 3.0.0 matches the
// DCQL query, `@sd-jwt/sd-jwt-vc` 0.19.0 builds the presentations with
// KB-JWTs, and the library encrypts (`direct_post.jwt`, ECDH-ES to the key in
// `client_metadata`) and posts the response. Our HR API must then say
// `verified` with exactly the disclosed claims, or the specific reason.
//
// The credentials come from our issuer (`intyg-issuer --dev`, another
// process) through `@openid4vc/openid4vci`, bound to a holder key made here
// with Node's crypto. No Intyg code is on the holder side. Both services run
// in dev mode (http on loopback), so the libraries' `allowInsecureUrls` is on
// for this file; nothing else is relaxed.

import assert from 'node:assert/strict';
import {
  X509Certificate,
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { ES256 } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { DcqlQuery } from 'dcql';
import { CompactEncrypt, importJWK } from 'jose';

import { decodeDisclosure, decodeJwt, hashing, split, startService, typeDir } from './helpers.mjs';

// Both dev services are on http://127.0.0.1: the libraries refuse http URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const example = (type) => JSON.parse(readFileSync(join(typeDir(type), 'example.json'), 'utf8'));
const vctOf = (type) =>
  JSON.parse(readFileSync(join(typeDir(type), 'type-metadata.json'), 'utf8')).vct;

/** The holder's P-256 key, from Node's crypto. */
const holderPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holderPublicJwk = holderPair.publicKey.export({ format: 'jwk' });
const holderPrivateJwk = holderPair.privateKey.export({ format: 'jwk' });

/** What the wallet tells `createOpenid4vpAuthorizationResponse` it can do (JARM server metadata). */
const WALLET_JARM = {
  authorization_signing_alg_values_supported: ['ES256'],
  authorization_encryption_alg_values_supported: ['ECDH-ES'],
  authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
};

const sha256 = (data) => createHash('sha256').update(data).digest();
const hash = (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unsupported hash ${alg}`);
  return sha256(data);
};

/**
 * Authenticates a Request Object signed with `x5c`: each certificate is
 * issued and signed by the next, the last by the trusted root (our
 * verifier's `ca.pem`), all within their validity; then the ES256 signature
 * with the leaf key. Only `x5c` is accepted: our client id is `x509_hash:`.
 */
function x5cVerifier(rootPem) {
  const root = new X509Certificate(rootPem);
  assert.ok(root.ca, 'ca.pem is a CA certificate');
  return (signer, { header, compact }) => {
    if (signer.method !== 'x5c' || header.alg !== 'ES256') return { verified: false };
    const chain = signer.x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    const now = Date.now();
    const issuers = [...chain.slice(1), root];
    const chained = chain.every(
      (cert, i) =>
        cert.checkIssued(issuers[i]) &&
        cert.verify(issuers[i].publicKey) &&
        Date.parse(cert.validFrom) <= now &&
        now <= Date.parse(cert.validTo),
    );
    if (!chained) return { verified: false };
    const leaf = chain[0].publicKey;
    const [h, p, s] = compact.split('.');
    const verified = nodeVerify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: leaf, dsaEncoding: 'ieee-p1363' },
      Buffer.from(s, 'base64url'),
    );
    return verified ? { verified, signerJwk: leaf.export({ format: 'jwk' }) } : { verified: false };
  };
}

/** SAN dNSName / URI entries of a base64 DER certificate, for `x509_san_*` client ids. */
function certificateMetadata(der) {
  const san = new X509Certificate(Buffer.from(der, 'base64')).subjectAltName ?? '';
  const names = (kind) =>
    san
      .split(', ')
      .filter((entry) => entry.startsWith(`${kind}:`))
      .map((entry) => entry.slice(kind.length + 1));
  return { sanDnsNames: names('DNS'), sanUriNames: names('URI') };
}

/**
 * JWE encryption for the library's `encryptJwe` callback, with `jose`:
 * ECDH-ES key agreement to the verifier's JWK, with the `apu`/`apv` the
 * library chose and the key's `kid` in the header.
 */
async function encryptJwe(encryptor, data) {
  const { publicJwk, alg, enc, apu, apv } = encryptor;
  const jwe = new CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader({
    alg,
    enc,
    ...(publicJwk.kid ? { kid: publicJwk.kid } : {}),
  });
  const parameters = {};
  if (apu) parameters.apu = Buffer.from(apu, 'base64url');
  if (apv) parameters.apv = Buffer.from(apv, 'base64url');
  jwe.setKeyManagementParameters(parameters);
  return { jwe: await jwe.encrypt(await importJWK(publicJwk, alg)), encryptionJwk: publicJwk };
}

/** OpenID4VCI proofs, signed with the holder key. */
async function signJwt(signer, { header, payload }) {
  if (signer.method !== 'jwk' || signer.alg !== 'ES256' || signer.publicJwk.x !== holderPublicJwk.x) {
    throw new Error(`test signer signs with the holder key only, got ${signer.method}/${signer.alg}`);
  }
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = nodeSign('sha256', Buffer.from(input), {
    key: holderPair.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return { jwt: `${input}.${b64url(signature)}`, signerJwk: signer.publicJwk };
}

/** A presentation frame for @sd-jwt from DCQL claims paths (object keys only). */
function presentationFrame(paths) {
  const frame = {};
  for (const path of paths) {
    let node = frame;
    path.forEach((key, i) => {
      if (typeof key !== 'string') throw new Error(`path ${JSON.stringify(path)}: keys only here`);
      node[key] = i === path.length - 1 ? true : (node[key] ?? {});
      node = node[key];
    });
  }
  return frame;
}

describe('@openid4vc/openid4vp holder → intyg-verifier (credentials from intyg-issuer)', () => {
  let issuer;
  let verifier;
  let rootPem;
  /** `{ registration, eligibility }`: compact SD-JWT VCs held by the holder. */
  const held = {};
  const vp = new Openid4vpClient({
    callbacks: {
      hash,
      fetch,
      verifyJwt: (...args) => x5cVerifier(rootPem)(...args),
      getX509CertificateMetadata: certificateMetadata,
      encryptJwe,
      signJwt: () => {
        throw new Error('the response is encrypted, not signed');
      },
    },
  });
  /** @sd-jwt as holder: decodes the credentials and presents with a KB-JWT. */
  let sdjwt;

  before(async () => {
    issuer = await startService('intyg-issuer');
    try {
      verifier = await startService('intyg-verifier', ['--trust-issuer', issuer.base]);
    } catch (e) {
      await issuer.stop();
      throw e;
    }
    rootPem = readFileSync(join(verifier.dir, 'ca.pem'), 'utf8');
    sdjwt = new SDJwtVcInstance({
      ...hashing,
      kbSigner: await ES256.getSigner(holderPrivateJwk),
      kbSignAlg: 'ES256',
    });

    // Two credentials from our issuer, through the OpenID4VCI library.
    const vci = new Openid4vciClient({
      callbacks: {
        hash,
        generateRandom: randomBytes,
        signJwt,
        clientAuthentication: clientAuthenticationAnonymous(),
      },
    });
    for (const [name, type] of [
      ['registration', 'registration-certificate'],
      ['eligibility', 'internship-eligibility'],
    ]) {
      const res = await fetch(`${issuer.base}/api/offers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${issuer.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          credential_configuration_id: type,
          claims: example(type),
          subject: '199403172381',
        }),
      });
      const offer = JSON.parse(await res.text());
      assert.equal(res.status, 201, `POST /api/offers: ${JSON.stringify(offer)}`);
      const credentialOffer = await vci.resolveCredentialOffer(offer.offer_uri);
      const issuerMetadata = await vci.resolveIssuerMetadata(credentialOffer.credential_issuer);
      const { accessTokenResponse } = await vci.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer,
        issuerMetadata,
        txCode: offer.tx_code,
      });
      const { c_nonce } = await vci.requestNonce({ issuerMetadata });
      const { jwt } = await vci.createCredentialRequestJwtProof({
        issuerMetadata,
        credentialConfigurationId: type,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: holderPublicJwk },
        nonce: c_nonce,
      });
      const { credentialResponse } = await vci.retrieveCredentials({
        issuerMetadata,
        accessToken: accessTokenResponse.access_token,
        credentialConfigurationId: type,
        proofs: { jwt: [jwt] },
      });
      held[name] = credentialResponse.credentials[0].credential;
      assert.equal(decodeJwt(split(held[name]).jwt).payload.cnf.jwk.x, holderPublicJwk.x);
    }
  });
  after(async () => {
    await verifier?.stop();
    await issuer?.stop();
  });

  /** HR API: a new internship application with its QR code (`?qr=svg`);
   * returns `{ id, request_uri, qr_svg, ... }`. */
  async function createRequest() {
    const res = await fetch(`${verifier.base}/api/presentations?qr=svg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${verifier.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ template: 'internship-application' }),
    });
    const body = JSON.parse(await res.text());
    assert.equal(res.status, 201, `POST /api/presentations: ${JSON.stringify(body)}`);
    assert.match(body.request_uri, /^openid4vp:\/\/\?/);
    assert.match(body.qr_svg, /<svg/);
    return body;
  }

  /** HR API: `GET /api/presentations/{id}`. */
  async function outcome(id) {
    const res = await fetch(`${verifier.base}/api/presentations/${id}`, {
      headers: { authorization: `Bearer ${verifier.apiKey}` },
    });
    assert.equal(res.status, 200);
    return res.json();
  }

  /** The library resolves our link: Request Object fetched, `x5c` and `x509_hash` checked. */
  async function resolve(link) {
    const parsed = vp.parseOpenid4vpAuthorizationRequest({ authorizationRequest: link });
    assert.equal(parsed.type, 'jar', 'our link passes the request by reference');
    return vp.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  }

  /**
   * The wallet's DCQL step with `dcql`: what to present per credential query,
   * and which claims (the first satisfiable claim set, as a wallet showing
   * every optional claim would).
   */
  async function match(query) {
    const parsed = DcqlQuery.parse(query);
    DcqlQuery.validate(parsed);
    const names = Object.keys(held);
    const credentials = [];
    for (const name of names) {
      const claims = await sdjwt.getClaims(held[name]);
      credentials.push({
        credential_format: 'dc+sd-jwt',
        vct: claims.vct,
        claims,
        cryptographic_holder_binding: true,
      });
    }
    const result = DcqlQuery.query(parsed, credentials);
    assert.ok(result.can_be_satisfied, `dcql: ${JSON.stringify(result, null, 1)}`);
    const wanted = {};
    for (const [queryId, matched] of Object.entries(result.credential_matches)) {
      if (!matched.success) continue;
      const found = matched.valid_credentials[0];
      const credentialQuery = parsed.credentials.find((c) => c.id === queryId);
      const { valid_claim_indexes } = found.claims.valid_claim_sets[0];
      wanted[queryId] = {
        name: names[found.input_credential_index],
        paths: valid_claim_indexes.map((i) => credentialQuery.claims[i].path),
      };
    }
    return { result, wanted };
  }

  /** Presentations with KB-JWTs (`aud`, `nonce`); `tamper(queryId, compact)` may change each. */
  async function presentAll(wanted, { aud, nonce }, tamper = (_, p) => p) {
    const vpToken = {};
    for (const [queryId, { name, paths }] of Object.entries(wanted)) {
      const presentation = await sdjwt.present(held[name], presentationFrame(paths), {
        kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000) } },
      });
      vpToken[queryId] = [tamper(queryId, presentation)];
    }
    return vpToken;
  }

  /** The library encrypts (`direct_post.jwt`) and posts the response. */
  async function respond(resolved, vpToken, jarm = WALLET_JARM) {
    const request = resolved.authorizationRequestPayload;
    const created = await vp.createOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: request,
      authorizationResponsePayload: { vp_token: vpToken },
      jarm: { encryption: { nonce: b64url(randomBytes(16)) }, serverMetadata: jarm },
    });
    assert.ok(created.jarm?.responseJwt, 'the library made a JWE');
    const { response } = await vp.submitOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: request,
      authorizationResponsePayload: created.authorizationResponsePayload,
      jarm: created.jarm,
    });
    return { response, body: await response.text(), jwe: created.jarm.responseJwt };
  }

  /** Request → resolve → match → present (with `edit`) → respond, over one fresh request. */
  async function roundTrip({ edit = (kb) => kb, tamper, jarm } = {}) {
    const created = await createRequest();
    const resolved = await resolve(created.request_uri);
    const request = resolved.authorizationRequestPayload;
    const { wanted } = await match(resolved.dcql.query);
    const kb = edit({ aud: resolved.client.effective, nonce: request.nonce });
    const vpToken = await presentAll(wanted, kb, tamper);
    const answer = await respond(resolved, vpToken, jarm);
    return { created, resolved, wanted, vpToken, ...answer };
  }

  test('the holder resolves, matches, presents and the verifier says verified', async () => {
    const { created, resolved, wanted, vpToken, response, body, jwe } = await roundTrip();

    // What the library made of our request.
    const request = resolved.authorizationRequestPayload;
    assert.equal(resolved.version, 100, 'recognised as OpenID4VP 1.0');
    assert.equal(resolved.jar.sendBy, 'reference');
    assert.equal(resolved.jar.signer.method, 'x5c');
    assert.equal(resolved.client.prefix, 'x509_hash');
    assert.match(request.client_id, /^x509_hash:[A-Za-z0-9_-]{43}$/);
    assert.equal(resolved.client.effective, request.client_id);
    assert.equal(resolved.jar.jwt.header.typ, 'oauth-authz-req+jwt');
    assert.equal(request.response_type, 'vp_token');
    assert.equal(request.response_mode, 'direct_post.jwt');
    // The dev verifier names itself `localhost`, a DNS SAN of its certificate.
    const publicBase = verifier.base.replace('127.0.0.1', 'localhost');
    assert.ok(request.response_uri.startsWith(`${publicBase}/`), request.response_uri);
    assert.equal(typeof request.nonce, 'string');
    assert.equal(typeof request.state, 'string');
    assert.ok(request.client_metadata.jwks.keys.length >= 1, 'client_metadata carries a JWK');

    // DCQL: registration and eligibility required; the given and family
    // names each an optional query over the registration certificate (no
    // claim_sets, so a wallet that ignores them is asked for no more);
    // the diploma optional and not held.
    assert.deepEqual(Object.keys(wanted).sort(), ['eligibility', 'family_name', 'given_name', 'registration']);
    assert.deepEqual(
      wanted.registration.paths,
      [['registration_status'], ['registered_since']],
      'the required query asks for the required claims only',
    );
    assert.deepEqual(wanted.given_name.paths, [['given_name']]);
    assert.deepEqual(wanted.family_name.paths, [['family_name']]);

    // The response: JWE ECDH-ES to our key, A128GCM (the first enc both support).
    const header = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString('utf8'));
    assert.equal(header.alg, 'ECDH-ES');
    assert.equal(header.enc, 'A128GCM');
    assert.equal(header.kid, request.client_metadata.jwks.keys[0].kid);
    assert.equal(header.epk.crv, 'P-256');
    assert.equal(response.status, 200, `response URI answered: ${body}`);
    // No redirect_uri; the only member is Intyg's signed receipt (an
    // extension other wallets ignore, specs/PROFILE.md).
    const answer = JSON.parse(body);
    assert.deepEqual(Object.keys(answer), ['intyg_receipt'], `the Response URI answers ${body}`);
    const receiptHeader = JSON.parse(Buffer.from(answer.intyg_receipt.split('.')[0], 'base64url').toString('utf8'));
    assert.equal(receiptHeader.typ, 'intyg-receipt+jwt');
    assert.equal(receiptHeader.alg, 'ES256');

    // The HR API: verified, with exactly the disclosed claims.
    const view = await outcome(created.id);
    assert.equal(view.status, 'verified', JSON.stringify(view));
    const byQuery = Object.fromEntries(view.credentials.map((c) => [c.query_id, c]));
    const registration = example('registration-certificate');
    const eligibility = example('internship-eligibility');
    assert.equal(byQuery.registration.vct, vctOf('registration-certificate'));
    assert.equal(byQuery.registration.issuer, issuer.base);
    assert.equal(byQuery.registration.status, 'valid');
    assert.deepEqual(byQuery.registration.claims, {
      registration_status: registration.registration_status,
      registered_since: registration.registered_since,
    });
    assert.deepEqual(byQuery.given_name.claims, { given_name: registration.given_name });
    assert.deepEqual(byQuery.family_name.claims, { family_name: registration.family_name });
    assert.equal(byQuery.eligibility.vct, vctOf('internship-eligibility'));
    assert.deepEqual(byQuery.eligibility.claims, {
      eligible_from: eligibility.eligible_from,
      eligible_until: eligibility.eligible_until,
      max_hours_per_week: eligibility.max_hours_per_week,
    });
    // Nothing else left the wallet: one Disclosure per disclosed claim.
    assert.equal(split(vpToken.registration[0]).disclosures.length, 2);
    assert.equal(split(vpToken.given_name[0]).disclosures.length, 1);
    assert.equal(split(vpToken.eligibility[0]).disclosures.length, 3);
    assert.equal(view.consent?.transaction_id, created.id, 'a consent record was stored');

    // The same encrypted response again: refused as a replay, the result stands.
    const again = await fetch(request.response_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ response: jwe }).toString(),
    });
    const replayed = await again.text();
    assert.equal(again.status, 400, replayed);
    assert.equal(JSON.parse(replayed).reason, 'replay', replayed);
    assert.equal((await outcome(created.id)).status, 'verified');
  });

  test('A256GCM, when the wallet prefers it, is accepted too', async () => {
    const { created, response, body, jwe } = await roundTrip({
      jarm: {
        ...WALLET_JARM,
        authorization_encryption_enc_values_supported: ['A256GCM', 'A128GCM'],
      },
    });
    const header = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString('utf8'));
    assert.equal(header.enc, 'A256GCM');
    assert.equal(response.status, 200, body);
    assert.equal((await outcome(created.id)).status, 'verified');
  });

  /** A refused response: the Response URI's 400 and the HR API name `reason`. */
  async function assertRefused({ created, response, body }, reason) {
    assert.equal(response.status, 400, `the Response URI answered ${response.status}: ${body}`);
    const error = JSON.parse(body);
    assert.equal(typeof error.error, 'string', `an OAuth error object: ${body}`);
    assert.match(JSON.stringify(error), new RegExp(reason), `the error names ${reason}: ${body}`);
    const view = await outcome(created.id);
    assert.equal(view.status, 'failed', JSON.stringify(view));
    assert.equal(view.reason, reason, JSON.stringify(view));
    assert.equal(typeof view.reason_description, 'string');
    assert.deepEqual(view.credentials, [], 'no claims are kept from a refused response');
  }

  // `@openid4vc/openid4vp` 0.4.6 drops `wallet_nonce` when it POSTs to a
  // request URI, so the wallet's side of OpenID4VP 1.0 §5.10 is written
  // here by hand: the form POST, then Node's crypto checks the x5c chain
  // and signature of what our verifier answers, and the library builds
  // and encrypts the response from that request.
  test('request_uri_method=post: a hand-written wallet POST gets its wallet_nonce echoed', async () => {
    const res = await fetch(`${verifier.base}/api/presentations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${verifier.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        template: 'internship-application',
        client_id_prefix: 'x509_san_dns',
        request_uri_method: 'post',
      }),
    });
    const created = await res.json();
    assert.equal(res.status, 201, JSON.stringify(created));
    // No QR code unless asked for.
    assert.equal(created.qr_svg, undefined);
    const link = new URL(created.request_uri);
    assert.equal(link.protocol, 'openid4vp:');
    assert.equal(link.searchParams.get('client_id'), 'x509_san_dns:localhost');
    assert.equal(link.searchParams.get('request_uri_method'), 'post');
    const offered = JSON.parse(link.searchParams.get('client_metadata'));
    assert.deepEqual(offered.vp_formats_supported['dc+sd-jwt']['kb-jwt_alg_values'], ['ES256']);

    const post = (metadata, walletNonce) =>
      fetch(link.searchParams.get('request_uri'), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/oauth-authz-req+jwt',
        },
        body: new URLSearchParams({
          wallet_metadata: JSON.stringify(metadata),
          ...(walletNonce ? { wallet_nonce: walletNonce } : {}),
        }),
      });
    const metadata = {
      vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } },
      client_id_prefixes_supported: ['x509_san_dns'],
      request_object_signing_alg_values_supported: ['ES256'],
      authorization_encryption_alg_values_supported: ['ECDH-ES'],
      authorization_encryption_enc_values_supported: ['A256GCM'],
    };

    // What our verifier cannot serve is refused, with the spec's codes.
    const refused = await post({ ...metadata, request_object_signing_alg_values_supported: ['EdDSA'] }, 'n');
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_request');
    const formats = await post({ ...metadata, vp_formats_supported: { mso_mdoc: {} } }, 'n');
    assert.equal(formats.status, 400);
    assert.equal((await formats.json()).error, 'vp_formats_not_supported');

    const walletNonce = b64url(randomBytes(16));
    const answer = await post(metadata, walletNonce);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/oauth-authz-req+jwt');
    const compact = await answer.text();
    const { header, payload } = decodeJwt(compact);
    assert.equal(header.typ, 'oauth-authz-req+jwt');
    const checked = x5cVerifier(rootPem)({ method: 'x5c', x5c: header.x5c }, { header, compact });
    assert.ok(checked.verified, 'the request object chains to ca.pem and verifies');
    assert.ok(
      certificateMetadata(header.x5c[0]).sanDnsNames.includes('localhost'),
      'the leaf names the x509_san_dns client',
    );
    assert.equal(payload.wallet_nonce, walletNonce, 'wallet_nonce echoed (§5.10.1)');
    assert.equal(payload.client_id, 'x509_san_dns:localhost');
    assert.deepEqual(payload.client_metadata.encrypted_response_enc_values_supported, ['A256GCM']);

    // The rest of the flow on that request: the library encrypts to A256GCM.
    const resolved = { authorizationRequestPayload: payload };
    const { wanted } = await match(payload.dcql_query);
    const vpToken = await presentAll(wanted, { aud: payload.client_id, nonce: payload.nonce });
    const { response, body, jwe } = await respond(resolved, vpToken);
    assert.equal(response.status, 200, body);
    assert.equal(JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString('utf8')).enc, 'A256GCM');
    const view = await outcome(created.id);
    assert.equal(view.status, 'verified', JSON.stringify(view));
    assert.equal(view.consent.verifier, 'x509_san_dns:localhost');
  });

  test('a KB-JWT over another nonce is refused: wrong_nonce', async () => {
    const answer = await roundTrip({ edit: (kb) => ({ ...kb, nonce: b64url(randomBytes(24)) }) });
    await assertRefused(answer, 'wrong_nonce');
  });

  test('a KB-JWT for another audience is refused: wrong_aud', async () => {
    const answer = await roundTrip({ edit: (kb) => ({ ...kb, aud: 'x509_hash:someone-else' }) });
    await assertRefused(answer, 'wrong_aud');
  });

  test('a Disclosure dropped after KB signing is refused: sd_hash_mismatch', async () => {
    const answer = await roundTrip({
      tamper: (queryId, presentation) => {
        if (queryId !== 'given_name') return presentation;
        const { jwt, disclosures, kb } = split(presentation);
        const kept = disclosures.filter((d) => decodeDisclosure(d)[1] !== 'given_name');
        assert.equal(kept.length, disclosures.length - 1, 'the given_name Disclosure was there');
        return [jwt, ...kept, kb].join('~');
      },
    });
    await assertRefused(answer, 'sd_hash_mismatch');
  });
});
