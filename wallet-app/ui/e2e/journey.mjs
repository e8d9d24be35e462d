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
// verifier reports exactly the chosen claims → history shows the share
// with the verifier's signed receipt ("received by … on …, kept until …")
// → erasure asked from the entry, confirmed, answered "erased"; the
// verifier's HR API shows erased_at and no claims →
// an education diploma through the authorization code flow: an offer with
// only an authorization code grant, "Log in at <issuer>", the login URL
// read from the window and played by this script as the browser would
// (through the issuer to the development IdP's page, a test person picked
// or Cancel pressed, back through the issuer to the app's loopback
// callback); first cancelled (the app says so), then completed (the app
// shows the received credential) → the issuer revokes it through the
// admin API → "Check status" shows the revoked badge and the detail says
// revoked → wallet-initiated issuance: the issuer's address pasted, a
// credential chosen, the same login → the same screens in Swedish, and
// the credential list at phone width (390 px: a tab bar at the bottom on
// one row, no sideways scroll). A screenshot of each step goes to
// SCREENSHOTS, and axe-core checks every screen shot for WCAG 2.1 A/AA
// violations (none allowed). The cards are drawn in their types' colours.

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
  const file = join(SHOTS, `${name}.png`);
  writeFileSync(file, await session.screenshot());
  console.log(`  screenshot ${file}`);
  if (name !== 'failure') await axeCheck(session, name);
}

const AXE = readFileSync(join(ROOT, 'wallet-app', 'ui', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** axe-core on the window as it is: zero WCAG 2.1 A and AA violations. */
async function axeCheck(session, name) {
  // The page is one document for the whole run; axe goes in once.
  if (!(await session.execute('return typeof window.axe === "object"'))) await session.execute(`${AXE}\nreturn true;`);
  const result = await session.executeAsync(`
    const done = arguments[arguments.length - 1];
    window.axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => done({ violations: r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })) }))
      .catch((e) => done({ error: String(e) }));
  `);
  assert(!result.error, `axe on ${name}: ${result.error}`);
  assert(result.violations.length === 0, `axe on ${name}: ${JSON.stringify(result.violations)}`);
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/**
 * The browser's part of a login, over HTTP: from the authorization URL,
 * follows the redirects (the issuer sends it on to its development IdP),
 * answers the IdP's page by picking `person` (or pressing Cancel when it is
 * null), and follows the redirects back until a page that is not the
 * IdP's: the app's loopback callback. Returns that URL and page.
 */
async function browserLogin(authorizationUrl, person) {
  let url = authorizationUrl;
  let answered = false;
  for (let hops = 0; hops < 12; hops++) {
    const res = await fetch(url, { redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href;
      continue;
    }
    const html = await res.text();
    assert(res.ok, `GET ${url}: ${res.status} ${html}`);
    const form = /name="request" value="([^"]+)"/.exec(html);
    if (!form) {
      assert(answered, `the login page was skipped: ${url}`);
      return { url, html };
    }
    const choice = person ? { person } : { cancel: '1' };
    const chosen = await fetch(new URL('/authorize/login', url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: form[1], ...choice }),
    });
    assert(chosen.status >= 300 && chosen.status < 400, `the IdP answered the login with ${chosen.status}`);
    url = new URL(chosen.headers.get('location'), url).href;
    answered = true;
  }
  throw new Error(`too many redirects; last ${url}`);
}

/** Picks the UI language in Settings. */
async function setLanguage(session, lang) {
  await session.click('[data-nav=settings]');
  await session.execute(
    "const s = document.getElementById('language'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
    [lang],
  );
  await session.waitFor(`html[lang=${lang}]`);
}

/** The login URL the app shows while it waits (read from the window). */
async function loginUrl(session, issuer) {
  const field = await session.waitFor('#login-waiting #authorization-url', { timeout: 30_000, describe: 'the login URL' });
  const url = await session.execute('return arguments[0].value', [{ [ELEMENT]: field }]);
  assert(url.startsWith(`${issuer.base}/authorize?`), `the login URL is the issuer's: ${url}`);
  return url;
}

