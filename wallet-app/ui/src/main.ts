// The wallet's screens. State lives in the engine; each screen asks for
// what it shows when it is drawn.

import { listen } from '@tauri-apps/api/event';

import { api, isAppError } from './api';
import { field, h, input } from './dom';
import { errorText, lang, plural, setLang, systemLang, t, type Lang } from './i18n';
import {
  claimLabel,
  orderedClaimRows,
  credentialName,
  filterHistory,
  formatTime,
  hostOf,
  includeKey,
  includeList,
  issuerName,
  listedOn,
  lastChecked,
  linkKind,
  Mailbox,
  pathName,
  pick,
  receiveKind,
  receiveMode,
  cardColors,
  safeLogo,
  summary,
  standing,
  summarizeRefresh,
  validity,
  type HistoryFilter,
  type Standing,
} from './model';
import type {
  AuthorizationFinished,
  CredentialEntry,
  HistoryEntry,
  LoginView,
  OfferView,
  ProposalView,
  Status,
  StatusRefresh,
  TrustListStatus,
} from './types';
import './style.css';

type Screen =
  | { name: 'onboarding' }
  | { name: 'restore' }
  | { name: 'unlock' }
  | { name: 'list'; refreshed?: StatusRefresh[] }
  | { name: 'detail'; id: string; refreshed?: StatusRefresh[] }
  | { name: 'receive'; link?: string }
  | { name: 'share'; link?: string }
  | { name: 'history'; filter?: HistoryFilter }
  | { name: 'settings' };

const main = document.getElementById('main') as HTMLElement;
const top = document.getElementById('top') as HTMLElement;
const statusRegion = document.getElementById('status') as HTMLElement;

let status: Status = { exists: false, unlocked: false, dev: false };
let current: Screen = { name: 'unlock' };
/** A link that arrived while the wallet was locked. */
let pendingLink: string | undefined;
/** How logins at issuers ended (`authorization-finished`), by login id. */
const logins = new Mailbox<AuthorizationFinished>();

setLang((localStorage.getItem('lang') as Lang | null) ?? systemLang(navigator.language));

function announce(text: string): void {
  statusRegion.textContent = text;
}

/** An alert with the localized message and the engine's detail. */
function errorBox(error: unknown): HTMLElement {
  const code = isAppError(error) ? error.code : 'internal';
  const detail = isAppError(error) ? error.message : String(error);
  return h(
    'div',
    { class: 'alert', role: 'alert', 'data-code': code },
    h('p', { class: 'alert-title', tabindex: -1 }, errorText(code)),
    h('details', {}, h('summary', {}, t('detail')), h('p', {}, detail)),
  );
}

/** Replaces `slot`'s content with an error. */
function fail(slot: HTMLElement, error: unknown): void {
  slot.replaceChildren(errorBox(error));
  (slot.querySelector('.alert-title') as HTMLElement | null)?.focus();
}

/**
 * Runs a long step with a progress line and a Cancel button (which asks
 * the engine to give up); disables `form` meanwhile.
 */
async function busy<T>(slot: HTMLElement, form: HTMLElement | null, step: Promise<T>): Promise<T> {
  const fieldset = form?.querySelector('fieldset');
  fieldset?.setAttribute('disabled', '');
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => void api.cancel() }, t('cancel'));
  slot.replaceChildren(
    h('div', { class: 'progress', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('working'), cancel),
  );
  announce(t('working'));
  try {
    return await step;
  } finally {
    fieldset?.removeAttribute('disabled');
    slot.replaceChildren();
    announce('');
  }
}

function heading(text: string): HTMLElement {
  return h('h1', { tabindex: -1 }, text);
}

async function go(screen: Screen): Promise<void> {
  current = screen;
  renderTop();
  let content: HTMLElement;
  try {
    content = await render(screen);
  } catch (error) {
    content = h('section', {}, heading(t('errorTitle')), errorBox(error));
  }
  main.replaceChildren(content);
  document.documentElement.lang = lang();
  (main.querySelector('[data-autofocus]') as HTMLElement | null)?.focus() ??
    (main.querySelector('h1') as HTMLElement | null)?.focus();
}

function render(screen: Screen): Promise<HTMLElement> | HTMLElement {
  switch (screen.name) {
    case 'onboarding':
      return onboarding();
    case 'restore':
      return restore();
    case 'unlock':
      return unlock();
    case 'list':
      return list(screen.refreshed);
    case 'detail':
      return detail(screen.id, screen.refreshed);
    case 'receive':
      return receive(screen.link);
    case 'share':
      return share(screen.link);
    case 'history':
      return history(screen.filter ?? 'all');
    case 'settings':
      return settings();
  }
}

