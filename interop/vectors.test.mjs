// test-vectors/intyg/: @sd-jwt/sd-jwt-vc verifies each stored presentation
// and must reach the processed payload in expected.json, which intyg wrote.
// An independent check of our vectors (core/tests/it/vc.rs checks them with
// intyg-core).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

import { ROOT, cnfKbVerifier, decodeJwt, es256Verifier, hashing, split, typeDir } from './helpers.mjs';

const TYPES = ['registration-certificate', 'internship-eligibility', 'education-diploma'];

describe('test-vectors/intyg → @sd-jwt/sd-jwt-vc verifier', () => {
  for (const type of TYPES) {
    const dir = join(ROOT, 'test-vectors', 'intyg', type);
    const read = (name) => readFileSync(join(dir, name), 'utf8');

    test(`${type}: presentation.txt verifies to expected.json`, async () => {
      const expected = JSON.parse(read('expected.json'));
      const issuer = JSON.parse(read('issuer.jwk'));
      const presentation = read('presentation.txt').trim();
      const verifier = new SDJwtVcInstance({
        ...hashing,
        verifier: es256Verifier(issuer),
        kbVerifier: cnfKbVerifier,
      });

      const result = await verifier.verify(presentation, {
        currentDate: expected.now,
        keyBindingNonce: expected.nonce,
      });

      assert.deepEqual(result.payload, expected.claims);
      assert.equal(result.header.typ, 'dc+sd-jwt');
      assert.equal(result.kb.payload.aud, expected.aud);
      assert.ok(expected.now - result.kb.payload.iat <= expected.kb_max_age, 'KB-JWT is fresh');
    });

    test(`${type}: issued.txt decodes to every claim of example.json`, async () => {
      const example = JSON.parse(readFileSync(join(typeDir(type), 'example.json'), 'utf8'));
      const issued = read('issued.txt').trim();
      assert.equal(split(issued).kb, '', 'an issued SD-JWT ends with ~');
      assert.equal(decodeJwt(split(issued).jwt).payload.given_name, undefined, 'claims are concealed');
      const claims = await new SDJwtVcInstance(hashing).getClaims(issued);
      for (const [name, value] of Object.entries(example)) {
        assert.deepEqual(claims[name], value, `claim ${name}`);
      }
    });
  }
});