/** The browser's login at `url`, which must come back to the app's loopback listener. */
async function logIn(url, person) {
  const callback = await browserLogin(url, person);
  assert(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/.test(callback.url), `the login came back to the app's loopback listener: ${callback.url}`);
  return callback;
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
    // for http on loopback, and no system browser for logins: this script
    // is the browser (a real one would use up the single-use request_uri).
    INTYG_WALLET_DIR: join(scratch, 'wallet'),
    INTYG_WALLET_DEV: '1',
    INTYG_WALLET_NO_BROWSER: '1',
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
  assert(list.includes('Karin Elisabet Lindqvist'), `the card shows the given and family name together: ${list}`);
  const colours = await session.execute(
    "return [...document.querySelectorAll('.card')].map((c) => getComputedStyle(c).backgroundColor)",
  );
  // registration-certificate #1a2b5f, internship-eligibility #1f5b3a.
  assert(
    colours.includes('rgb(26, 43, 95)') && colours.includes('rgb(31, 91, 58)'),
    `each card has its type's background colour: ${colours.join(', ')}`,
  );
  // The registration certificate's type metadata carries a data: URI logo.
  const logos = await session.execute(
    "return [...document.querySelectorAll('.card-logo')].map((i) => [i.closest('.card').querySelector('.card-title').textContent, i.src.slice(0, 22), i.naturalWidth])",
  );
  assert(
    logos.length === 1 && /Registration certificate|Inskrivningsintyg/.test(logos[0][0]) && logos[0][1] === 'data:image/png;base64,' && logos[0][2] === 48,
    `the registration certificate's card shows its logo: ${JSON.stringify(logos)}`,
  );
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
  step("trust the verifier's dev WRPRC provider (Settings): registration certificates");
  await session.paste('#wrprc-pem', readFileSync(join(verifier.dir, 'wrprc-ca.pem'), 'utf8'));
  await session.click('#wrprc-roots button[type=submit]');
  await session.waitFor('#wrprc-roots ~ .slot .ok', { describe: 'the WRPRC root added' });

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

  step("history shows the share and the verifier's signed receipt");
  await session.click('[data-nav=history]');
  await session.waitFor('#history li[data-kind=presentation]');
  await session.waitFor('#history li[data-kind=presentation] .receipt.ok', { describe: 'the verified receipt' });
  const receipt = await session.text('#history li[data-kind=presentation] .receipt');
  assert(/Received by .+ on .+, kept until .+/.test(receipt), `the receipt line: ${receipt}`);
  await screenshot(session, 'history');

  step('erasure: asked from the history entry, confirmed, answered and shown');
  await session.click('#history li[data-kind=presentation] button.erase');
  await session.waitFor('#history li[data-kind=presentation] .confirm:not([hidden])', { describe: 'the confirmation' });
  await screenshot(session, 'erase-confirm');
  await session.click('#history li[data-kind=presentation] button.erase-yes');
  await session.waitFor('#history li[data-kind=presentation] [data-erasure=erased]', {
    timeout: 30_000,
    describe: 'the erasure answer',
  });
  await screenshot(session, 'history-erased');
  const erased = await verifier.api('GET', `/api/presentations/${request.id}`);
  assert(typeof erased.erased_at === 'number', `the verifier shows erased_at: ${JSON.stringify(erased)}`);
  assert(erased.credentials.length === 0, 'the verifier holds no claim values after erasure');

  step('over-asking: an employer asks a claim outside its registration certificate');
  const overasking = await verifier.api('POST', '/api/presentations', {
    dcql_query: {
      credentials: [
        {
          id: 'registration',
          format: 'dc+sd-jwt',
          meta: { vct_values: ['https://intyg.se/credentials/registration-certificate/v1'] },
          claims: [{ path: ['registration_status'] }, { path: ['personal_identity_number'] }],
        },
      ],
    },
    purpose: 'Internship application',
  });
  await session.click('[data-nav=share]');
  await session.type('#request-link', overasking.request_uri);
  await session.click('#request-continue');
  await session.waitFor('#consent', { timeout: 30_000, describe: 'the consent screen' });
  const registration = await session.find('#registration');
  assert((await attribute(registration, 'data-valid')) === 'true', 'the registration certificate is valid');
  const flagged = [];
  for (const row of await session.findAll('[data-overasked-claim]')) flagged.push(await attribute(row, 'data-overasked-claim'));
  assert(
    flagged.length === 1 && flagged[0] === 'registration.personal_identity_number',
    `the consent screen names the over-asked claim: ${JSON.stringify(flagged)}`,
  );
  const overaskedBox = await session.find('input[data-overasked="registration.personal_identity_number"]');
  assert(
    (await session.execute('return arguments[0].checked', [{ [ELEMENT]: overaskedBox }])) === false,
    'the over-asked claim starts unticked',
  );
  // Ticking it asks for a second confirmation; not confirming shares nothing of it.
  await session.click('input[data-overasked="registration.personal_identity_number"]');
  await session.waitFor('[data-confirm-overasked="registration.personal_identity_number"]', { describe: 'the second confirmation' });
  await screenshot(session, 'consent-overasking');
  await session.click('input[data-overasked="registration.personal_identity_number"]');
  await session.click('#approve');
  // Without the claim it insisted on, this employer refuses the answer.
  await session.waitFor('#consent .alert[data-code=verifier_rejected]', { timeout: 30_000, describe: "the verifier's refusal" });
  await screenshot(session, 'consent-overasking-refused');
  const overaskedOutcome = await verifier.api('GET', `/api/presentations/${overasking.id}`);
  const got = (overaskedOutcome.credentials ?? []).flatMap((c) => Object.keys(c.claims));
  assert(
    overaskedOutcome.status !== 'verified' && !got.includes('personal_identity_number'),
    `the verifier did not get the over-asked claim: ${overaskedOutcome.status} ${got.join(', ')}`,
  );
  await session.click('[data-nav=history]');
  await session.waitFor('#history li[data-kind=presentation] [data-overasked]', { describe: 'the history names what was over-asked' });
  await screenshot(session, 'history-overasking');

  await codeFlow(session, issuer);

  step('the same screens in Swedish');
  await setLanguage(session, 'sv');
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

  step('phone width: a tab bar on one row, no sideways scroll');
  const wide = await session.windowRect();
  await session.setWindowRect({ width: 390, height: 844 });
  try {
    await session.click('[data-nav=list]');
    await session.waitFor('#cards');
    const layout = await session.execute(`
      const tabs = [...document.querySelectorAll('.tabs button')].map((b) => b.getBoundingClientRect());
      return {
        width: window.innerWidth,
        scroll: document.documentElement.scrollWidth,
        rows: new Set(tabs.map((r) => Math.round(r.top))).size,
        bottom: Math.max(...tabs.map((r) => Math.round(r.bottom))),
        height: window.innerHeight,
      };`);
    console.log(`  at ${layout.width} px: ${JSON.stringify(layout)}`);
    assert(layout.width <= 420, `the window is phone-wide: ${layout.width}`);
    assert(layout.scroll <= layout.width, `no sideways scroll: ${layout.scroll} > ${layout.width}`);
    assert(layout.rows === 1 && layout.bottom === layout.height, `the tabs are one row at the bottom: ${JSON.stringify(layout)}`);
    await screenshot(session, 'credentials-phone-sv');
    await session.click('.card');
    await session.waitFor('#claims');
    await screenshot(session, 'detail-phone-sv');
    await setLanguage(session, 'en');
    await session.click('[data-nav=receive]');
    await screenshot(session, 'receive-phone');
  } finally {
    await session.setWindowRect({ width: wide.width, height: wide.height });
  }
}

