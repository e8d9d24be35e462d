import { describe, expect, it } from 'vitest';

import { errorText, missingKeys, plural, pluralCategory, setLang, systemLang, t } from './i18n';
import {
  claimLabel,
  claimRows,
  credentialName,
  filterHistory,
  includeList,
  lastChecked,
  linkKind,
  listedOn,
  Mailbox,
  pick,
  receiveKind,
  receiveMode,
  cardColors,
  contrast,
  DEFAULT_CARD,
  parseHex,
  safeLogo,
  orderedClaimRows,
  summary,
  valueWord,
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
});

describe('trust lists', () => {
  it('names the list whose providers issued a credential, in both languages', () => {
    const listed = { ...entry, listed_on: 'Test Pub-EAA providers' };
    setLang('sv');
    expect(listedOn(listed, t('listedOn'))).toBe('Utfärdad av en leverantör på Test Pub-EAA providers');
    setLang('en');
    expect(listedOn(listed, t('listedOn'))).toBe('Issued by a provider on Test Pub-EAA providers');
  });

  it('says nothing for an issuer no list names, or an entry from an older store', () => {
    expect(listedOn({ ...entry, listed_on: null }, 'x')).toBeNull();
    expect(listedOn({ ...entry, listed_on: undefined }, 'x')).toBeNull();
  });
});

describe('card colours', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 5);
    expect(contrast([255, 255, 255], [255, 255, 255])).toBeCloseTo(1, 5);
    // #767676 on white is the known 4.54:1 threshold grey.
    expect(contrast(parseHex('#767676')!, parseHex('#fff')!)).toBeCloseTo(4.54, 2);
  });
  it("keeps the metadata's pair when it reads at 4.5:1", () => {
    expect(cardColors({ background_color: '#4b2a6b', text_color: '#ffffff' })).toEqual({ background: '#4b2a6b', text: '#ffffff' });
  });
  it('falls back to black or white on the background when the pair fails', () => {
    // Yellow text on white: 1.07:1.
    expect(cardColors({ background_color: '#ffffff', text_color: '#ffff00' })).toEqual({ background: '#ffffff', text: '#000000' });
    // Dark grey on navy fails too; white reads on navy.
    expect(cardColors({ background_color: '#12395e', text_color: '#333333' })).toEqual({ background: '#12395e', text: '#ffffff' });
    // No text colour at all.
    expect(cardColors({ background_color: '#ffe066', text_color: null })).toEqual({ background: '#ffe066', text: '#000000' });
  });
  it('every fallback reaches 4.5:1 whatever the background', () => {
    for (let v = 0; v <= 255; v += 5) {
      const hex = `#${v.toString(16).padStart(2, '0').repeat(3)}`;
      const { background, text } = cardColors({ background_color: hex, text_color: hex });
      expect(contrast(parseHex(background)!, parseHex(text)!)).toBeGreaterThanOrEqual(4.5);
    }
  });
  it('uses the default pair for colours it cannot read (no CSS injection)', () => {
    expect(cardColors({ background_color: 'red;background:url(x)', text_color: '#fff' })).toEqual({ ...DEFAULT_CARD });
    expect(cardColors({ background_color: null, text_color: null })).toEqual({ ...DEFAULT_CARD });
  });
  it('loads a logo only from a data: URI of a raster image', () => {
    expect(safeLogo('data:image/png;base64,iVBORw0KGgo=')).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(safeLogo('https://issuer.example/logo.png')).toBeUndefined();
    expect(safeLogo('data:image/svg+xml;base64,PHN2Zz4=')).toBeUndefined();
    expect(safeLogo('data:text/html;base64,PGI+')).toBeUndefined();
    expect(safeLogo(null)).toBeUndefined();
  });
});

