// intyg issues and presents; @sd-jwt/sd-jwt-vc decodes and verifies.
//
// @sd-jwt is a lenient verifier (it ignores KB-JWT `aud`/`iat`, `typ`,
// unreferenced disclosures), so acceptance here proves that an independent
// implementation reads our wire format, not that the credential is correct:
// the strict checks are ours (core/tests/it/). Where @sd-jwt does not check
// something we care about (header typ, KB `aud`), the test checks it itself.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

import {
  cnfKbVerifier,
  es256Verifier,
  hashing,
  intyg,
  publicJwk,
  scratch,
  typeDir,
} from './helpers.mjs';

const AUD = 'https://employer.example/internship';
const NONCE = 'interop-nonce-4f1c9a';

/** The verifier's clock, read at verification time (after issuance). */
const clock = () => Math.floor(Date.now() / 1000);

/** Per type: the issuer, what the holder discloses, and the claim keys @sd-jwt must then see. */
const CASES = {
  'registration-certificate': {
    iss: 'https://arbetsformedlingen.se',
    disclose: ['/registration_status', '/registered_since', '/given_name'],
    expected: (ex) => ({
      registration_status: ex.registration_status,
      registered_since: ex.registered_since,
      given_name: ex.given_name,
    }),
  },
  'internship-eligibility': {
    iss: 'https://arbetsformedlingen.se',
    disclose: ['/eligible_from', '/eligible_until', '/max_hours_per_week'],
    expected: (ex) => ({
      eligible_from: ex.eligible_from,
      eligible_until: ex.eligible_until,
      max_hours_per_week: ex.max_hours_per_week,
    }),
  },
  // One element of an array of disclosable elements: exercises `{"...": digest}`.
  'education-diploma': {
    iss: 'https://yrkeshogskolan-syd.example',
    disclose: ['/qualification_title', '/esco_skills/1'],
    expected: (ex) => ({
      qualification_title: ex.qualification_title,
      esco_skills: [ex.esco_skills[1]],
    }),
  },
};

