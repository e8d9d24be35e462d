// Shared plumbing for the interop tests: the `intyg` binary, a scratch
// folder, and ES256 / SHA-256 built on Node's own crypto (not on intyg's).

import { execFileSync, spawn } from 'node:child_process';
import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

/**
 * A service binary (`intyg-issuer`, `intyg-verifier`): from `INTYG_BIN_DIR`
 * (as `cargo xtask test` sets it), else next to `INTYG_BIN`.
 */
export function serviceBin(name) {
  const dir = process.env.INTYG_BIN_DIR ?? dirname(INTYG_BIN);
  const bin = join(dir, name);
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `${bin} is not an executable file (INTYG_BIN_DIR=${process.env.INTYG_BIN_DIR}). Build the ` +
        'binaries (cargo build --workspace --bins) and set INTYG_BIN_DIR=<target>/debug',
    );
  }
  return bin;
}

/** A port the OS says is free now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `<name> --dev --data-dir <fresh temp> --listen 127.0.0.1:<free
 * port> ...extraArgs` with a random `INTYG_API_KEY`; resolves once
 * `/healthz` answers. `stop()` sends SIGTERM (SIGKILL after 3 s) and removes
 * the data dir; the process is also killed if the test process exits first.
 */
export async function startService(name, extraArgs = []) {
  // The free port is probed, then given to the service: another process
  // may take it in between. Try again on a fresh port in that case.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startServiceOnce(name, extraArgs);
    } catch (error) {
      if (attempt >= 3 || !String(error.message).includes('Address already in use')) throw error;
    }
  }
}

async function startServiceOnce(name, extraArgs) {
  const bin = serviceBin(name);
  const data = scratch();
  const port = await freePort();
  const apiKey = randomBytes(24).toString('base64url');
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    ['--dev', '--data-dir', data.dir, '--listen', `127.0.0.1:${port}`, ...extraArgs],
    { env: { ...process.env, INTYG_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let exited = null;
  const exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  // Last resort if the test process dies before `stop()`.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    }
    data.cleanup();
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`${name} exited (${JSON.stringify(exited)}) before /healthz:\n${output}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer /healthz within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, apiKey, dir: data.dir, stop, output: () => output };
}
