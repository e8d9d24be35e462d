// Our issuer in HAIP 1.0 mode (`intyg-issuer --dev --profile haip
// --wallet-provider-root FILE.pem --dpop-nonce`) against an independent holder:
// `@openid4vc/oauth2` and `@openid4vc/openid4vci` 0.4.6 make the DPoP proofs
// (RFC 9449, with their `use_dpop_nonce` retry), the wallet attestation PoP
// (`attest_jwt_client_auth`) and the `jwt` key proof with a `key_attestation`
// header; the wallet provider's attestations are made with the same library
// (`createClientAttestationJwt`, `createKeyAttestationJwt`) under a test PKI
// built with the `openssl` CLI (a root CA and a leaf it issued: HAIP 1.0
// wants no self-signed leaf, and no root in `x5c`).
//
// Then the same holder is refused: without DPoP (`invalid_dpop_proof`), with
// a wallet provider the issuer does not trust (`invalid_client`), and with a
// key attestation that does not cover its key (`invalid_proof`).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Oauth2ClientErrorResponseError,
  clientAuthenticationClientAttestationJwt,
  createClientAttestationJwt,
} from '@openid4vc/oauth2';
import {
  Openid4vciClient,
  Openid4vciRetrieveCredentialsError,
  createKeyAttestationJwt,
} from '@openid4vc/openid4vci';
import { setGlobalConfig } from '@openid4vc/utils';

import { decodeJwt, scratch, split, startService, typeDir } from './helpers.mjs';

const CONFIG_ID = 'registration-certificate';
const EXAMPLE = JSON.parse(readFileSync(join(typeDir(CONFIG_ID), 'example.json'), 'utf8'));
const SUBJECT = '199403172381';
const CLIENT_ID = 'interop-wallet-instance';

// Dev issuer on http://127.0.0.1: the library refuses http URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A wallet provider PKI from the openssl CLI: root CA, and an attester leaf it issued. */
function walletProvider(dir, name) {
  const path = (file) => join(dir, `${name}-${file}`);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl('genpkey', ...ec, '-out', path('root.key'));
  openssl(
    'req', '-x509', '-new', '-key', path('root.key'), '-subj', `/CN=${name} root`, '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', path('root.pem'),
  );
  openssl('genpkey', ...ec, '-out', path('leaf.key'));
  openssl('req', '-new', '-key', path('leaf.key'), '-subj', `/CN=${name} attester`, '-out', path('leaf.csr'));
  writeFileSync(path('leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  openssl(
    'x509', '-req', '-in', path('leaf.csr'), '-CA', path('root.pem'), '-CAkey', path('root.key'),
    '-set_serial', '2', '-days', '30', '-extfile', path('leaf.ext'), '-out', path('leaf.pem'),
  );
  const der = readFileSync(path('leaf.pem'), 'utf8')
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
  return {
    rootPem: path('root.pem'),
    key: createPrivateKey(readFileSync(path('leaf.key'))),
    signer: { method: 'x5c', alg: 'ES256', x5c: [der] },
    iss: `https://${name}.wallet-provider.test`,
  };
}

/** Keys the wallet holds, by the `x` of their public JWK. */
const walletKeys = new Map();
function walletKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  walletKeys.set(publicJwk.x, privateKey);
  return { method: 'jwk', alg: 'ES256', publicJwk };
}

/** Providers' attester keys, by the leaf they sign with. */
const providerKeys = new Map();

/**
 * ES256 on Node's crypto, for the wallet's keys (`jwk` signers) and the
 * providers' leaves (`x5c` signers). `claimedSigner` lets one test report
 * another key than the signing one to the library (see the last test).
 */
let claimedSigner = null;
function signJwt(signer, { header, payload }) {
  const key =
    signer.method === 'x5c' ? providerKeys.get(signer.x5c[0]) : walletKeys.get(signer.publicJwk?.x);
  if (!key || signer.alg !== 'ES256') throw new Error(`test signer: unknown ${signer.method} key`);
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = nodeSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return { jwt: `${input}.${b64url(signature)}`, signerJwk: claimedSigner ?? signer.publicJwk };
}

const baseCallbacks = {
  hash: (data, alg) => {
    const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
    if (!name) throw new Error(`unsupported hash ${alg}`);
    return createHash(name).update(data).digest();
  },
  generateRandom: (length) => randomBytes(length),
  signJwt: async (signer, jwt) => signJwt(signer, jwt),
};

/** A wallet instance attested by `provider`: its client, DPoP key and attestation. */
async function walletInstance(provider) {
  const instanceKey = walletKey();
  const clientAttestationJwt = await createClientAttestationJwt({
    issuer: provider.iss,
    clientId: CLIENT_ID,
    expiresAt: new Date(Date.now() + 3600_000),
    issuedAt: new Date(),
    confirmation: { jwk: instanceKey.publicJwk },
    signer: provider.signer,
    callbacks: baseCallbacks,
  });
  const callbacks = {
    ...baseCallbacks,
    clientAuthentication: clientAuthenticationClientAttestationJwt({
      clientAttestationJwt,
      callbacks: baseCallbacks,
    }),
  };
  return { client: new Openid4vciClient({ callbacks }), dpopSigner: walletKey(), clientAttestationJwt };
}