function renderTop(): void {
  const banner = status.dev ? h('p', { class: 'dev-banner' }, t('devBanner')) : null;
  if (!status.unlocked) {
    top.replaceChildren(h('div', { class: 'brand' }, t('appName')), banner ?? '');
    return;
  }
  const item = (name: Screen['name'], label: string) =>
    h(
      'button',
      {
        type: 'button',
        'data-nav': name,
        'aria-current': current.name === name || (name === 'list' && current.name === 'detail') ? 'page' : undefined,
        onclick: () => void go({ name } as Screen),
      },
      label,
    );
  // A bar on top (name, settings, lock) and the four places to go: in the
  // header on a wide window, a tab bar at the bottom on a phone.
  top.replaceChildren(
    h(
      'div',
      { class: 'bar' },
      h('span', { class: 'brand' }, t('appName')),
      h(
        'span',
        { class: 'bar-actions' },
        item('settings', t('navSettings')),
        h(
          'button',
          {
            type: 'button',
            id: 'lock',
            class: 'secondary',
            onclick: async () => {
              await api.lock();
              status.unlocked = false;
              void go({ name: 'unlock' });
            },
          },
          t('lock'),
        ),
      ),
    ),
    h(
      'nav',
      { 'aria-label': t('appName'), class: 'tabs' },
      item('list', t('navCredentials')),
      item('receive', t('navReceive')),
      item('share', t('navShare')),
      item('history', t('navHistory')),
    ),
    banner ?? '',
  );
}

// ---- onboarding, unlock, restore ----------------------------------------

function onboarding(): HTMLElement {
  const pin = input({ type: 'password', id: 'pin', autocomplete: 'new-password', required: true, minlength: 4, 'data-autofocus': true });
  const pin2 = input({ type: 'password', id: 'pin2', autocomplete: 'new-password', required: true, minlength: 4 });
  const slot = h('div', { class: 'slot' });
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        if (pin.value !== pin2.value) {
          fail(slot, { code: 'pin_mismatch', message: t('pinMismatch') });
          return;
        }
        try {
          await busy(slot, form, api.createWallet(pin.value));
          status = { ...status, exists: true, unlocked: true };
          await afterUnlock();
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h('fieldset', {}, field(t('pin'), pin, t('pinHint')), field(t('pinConfirm'), pin2), h('button', { type: 'submit', id: 'create' }, t('create'))),
  );
  return h(
    'section',
    {},
    heading(t('onboardingTitle')),
    h('p', {}, t('onboardingText')),
    form,
    slot,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => void go({ name: 'restore' }) }, t('restoreInstead'))),
  );
}

function unlock(): HTMLElement {
  const pin = input({ type: 'password', id: 'unlock-pin', autocomplete: 'current-password', required: true, 'data-autofocus': true });
  const slot = h('div', { class: 'slot' });
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          await busy(slot, form, api.unlock(pin.value));
          status.unlocked = true;
          await afterUnlock();
        } catch (error) {
          pin.value = '';
          fail(slot, error);
        }
      },
    },
    h('fieldset', {}, field(t('pin'), pin), h('button', { type: 'submit', id: 'unlock' }, t('unlock'))),
  );
  return h('section', {}, heading(t('unlockTitle')), form, slot);
}

function restore(): HTMLElement {
  const path = input({ type: 'text', id: 'restore-path', required: true, 'data-autofocus': true });
  const passphrase = input({ type: 'password', id: 'restore-passphrase', required: true });
  const pin = input({ type: 'password', id: 'restore-pin', autocomplete: 'new-password', required: true, minlength: 4 });
  const slot = h('div', { class: 'slot' });
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          await busy(slot, form, api.restoreBackup(path.value, passphrase.value, pin.value));
          status = { ...status, exists: true, unlocked: true };
          await afterUnlock();
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h(
      'fieldset',
      {},
      field(t('backupPath'), path),
      field(t('passphrase'), passphrase),
      field(t('newPin'), pin, t('pinHint')),
      h('button', { type: 'submit' }, t('restore')),
    ),
  );
  return h(
    'section',
    {},
    heading(t('restoreTitle')),
    form,
    slot,
    h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => void go({ name: 'onboarding' }) }, t('toOnboarding'))),
  );
}

async function afterUnlock(): Promise<void> {
  const link = pendingLink;
  pendingLink = undefined;
  if (link) await openLink(link);
  else await go({ name: 'list' });
}

// ---- credentials ----------------------------------------------------------

function card(entry: CredentialEntry): HTMLElement {
  const locale = lang();
  const expired = validity(entry, Date.now() / 1000) === 'expired';
  const logo = safeLogo(entry.display.logo?.uri);
  const button = h(
    'button',
    { type: 'button', class: 'card', 'data-id': entry.id, onclick: () => void go({ name: 'detail', id: entry.id }) },
    h(
      'span',
      { class: 'card-head' },
      h('span', { class: 'card-title' }, credentialName(entry, locale)),
      // The logo's alternative text repeats what the card says in words;
      // the title names the credential, so the image is decorative.
      logo ? h('img', { class: 'card-logo', src: logo, alt: '' }) : null,
    ),
    h('span', { class: 'card-issuer' }, `${t('issuedBy')} ${issuerName(entry)}`),
    listedOn(entry, t('listedOn')) ? h('span', { class: 'card-listed' }, `✓ ${listedOn(entry, t('listedOn'))}`) : null,
    h(
      'span',
      { class: 'card-claims' },
      summary(entry, locale).map((item) => h('span', {}, item.label === null ? item.value : `${item.label}: ${item.value}`)),
    ),
    expired ? h('span', { class: 'badge' }, `⚠ ${t('expired')}`) : null,
    entry.status.status === 'invalid' ? h('span', { class: 'badge', 'data-status': 'invalid' }, `⚠ ${t('revoked')}`) : null,
    entry.status.status === 'suspended' ? h('span', { class: 'badge', 'data-status': 'suspended' }, `⚠ ${t('suspended')}`) : null,
  );
  // Through the CSSOM, not a `style` attribute: the app's CSP
  // (`style-src 'self'`) blocks inline style attributes.
  const colors = cardColors(entry.display);
  button.style.setProperty('background-color', colors.background);
  button.style.setProperty('color', colors.text);
  return h('li', {}, button);
}

