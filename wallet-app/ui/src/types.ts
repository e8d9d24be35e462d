// What the Tauri commands return (serde shapes of wallet-app/src-tauri and
// the engine's model).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PathElement = string | number | null;
export type ClaimsPath = PathElement[];
export type ByLocale = Record<string, string>;

export interface ClaimLabel {
  path: ClaimsPath;
  labels: ByLocale;
  /** The claim's values in words: value, then labels by locale (absent when the type gives none). */
  values?: [Json, ByLocale][];
}

/** A logo the engine accepted: a `data:` URI of a raster image, never a remote address. */
export interface Logo {
  uri: string;
  alt_text: string | null;
}

export interface Display {
  names: ByLocale;
  descriptions: ByLocale;
  background_color: string | null;
  text_color: string | null;
  /** From the type metadata's `rendering.simple.logo` (absent in older stores). */
  logo?: Logo | null;
  claims: ClaimLabel[];
}

export interface CredentialEntry {
  id: string;
  issuer: string;
  issuer_name: string | null;
  vct: string;
  format: string;
  configuration_id: string | null;
  display: Display;
  claims: Record<string, Json>;
  received_at: number;
  expires_at: number | null;
  copies: number;
  copies_used: number;
  /** What the issuer's status list said when the wallet last asked. */
  status: StatusCheck;
  /** The trust list (ETSI TS 119 602) whose providers issued it, if any. */
  listed_on?: string | null;
}

/** A trust-list subscription as the engine reports it. */
export interface TrustListStatus {
  url: string;
  name: string | null;
  sequence_number: number | null;
  issued_at: number | null;
  next_update: number | null;
  fetched_at: number | null;
  usable: boolean;
  stale: boolean;
  services: { entity: string; service_type: string }[];
  last_error: { code: string; message: string; at: number } | null;
}

/** A credential's status per its issuer's Token Status List. */
export type CredentialStatus = 'valid' | 'invalid' | 'suspended' | 'unknown';

export interface StatusCheck {
  status: CredentialStatus;
  checked_at: number | null;
}

export interface Status {
  exists: boolean;
  unlocked: boolean;
  dev: boolean;
}

export interface TxCodeSpec {
  input_mode?: 'numeric' | 'text';
  length?: number;
  description?: string;
}

export interface OfferView {
  ticket: number;
  issuer: string;
  issuer_names: ByLocale;
  credentials: { id: string; names: ByLocale }[];
  tx_code: TxCodeSpec | null;
  /** `accept_offer` can take it (a one-time code flow). */
  pre_authorized: boolean;
  /** `begin_authorization` can take it: the person logs in at the issuer. */
  authorization_code: boolean;
}

/** A login at the issuer, started by `begin_authorization`. */
export interface LoginView {
  /** Names the login in the `authorization-finished` event. */
  id: number;
  /** Where the person logs in. */
  url: string;
  /** Whether the system browser was asked to open `url`. */
  browser_opened: boolean;
  timeout_secs: number;
}

/** The `authorization-finished` event: how a login ended. */
export type AuthorizationFinished = { id: number } & (
  | { result: 'received'; credentials: CredentialEntry[] }
  | { result: 'failed'; code: string; message: string }
);

/** One line of `refresh_status`. */
export interface StatusRefresh {
  credential_id: string;
  status: CredentialStatus;
  checked_at: number | null;
  /** Why the status list was not reached this time (the last known status stays). */
  failure: { code: string; message: string } | null;
}

export interface ProposedClaim {
  path: ClaimsPath;
  name: string;
  label: string | null;
  required: boolean;
  /** Not covered by the verifier's registration certificate. */
  overasked: boolean;
}

export interface ProposedCredential {
  query_id: string;
  credential_id: string;
  name: string;
  vct: string;
  required: boolean;
  /** `invalid` or `suspended` only when nothing valid fits the request. */
  status: CredentialStatus;
  claims: ProposedClaim[];
  overasked: string[];
}

/** The wallet's check of the verifier's registration certificate (ETSI TS 119 475). */
export interface RegistrationCheck {
  valid: boolean;
  reason?: string;
  message?: string;
  name?: string;
  identifier?: string;
  purpose?: string;
  privacy_policy?: string;
  support_uri?: string;
  expires_at?: number;
}

export interface HistoryRegistration {
  valid: boolean;
  reason?: string;
  name?: string;
  purpose?: string;
  overasked: string[];
  overasked_shared: string[];
}

export interface ProposalView {
  ticket: number;
  verifier: {
    client_id: string;
    authenticated: boolean;
    dns_names: string[];
    name: string | null;
  };
  purpose: string | null;
  response_uri: string;
  encrypted: boolean;
  credentials: ProposedCredential[];
  unsatisfied: string | null;
  registration: RegistrationCheck;
}

export type Outcome =
  | { result: 'shared'; redirect_uri: string | null; history_id: string }
  | { result: 'denied'; no_matching_credentials: boolean; history_id: string };

export type EventKind = 'issuance' | 'presentation' | 'denial';

export interface HistoryEntry {
  id: string;
  at: number;
  kind: EventKind;
  counterparty: string;
  counterparty_name: string | null;
  purpose: string | null;
  credentials: { credential_id: string | null; vct: string; claims: ClaimsPath[] }[];
  result: { status: 'success' } | { status: 'failure'; code: string; message: string };
  /** The verifier's signed receipt (Intyg extension), as the wallet checked it. */
  receipt?: Receipt;
  /** The erasure request's signed answer, once asked. */
  erasure?: ErasureRecord;
  registration?: HistoryRegistration;
}

export interface Receipt {
  verified: boolean;
  error?: string;
  transaction?: string;
  received_at?: number;
  retention_until?: number;
  erasure_endpoint?: string;
}

export interface ErasureRecord {
  status: 'erased' | 'refused';
  verified: boolean;
  requested_at: number;
  erased_at?: number;
  legal_basis?: string;
}

/** What `erase_share` answers. */
export interface Erasure extends ErasureRecord {
  history_id: string;
  already: boolean;
}

/** A failed command: a stable code (localized by the UI) and the detail. */
export interface AppError {
  code: string;
  message: string;
}
