// The UI's logic, without the DOM: names and labels by locale, claims as
// rows, links by kind, how an offer is received, the consent selection,
// history filters, credential status.

import type {
  ByLocale,
  ClaimsPath,
  CredentialEntry,
  Display,
  HistoryEntry,
  Json,
  OfferView,
  ProposalView,
  StatusRefresh,
} from './types';

/** The value for `locale`, else English, else the first, else undefined. */
export function pick(byLocale: ByLocale | undefined, locale: string): string | undefined {
  if (!byLocale) return undefined;
  return byLocale[locale] ?? byLocale.en ?? Object.values(byLocale)[0];
}

/** A credential's display name (the `vct` when metadata gives none). */
export function credentialName(entry: CredentialEntry, locale: string): string {
  return pick(entry.display.names, locale) ?? entry.vct;
}

/** The issuer as shown: its display name, else the host of its URL. */
export function issuerName(entry: Pick<CredentialEntry, 'issuer' | 'issuer_name'>): string {
  return entry.issuer_name ?? hostOf(entry.issuer);
}

/**
 * "Issued by a provider on <list>" (`phrase` is that text up to the name)
 * when a trust list in force names the issuer, else null.
 */
export function listedOn(entry: Pick<CredentialEntry, 'listed_on'>, phrase: string): string | null {
  return entry.listed_on ? `${phrase} ${entry.listed_on}` : null;
}

/** The host of a URL, or the string itself when it is not one. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

function samePath(a: ClaimsPath, b: ClaimsPath): boolean {
  return a.length === b.length && a.every((element, i) => element === b[i]);
}

/** Concrete array indices match a `null` (every element) in a label path. */
function matchesLabelPath(labelPath: ClaimsPath, path: ClaimsPath): boolean {
  return (
    labelPath.length === path.length &&
    labelPath.every((element, i) => element === path[i] || (element === null && typeof path[i] === 'number'))
  );
}

/** The label of the claim at `path`, else its path written with dots. */
export function claimLabel(display: Display | undefined, path: ClaimsPath, locale: string): string {
  const exact = display?.claims.find((c) => samePath(c.path, path));
  const claim = exact ?? display?.claims.find((c) => matchesLabelPath(c.path, path));
  return pick(claim?.labels, locale) ?? pathName(path);
}

/**
 * `value` of the claim at `path` in words in `locale`, when the type's
 * metadata gives them (`ClaimLabel.values`); else undefined.
 */
export function valueWord(display: Display | undefined, path: ClaimsPath, value: Json, locale: string): string | undefined {
  const claim = display?.claims.find((c) => samePath(c.path, path)) ?? display?.claims.find((c) => matchesLabelPath(c.path, path));
  const found = claim?.values?.find(([v]) => JSON.stringify(v) === JSON.stringify(value));
  return found ? pick(found[1], locale) : undefined;
}

/** `address.locality`, `degrees.0.title`. */
export function pathName(path: ClaimsPath): string {
  return path.map((element) => (element === null ? '*' : String(element))).join('.');
}

/** The registered JWT and SD-JWT VC claims, which are not the person's. */
export const REGISTERED = new Set([
  'iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'vct', 'vct#integrity', 'cnf', 'status', '_sd_alg',
]);

export interface ClaimRow {
  path: ClaimsPath;
  value: string;
}

/**
 * The subject's claims as rows: objects are walked into their leaves,
 * arrays of plain values joined, arrays of objects walked by index.
 */
export function claimRows(claims: Record<string, Json>, display?: Display, locale = 'en'): ClaimRow[] {
  const rows: ClaimRow[] = [];
  const word = (value: Json, path: ClaimsPath) => valueWord(display, path, value, locale) ?? formatValue(value);
  const walk = (value: Json, path: ClaimsPath) => {
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) {
        rows.push({ path, value: value.map((v) => word(v, [...path, null])).join(', ') });
      } else {
        value.forEach((v, i) => walk(v, [...path, i]));
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) walk(v, [...path, key]);
    } else {
      rows.push({ path, value: word(value, path) });
    }
  };
  for (const [name, value] of Object.entries(claims)) {
    if (!REGISTERED.has(name)) walk(value, [name]);
  }
  return rows;
}

function formatValue(value: Json): string {
  if (value === null) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The subject's claims as rows ([`claimRows`], values in words) in the
 * order the type metadata lists them; claims it does not list follow in
 * the credential's order.
 */
export function orderedClaimRows(entry: CredentialEntry, locale: string): ClaimRow[] {
  const rows = claimRows(entry.claims, entry.display, locale);
  const rank = (row: ClaimRow): number => {
    const i = entry.display.claims.findIndex((c) => samePath(c.path, row.path) || matchesLabelPath(c.path, row.path));
    return i === -1 ? entry.display.claims.length : i;
  };
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => rank(a.row) - rank(b.row) || a.i - b.i)
    .map((x) => x.row);
}