/**
 * The "Check status" button and what the last check found: asks every
 * status list, then draws `screen` again with the report.
 */
function statusCheck(entries: CredentialEntry[], refreshed: StatusRefresh[] | undefined, screen: (report: StatusRefresh[]) => Screen, id?: string): HTMLElement {
  const slot = h('div', { class: 'slot' });
  const check = h(
    'button',
    {
      type: 'button',
      id: 'check-status',
      class: 'secondary',
      onclick: async () => {
        try {
          const report = await busy(slot, null, api.refreshStatus());
          await go(screen(report));
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    t('checkStatus'),
  );
  const locale = lang();
  const lines: HTMLElement[] = [];
  if (refreshed) {
    const summary = summarizeRefresh(refreshed, id);
    if (summary.checked === 0 && summary.failed === 0) lines.push(h('p', {}, t('statusNone')));
    if (summary.at !== null) lines.push(h('p', { class: 'ok' }, `✓ ${t('statusCheckedAt', { time: formatTime(summary.at, locale) })}`));
    if (summary.withdrawn > 0 && id === undefined) lines.push(h('p', { class: 'warning' }, `⚠ ${plural('statusWithdrawn', summary.withdrawn)}`));
    if (summary.failed > 0) {
      lines.push(h('p', { class: 'warning' }, `⚠ ${plural('statusFailed', summary.failed, { reason: errorText(summary.reason ?? 'internal') })}`));
    }
  } else if (id === undefined) {
    const last = lastChecked(entries);
    if (last !== null) lines.push(h('p', { class: 'hint' }, t('statusCheckedAt', { time: formatTime(last, locale) })));
  }
  const report = h('div', { id: 'status-report', role: 'status', tabindex: -1, 'data-autofocus': refreshed ? true : undefined }, lines);
  return h('div', { class: 'status-check' }, check, report, slot);
}

async function list(refreshed?: StatusRefresh[]): Promise<HTMLElement> {
  const entries = await api.credentials();
  return h(
    'section',
    {},
    heading(t('credentialsTitle')),
    entries.length === 0
      ? h('p', { id: 'empty' }, t('noCredentials'))
      : [statusCheck(entries, refreshed, (report) => ({ name: 'list', refreshed: report })), h('ul', { class: 'cards', id: 'cards' }, entries.map(card))],
  );
}

const STANDING_TEXT: Record<Standing, () => string> = {
  valid: () => `✓ ${t('valid')}`,
  revoked: () => `⚠ ${t('revoked')}`,
  suspended: () => `⚠ ${t('suspended')}`,
  expired: () => `⚠ ${t('expired')}`,
  unchecked: () => t('statusUnchecked'),
};

async function detail(id: string, refreshed?: StatusRefresh[]): Promise<HTMLElement> {
  const entry = await api.credential(id);
  const locale = lang();
  const standsAs = standing(entry, Date.now() / 1000);
  const row = (label: string, value: string) => [h('dt', {}, label), h('dd', {}, value)];
  const slot = h('div', { class: 'slot' });
  return h(
    'section',
    { id: 'detail' },
    h('button', { type: 'button', class: 'link', onclick: () => void go({ name: 'list' }) }, `← ${t('back')}`),
    heading(credentialName(entry, locale)),
    pick(entry.display.descriptions, locale) ? h('p', {}, pick(entry.display.descriptions, locale)) : null,
    h(
      'dl',
      { class: 'meta' },
      row(t('issuedBy'), `${issuerName(entry)} (${hostOf(entry.issuer)})`),
      entry.listed_on ? row(t('trustLists'), listedOn(entry, t('listedOn')) ?? '') : [],
      row(t('received'), formatTime(entry.received_at, locale)),
      row(t('expires'), entry.expires_at ? formatTime(entry.expires_at, locale) : t('noExpiry')),
      [h('dt', {}, t('status')), h('dd', { id: 'standing', 'data-standing': standsAs }, STANDING_TEXT[standsAs]())],
      row(t('statusCheckedLabel'), entry.status.checked_at !== null ? formatTime(entry.status.checked_at, locale) : t('statusNever')),
      row(t('copies'), `${entry.copies} (${entry.copies_used})`),
    ),
    h('p', { class: 'hint' }, t('statusHint')),
    statusCheck([entry], refreshed, (report) => ({ name: 'detail', id: entry.id, refreshed: report }), entry.id),
    h('h2', {}, t('claims')),
    h('dl', { class: 'claims', id: 'claims' }, orderedClaimRows(entry, locale).map((r) => row(claimLabel(entry.display, r.path, locale), r.value))),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          if (!window.confirm(t('confirmDelete'))) return;
          try {
            await api.deleteCredential(entry.id);
            void go({ name: 'list' });
          } catch (error) {
            fail(slot, error);
          }
        },
      },
      t('delete'),
    ),
    slot,
  );
}

// ---- receive --------------------------------------------------------------

