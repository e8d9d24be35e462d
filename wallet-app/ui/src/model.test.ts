import { describe, expect, it } from 'vitest';

import { errorText, missingKeys, setLang, systemLang } from './i18n';
import {
  claimLabel,
  claimRows,
  credentialName,
  filterHistory,
  includeList,
  lastChecked,
  linkKind,
  Mailbox,
  pick,
  receiveKind,
  receiveMode,
  safeColor,
  standing,
  summarizeRefresh,
  validity,
} from './model';
import type { CredentialEntry, HistoryEntry, ProposalView, StatusRefresh } from './types';

const entry: CredentialEntry = {
  id: 'a1',
  issuer: 'https://arbetsformedlingen.se',
  issuer_name: null,
  vct: 'https://intyg.se/vct/registration-certificate',
  format: 'dc+sd-jwt',
  configuration_id: 'registration-certificate',
  display: {
    names: { sv: 'Inskrivningsintyg', en: 'Registration certificate' },
    descriptions: {},
    background_color: '#12395e',
    text_color: '#ffffff',
    claims: [
      { path: ['given_name'], labels: { sv: 'Förnamn', en: 'Given name' } },
      { path: ['address', 'locality'], labels: { sv: 'Ort' } },
      { path: ['degrees', null, 'title'], labels: { en: 'Degree' } },
    ],
  },
  claims: {
    iss: 'https://arbetsformedlingen.se',
    vct: 'x',
    cnf: { jwk: {} },
    given_name: 'Anna',
    address: { locality: 'Umeå' },
    degrees: [{ title: 'BSc' }],
    languages: ['sv', 'en'],
  },
  received_at: 1_700_000_000,
  expires_at: 1_800_000_000,
  copies: 3,
  copies_used: 0,
  status: { status: 'valid', checked_at: 1_770_000_000 },
};

describe('locale fallbacks', () => {
  it('picks the locale, then English, then the first', () => {
    expect(pick({ sv: 'a', en: 'b' }, 'sv')).toBe('a');
    expect(pick({ sv: 'a', en: 'b' }, 'de')).toBe('b');
    expect(pick({ fi: 'c' }, 'sv')).toBe('c');
    expect(pick({}, 'sv')).toBeUndefined();
  });
  it('names a credential by display name, else by vct', () => {
    expect(credentialName(entry, 'sv')).toBe('Inskrivningsintyg');
    expect(credentialName({ ...entry, display: { ...entry.display, names: {} } }, 'sv')).toBe(entry.vct);
  });
  it('follows a Swedish system language, else English', () => {
    expect(systemLang('sv-SE')).toBe('sv');
    expect(systemLang('en-US')).toBe('en');
    expect(systemLang(undefined)).toBe('en');
  });
  it('has every string in both languages', () => {
    expect(missingKeys()).toEqual([]);
  });
});

describe('claims', () => {
  it('walks objects and arrays, and leaves out registered claims', () => {
    expect(claimRows(entry.claims)).toEqual([
      { path: ['given_name'], value: 'Anna' },
      { path: ['address', 'locality'], value: 'Umeå' },
      { path: ['degrees', 0, 'title'], value: 'BSc' },
      { path: ['languages'], value: 'sv, en' },
    ]);
  });
  it('labels by exact path, by null for array elements, else by dotted path', () => {
    expect(claimLabel(entry.display, ['given_name'], 'sv')).toBe('Förnamn');
    expect(claimLabel(entry.display, ['address', 'locality'], 'en')).toBe('Ort');
    expect(claimLabel(entry.display, ['degrees', 0, 'title'], 'sv')).toBe('Degree');
    expect(claimLabel(entry.display, ['languages'], 'sv')).toBe('languages');
  });
  it('tells expired from valid by exp', () => {
    expect(validity(entry, 1_700_000_001)).toBe('valid');
    expect(validity(entry, 1_800_000_000)).toBe('expired');
    expect(validity({ ...entry, expires_at: null }, 9e9)).toBe('valid');
  });
  it('accepts only plain colours from metadata', () => {
    expect(safeColor('#12395e')).toBe('#12395e');
    expect(safeColor('navy')).toBe('navy');
    expect(safeColor('red;background:url(x)')).toBeUndefined();
    expect(safeColor(null)).toBeUndefined();
  });
});