/** One item of a card's summary line: a label (none for a person's name) and a value. */
export interface SummaryItem {
  label: string | null;
  value: string;
}

const GIVEN = 'given_name';
const FAMILY = 'family_name';

/**
 * What a card shows: the first `n` displayable claims in the order the
 * type metadata lists them (then the rest in the credential's order),
 * values in words where the type gives them. A given name and a family
 * name go together as one item, the person's name, without a label.
 */
export function summary(entry: CredentialEntry, locale: string, n = 2): SummaryItem[] {
  const ordered = orderedClaimRows(entry, locale);
  const rows = ordered;
  const top = (row: ClaimRow) => (row.path.length === 1 ? row.path[0] : undefined);
  const given = rows.find((r) => top(r) === GIVEN);
  const family = rows.find((r) => top(r) === FAMILY);
  const items: SummaryItem[] = [];
  let named = false;
  for (const row of ordered) {
    if (items.length >= n) break;
    if (top(row) === GIVEN || top(row) === FAMILY) {
      if (named) continue;
      named = true;
      items.push({ label: null, value: [given?.value, family?.value].filter(Boolean).join(' ') });
    } else {
      items.push({ label: claimLabel(entry.display, row.path, locale), value: row.value });
    }
  }
  return items;
}

/** An sRGB colour as 0–255 channels. */
export type Rgb = [number, number, number];

/** `#rgb` or `#rrggbb`, else undefined (other CSS forms are not read). */
export function parseHex(color: string | null | undefined): Rgb | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color?.trim() ?? '');
  if (!m) return undefined;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

/** WCAG 2.1 relative luminance. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2.1 contrast ratio, 1 to 21. */
export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** WCAG 2.1 AA for normal text (1.4.3). */
export const MIN_CONTRAST = 4.5;

/** The card colours when the metadata gives none that can be read. */
export const DEFAULT_CARD = { background: '#12395e', text: '#ffffff' } as const;

/**
 * A card's background and text colour: the type metadata's pair when it
 * has at least 4.5:1 contrast; else its background with black or white,
 * whichever reads better (one of them always reaches 4.5:1); else the
 * default pair.
 */
export function cardColors(display: Pick<Display, 'background_color' | 'text_color'>): { background: string; text: string } {
  const background = parseHex(display.background_color);
  if (!background) return { ...DEFAULT_CARD };
  const text = parseHex(display.text_color);
  if (text && contrast(background, text) >= MIN_CONTRAST) {
    return { background: display.background_color!.trim(), text: display.text_color!.trim() };
  }
  const white: Rgb = [255, 255, 255];
  const black: Rgb = [0, 0, 0];
  return {
    background: display.background_color!.trim(),
    text: contrast(background, white) >= contrast(background, black) ? '#ffffff' : '#000000',
  };
}

/** A logo the webview may load: a `data:` URI of a raster image only. */
export function safeLogo(uri: string | null | undefined): string | undefined {
  return uri && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$/.test(uri) ? uri : undefined;
}

export type Validity = 'valid' | 'expired';

/** Validity by `exp` at `now` (Unix seconds). */
export function validity(entry: CredentialEntry, now: number): Validity {
  return entry.expires_at !== null && entry.expires_at <= now ? 'expired' : 'valid';
}

export type LinkKind = 'offer' | 'request';

/** What a pasted or opened link starts: receiving, or sharing. */
export function linkKind(link: string): LinkKind | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link.trim())?.[1]?.toLowerCase();
  // HAIP 1.0 names `haip-vci` (offers) and `haip-vp` (requests); `haip`
  // is a pre-1.0 draft's request scheme, still read when pasted (it is not
  // registered as a deep link).
  if (scheme === 'openid-credential-offer' || scheme === 'haip-vci') return 'offer';
  if (scheme === 'openid4vp' || scheme === 'haip-vp' || scheme === 'haip') return 'request';
  return undefined;
}

/** The key of an optional claim in the consent selection and in `include`. */
export function includeKey(queryId: string, claimName: string): string {
  return `${queryId}.${claimName}`;
}

/**
 * The optional claims to share, as the engine's `include` names: only
 * those the person ticked, and only those the proposal offers.
 */
export function includeList(proposal: ProposalView, ticked: ReadonlySet<string>): string[] {
  const offered = proposal.credentials.flatMap((c) =>
    c.claims.filter((claim) => !claim.required).map((claim) => includeKey(c.query_id, claim.name)),
  );
  return offered.filter((key) => ticked.has(key));
}

