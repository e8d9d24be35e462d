// Our issuer (`intyg-issuer --dev`, a separate process on loopback) against an
// independent OpenID4VCI 1.0 wallet client: `@openid4vc/openid4vci` 0.4.6
// (OpenWallet Foundation `oid4vc-ts`) does the whole pre-authorized code flow
// (offer by reference, issuer and AS metadata, /token with tx_code, /nonce,
// JWT key proofs, /credential with `proofs.jwt`), and `@sd-jwt/sd-jwt-vc`
// verifies what it got: issuer signature with the key from our
// `/.well-known/jwt-vc-issuer`, Disclosures, and our status list entry.
//
// No Intyg code is on the wallet or verifying side: keys, hashes and ES256
// come from Node's crypto. Our issuer runs in dev mode (http on loopback), so
// the library's `allowInsecureUrls` is on for this file only.

import assert from 'node:assert/strict';
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Oauth2ClientErrorResponseError,
  clientAuthenticationAnonymous,
} from '@openid4vc/oauth2';
import {
  Openid4vciClient,
  Openid4vciRetrieveCredentialsError,
  Openid4vciVersion,
} from '@openid4vc/openid4vci';
import { setGlobalConfig } from '@openid4vc/utils';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

import { decodeJwt, es256Verifier, hashing, split, startService, typeDir } from './helpers.mjs';

const CONFIG_ID = 'registration-certificate';
const EXAMPLE = JSON.parse(readFileSync(join(typeDir(CONFIG_ID), 'example.json'), 'utf8'));
const METADATA = JSON.parse(readFileSync(join(typeDir(CONFIG_ID), 'type-metadata.json'), 'utf8'));
const SUBJECT = '199403172381';
const PRE_AUTH_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/** Claims of the issuer-signed JWT that are not subject claims (JWT, SD-JWT VC, status list). */
const REGISTERED = new Set([
  'iss', 'sub', 'iat', 'nbf', 'exp', 'jti', 'vct', 'vct#integrity', 'cnf', 'status', '_sd', '_sd_alg',
]);

// Dev issuer on http://127.0.0.1: the library refuses http URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** `intyg-issuer --dev` in a fresh data dir (see `startService`). */
const startIssuer = () => startService('intyg-issuer');

/** Holder keys: P-256 from Node's crypto, looked up by their public JWK in `signJwt`. */
const holderKeys = new Map();
function holderKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  holderKeys.set(publicJwk.x, privateKey);
  return { method: 'jwk', alg: 'ES256', publicJwk };
}

/** The library's callbacks, all on Node's crypto. */
const callbacks = {
  hash: (data, alg) => {
    const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
    if (!name) throw new Error(`unsupported hash ${alg}`);
    return createHash(name).update(data).digest();
  },
  generateRandom: (length) => randomBytes(length),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk' || signer.alg !== 'ES256') {
      throw new Error(`test signer supports jwk/ES256 only, got ${signer.method}/${signer.alg}`);
    }
    const key = holderKeys.get(signer.publicJwk.x);
    if (!key) throw new Error('signJwt: unknown holder key');
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = nodeSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return { jwt: `${input}.${b64url(signature)}`, signerJwk: signer.publicJwk };
  },
  // Pre-authorized code flow with anonymous access: no client authentication.
  clientAuthentication: clientAuthenticationAnonymous(),
};

const sameKey = (a, b) => a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y;