describe('links', () => {
  it('routes offers to receive and requests to share', () => {
    expect(linkKind('openid-credential-offer://?credential_offer_uri=x')).toBe('offer');
    expect(linkKind(' openid4vp://?client_id=x')).toBe('request');
    expect(linkKind('haip-vci://?credential_offer_uri=x')).toBe('offer');
    expect(linkKind('haip-vp://?client_id=x')).toBe('request');
    expect(linkKind('haip://?client_id=x')).toBe('request');
    expect(linkKind('HAIP://?request_uri=x')).toBe('request');
    expect(linkKind('https://example.com')).toBeUndefined();
    expect(linkKind('')).toBeUndefined();
  });
});

describe('consent', () => {
  const proposal: ProposalView = {
    ticket: 1,
    verifier: { client_id: 'x509_san_dns:employer.example', authenticated: true, dns_names: ['employer.example'], name: 'Employer' },
    purpose: 'Internship',
    response_uri: 'https://employer.example/response',
    encrypted: true,
    credentials: [
      {
        query_id: 'reg',
        credential_id: 'a1',
        name: 'Registration certificate',
        vct: 'x',
        required: true,
        status: 'valid',
        claims: [
          { path: ['registration_status'], name: 'registration_status', label: null, required: true },
          { path: ['given_name'], name: 'given_name', label: null, required: false },
          { path: ['address', 'locality'], name: 'address.locality', label: null, required: false },
        ],
      },
    ],
    unsatisfied: null,
  };
  it('shares no optional claim unless ticked', () => {
    expect(includeList(proposal, new Set())).toEqual([]);
  });
  it('shares exactly the ticked optional claims the proposal offers', () => {
    const ticked = new Set(['reg.address.locality', 'reg.registration_status', 'other.given_name']);
    expect(includeList(proposal, ticked)).toEqual(['reg.address.locality']);
  });
});

describe('history', () => {
  const at = (n: number, kind: HistoryEntry['kind'], ok = true): HistoryEntry => ({
    id: String(n),
    at: n,
    kind,
    counterparty: 'https://x',
    counterparty_name: null,
    purpose: null,
    credentials: [],
    result: ok ? { status: 'success' } : { status: 'failure', code: 'network_error', message: '' },
  });
  const log = [at(1, 'issuance'), at(2, 'presentation'), at(3, 'denial'), at(4, 'presentation', false)];
  it('lists newest first and filters by kind and result', () => {
    expect(filterHistory(log, 'all').map((e) => e.id)).toEqual(['4', '3', '2', '1']);
    expect(filterHistory(log, 'received').map((e) => e.id)).toEqual(['1']);
    expect(filterHistory(log, 'shared').map((e) => e.id)).toEqual(['2']);
    expect(filterHistory(log, 'declined').map((e) => e.id)).toEqual(['3']);
    expect(filterHistory(log, 'failed').map((e) => e.id)).toEqual(['4']);
  });
});

