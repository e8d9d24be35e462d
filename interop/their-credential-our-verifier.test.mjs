// @sd-jwt/sd-jwt-vc issues and presents; `intyg sd-jwt verify` verifies.
// Then the roles mix: intyg acts as the holder of @sd-jwt's credential.
//
// Keys are made by WebCrypto (through @sd-jwt/crypto-nodejs), so the JWKs
// carry `key_ops` and `ext` as browsers' and Node's exports do.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { ES256 } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

import {
  cnfKbVerifier,
  decodeDisclosure,
  es256Verifier,
  hashing,
  intyg,
  intygFails,
  scratch,
  split,
} from './helpers.mjs';

const AUD = 'https://employer.example/internship';
const NONCE = 'their-nonce-93b2e0';
const VCT = 'https://credentials.example.com/identity_credential';

/**
 * A type folder for `intyg sd-jwt verify --type` (our SD-JWT VC checks:
 * `typ`, `vct`, and that `sd: always` claims were concealed). The issuer's
 * frame conceals these; `address.country` and one nationality stay clear.
 */
const TYPE_METADATA = {
  vct: VCT,
  name: 'Identity credential (interop test)',
  claims: [
    { path: ['given_name'], sd: 'always' },
    { path: ['family_name'], sd: 'always' },
    { path: ['address'], sd: 'always' },
    { path: ['address', 'street_address'], sd: 'always' },
    { path: ['address', 'locality'], sd: 'always' },
    { path: ['address', 'country'], sd: 'allowed' },
    { path: ['nationalities'], sd: 'always' },
    { path: ['nationalities', null], sd: 'allowed' },
  ],
};
const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    vct: { const: VCT },
    iss: { type: 'string' },
    iat: { type: 'integer' },
    exp: { type: 'integer' },
    cnf: { type: 'object' },
    given_name: { type: 'string' },
    family_name: { type: 'string' },
    address: {
      type: 'object',
      properties: {
        street_address: { type: 'string' },
        locality: { type: 'string' },
        country: { type: 'string' },
      },
    },
    nationalities: { type: 'array', items: { type: 'string' } },
  },
};