describe('summary line', () => {
  const person: CredentialEntry = {
    ...entry,
    display: {
      ...entry.display,
      claims: [
        { path: ['personal_identity_number'], labels: { sv: 'Personnummer', en: 'Personal identity number' } },
        { path: ['family_name'], labels: { sv: 'Efternamn', en: 'Family name' } },
        { path: ['given_name'], labels: { sv: 'Förnamn', en: 'Given name' } },
        {
          path: ['registration_status'],
          labels: { sv: 'Inskrivningsstatus', en: 'Registration status' },
          values: [['in_programme', { sv: 'I program', en: 'In a programme' }]],
        },
      ],
    },
    claims: { iss: 'x', registration_status: 'in_programme', given_name: 'Karin', family_name: 'Lindqvist', personal_identity_number: '198001012380' },
  };
  it('follows the metadata order and keeps given and family name together', () => {
    expect(summary(person, 'sv', 2)).toEqual([
      { label: 'Personnummer', value: '198001012380' },
      { label: null, value: 'Karin Lindqvist' },
    ]);
    expect(summary(person, 'en', 3)[2]).toEqual({ label: 'Registration status', value: 'In a programme' });
  });
  it('orders the detail rows as the metadata lists the claims', () => {
    expect(orderedClaimRows({ ...person, claims: { ...person.claims, office: 'Malmö' } }, 'sv').map((r) => r.path[0])).toEqual([
      'personal_identity_number',
      'family_name',
      'given_name',
      'registration_status',
      'office',
    ]);
  });
  it('shows enumerated values in words, the raw value otherwise', () => {
    expect(valueWord(person.display, ['registration_status'], 'in_programme', 'sv')).toBe('I program');
    expect(valueWord(person.display, ['registration_status'], 'other', 'sv')).toBeUndefined();
    expect(claimRows(person.claims, person.display, 'en').find((r) => r.path[0] === 'registration_status')?.value).toBe('In a programme');
    expect(claimRows({ registration_status: 'job_seeker' }, person.display, 'en')[0].value).toBe('job_seeker');
  });
});

describe('plurals', () => {
  it('says 1 credential is and 2 credentials are, in both languages', () => {
    setLang('en');
    expect(plural('statusWithdrawn', 1)).toBe('1 of your credentials is revoked or suspended.');
    expect(plural('statusWithdrawn', 2)).toBe('2 of your credentials are revoked or suspended.');
    expect(plural('rootsAdded', 1)).toBe('1 certificate added.');
    expect(plural('loginWaiting', 5)).toBe('Waiting for the login (at most 5 minutes)…');
    setLang('sv');
    expect(plural('statusWithdrawn', 1)).toBe('1 av dina intyg är återkallat eller spärrat.');
    expect(plural('statusWithdrawn', 3)).toBe('3 av dina intyg är återkallade eller spärrade.');
    expect(plural('rootsAdded', 1)).toBe('1 certifikat tillagt.');
    expect(plural('loginWaiting', 1)).toBe('Väntar på inloggningen (högst 1 minut)…');
    setLang('en');
  });
  it('uses the one form only for exactly one', () => {
    expect(pluralCategory(0, 'en')).toBe('other');
    expect(pluralCategory(1, 'sv')).toBe('one');
    expect(pluralCategory(21, 'sv')).toBe('other');
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
          { path: ['registration_status'], name: 'registration_status', label: null, required: true, overasked: false },
          { path: ['given_name'], name: 'given_name', label: null, required: false, overasked: false },
          { path: ['address', 'locality'], name: 'address.locality', label: null, required: false, overasked: false },
          { path: ['personal_identity_number'], name: 'personal_identity_number', label: null, required: false, overasked: true },
        ],
        overasked: ['personal_identity_number'],
      },
    ],
    unsatisfied: null,
    registration: { valid: true, name: 'Employer', purpose: 'Recruitment' },
  };
  it('shares an over-asked claim only once confirmed (ticked)', () => {
    expect(includeList(proposal, new Set())).toEqual([]);
    expect(includeList(proposal, new Set(['reg.personal_identity_number']))).toEqual(['reg.personal_identity_number']);
  });
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