describe('intyg credential → @sd-jwt/sd-jwt-vc verifier', () => {
  let tmp;
  let issuerJwk;
  let holderJwk;
  let now;

  before(() => {
    tmp = scratch();
    issuerJwk = JSON.parse(intyg(['key', 'generate']));
    holderJwk = JSON.parse(intyg(['key', 'generate']));
    tmp.file('issuer.jwk', issuerJwk);
    tmp.file('holder.jwk', holderJwk);
    now = Math.floor(Date.now() / 1000);
  });
  after(() => tmp.cleanup());

  /** Issues `type`'s example with intyg; returns the compact SD-JWT VC. */
  function issue(type, iss) {
    const dir = typeDir(type);
    return intyg([
      'sd-jwt', 'issue',
      '--key', `${tmp.dir}/issuer.jwk`,
      '--claims', `${dir}/example.json`,
      '--type', dir,
      '--iss', iss,
      '--holder-key', `${tmp.dir}/holder.jwk`,
      '--expires-in', '3600',
    ]);
  }

  /** Presents `pointers` of `issued` with a KB-JWT signed by intyg. */
  function present(issued, pointers) {
    return intyg(
      [
        'sd-jwt', 'present',
        '--disclose', pointers.join(','),
        '--holder-key', `${tmp.dir}/holder.jwk`,
        '--aud', AUD,
        '--nonce', NONCE,
        '--iat', String(now),
      ],
      { input: issued },
    );
  }

  function theirVerifier() {
    return new SDJwtVcInstance({
      ...hashing,
      verifier: es256Verifier(publicJwk(issuerJwk)),
      kbVerifier: cnfKbVerifier,
    });
  }

  for (const [type, { iss, disclose, expected }] of Object.entries(CASES)) {
    const example = JSON.parse(readFileSync(`${typeDir(type)}/example.json`, 'utf8'));
    const metadata = JSON.parse(readFileSync(`${typeDir(type)}/type-metadata.json`, 'utf8'));

    test(`${type}: @sd-jwt decodes every disclosure of the issued credential`, async () => {
      const issued = issue(type, iss);
      const claims = await theirVerifier().getClaims(issued);
      for (const [name, value] of Object.entries(example)) {
        assert.deepEqual(claims[name], value, `claim ${name}`);
      }
      assert.equal(claims.vct, metadata.vct);
      assert.equal(claims.iss, iss);
      assert.equal(claims._sd, undefined, 'no _sd left in processed claims');
      assert.equal(claims._sd_alg, undefined, 'no _sd_alg left in processed claims');
    });

    test(`${type}: @sd-jwt verifies our presentation with KB-JWT`, async () => {
      const presentation = present(issue(type, iss), disclose);
      const disclosed = expected(example);
      const required = ['vct', 'iss', 'iat', 'exp', 'cnf', ...Object.keys(disclosed)];

      const result = await theirVerifier().verify(presentation, {
        currentDate: clock(),
        keyBindingNonce: NONCE,
        requiredClaimKeys: required,
      });

      // Issuer-signed JWT: header and registered claims.
      assert.equal(result.header.typ, 'dc+sd-jwt');
      assert.equal(result.header.alg, 'ES256');
      assert.equal(result.payload.vct, metadata.vct);
      assert.equal(result.payload.iss, iss);
      assert.ok(result.payload.exp > now, 'exp is in the future');
      assert.deepEqual(
        { x: result.payload.cnf.jwk.x, y: result.payload.cnf.jwk.y },
        { x: holderJwk.x, y: holderJwk.y },
        'cnf.jwk is the holder key',
      );
      assert.equal(result.payload.cnf.jwk.d, undefined, 'cnf.jwk carries no private key');

      // Exactly the disclosed subject claims, nothing else.
      for (const [name, value] of Object.entries(disclosed)) {
        assert.deepEqual(result.payload[name], value, `claim ${name}`);
      }
      for (const name of Object.keys(example)) {
        if (!(name in disclosed)) {
          assert.equal(result.payload[name], undefined, `undisclosed ${name} is absent`);
        }
      }

      // The KB-JWT: @sd-jwt checked its signature (cnf key), nonce and
      // sd_hash; it ignores aud and iat, so check those here.
      assert.ok(result.kb, 'the KB-JWT was verified');
      assert.equal(result.kb.header.typ, 'kb+jwt');
      assert.equal(result.kb.payload.aud, AUD);
      assert.equal(result.kb.payload.nonce, NONCE);
      assert.equal(result.kb.payload.iat, now);
    });
  }

  // Guards against a vacuous pass: @sd-jwt checks a KB-JWT only when given a
  // nonce, and requiredClaimKeys only sees disclosed claims.
  test('@sd-jwt rejects our presentation for another nonce or a claim we withheld', async () => {
    const { iss, disclose } = CASES['registration-certificate'];
    const presentation = present(issue('registration-certificate', iss), disclose);
    await assert.rejects(
      theirVerifier().verify(presentation, { currentDate: clock(), keyBindingNonce: 'other-nonce' }),
      /Invalid Nonce/,
    );
    await assert.rejects(
      theirVerifier().verify(presentation, {
        currentDate: clock(),
        requiredClaimKeys: ['personal_identity_number'],
      }),
      /Missing required claim keys: personal_identity_number/,
    );
  });

  test('@sd-jwt rejects our credential under another issuer key', async () => {
    const { iss } = CASES['registration-certificate'];
    const issued = issue('registration-certificate', iss);
    const other = JSON.parse(intyg(['key', 'generate']));
    const verifier = new SDJwtVcInstance({ ...hashing, verifier: es256Verifier(other) });
    await assert.rejects(verifier.verify(issued, { currentDate: clock() }), /Invalid JWT Signature/);
  });
});