export type HistoryFilter = 'all' | 'received' | 'shared' | 'declined' | 'failed';

/** History newest first, filtered. */
export function filterHistory(entries: HistoryEntry[], filter: HistoryFilter): HistoryEntry[] {
  const keep = (e: HistoryEntry): boolean => {
    switch (filter) {
      case 'all':
        return true;
      case 'received':
        return e.kind === 'issuance';
      case 'shared':
        return e.kind === 'presentation' && e.result.status === 'success';
      case 'declined':
        return e.kind === 'denial';
      case 'failed':
        return e.result.status === 'failure';
    }
  };
  return entries.filter(keep).sort((a, b) => b.at - a.at);
}

/** A date and time in `locale`. */
export function formatTime(unix: number, locale: string): string {
  return new Date(unix * 1000).toLocaleString(locale === 'sv' ? 'sv-SE' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

export type ReceiveKind = 'offer' | 'issuer';

/**
 * What a pasted text starts: an `http(s)` address is an issuer to request
 * a credential from (wallet-initiated issuance); anything else is read as
 * an offer link (the engine says when it is not one).
 */
export function receiveKind(text: string): ReceiveKind {
  try {
    const url = new URL(text.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? 'issuer' : 'offer';
  } catch {
    return 'offer';
  }
}

export type ReceiveMode = 'pre_authorized' | 'login' | 'unsupported';

/**
 * How an offer is received: with the one-time code flow when it has a
 * pre-authorized code, else by logging in at the issuer when it supports
 * that, else not at all.
 */
export function receiveMode(offer: Pick<OfferView, 'pre_authorized' | 'authorization_code'>): ReceiveMode {
  if (offer.pre_authorized) return 'pre_authorized';
  if (offer.authorization_code) return 'login';
  return 'unsupported';
}

/**
 * Messages that may arrive before anyone waits for them, each for one
 * waiter by `id`: a login's `authorization-finished` event can come before
 * the screen that waits for it is drawn.
 */
export class Mailbox<T extends { id: number }> {
  #arrived = new Map<number, T>();
  #waiting = new Map<number, (item: T) => void>();

  deliver(item: T): void {
    const waiter = this.#waiting.get(item.id);
    if (waiter) {
      this.#waiting.delete(item.id);
      waiter(item);
    } else {
      this.#arrived.set(item.id, item);
    }
  }

  /** The message for `id`, now or when it arrives. */
  receive(id: number): Promise<T> {
    const arrived = this.#arrived.get(id);
    if (arrived) {
      this.#arrived.delete(id);
      return Promise.resolve(arrived);
    }
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }
}

export type Standing = 'revoked' | 'suspended' | 'expired' | 'valid' | 'unchecked';

/**
 * What the detail says about a credential at `now`: what the issuer did
 * (revoked, suspended) first, then expiry, then what the status list last
 * said.
 */
export function standing(entry: CredentialEntry, now: number): Standing {
  if (entry.status.status === 'invalid') return 'revoked';
  if (entry.status.status === 'suspended') return 'suspended';
  if (validity(entry, now) === 'expired') return 'expired';
  return entry.status.status === 'valid' ? 'valid' : 'unchecked';
}

/** When any of `entries` was last checked against its status list. */
export function lastChecked(entries: CredentialEntry[]): number | null {
  return entries.reduce<number | null>((last, e) => {
    const at = e.status.checked_at;
    return at !== null && (last === null || at > last) ? at : last;
  }, null);
}

export interface RefreshSummary {
  /** Credentials whose status list answered. */
  checked: number;
  /** Of those, the ones revoked or suspended. */
  withdrawn: number;
  /** Credentials whose status list did not answer, with the first reason. */
  failed: number;
  reason: string | null;
  /** When the lists answered. */
  at: number | null;
}

/** A `refresh_status` report, for one line of text (of `id` only, if given). */
export function summarizeRefresh(report: StatusRefresh[], id?: string): RefreshSummary {
  const lines = id === undefined ? report : report.filter((r) => r.credential_id === id);
  const answered = lines.filter((r) => r.failure === null);
  const failed = lines.filter((r) => r.failure !== null);
  return {
    checked: answered.length,
    withdrawn: answered.filter((r) => r.status === 'invalid' || r.status === 'suspended').length,
    failed: failed.length,
    reason: failed[0]?.failure?.code ?? null,
    at: answered.reduce<number | null>((at, r) => (r.checked_at !== null && (at === null || r.checked_at > at) ? r.checked_at : at), null),
  };
}