function receive(link?: string): HTMLElement {
  const uri = h('textarea', { id: 'offer-link', rows: 3, required: true, spellcheck: 'false', 'data-autofocus': true }) as HTMLTextAreaElement;
  uri.value = link ?? '';
  const slot = h('div', { class: 'slot' });
  const step = h('div', {});
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const text = uri.value.trim();
        const kind = receiveKind(text);
        try {
          const offer = await busy(slot, form, kind === 'issuer' ? api.fetchIssuer(text) : api.fetchOffer(text));
          step.replaceChildren(offerStep(offer, kind === 'issuer'));
          (step.querySelector('h2') as HTMLElement).focus();
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h('fieldset', {}, field(t('offerLink'), uri, t('offerLinkHint')), h('button', { type: 'submit', id: 'offer-continue' }, t('continue'))),
  ) as HTMLFormElement;
  const section = h('section', {}, heading(t('receiveTitle')), form, slot, step);
  if (link) queueMicrotask(() => form.requestSubmit());
  return section;
}

/** What was stored, the same after a one-time code and after a login. */
function receivedView(received: CredentialEntry[]): HTMLElement {
  return h(
    'div',
    { id: 'receive-result' },
    h('h2', { tabindex: -1 }, `✓ ${t('receivedTitle')}`),
    h('ul', { class: 'cards' }, received.map(card)),
  );
}

/** Replaces `from` with `to`, scrolls it to the top and focuses its heading. */
function replaceAndFocus(from: HTMLElement, to: HTMLElement): void {
  from.replaceWith(to);
  to.scrollIntoView({ block: 'start' });
  (to.querySelector('h2, .alert-title, button') as HTMLElement | null)?.focus({ preventScroll: true });
}

/** An offer (or, `requested`, what an issuer issues) and how to receive it. */
function offerStep(offer: OfferView, requested: boolean): HTMLElement {
  const locale = lang();
  const issuer = pick(offer.issuer_names, locale) ?? hostOf(offer.issuer);
  const mode = receiveMode(offer);
  const choose = mode === 'login' && offer.credentials.length > 1;
  const how =
    mode === 'pre_authorized'
      ? codeForm(offer)
      : mode === 'login'
        ? loginStep(offer, issuer)
        : h('p', { class: 'warning', role: 'alert', 'data-code': 'unsupported_grant' }, `⚠ ${errorText('unsupported_grant')}`);
  return h(
    'div',
    { id: 'offer', 'data-mode': mode },
    h('h2', { tabindex: -1 }, `${t(requested ? 'requestFrom' : 'offerFrom')} ${issuer}`),
    h('p', { class: 'hint' }, hostOf(offer.issuer)),
    choose ? null : [h('p', {}, t('willIssue')), h('ul', {}, offer.credentials.map((c) => h('li', {}, pick(c.names, locale) ?? c.id)))],
    how,
  );
}

/** The pre-authorized code flow: the one-time code, if any, then Receive. */
function codeForm(offer: OfferView): HTMLElement {
  const slot = h('div', { class: 'slot' });
  const spec = offer.tx_code;
  const code = spec
    ? input({
        type: 'text',
        id: 'tx-code',
        required: true,
        autocomplete: 'one-time-code',
        inputmode: spec.input_mode === 'text' ? 'text' : 'numeric',
        maxlength: spec.length,
      })
    : null;
  const hint = spec ? [spec.description ?? t('txCodeHint'), spec.length ? plural('txCodeLength', spec.length) : ''].join(' ') : '';
  const form: HTMLElement = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const received = await busy(slot, form, api.acceptOffer(offer.ticket, code?.value ?? null));
          replaceAndFocus(box, receivedView(received));
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h(
      'fieldset',
      {},
      code ? field(t('txCode'), code, hint) : null,
      h('button', { type: 'submit', id: 'offer-accept' }, t('receive')),
    ),
  );
  const box = h('div', {}, form, slot);
  return box;
}

/**
 * The authorization code flow: the issuer wants the person to log in.
 * With several credentials to choose from (always, when the wallet asks an
 * issuer itself), one is picked; the issuer issues one per login.
 */
function loginStep(offer: OfferView, issuer: string): HTMLElement {
  const locale = lang();
  const slot = h('div', { class: 'slot' });
  let chosen = offer.credentials[0]?.id;
  const choices =
    offer.credentials.length > 1
      ? h(
          'fieldset',
          { class: 'choices' },
          h('legend', {}, t('chooseCredential')),
          offer.credentials.map((c, i) =>
            h(
              'div',
              { class: 'check' },
              h(
                'label',
                {},
                input({ type: 'radio', name: 'configuration', value: c.id, checked: i === 0, onchange: () => (chosen = c.id) }),
                ` ${pick(c.names, locale) ?? c.id}`,
              ),
            ),
          ),
        )
      : null;
  const form: HTMLElement = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const login = await busy(slot, form, api.beginAuthorization(offer.ticket, chosen ? [chosen] : []));
          replaceAndFocus(box, loginWaiting(login, issuer, () => loginStep(offer, issuer)));
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h(
      'fieldset',
      {},
      h('p', { id: 'login-needed' }, t('loginNeeded', { issuer })),
      choices,
      h('button', { type: 'submit', id: 'offer-login' }, t('logIn', { issuer })),
    ),
  );
  const box = h('div', { id: 'login' }, form, slot);
  return box;
}

