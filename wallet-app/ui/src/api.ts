// One function per Tauri command (wallet-app/src-tauri/src/commands.rs).

import { invoke } from '@tauri-apps/api/core';
import type {
  AppError,
  CredentialEntry,
  Erasure,
  HistoryEntry,
  LoginView,
  OfferView,
  Outcome,
  ProposalView,
  Status,
  StatusRefresh,
  TrustListStatus,
} from './types';

/** Whether a thrown value is a command error `{code, message}`. */
export function isAppError(value: unknown): value is AppError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

export const api = {
  status: () => invoke<Status>('status'),
  createWallet: (pin: string) => invoke<void>('create_wallet', { pin }),
  unlock: (pin: string) => invoke<void>('unlock', { pin }),
  lock: () => invoke<void>('lock'),
  credentials: () => invoke<CredentialEntry[]>('credentials'),
  credential: (id: string) => invoke<CredentialEntry>('credential', { id }),
  deleteCredential: (id: string) => invoke<string>('delete_credential', { id }),
  fetchOffer: (uri: string) => invoke<OfferView>('fetch_offer', { uri }),
  fetchIssuer: (url: string) => invoke<OfferView>('fetch_issuer', { url }),
  acceptOffer: (ticket: number, txCode: string | null) =>
    invoke<CredentialEntry[]>('accept_offer', { ticket, txCode }),
  beginAuthorization: (ticket: number, configurations: string[]) =>
    invoke<LoginView>('begin_authorization', { ticket, configurations }),
  cancelAuthorization: () => invoke<void>('cancel_authorization'),
  refreshStatus: () => invoke<StatusRefresh[]>('refresh_status'),
  preparePresentation: (uri: string) => invoke<ProposalView>('prepare_presentation', { uri }),
  respond: (ticket: number, approve: boolean, include: string[]) =>
    invoke<Outcome>('respond', { ticket, approve, include }),
  cancel: () => invoke<void>('cancel'),
  history: () => invoke<HistoryEntry[]>('history'),
  eraseShare: (id: string) => invoke<Erasure>('erase_share', { id }),
  reportShare: (id: string, path: string, text: string) =>
    invoke<string>('report_share', { id, path, text }),
  changePin: (oldPin: string, newPin: string) => invoke<void>('change_pin', { oldPin, newPin }),
  exportBackup: (path: string, passphrase: string) =>
    invoke<void>('export_backup', { path, passphrase }),
  restoreBackup: (path: string, passphrase: string, newPin: string) =>
    invoke<void>('restore_backup', { path, passphrase, newPin }),
  addVerifierRoots: (pem: string) => invoke<string[]>('add_verifier_roots', { pem }),
  addWrprcRoots: (pem: string) => invoke<string[]>('add_wrprc_roots', { pem }),
  trustLists: () => invoke<TrustListStatus[]>('trust_lists'),
  addTrustList: (url: string, signerPem: string) => invoke<TrustListStatus>('add_trust_list', { url, signerPem }),
  refreshTrustLists: () => invoke<TrustListStatus[]>('refresh_trust_lists'),
  startupLink: () => invoke<string | null>('startup_link'),
};