describe('@openid4vc/oauth2 holder with DPoP and attestations ← intyg-issuer --profile haip', () => {
  let issuer;
  let pki;
  let trusted;
  let untrusted;

  before(async () => {
    pki = scratch();
    trusted = walletProvider(pki.dir, 'trusted');
    untrusted = walletProvider(pki.dir, 'untrusted');
    for (const provider of [trusted, untrusted]) providerKeys.set(provider.signer.x5c[0], provider.key);
    issuer = await startService('intyg-issuer', [
      '--profile', 'haip', '--wallet-provider-root', trusted.rootPem, '--dpop-nonce',
    ]);
  });
  after(async () => {
    await issuer?.stop();
    pki?.cleanup();
  });

  async function createOffer() {
    const res = await fetch(`${issuer.base}/api/offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issuer.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credential_configuration_id: CONFIG_ID, claims: EXAMPLE, subject: SUBJECT }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return res.json();
  }

  /** Offer → metadata → token; `dpop` false leaves DPoP out. */
  async function token(wallet, { dpop = true } = {}) {
    const offer = await createOffer();
    const credentialOffer = await wallet.client.resolveCredentialOffer(offer.offer_uri);
    const issuerMetadata = await wallet.client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const result = await wallet.client.retrievePreAuthorizedCodeAccessTokenFromOffer({
      credentialOffer,
      issuerMetadata,
      txCode: offer.tx_code,
      // The attestation's `sub` is the client_id sent with the grant.
      additionalRequestPayload: { client_id: CLIENT_ID },
      ...(dpop ? { dpop: { signer: wallet.dpopSigner } } : {}),
    });
    return { ...result, issuerMetadata };
  }

  /** A key attestation from `provider` for `attested` keys, and a jwt proof by `holder`. */
  async function proofWithKeyAttestation(wallet, issuerMetadata, holder, attested) {
    const { c_nonce } = await wallet.client.requestNonce({ issuerMetadata });
    const keyAttestationJwt = await createKeyAttestationJwt({
      use: 'proof_type.jwt',
      attestedKeys: attested.map((signer) => signer.publicJwk),
      keyStorage: ['iso_18045_high'],
      userAuthentication: ['iso_18045_high'],
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
      nonce: c_nonce,
      signer: trusted.signer,
      callbacks: baseCallbacks,
    });
    const { jwt } = await wallet.client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: CONFIG_ID,
      signer: holder,
      nonce: c_nonce,
      keyAttestationJwt,
    });
    return jwt;
  }

  test('DPoP, wallet attestation and key attestation: the holder receives a registration certificate', async () => {
    const wallet = await walletInstance(trusted);
    const { accessTokenResponse, dpop, issuerMetadata } = await token(wallet);
    const as = issuerMetadata.authorizationServers[0];
    assert.deepEqual(as.dpop_signing_alg_values_supported, ['ES256']);
    assert.deepEqual(as.token_endpoint_auth_methods_supported, ['attest_jwt_client_auth']);
    assert.ok(
      issuerMetadata.credentialIssuer.credential_configurations_supported[CONFIG_ID]
        .proof_types_supported.jwt.key_attestations_required,
      'the configuration asks for key attestations',
    );
    assert.equal(accessTokenResponse.token_type, 'DPoP');
    assert.equal(typeof dpop.nonce, 'string', 'the issuer demanded a DPoP nonce and the library retried');

    const holder = walletKey();
    const jwt = await proofWithKeyAttestation(wallet, issuerMetadata, holder, [holder]);
    const { credentialResponse } = await wallet.client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: CONFIG_ID,
      proofs: { jwt: [jwt] },
      dpop: { signer: wallet.dpopSigner, nonce: dpop.nonce },
    });
    assert.equal(credentialResponse.credentials.length, 1);
    const { payload } = decodeJwt(split(credentialResponse.credentials[0].credential).jwt);
    assert.equal(payload.iss, issuer.base);
    assert.equal(payload.cnf.jwk.x, holder.publicJwk.x, 'bound to the attested proof key');
  });

  test('without DPoP the token request is refused with invalid_dpop_proof', async () => {
    const wallet = await walletInstance(trusted);
    await assert.rejects(token(wallet, { dpop: false }), (error) => {
      assert.ok(error instanceof Oauth2ClientErrorResponseError, String(error));
      assert.equal(error.errorResponse.error, 'invalid_dpop_proof');
      return true;
    });
  });

  test('a wallet provider the issuer does not trust is refused with invalid_client', async () => {
    const wallet = await walletInstance(untrusted);
    await assert.rejects(token(wallet), (error) => {
      assert.ok(error instanceof Oauth2ClientErrorResponseError, String(error));
      assert.equal(error.errorResponse.error, 'invalid_client');
      assert.match(error.errorResponse.error_description, /untrusted wallet provider/);
      return true;
    });
  });

  test('a key attestation that does not cover the proof key is refused with invalid_proof', async () => {
    const wallet = await walletInstance(trusted);
    const { accessTokenResponse, dpop, issuerMetadata } = await token(wallet);
    const holder = walletKey();
    const other = walletKey();
    // The library itself refuses to sign a proof with a key outside
    // `attested_keys`; this holder lies to it (reports the attested key as
    // the signer) to put such a proof on the wire.
    claimedSigner = other.publicJwk;
    let jwt;
    try {
      jwt = await proofWithKeyAttestation(wallet, issuerMetadata, holder, [other]);
    } finally {
      claimedSigner = null;
    }
    await assert.rejects(
      wallet.client.retrieveCredentials({
        issuerMetadata,
        accessToken: accessTokenResponse.access_token,
        credentialConfigurationId: CONFIG_ID,
        proofs: { jwt: [jwt] },
        dpop: { signer: wallet.dpopSigner, nonce: dpop.nonce },
      }),
      (error) => {
        assert.ok(error instanceof Openid4vciRetrieveCredentialsError, String(error));
        assert.equal(error.response.response.status, 400);
        const parsed = error.response.credentialErrorResponseResult;
        assert.ok(parsed?.success, `a credential error response: ${error.message}`);
        assert.equal(parsed.data.error, 'invalid_proof');
        assert.match(parsed.data.error_description, /attested_keys does not contain the proof key/);
        return true;
      },
    );
  });
});