/** Copies the text of `field`: the clipboard API, else a selection copy. */
async function copyText(control: HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(control.value);
    return true;
  } catch {
    control.focus();
    control.select();
    return document.execCommand('copy');
  }
}

/**
 * While the person logs in in the browser: the URL to copy, Cancel, and
 * then what came of it (the same result as the one-time code flow, or an
 * error with Try again, which draws `again`).
 */
function loginWaiting(login: LoginView, issuer: string, again: () => HTMLElement): HTMLElement {
  const url = h('textarea', { id: 'authorization-url', rows: 4, readonly: true, spellcheck: 'false' }) as HTMLTextAreaElement;
  url.value = login.url;
  const copied = h('span', { class: 'hint', role: 'status' });
  const box = h(
    'div',
    { id: 'login-waiting' },
    h('h2', { tabindex: -1 }, t('logIn', { issuer })),
    h('p', {}, t(login.browser_opened ? 'loginBrowserOpened' : 'loginOpenYourself')),
    field(t('loginUrl'), url),
    h(
      'p',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: 'copy-url',
          onclick: async () => {
            copied.textContent = (await copyText(url)) ? t('copied') : '';
          },
        },
        t('copy'),
      ),
      ' ',
      copied,
    ),
    h(
      'div',
      { class: 'progress', 'aria-busy': 'true' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      plural('loginWaiting', Math.round(login.timeout_secs / 60)),
      h('button', { type: 'button', class: 'secondary', id: 'login-cancel', onclick: () => void api.cancelAuthorization() }, t('cancel')),
    ),
  );
  void logins.receive(login.id).then((finished) => {
    if (finished.result === 'received') {
      replaceAndFocus(box, receivedView(finished.credentials));
      return;
    }
    const failed: HTMLElement = h(
      'div',
      { id: 'login-result', 'data-code': finished.code },
      errorBox(finished),
      h('button', { type: 'button', id: 'login-retry', onclick: () => replaceAndFocus(failed, again()) }, t('tryAgain')),
    );
    replaceAndFocus(box, failed);
  });
  return box;
}

// ---- share (consent) ------------------------------------------------------

function share(link?: string): HTMLElement {
  const uri = h('textarea', { id: 'request-link', rows: 3, required: true, spellcheck: 'false', 'data-autofocus': true }) as HTMLTextAreaElement;
  uri.value = link ?? '';
  const slot = h('div', { class: 'slot' });
  const step = h('div', {});
  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const [proposal, held] = await busy(slot, form, Promise.all([api.preparePresentation(uri.value), api.credentials()]));
          form.remove();
          step.replaceChildren(consent(proposal, held));
          (step.querySelector('h2') as HTMLElement).focus();
        } catch (error) {
          fail(slot, error);
        }
      },
    },
    h('fieldset', {}, field(t('requestLink'), uri, t('requestLinkHint')), h('button', { type: 'submit', id: 'request-continue' }, t('continue'))),
  ) as HTMLFormElement;
  const section = h('section', {}, heading(t('shareTitle')), form, slot, step);
  if (link) queueMicrotask(() => form.requestSubmit());
  return section;
}