describe('@openid4vc/openid4vci wallet ← intyg-issuer → @sd-jwt/sd-jwt-vc verifier', () => {
  let issuer;
  let client;

  before(async () => {
    issuer = await startIssuer();
    client = new Openid4vciClient({ callbacks });
  });
  after(async () => {
    await issuer?.stop();
  });

  /** Our admin API: a registration-certificate offer for the example person. */
  async function createOffer() {
    const res = await fetch(`${issuer.base}/api/offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issuer.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        credential_configuration_id: CONFIG_ID,
        claims: EXAMPLE,
        subject: SUBJECT,
      }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, `POST /api/offers: ${body}`);
    const offer = JSON.parse(body);
    assert.match(offer.offer_uri, /^openid-credential-offer:\/\/\?credential_offer_uri=/);
    assert.equal(typeof offer.tx_code, 'string');
    return offer;
  }

  /** Wallet: offer link → offer → metadata. */
  async function resolve(offerUri) {
    const credentialOffer = await client.resolveCredentialOffer(offerUri);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    return { credentialOffer, issuerMetadata };
  }

  /** Wallet: offer link + PIN → access token (pre-authorized code grant). */
  async function token(offer) {
    const resolved = await resolve(offer.offer_uri);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
      ...resolved,
      txCode: offer.tx_code,
    });
    return { ...resolved, accessTokenResponse };
  }

  /** Wallet: one JWT proof per signer over a fresh c_nonce, one credential request. */
  async function requestCredentials(issuerMetadata, accessToken, signers, { aud } = {}) {
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    // To get a wrong `aud` through the library, hand it metadata naming another issuer.
    const proofMetadata = aud
      ? {
          ...issuerMetadata,
          credentialIssuer: { ...issuerMetadata.credentialIssuer, credential_issuer: aud },
        }
      : issuerMetadata;
    const jwts = [];
    for (const signer of signers) {
      const { jwt } = await client.createCredentialRequestJwtProof({
        issuerMetadata: proofMetadata,
        credentialConfigurationId: CONFIG_ID,
        signer,
        nonce: c_nonce,
      });
      jwts.push(jwt);
    }
    const { credentialResponse } = await client.retrieveCredentials({
      issuerMetadata,
      accessToken,
      credentialConfigurationId: CONFIG_ID,
      proofs: { jwt: jwts },
    });
    return { credentialResponse, jwts, c_nonce };
  }

  /** Status list URIs @sd-jwt fetched (through its own default fetcher). */
  const statusFetches = [];

  /** @sd-jwt/sd-jwt-vc with our issuer key, fetched from our JWT VC issuer metadata. */
  async function theirVerifier(iss) {
    const res = await fetch(`${issuer.base}/.well-known/jwt-vc-issuer`);
    assert.equal(res.status, 200);
    const meta = await res.json();
    // SD-JWT VC: the metadata `issuer` MUST be identical to the credential's `iss`.
    assert.equal(meta.issuer, iss, 'jwt-vc-issuer metadata names the credential issuer');
    assert.ok(meta.jwks?.keys?.length >= 1, 'jwt-vc-issuer metadata has a JWKS');
    const verifier = async (data, signature) => {
      // Any published key will do; @sd-jwt does not look at `kid`.
      return meta.jwks.keys.some((jwk) => es256Verifier(jwk)(data, signature));
    };
    const instance = new SDJwtVcInstance({
      ...hashing,
      verifier,
      // @sd-jwt's own fetcher (Accept and content type `application/statuslist+jwt`), recorded.
      statusListFetcher: (uri) => {
        statusFetches.push(uri);
        return instance.statusListFetcher(uri);
      },
    });
    return { instance, jwks: meta.jwks };
  }

  /** Verifies `credential` with @sd-jwt and the checks it leaves to us. */
  /** The issuer's predicates for a registration since `since` (today in Stockholm). */
  function predicates(since) {
    const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm' }).format(new Date());
    const reached = (months) => {
      const [y, m, d] = since.split('-').map(Number);
      const date = new Date(Date.UTC(y, m - 1 + months, d));
      return date.toISOString().slice(0, 10);
    };
    return Object.fromEntries([3, 6, 12].map((n) => [`${n}_months`, reached(n) <= today]));
  }

  async function verifyCredential(credential, holderJwk, iss) {
    const { instance, jwks } = await theirVerifier(iss);
    // verify(): issuer signature, Disclosures, exp/nbf, and (since the
    // credential has `status.status_list`) a fetch of our status list JWT,
    // its signature with the same verifier, and the entry being 0 (valid).
    // No `currentDate`: @sd-jwt passes it on to the status list JWT, which
    // our issuer may sign in the next second ("JWT is not yet valid").
    const result = await instance.verify(credential, {
      requiredClaimKeys: ['vct', 'iss', 'iat', 'cnf', 'status', ...Object.keys(EXAMPLE)],
    });
    const { header, payload } = result;
    assert.equal(header.typ, 'dc+sd-jwt');
    assert.equal(header.alg, 'ES256');
    if (header.kid !== undefined) {
      assert.ok(jwks.keys.some((k) => k.kid === header.kid), `header kid ${header.kid} is in the JWKS`);
    }
    assert.equal(payload.vct, METADATA.vct);
    assert.equal(payload.iss, iss);
    assert.ok(sameKey(payload.cnf.jwk, holderJwk), 'cnf.jwk is the proof key');
    assert.equal(payload.cnf.jwk.d, undefined, 'cnf.jwk carries no private key');
    if (payload.exp !== undefined) assert.ok(payload.exp > payload.iat, 'exp after iat');

    // The disclosed subject claims are exactly example.json plus the
    // predicates the issuer computes at issuance (minimal attestations):
    // `registered_at_least.N_months` holds when registered_since + N months
    // is not after today.
    const subject = Object.fromEntries(
      Object.entries(payload).filter(([name]) => !REGISTERED.has(name)),
    );
    assert.deepEqual(subject, { ...EXAMPLE, registered_at_least: predicates(EXAMPLE.registered_since) });

    // Every subject claim is selectively disclosable (DESIGN.md §3): none is
    // in the clear in the issuer-signed JWT, and each has a Disclosure.
    const { jwt, disclosures } = split(credential);
    const signed = decodeJwt(jwt).payload;
    for (const name of Object.keys(EXAMPLE)) {
      assert.equal(signed[name], undefined, `${name} is not in the clear`);
    }
    assert.equal(signed._sd_alg, 'sha-256');
    // One Disclosure per claim: each of example.json's, the predicate
    // object and each of its three predicates.
    assert.equal(disclosures.length, Object.keys(EXAMPLE).length + 1 + 3, 'one Disclosure per claim');
    assert.equal(signed.registered_at_least, undefined, 'registered_at_least is not in the clear');

    // Token Status List reference (@sd-jwt fetched and checked the entry).
    const { status_list } = payload.status;
    assert.ok(Number.isInteger(status_list.idx) && status_list.idx >= 0, 'status_list.idx');
    assert.ok(status_list.uri.startsWith(`${issuer.base}/`), `status list URI ${status_list.uri}`);
    assert.equal(statusFetches.at(-1), status_list.uri, '@sd-jwt fetched our status list');
    return payload;
  }

  test('pre-authorized flow: the library obtains a credential and @sd-jwt verifies it', async () => {
    const offer = await createOffer();
    const { credentialOffer, issuerMetadata, accessTokenResponse } = await token(offer);

    // What the library made of our offer and metadata.
    assert.equal(credentialOffer.credential_issuer, issuer.base);
    assert.deepEqual(credentialOffer.credential_configuration_ids, [CONFIG_ID]);
    const grant = credentialOffer.grants[PRE_AUTH_GRANT];
    assert.equal(typeof grant['pre-authorized_code'], 'string');
    assert.equal(grant.tx_code.length, offer.tx_code.length, 'tx_code.length matches the PIN');
    assert.equal(grant.tx_code.input_mode, 'numeric');
    assert.equal(issuerMetadata.originalDraftVersion, Openid4vciVersion.V1, 'seen as OpenID4VCI 1.0');
    assert.equal(issuerMetadata.authorizationServers.length, 1);
    assert.equal(issuerMetadata.authorizationServers[0].issuer, issuer.base);
    assert.ok(
      issuerMetadata.knownCredentialConfigurations[CONFIG_ID],
      'the configuration passes the library validation',
    );
    const configurations = issuerMetadata.credentialIssuer.credential_configurations_supported;
    assert.equal(configurations[CONFIG_ID].format, 'dc+sd-jwt');
    assert.equal(typeof accessTokenResponse.access_token, 'string');
    assert.match(accessTokenResponse.token_type, /^bearer$/i);

    const holder = holderKey();
    const { credentialResponse, jwts } = await requestCredentials(
      issuerMetadata,
      accessTokenResponse.access_token,
      [holder],
    );
    // The proof the library built: the shape OpenID4VCI 1.0 Appendix F.1 asks for.
    const proof = decodeJwt(jwts[0]);
    assert.equal(proof.header.typ, 'openid4vci-proof+jwt');
    assert.equal(proof.header.alg, 'ES256');
    assert.ok(sameKey(proof.header.jwk, holder.publicJwk));
    assert.equal(proof.payload.aud, issuer.base);

    assert.equal(credentialResponse.credentials?.length, 1, JSON.stringify(credentialResponse));
    const { credential } = credentialResponse.credentials[0];
    assert.equal(typeof credential, 'string');
    const payload = await verifyCredential(credential, holder.publicJwk, issuer.base);

    // Guard against a vacuous status check: once the agency revokes it
    // through our admin API, @sd-jwt reads "invalid" from the published list.
    const res = await fetch(`${issuer.base}/api/credentials/${offer.credential_ids[0]}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issuer.apiKey}` },
    });
    const revoked = await res.text();
    assert.equal(res.status, 200, `revoke: ${revoked}`);
    assert.ok(
      JSON.parse(revoked).status.some((ref) => ref.idx === payload.status.status_list.idx),
      `the revoked record holds our status index: ${revoked}`,
    );
    const { instance } = await theirVerifier(issuer.base);
    await assert.rejects(
      instance.verify(credential),
      /Status is not valid/,
    );
  });

  test('batch issuance: two proofs give two credentials, one per key, two status indexes', async () => {
    const offer = await createOffer();
    const { issuerMetadata, accessTokenResponse } = await token(offer);
    const batch = issuerMetadata.credentialIssuer.batch_credential_issuance;
    assert.ok(batch?.batch_size >= 2, `batch_size >= 2: ${JSON.stringify(batch)}`);

    const holders = [holderKey(), holderKey()];
    const { credentialResponse } = await requestCredentials(
      issuerMetadata,
      accessTokenResponse.access_token,
      holders,
    );
    assert.equal(credentialResponse.credentials?.length, 2, JSON.stringify(credentialResponse));
    const payloads = [];
    for (const { credential } of credentialResponse.credentials) {
      const { cnf } = decodeJwt(split(credential).jwt).payload;
      const holder = holders.find((h) => sameKey(h.publicJwk, cnf.jwk));
      assert.ok(holder, 'each credential is bound to one of the proof keys');
      payloads.push(await verifyCredential(credential, holder.publicJwk, issuer.base));
    }
    assert.ok(!sameKey(payloads[0].cnf.jwk, payloads[1].cnf.jwk), 'two different holder keys');
    assert.notEqual(
      payloads[0].status.status_list.idx,
      payloads[1].status.status_list.idx,
      'the two credentials have different status list indexes',
    );
  });

  test('a pre-authorized code works once: the second token request gets invalid_grant', async () => {
    const offer = await createOffer();
    const { credentialOffer, issuerMetadata } = await token(offer);
    const error = await client
      .retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer,
        issuerMetadata,
        txCode: offer.tx_code,
      })
      .then(
        () => assert.fail('the second token request with the same pre-authorized code succeeded'),
        (e) => e,
      );
    assert.ok(error instanceof Oauth2ClientErrorResponseError, `library error type: ${error}`);
    assert.equal(error.errorResponse.error, 'invalid_grant', JSON.stringify(error.errorResponse));
    assert.equal(error.response.status, 400);
  });

  test('a wrong tx_code gets invalid_grant', async () => {
    const offer = await createOffer();
    const { credentialOffer, issuerMetadata } = await resolve(offer.offer_uri);
    const wrong = offer.tx_code.replace(/.$/, (d) => String((Number(d) + 1) % 10));
    const error = await client
      .retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: wrong })
      .then(() => assert.fail('a wrong tx_code was accepted'), (e) => e);
    assert.ok(error instanceof Oauth2ClientErrorResponseError, `library error type: ${error}`);
    assert.equal(error.errorResponse.error, 'invalid_grant', JSON.stringify(error.errorResponse));
  });

  test('a proof with the wrong aud gets invalid_proof', async () => {
    const offer = await createOffer();
    const { issuerMetadata, accessTokenResponse } = await token(offer);
    const error = await requestCredentials(
      issuerMetadata,
      accessTokenResponse.access_token,
      [holderKey()],
      { aud: 'https://other-issuer.example' },
    ).then(() => assert.fail('a proof for another issuer was accepted'), (e) => e);
    assert.ok(error instanceof Openid4vciRetrieveCredentialsError, `library error type: ${error}`);
    assert.equal(error.response.response.status, 400);
    const parsed = error.response.credentialErrorResponseResult;
    assert.ok(parsed?.success, `a credential error response: ${error.message}`);
    assert.equal(parsed.data.error, 'invalid_proof', JSON.stringify(parsed.data));
    assert.match(parsed.data.error_description ?? '', /aud/i, 'the error says what failed');
  });
});
