// The UI's logic, without the DOM: names and labels by locale, claims as
// rows, links by kind, the consent selection, history filters.

import type {
  ByLocale,
  ClaimsPath,
  CredentialEntry,
  Display,
  HistoryEntry,
  Json,
  ProposalView,
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
export function claimRows(claims: Record<string, Json>): ClaimRow[] {
  const rows: ClaimRow[] = [];
  const walk = (value: Json, path: ClaimsPath) => {
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) {
        rows.push({ path, value: value.map(formatValue).join(', ') });
      } else {
        value.forEach((v, i) => walk(v, [...path, i]));
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) walk(v, [...path, key]);
    } else {
      rows.push({ path, value: formatValue(value) });
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

/** The first `n` rows: what a card shows. */
export function keyClaims(entry: CredentialEntry, n = 2): ClaimRow[] {
  return claimRows(entry.claims).slice(0, n);
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
  if (scheme === 'openid-credential-offer') return 'offer';
  if (scheme === 'openid4vp' || scheme === 'haip') return 'request';
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

/** A CSS colour from metadata, or undefined when it is not a plain one. */
export function safeColor(color: string | null | undefined): string | undefined {
  if (!color) return undefined;
  return /^#[0-9a-f]{3,8}$/i.test(color) || /^[a-z]{3,20}$/i.test(color) ? color : undefined;
}