function consent(proposal: ProposalView, held: CredentialEntry[]): HTMLElement {
  const locale = lang();
  const byId = new Map(held.map((e) => [e.id, e]));
  const ticked = new Set<string>();
  const verifier = proposal.verifier;
  const who = verifier.name ?? verifier.dns_names[0] ?? verifier.client_id;
  const slot = h('div', { class: 'slot' });
  const credentials = proposal.credentials.map((c) => {
    const entry = byId.get(c.credential_id);
    const label = (claim: { path: import('./types').ClaimsPath; label: string | null }) =>
      entry ? claimLabel(entry.display, claim.path, locale) : (claim.label ?? pathName(claim.path));
    const required = c.claims.filter((claim) => claim.required);
    const optional = c.claims.filter((claim) => !claim.required && !claim.overasked);
    const overasked = c.claims.filter((claim) => claim.overasked);
    return h(
      'div',
      { class: 'request' },
      h('h3', {}, entry ? credentialName(entry, locale) : c.name),
      c.status === 'invalid' || c.status === 'suspended'
        ? h('p', { class: 'warning', role: 'alert', 'data-status': c.status }, `⚠ ${t(c.status === 'invalid' ? 'revokedWarning' : 'suspendedWarning')}`)
        : null,
      // An optional credential (e.g. one optional claim asked as its own
      // query, as verifiers do for wallets that ignore claim_sets) has no
      // required claims to list.
      required.length > 0 ? h('h4', {}, t('requiredClaims')) : null,
      required.length > 0
        ? h('ul', { class: 'required' }, required.map((claim) => h('li', { 'data-claim': includeKey(c.query_id, claim.name) }, `✓ ${label(claim)}`)))
        : null,
      h(
        'fieldset',
        { class: 'optional' },
        h('legend', {}, t('optionalClaims')),
        optional.length === 0
          ? h('p', {}, t('noOptional'))
          : optional.map((claim) => {
              const key = includeKey(c.query_id, claim.name);
              const box = input({
                type: 'checkbox',
                'data-include': key,
                onchange: (event: Event) => {
                  if ((event.target as HTMLInputElement).checked) ticked.add(key);
                  else ticked.delete(key);
                },
              });
              return h('div', { class: 'check' }, h('label', {}, box, ` ${label(claim)}`));
            }),
      ),
      // Over-asked: named, unticked, and shared only after a second,
      // explicit confirmation.
      overasked.length > 0
        ? h(
            'fieldset',
            { class: 'overasked', role: 'group' },
            h('legend', {}, `⚠ ${t('overaskedTitle')}`),
            h('p', { class: 'warning', role: 'alert' }, t('overaskedText')),
            overasked.map((claim) => {
              const key = includeKey(c.query_id, claim.name);
              const confirmSlot = h('div', { class: 'confirm' });
              const box = input({
                type: 'checkbox',
                'data-overasked': key,
                onchange: (event: Event) => {
                  const target = event.target as HTMLInputElement;
                  ticked.delete(key);
                  confirmSlot.replaceChildren();
                  if (!target.checked) return;
                  const yes = h(
                    'button',
                    {
                      type: 'button',
                      'data-confirm-overasked': key,
                      onclick: () => {
                        ticked.add(key);
                        confirmSlot.replaceChildren(h('p', { class: 'warning' }, `⚠ ${t('overaskedShared')}: ${label(claim)}`));
                      },
                    },
                    t('overaskedConfirm'),
                  );
                  confirmSlot.replaceChildren(h('p', {}, `${t('overaskedConfirmQuestion')} ${label(claim)}?`), yes);
                  yes.focus();
                },
              });
              return h('div', { class: 'check', 'data-overasked-claim': key }, h('label', {}, box, ` ${label(claim)}`), confirmSlot);
            }),
          )
        : null,
    );
  });
  const decide = (approve: boolean) => async () => {
    try {
      const outcome = await busy(slot, null, api.respond(proposal.ticket, approve, approve ? includeList(proposal, ticked) : []));
      const shared = outcome.result === 'shared';
      box.replaceWith(
        h(
          'div',
          { id: 'share-result', 'data-result': outcome.result },
          h('h2', { tabindex: -1 }, shared ? `✓ ${t('sharedTitle')}` : t('declinedTitle')),
          h('p', {}, shared ? t('sharedText') : t('declinedText')),
          h('button', { type: 'button', onclick: () => void go({ name: 'history' }) }, t('navHistory')),
        ),
      );
      (document.querySelector('#share-result h2') as HTMLElement).focus();
    } catch (error) {
      fail(slot, error);
    }
  };
  const satisfiable = proposal.unsatisfied === null;
  const box = h(
    'div',
    { id: 'consent' },
    h('h2', { tabindex: -1 }, t('consentTitle')),
    h('h3', {}, t('whoAsks')),
    h('p', { class: 'verifier', id: 'verifier-name' }, who),
    verifier.dns_names.length ? h('p', { class: 'hint' }, verifier.dns_names.join(', ')) : null,
    verifier.authenticated
      ? h('p', { class: 'ok' }, `✓ ${t('verified')}`)
      : h('p', { class: 'warning', role: 'note' }, `⚠ ${t('unverified')}`),
    h('h3', {}, t('purpose')),
    h('p', { id: 'purpose' }, proposal.purpose ?? t('noPurpose')),
    proposal.registration.valid
      ? h(
          'p',
          { class: 'ok', id: 'registration', 'data-valid': 'true' },
          `✓ ${t('registered')}: ${proposal.registration.purpose ?? proposal.registration.name ?? ''}`,
        )
      : h(
          'p',
          { class: 'warning', role: 'alert', id: 'registration', 'data-valid': 'false', 'data-reason': proposal.registration.reason ?? '' },
          `⚠ ${t('unregistered')} (${proposal.registration.message ?? proposal.registration.reason ?? ''})`,
        ),
    satisfiable ? credentials : h('p', { class: 'warning' }, `⚠ ${t('unsatisfied')}`),
    h(
      'div',
      { class: 'decide' },
      satisfiable ? h('button', { type: 'button', id: 'approve', onclick: decide(true) }, t('approve')) : null,
      h('button', { type: 'button', id: 'decline', onclick: decide(false) }, t('decline')),
    ),
    slot,
  );
  return box;
}

// ---- history --------------------------------------------------------------