describe('receiving', () => {
  it('asks an issuer for a http(s) address and reads anything else as an offer', () => {
    expect(receiveKind(' https://issuer.example/ ')).toBe('issuer');
    expect(receiveKind('http://127.0.0.1:8080')).toBe('issuer');
    expect(receiveKind('openid-credential-offer://?credential_offer_uri=x')).toBe('offer');
    expect(receiveKind('not a link')).toBe('offer');
  });
  it('uses the one-time code when there is one, else a login, else nothing', () => {
    expect(receiveMode({ pre_authorized: true, authorization_code: true })).toBe('pre_authorized');
    expect(receiveMode({ pre_authorized: false, authorization_code: true })).toBe('login');
    expect(receiveMode({ pre_authorized: false, authorization_code: false })).toBe('unsupported');
  });
  it('has readable texts for the ways a login ends', () => {
    setLang('en');
    expect(errorText('access_denied')).toBe('You cancelled the login or the issuer refused.');
    for (const code of ['authorization_timeout', 'state_mismatch', 'invalid_callback', 'authorization_refused', 'cancelled']) {
      expect(errorText(code)).not.toBe(errorText('some_unknown_code'));
    }
    setLang('sv');
    expect(errorText('access_denied')).toBe('Du avbröt inloggningen, eller så nekade utfärdaren.');
    setLang('en');
  });
  it('says when an issuer only accepts certified wallets', () => {
    setLang('sv');
    expect(errorText('certified_wallet_required')).toMatch(/^Utfärdaren tar bara emot certifierade plånböcker\./);
    setLang('en');
    expect(errorText('certified_wallet_required')).toMatch(/^This issuer only accepts certified wallets\./);
  });
});

describe('login events', () => {
  type Finished = { id: number; result: string };
  it('hands an event to the one who waits for its id', async () => {
    const mailbox = new Mailbox<Finished>();
    const waiting = mailbox.receive(2);
    mailbox.deliver({ id: 1, result: 'failed' });
    mailbox.deliver({ id: 2, result: 'received' });
    await expect(waiting).resolves.toEqual({ id: 2, result: 'received' });
  });
  it('keeps an event that came before anyone waited, once', async () => {
    const mailbox = new Mailbox<Finished>();
    mailbox.deliver({ id: 7, result: 'received' });
    await expect(mailbox.receive(7)).resolves.toEqual({ id: 7, result: 'received' });
    const again = await Promise.race([mailbox.receive(7), new Promise((r) => setTimeout(() => r('pending'), 10))]);
    expect(again).toBe('pending');
  });
});

describe('status', () => {
  const now = 1_750_000_000;
  const withStatus = (status: CredentialEntry['status']['status'], checked_at: number | null = now) => ({
    ...entry,
    status: { status, checked_at },
  });
  it('puts what the issuer did before expiry, and expiry before the list', () => {
    expect(standing(withStatus('valid'), now)).toBe('valid');
    expect(standing(withStatus('invalid'), now)).toBe('revoked');
    expect(standing({ ...withStatus('suspended'), expires_at: now - 1 }, now)).toBe('suspended');
    expect(standing({ ...withStatus('valid'), expires_at: now - 1 }, now)).toBe('expired');
    expect(standing(withStatus('unknown', null), now)).toBe('unchecked');
  });
  it('knows when anything was last checked', () => {
    expect(lastChecked([])).toBeNull();
    expect(lastChecked([withStatus('valid', null)])).toBeNull();
    expect(lastChecked([withStatus('valid', 5), withStatus('invalid', 9), withStatus('unknown', null)])).toBe(9);
  });
  it('sums a refresh up, for all or for one credential', () => {
    const report: StatusRefresh[] = [
      { credential_id: 'a', status: 'valid', checked_at: 100, failure: null },
      { credential_id: 'b', status: 'invalid', checked_at: 100, failure: null },
      { credential_id: 'c', status: 'valid', checked_at: 50, failure: { code: 'status_list_unavailable', message: 'HTTP 503' } },
    ];
    expect(summarizeRefresh(report)).toEqual({ checked: 2, withdrawn: 1, failed: 1, reason: 'status_list_unavailable', at: 100 });
    expect(summarizeRefresh(report, 'b')).toEqual({ checked: 1, withdrawn: 1, failed: 0, reason: null, at: 100 });
    expect(summarizeRefresh(report, 'c')).toEqual({ checked: 0, withdrawn: 0, failed: 1, reason: 'status_list_unavailable', at: null });
    expect(summarizeRefresh([])).toEqual({ checked: 0, withdrawn: 0, failed: 0, reason: null, at: null });
  });
});