describe('@sd-jwt/sd-jwt-vc credential → intyg verifier', () => {
  let tmp;
  let sdjwt;
  let issued;
  let presentation;
  let payload;
  let now;

  before(async () => {
    tmp = scratch();
    now = Math.floor(Date.now() / 1000);
    const issuer = await ES256.generateKeyPair();
    const holder = await ES256.generateKeyPair();
    tmp.file('issuer.pub.jwk', issuer.publicKey);
    tmp.file('holder.jwk', holder.privateKey);
    mkdirSync(`${tmp.dir}/type`);
    tmp.file('type/type-metadata.json', TYPE_METADATA);
    tmp.file('type/schema.json', SCHEMA);

    sdjwt = new SDJwtVcInstance({
      ...hashing,
      signer: await ES256.getSigner(issuer.privateKey),
      signAlg: 'ES256',
      verifier: es256Verifier(issuer.publicKey),
      kbSigner: await ES256.getSigner(holder.privateKey),
      kbSignAlg: 'ES256',
      kbVerifier: cnfKbVerifier,
    });

    payload = {
      iss: 'https://issuer.example.com',
      iat: now - 60,
      exp: now + 3600,
      vct: VCT,
      cnf: { jwk: holder.publicKey },
      given_name: 'Erika',
      family_name: 'Mustermann',
      address: { street_address: 'Heidestraße 17', locality: 'Köln', country: 'DE' },
      nationalities: ['DE', 'SE', 'FI'],
    };
    // Top-level, nested (inside a disclosed object) and array-element
    // disclosures, with decoys at two levels.
    const disclosureFrame = {
      _sd: ['given_name', 'family_name', 'address', 'nationalities'],
      _sd_decoy: 2,
      address: { _sd: ['street_address', 'locality'], _sd_decoy: 1 },
      nationalities: { _sd: [0, 2] },
    };
    issued = await sdjwt.issue(payload, disclosureFrame, { header: { typ: 'dc+sd-jwt' } });
    presentation = await sdjwt.present(
      issued,
      { given_name: true, address: { locality: true }, nationalities: { 0: true } },
      { kb: { payload: { aud: AUD, nonce: NONCE, iat: now } } },
    );
  });
  after(() => tmp.cleanup());

  /** What a verifier must output for `presentation`. */
  const expectedClaims = () => ({
    iss: payload.iss,
    iat: payload.iat,
    exp: payload.exp,
    vct: VCT,
    cnf: payload.cnf,
    given_name: 'Erika',
    // `country` was never concealed; `street_address` stays hidden.
    address: { locality: 'Köln', country: 'DE' },
    // Element 1 was in the clear, 0 disclosed, 2 withheld (and so removed).
    nationalities: ['DE', 'SE'],
  });

  const verify = (args, input) =>
    intyg(['sd-jwt', 'verify', '--issuer-key', `${tmp.dir}/issuer.pub.jwk`, ...args], { input });
  const verifyFails = (args, input) =>
    intygFails(['sd-jwt', 'verify', '--issuer-key', `${tmp.dir}/issuer.pub.jwk`, ...args], {
      input,
    });

  test('@sd-jwt accepts its own presentation (sanity)', async () => {
    const result = await sdjwt.verify(presentation, { keyBindingNonce: NONCE });
    assert.deepEqual(result.payload, expectedClaims());
  });

  test('intyg verifies the presentation with aud and nonce and prints the disclosed claims', () => {
    const claims = JSON.parse(verify(['--aud', AUD, '--nonce', NONCE], presentation));
    assert.deepEqual(claims, expectedClaims());
  });

  test('intyg verifies it as an SD-JWT VC of a type (--type: typ, vct, sd policy)', () => {
    const args = ['--aud', AUD, '--nonce', NONCE, '--type', `${tmp.dir}/type`];
    assert.deepEqual(JSON.parse(verify(args, presentation)), expectedClaims());
  });

  test('intyg decodes the issued credential to all its claims', () => {
    const decoded = JSON.parse(intyg(['sd-jwt', 'decode'], { input: issued }));
    assert.equal(decoded.header.typ, 'dc+sd-jwt');
    assert.deepEqual(decoded.claims, payload);
    assert.deepEqual(
      [...decoded.disclosable].sort(),
      [
        '/address',
        '/address/locality',
        '/address/street_address',
        '/family_name',
        '/given_name',
        '/nationalities',
        '/nationalities/0',
        '/nationalities/2',
      ],
    );
  });

  test('intyg rejects the presentation for another nonce: kb_nonce_mismatch', () => {
    const { code } = verifyFails(['--aud', AUD, '--nonce', 'another-nonce'], presentation);
    assert.equal(code, 'kb_nonce_mismatch');
  });

  test('intyg rejects the presentation for another audience: kb_aud_mismatch', () => {
    // @sd-jwt itself never looks at the KB-JWT aud.
    const { code } = verifyFails(['--aud', 'https://other.example', '--nonce', NONCE], presentation);
    assert.equal(code, 'kb_aud_mismatch');
  });

  test('intyg rejects a disclosure dropped after KB signing: kb_sd_hash_mismatch', async () => {
    const { jwt, disclosures, kb } = split(presentation);
    const kept = disclosures.filter((d) => decodeDisclosure(d)[1] !== 'given_name');
    assert.equal(kept.length, disclosures.length - 1, 'the given_name disclosure was there');
    const tampered = [jwt, ...kept, kb].join('~');

    const { code } = verifyFails(['--aud', AUD, '--nonce', NONCE], tampered);
    assert.equal(code, 'kb_sd_hash_mismatch');
    // Both sides agree here.
    await assert.rejects(
      sdjwt.verify(tampered, { keyBindingNonce: NONCE }),
      /Invalid sd_hash in Key Binding JWT/,
    );
  });

  test('intyg as holder of their credential: intyg presents, @sd-jwt and intyg verify', async () => {
    const ours = intyg(
      [
        'sd-jwt', 'present',
        '--disclose', '/given_name,/address/locality,/nationalities/0',
        '--holder-key', `${tmp.dir}/holder.jwk`,
        '--aud', AUD,
        '--nonce', NONCE,
        '--iat', String(now),
      ],
      { input: issued },
    );
    const theirs = await sdjwt.verify(ours, { keyBindingNonce: NONCE });
    assert.deepEqual(theirs.payload, expectedClaims());
    assert.equal(theirs.kb.payload.aud, AUD);
    assert.equal(theirs.kb.header.typ, 'kb+jwt');

    assert.deepEqual(JSON.parse(verify(['--aud', AUD, '--nonce', NONCE], ours)), expectedClaims());
  });
});