async function history(filter: HistoryFilter): Promise<HTMLElement> {
  const [all, held] = await Promise.all([api.history(), api.credentials()]);
  const entries = filterHistory(all, filter);
  const byId = new Map(held.map((e) => [e.id, e]));
  const locale = lang();
  const select = h(
    'select',
    { id: 'history-filter', onchange: (e: Event) => void go({ name: 'history', filter: (e.target as HTMLSelectElement).value as HistoryFilter }) },
    (
      [
        ['all', t('filterAll')],
        ['received', t('filterReceived')],
        ['shared', t('filterShared')],
        ['declined', t('filterDeclined')],
        ['failed', t('filterFailed')],
      ] as const
    ).map(([value, label]) => h('option', { value, selected: value === filter }, label)),
  ) as HTMLSelectElement;
  const kind = { issuance: t('kindIssuance'), presentation: t('kindPresentation'), denial: t('kindDenial') };
  return h(
    'section',
    {},
    heading(t('historyTitle')),
    field(t('filter'), select),
    entries.length === 0
      ? h('p', {}, t('noHistory'))
      : h(
          'ol',
          { class: 'history', id: 'history' },
          entries.map((e) =>
            h(
              'li',
              { 'data-kind': e.kind },
              h('p', { class: 'when' }, formatTime(e.at, locale)),
              h('p', {}, h('strong', {}, `${kind[e.kind]} `), e.counterparty_name ?? hostOf(e.counterparty)),
              e.purpose ? h('p', {}, `${t('purpose')}: ${e.purpose}`) : null,
              e.credentials.length
                ? h(
                    'details',
                    {},
                    h('summary', {}, t('disclosed')),
                    h(
                      'ul',
                      {},
                      e.credentials.map((c) => {
                        const entry = c.credential_id ? byId.get(c.credential_id) : undefined;
                        const name = entry ? credentialName(entry, locale) : c.vct;
                        const claims = c.claims.map((p) => (entry ? claimLabel(entry.display, p, locale) : pathName(p)));
                        return h('li', {}, `${name}: ${claims.join(', ')}`);
                      }),
                    ),
                  )
                : null,
              e.registration && !e.registration.valid
                ? h('p', { class: 'warning', 'data-registration': 'invalid' }, `⚠ ${t('unregistered')} (${e.registration.reason ?? ''})`)
                : null,
              e.registration && e.registration.overasked.length > 0
                ? h(
                    'p',
                    { class: 'warning', 'data-overasked': e.registration.overasked.join(',') },
                    `⚠ ${t('historyOverasked')}: ${e.registration.overasked.join(', ')}` +
                      (e.registration.overasked_shared.length > 0 ? ` — ${t('overaskedShared')}: ${e.registration.overasked_shared.join(', ')}` : ''),
                  )
                : null,
              h(
                'p',
                { class: e.result.status === 'success' ? 'ok' : 'warning' },
                e.result.status === 'success' ? `✓ ${t('resultSuccess')}` : `⚠ ${t('resultFailure')}: ${errorText(e.result.code)}`,
              ),
              e.kind === 'issuance' ? null : rights(e, locale),
            ),
          ),
        ),
  );
}

/** A share's receipt, erasure state and actions (the registration check is shown above). */
function rights(e: HistoryEntry, locale: string): HTMLElement {
  const who = e.counterparty_name ?? hostOf(e.counterparty);
  const slot = h('div', { class: 'slot' });
  const lines: (HTMLElement | null)[] = [];
  if (e.kind === 'presentation') {
    const r = e.receipt;
    lines.push(
      !r
        ? h('p', { class: 'hint' }, t('noReceipt'))
        : r.verified
          ? h(
              'p',
              { class: 'receipt ok' },
              `✓ ${t('receiptLine', {
                who,
                at: r.received_at ? formatTime(r.received_at, locale) : '–',
                until: r.retention_until ? formatTime(r.retention_until, locale) : '–',
              })}`,
            )
          : h('p', { class: 'receipt warning' }, `⚠ ${t('receiptUnverified', { reason: r.error ?? '' })}`),
    );
  }
  if (e.erasure) {
    lines.push(
      h(
        'p',
        { class: e.erasure.status === 'erased' ? 'erasure ok' : 'erasure warning', 'data-erasure': e.erasure.status },
        e.erasure.status === 'erased'
          ? `✓ ${t('erasedLine', { at: e.erasure.erased_at ? formatTime(e.erasure.erased_at, locale) : '–' })}`
          : `⚠ ${t('refusedLine', { basis: e.erasure.legal_basis ?? '' })}`,
      ),
    );
  }
  const canErase = e.kind === 'presentation' && e.receipt?.verified === true && !e.erasure;
  const confirm = h(
    'div',
    { class: 'confirm', hidden: true },
    h('p', {}, t('eraseConfirm', { who })),
    h(
      'button',
      {
        type: 'button',
        class: 'danger erase-yes',
        onclick: async () => {
          try {
            await api.eraseShare(e.id);
            void go({ name: 'history' });
          } catch (error) {
            fail(slot, error);
          }
        },
      },
      t('eraseYes'),
    ),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          confirm.hidden = true;
        },
      },
      t('eraseNo'),
    ),
  );
  const text = h('textarea', { rows: 3 }) as HTMLTextAreaElement;
  const path = input({ type: 'text', value: `intyg-report-${e.id}.json` });
  const report = h(
    'details',
    { class: 'report' },
    h('summary', {}, t('report')),
    field(t('reportText'), text),
    field(t('reportPath'), path),
    h(
      'button',
      {
        type: 'button',
        onclick: async () => {
          try {
            const summary = await api.reportShare(e.id, path.value, text.value);
            slot.replaceChildren(h('p', { class: 'ok', role: 'status' }, t('reportSaved', { path: summary })));
          } catch (error) {
            fail(slot, error);
          }
        },
      },
      t('reportSave'),
    ),
  );
  return h(
    'div',
    { class: 'rights' },
    ...lines,
    canErase
      ? h(
          'button',
          {
            type: 'button',
            class: 'erase',
            onclick: () => {
              confirm.hidden = false;
            },
          },
          t('erase'),
        )
      : null,
    canErase ? confirm : null,
    report,
    slot,
  );
}

// ---- settings -------------------------------------------------------------

