// End-to-end: the real Tauri window under Xvfb, driven through
// tauri-driver (WebKitWebDriver), against real `intyg-issuer --dev` and
// `intyg-verifier --dev` processes on loopback.
//
//   INTYG_APP=<target>/debug/intyg-wallet-app INTYG_BIN_DIR=<target>/debug \
//   SCREENSHOTS=<target>/e2e-screenshots node wallet-app/ui/e2e/journey.mjs
//
// Journey: onboarding (PIN) → receive a registration certificate and an
// internship eligibility from offers made through the issuer's admin API
// (one-time code typed in the UI) → the cards show → detail with labels →
// trust the verifier's dev CA → share to an internship application made
// through the verifier's API, with one optional claim left out → the
// verifier reports exactly the chosen claims → history shows the share →
// the same screens in Swedish. A screenshot of each step goes to
// SCREENSHOTS.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ELEMENT, Session } from './webdriver.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const APP = need('INTYG_APP');
const BIN_DIR = need('INTYG_BIN_DIR');
const SHOTS = process.env.SCREENSHOTS ?? join(ROOT, 'target', 'e2e-screenshots');
const PIN = '2468';
const SUBJECT = '199403172381';

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see the header of ${fileURLToPath(import.meta.url)})`);
  return value;
}

const children = [];
const scratch = mkdtempSync(join(tmpdir(), 'intyg-e2e-'));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Spawns a process whose output is kept for error messages. */
function start(program, args, env = {}) {
  const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.on('exit', (code, signal) => (child.exited = { code, signal }));
  return child;
}

async function until(what, check, child, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child?.exited) throw new Error(`${what}: the process exited ${JSON.stringify(child.exited)}:\n${child.output}`);
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready in ${timeout} ms:\n${child?.output ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function service(name, extra = [], env = () => ({})) {
  const port = await freePort();
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const apiKey = randomBytes(24).toString('base64url');
  const base = `http://127.0.0.1:${port}`;
  const child = start(join(BIN_DIR, name), ['--dev', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, ...extra], {
    INTYG_API_KEY: apiKey,
    ...env(port),
  });
  await until(name, async () => (await fetch(`${base}/healthz`)).ok, child);
  const api = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { base, dir, api, child };
}

/** A free X display number. */
function freeDisplay() {
  for (let n = 99; n < 199; n++) if (!existsSync(`/tmp/.X${n}-lock`)) return n;
  throw new Error('no free X display');
}

const step = (text) => console.log(`# ${text}`);
let shot = 0;
async function screenshot(session, name) {
  const file = join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`);
  writeFileSync(file, await session.screenshot());
  console.log(`  screenshot ${file}`);
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const display = `:${freeDisplay()}`;
  step(`Xvfb ${display}, tauri-driver, issuer, verifier`);
  const xvfb = start('Xvfb', [display, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp']);
  await until('Xvfb', () => existsSync(`/tmp/.X11-unix/X${display.slice(1)}`), xvfb);

  const issuer = await service('intyg-issuer');
  // The wallet checks the response URI's host against the DNS names of
  // the verifier's certificate; the dev leaf names `localhost`.
  const verifier = await service('intyg-verifier', ['--trust-issuer', issuer.base], (port) => ({
    INTYG_VERIFIER_PUBLIC_URL: `http://localhost:${port}`,
  }));

  const port = await freePort();
  const nativePort = await freePort();
  const driver = start('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    DISPLAY: display,
    // What the app reads (src-tauri/src/lib.rs): a fresh wallet, dev mode
    // for http on loopback.
    INTYG_WALLET_DIR: join(scratch, 'wallet'),
    INTYG_WALLET_DEV: '1',
    LANG: 'en_GB.UTF-8',
  });
  const webdriver = `http://127.0.0.1:${port}`;
  await until('tauri-driver', async () => (await fetch(`${webdriver}/status`)).ok, driver);

  const session = await Session.create(webdriver, {
    browserName: 'wry',
    'tauri:options': { application: APP },
  });
  try {
    await journey(session, issuer, verifier);
  } catch (error) {
    await screenshot(session, 'failure').catch(() => {});
    throw error;
  } finally {
    await session.delete();
  }
  console.log('ok: the whole journey passed');
}