async function codeFlow(session, issuer) {
  step('authorization code flow: an offer with only an authorization code grant → "Log in at <issuer>"');
  // In English, for the texts checked below (the window follows the
  // system language until one is picked).
  await setLanguage(session, 'en');
  const type = 'education-diploma';
  const claims = JSON.parse(readFileSync(join(ROOT, 'specs', 'credentials', type, 'example.json'), 'utf8'));
  // The officer registers the diploma for the person; the issuer issues it
  // to whoever logs in as that person.
  const registered = await issuer.api('POST', '/api/offers', { credential_configuration_id: type, claims, subject: SUBJECT });
  const record = registered.credential_ids[0];
  const metadata = await (await fetch(`${issuer.base}/.well-known/openid-credential-issuer`)).json();
  const display = metadata.credential_configurations_supported[type].credential_metadata.display;
  const name = (display.find((d) => d.locale === 'en') ?? display[0]).name;
  const offer = {
    credential_issuer: metadata.credential_issuer,
    credential_configuration_ids: [type],
    grants: { authorization_code: { issuer_state: randomBytes(16).toString('base64url') } },
  };
  await session.click('[data-nav=receive]');
  await session.paste('#offer-link', `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`);
  await session.click('#offer-continue');
  await session.waitFor('#offer[data-mode=login]', { timeout: 30_000, describe: 'the login offer' });
  assert(!(await session.find('#tx-code')), 'no one-time code is asked for');
  const needed = await session.text('#login-needed');
  assert(needed.includes('wants you to log in'), `the screen says the issuer wants a login: ${needed}`);
  const button = await session.text('#offer-login');
  assert(button.startsWith('Log in at '), `the button: ${button}`);
  await screenshot(session, 'login-offer');

  step('login cancelled at the IdP → the app says so');
  await session.click('#offer-login');
  const first = await loginUrl(session, issuer);
  await screenshot(session, 'login-waiting');
  const cancelled = await logIn(first, null);
  assert(cancelled.url.includes('error=access_denied'), `the IdP's cancel comes back as access_denied: ${cancelled.url}`);
  await session.waitFor('#login-result[data-code=access_denied]', { timeout: 30_000, describe: 'the refused login' });
  const refusal = await session.text('#login-result .alert-title');
  assert(refusal === 'You cancelled the login or the issuer refused.', `the refusal reads: ${refusal}`);
  await screenshot(session, 'login-cancelled');

  step('Try again → log in as the test person → the received view');
  await session.click('#login-retry');
  await session.click('#offer-login');
  const second = await loginUrl(session, issuer);
  assert(second !== first, 'a new authorization request for the second try');
  const done = await logIn(second, SUBJECT);
  assert(done.html.includes('Login complete'), `the browser gets the done page: ${done.html}`);
  await session.waitFor('#receive-result', { timeout: 60_000, describe: 'the credential received after the login' });
  const received = await session.text('#receive-result');
  assert(received.includes(name), `the received view shows ${name}: ${received}`);
  await screenshot(session, 'login-received');

  step('the issuer revokes it (admin API) → "Check status" shows the revoked badge');
  await session.click('[data-nav=list]');
  await session.waitFor('#cards');
  assert((await session.findAll('.card')).length === 3, 'three cards');
  assert((await session.findAll('[data-status=invalid]')).length === 0, 'nothing is revoked yet');
  const revoked = await issuer.api('POST', `/api/credentials/${record}/revoke`);
  assert(revoked.state === 'revoked', `the issuer's record: ${JSON.stringify(revoked)}`);
  await session.click('#check-status');
  await session.waitFor('.card [data-status=invalid]', { timeout: 30_000, describe: 'the revoked badge' });
  assert((await session.findAll('[data-status=invalid]')).length === 1, 'exactly the diploma is revoked');
  const report = await session.text('#status-report');
  assert(report.includes('Status checked') && report.includes('1 of your credentials is revoked or suspended'), `the check reports: ${report}`);
  await screenshot(session, 'status-revoked');
  await session.execute("document.querySelector('[data-status=invalid]').closest('.card').click()");
  await session.waitFor('#standing[data-standing=revoked]', { describe: 'the detail of the revoked credential' });
  const standing = await session.text('#standing');
  assert(standing.includes('Revoked by the issuer'), `the detail says: ${standing}`);
  await screenshot(session, 'detail-revoked');

  step("wallet-initiated: the issuer's address → choose a credential → log in → received");
  const wanted = 'internship-eligibility';
  const example = JSON.parse(readFileSync(join(ROOT, 'specs', 'credentials', wanted, 'example.json'), 'utf8'));
  await issuer.api('POST', '/api/offers', { credential_configuration_id: wanted, claims: example, subject: SUBJECT });
  const wantedDisplay = metadata.credential_configurations_supported[wanted].credential_metadata.display;
  const wantedName = (wantedDisplay.find((d) => d.locale === 'en') ?? wantedDisplay[0]).name;
  await session.click('[data-nav=receive]');
  await session.paste('#offer-link', issuer.base);
  await session.click('#offer-continue');
  await session.waitFor('#offer[data-mode=login] input[name=configuration]', { timeout: 30_000, describe: 'the choice of credentials' });
  const choices = [];
  for (const radio of await session.findAll('input[name=configuration]')) {
    choices.push(await session.execute('return arguments[0].value', [{ [ELEMENT]: radio }]));
  }
  assert(choices.includes(wanted) && choices.length === Object.keys(metadata.credential_configurations_supported).length, `every credential of the issuer to choose from: ${choices}`);
  await session.click(`input[name=configuration][value="${wanted}"]`);
  await screenshot(session, 'request-choose');
  await session.click('#offer-login');
  await logIn(await loginUrl(session, issuer), SUBJECT);
  await session.waitFor('#receive-result', { timeout: 60_000, describe: 'the requested credential received' });
  const requested = await session.text('#receive-result');
  assert(requested.includes(wantedName), `the received view shows ${wantedName}: ${requested}`);
  await screenshot(session, 'request-received');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