function settings(): HTMLElement {
  const language = h(
    'select',
    {
      id: 'language',
      onchange: (e: Event) => {
        const value = (e.target as HTMLSelectElement).value as Lang;
        setLang(value);
        localStorage.setItem('lang', value);
        void go({ name: 'settings' });
      },
    },
    h('option', { value: 'sv', selected: lang() === 'sv', lang: 'sv' }, 'Svenska'),
    h('option', { value: 'en', selected: lang() === 'en', lang: 'en' }, 'English'),
  ) as HTMLSelectElement;

  const form = (title: string, fields: HTMLElement[], submit: string, action: (slot: HTMLElement) => Promise<string>, id: string) => {
    const slot = h('div', { class: 'slot' });
    const element: HTMLElement = h(
      'form',
      {
        id,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          try {
            const done = await busy(slot, element, action(slot));
            slot.replaceChildren(h('p', { class: 'ok', role: 'status' }, `✓ ${done}`));
          } catch (error) {
            fail(slot, error);
          }
        },
      },
      h('fieldset', {}, h('legend', {}, title), fields, h('button', { type: 'submit' }, submit)),
    );
    return [element, slot];
  };

  const oldPin = input({ type: 'password', autocomplete: 'current-password', required: true });
  const newPin = input({ type: 'password', autocomplete: 'new-password', required: true, minlength: 4 });
  const pem = h('textarea', { id: 'roots-pem', rows: 4, required: true, spellcheck: 'false' }) as HTMLTextAreaElement;
  const wrprcPem = h('textarea', { id: 'wrprc-pem', rows: 4, required: true, spellcheck: 'false' }) as HTMLTextAreaElement;
  const path = input({ type: 'text', required: true });
  const passphrase = input({ type: 'password', required: true, minlength: 4 });
  const listUrl = input({ type: 'url', required: true });
  const listSigner = h('textarea', { id: 'trust-list-signer', rows: 4, required: true, spellcheck: 'false' }) as HTMLTextAreaElement;
  const lists = h('ul', { id: 'trust-lists', class: 'trust-lists' });
  const showLists = (items: TrustListStatus[]) => {
    lists.replaceChildren(
      ...(items.length === 0
        ? [h('li', {}, t('noTrustLists'))]
        : items.map((list) =>
            h(
              'li',
              { 'data-url': list.url },
              h('strong', {}, list.usable && list.name ? list.name : t('trustListNotUsable')),
              h('span', { class: 'list-url' }, ` ${list.url}`),
              list.last_error ? h('span', { class: 'badge' }, ` ⚠ ${t('trustListRefused')}: ${list.last_error.code}`) : null,
            ),
          )),
    );
  };
  api.trustLists().then(showLists, (error: unknown) => fail(lists, error));
  return h(
    'section',
    {},
    heading(t('settingsTitle')),
    field(t('language'), language),
    form(t('changePin'), [field(t('oldPin'), oldPin), field(t('newPin'), newPin, t('pinHint'))], t('save'), async () => {
      await api.changePin(oldPin.value, newPin.value);
      return t('saved');
    }, 'change-pin'),
    form(t('verifierRoots'), [field(t('verifierRoots'), pem, t('verifierRootsHint'))], t('addRoots'), async () => {
      const added = await api.addVerifierRoots(pem.value);
      return plural('rootsAdded', added.length);
    }, 'roots'),
    form(t('wrprcRoots'), [field(t('wrprcRoots'), wrprcPem, t('wrprcRootsHint'))], t('addRoots'), async () => {
      const added = await api.addWrprcRoots(wrprcPem.value);
      return plural('rootsAdded', added.length);
    }, 'wrprc-roots'),
    h('p', {}, t('trustListsHint')),
    lists,
    form(t('trustLists'), [field(t('trustListUrl'), listUrl), field(t('trustListSigner'), listSigner)], t('addTrustList'), async () => {
      const added = await api.addTrustList(listUrl.value, listSigner.value);
      showLists(await api.trustLists());
      return added.name ?? added.url;
    }, 'trust-list-add'),
    form(t('refreshTrustLists'), [], t('refreshTrustLists'), async () => {
      showLists(await api.refreshTrustLists());
      return t('trustListsUpdated');
    }, 'trust-list-refresh'),
    form(t('backup'), [field(t('backupPath'), path), field(t('passphrase'), passphrase)], t('exportBackup'), async () => {
      await api.exportBackup(path.value, passphrase.value);
      return t('saved');
    }, 'backup'),
  );
}

// ---- links and start ------------------------------------------------------

async function openLink(link: string): Promise<void> {
  const kind = linkKind(link);
  if (!kind) return;
  if (!status.unlocked) {
    pendingLink = link;
    announce(t('unlockTitle'));
    return;
  }
  await go(kind === 'offer' ? { name: 'receive', link } : { name: 'share', link });
}

async function start(): Promise<void> {
  try {
    status = await api.status();
  } catch (error) {
    main.replaceChildren(h('section', {}, heading(t('errorTitle')), errorBox(error)));
    return;
  }
  await listen<string>('deep-link', (event) => void openLink(event.payload));
  await listen<AuthorizationFinished>('authorization-finished', (event) => logins.deliver(event.payload));
  pendingLink = (await api.startupLink()) ?? undefined;
  await go(status.unlocked ? { name: 'list' } : status.exists ? { name: 'unlock' } : { name: 'onboarding' });
}

void start();