async function journey(session, issuer, verifier) {
  step('onboarding: create a PIN');
  await session.waitFor('#pin');
  await session.type('#pin', PIN);
  await session.type('#pin2', PIN);
  await screenshot(session, 'onboarding');
  await session.click('#create');
  await session.waitFor('#empty', { timeout: 60_000, describe: 'the empty credential list' });

  for (const type of ['registration-certificate', 'internship-eligibility']) {
    step(`receive ${type}: offer from the admin API, one-time code typed in the UI`);
    const claims = JSON.parse(readFileSync(join(ROOT, 'specs', 'credentials', type, 'example.json'), 'utf8'));
    const offer = await issuer.api('POST', '/api/offers', { credential_configuration_id: type, claims, subject: SUBJECT });
    await session.click('[data-nav=receive]');
    await session.type('#offer-link', offer.offer_uri);
    await session.click('#offer-continue');
    await session.type('#tx-code', offer.tx_code);
    if (type === 'registration-certificate') await screenshot(session, 'receive-offer');
    await session.click('#offer-accept');
    await session.waitFor('#receive-result', { timeout: 60_000, describe: 'the receive result' });
    if (type === 'registration-certificate') await screenshot(session, 'receive-result');
  }

  step('the cards show');
  await session.click('[data-nav=list]');
  await session.waitFor('#cards');
  const cards = await session.findAll('.card');
  assert(cards.length === 2, `two cards, found ${cards.length}`);
  const list = await session.text('#cards');
  assert(/Karin Elisabet|Lindqvist/.test(list), `the card shows a key claim: ${list}`);
  await screenshot(session, 'credentials');

  step('detail with claim labels');
  await session.click('.card');
  await session.waitFor('#claims');
  const claims = await session.text('#claims');
  assert(claims.includes('Lindqvist'), `the detail shows the claims: ${claims}`);
  await screenshot(session, 'detail');

  step("trust the verifier's dev CA (Settings)");
  await session.click('[data-nav=settings]');
  await session.paste('#roots-pem', readFileSync(join(verifier.dir, 'ca.pem'), 'utf8'));
  await session.click('#roots button[type=submit]');
  await session.waitFor('#roots ~ .slot .ok', { describe: 'the root added' });

  step('share: request from the verifier API → consent');
  const request = await verifier.api('POST', '/api/presentations', { template: 'internship-application' });
  await session.click('[data-nav=share]');
  await session.type('#request-link', request.request_uri);
  await session.click('#request-continue');
  await session.waitFor('#consent', { timeout: 30_000, describe: 'the consent screen' });
  const purpose = await session.text('#purpose');
  assert(purpose.includes('Internship application'), `the purpose shows: ${purpose}`);
  const attribute = async (element, name) =>
    session.execute('return arguments[0].getAttribute(arguments[1])', [{ [ELEMENT]: element }, name]);
  const required = [];
  for (const li of await session.findAll('li[data-claim]')) required.push(await attribute(li, 'data-claim'));
  const optional = [];
  for (const box of await session.findAll('input[data-include]')) optional.push(await attribute(box, 'data-include'));
  assert(required.length > 0, 'the consent screen lists the required claims');
  // Tick every optional claim but the last one (none start ticked).
  const chosen = optional.slice(0, -1);
  const leftOut = optional.slice(-1);
  for (const key of chosen) await session.click(`input[data-include="${key}"]`);
  await screenshot(session, 'consent');
  await session.click('#approve');
  await session.waitFor('#share-result[data-result=shared]', { timeout: 30_000, describe: 'the share result' });
  await screenshot(session, 'shared');

  step('the verifier reports verified, with exactly the chosen claims');
  const outcome = await verifier.api('GET', `/api/presentations/${request.id}`);
  assert(outcome.status === 'verified', `verifier status ${outcome.status} ${outcome.reason ?? ''}`);
  const disclosed = outcome.credentials.flatMap((c) => Object.keys(c.claims).map((name) => `${c.query_id}.${name}`));
  const expected = [...required, ...chosen];
  console.log(`  required ${required.join(', ')}; chosen [${chosen.join(', ')}]; left out [${leftOut.join(', ')}]`);
  console.log(`  the verifier got ${disclosed.join(', ')}`);
  assert(
    disclosed.length === expected.length && expected.every((key) => disclosed.includes(key)),
    `the verifier got exactly ${expected.join(', ')}`,
  );

  step('history shows the share');
  await session.click('[data-nav=history]');
  await session.waitFor('#history li[data-kind=presentation]');
  await screenshot(session, 'history');

  step('the same screens in Swedish');
  await session.click('[data-nav=settings]');
  await session.execute(
    "const s = document.getElementById('language'); s.value = 'sv'; s.dispatchEvent(new Event('change'));",
  );
  await session.waitFor('html[lang=sv]');
  await screenshot(session, 'settings-sv');
  await session.click('[data-nav=list]');
  await session.waitFor('#cards');
  await screenshot(session, 'credentials-sv');
  await session.click('.card');
  await session.waitFor('#claims');
  await screenshot(session, 'detail-sv');
  await session.click('[data-nav=history]');
  await session.waitFor('#history');
  await screenshot(session, 'history-sv');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
