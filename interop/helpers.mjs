// Shared plumbing for the interop tests: the `intyg` binary, a scratch
// folder, and ES256 / SHA-256 built on Node's own crypto (not on intyg's).

import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';

/** The repository root (interop/ sits in it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `specs/credentials/<type>`. */
export const typeDir = (type) => join(ROOT, 'specs', 'credentials', type);

/** The `intyg` binary under test, from `INTYG_BIN`. */
export const INTYG_BIN = (() => {
  const bin = process.env.INTYG_BIN;
  if (!bin) {
    throw new Error(
      'INTYG_BIN is not set. Build the CLI (cd /work/main && cargo build --workspace) and run ' +
        'INTYG_BIN=/path/to/target/debug/intyg node --test interop/',
    );
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`INTYG_BIN=${bin} is not an executable file`);
  }
  return bin;
})();

/** Runs `intyg args...`; returns stdout (trimmed). Throws on a non-zero exit. */
export function intyg(args, { input, cwd } = {}) {
  return execFileSync(INTYG_BIN, args, {
    cwd,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

/**
 * Runs `intyg args...` expecting failure; returns `{ status, code, message }`
 * parsed from stderr (`<code>: <message>`). Throws if it succeeded.
 */
export function intygFails(args, { input, cwd } = {}) {
  try {
    const out = intyg(args, { input, cwd });
    throw new Error(`intyg ${args.join(' ')} should have failed, printed:\n${out}`);
  } catch (error) {
    if (error.status === undefined) throw error;
    const stderr = String(error.stderr).trim();
    const match = /^([a-z0-9_]+): (.*)$/s.exec(stderr);
    if (!match) throw new Error(`stderr is not "<code>: <message>": ${stderr}`);
    return { status: error.status, code: match[1], message: match[2] };
  }
}

/** A fresh scratch folder; `cleanup()` removes it. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'intyg-interop-'));
  return {
    dir,
    file: (name, contents) => {
      const path = join(dir, name);
      writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A JWK without its private part. */
export function publicJwk({ d, ...rest }) {
  return rest;
}

/**
 * An ES256 JWS verifier over `jwk`, with Node's crypto: `(data, sig) =>
 * boolean`, the shape `@sd-jwt` expects.
 */
export function es256Verifier(jwk) {
  const key = createPublicKey({ key: publicJwk(jwk), format: 'jwk' });
  return (data, signature) =>
    nodeVerify(
      'sha256',
      Buffer.from(data),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
}

/** A KB-JWT verifier: checks with the holder key in the credential's `cnf.jwk`. */
export function cnfKbVerifier(data, signature, payload) {
  const jwk = payload?.cnf?.jwk;
  if (!jwk) throw new Error('the credential has no cnf.jwk');
  return es256Verifier(jwk)(data, signature);
}

/** `@sd-jwt` hasher and salt generator. */
export const hashing = { hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt };

/** The parts of a compact SD-JWT: `{ jwt, disclosures, kb }` (kb '' when absent). */
export function split(compact) {
  const parts = compact.split('~');
  return { jwt: parts[0], disclosures: parts.slice(1, -1), kb: parts.at(-1) };
}

/** A JWT's (or the issuer-signed JWT's) decoded header and payload. */
export function decodeJwt(jwt) {
  const [header, payload] = jwt.split('.').slice(0, 2);
  const json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: json(header), payload: json(payload) };
}

/** A decoded disclosure: `[salt, name, value]` or `[salt, value]`. */
export function decodeDisclosure(encoded) {
  return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
}
