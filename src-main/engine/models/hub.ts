// Hugging Face hub client, the small part of it we need. Layout relied on (huggingface_hub
// `HfApi.model_info(files_metadata=True)`, `hf_hub_url`, `get_hf_file_metadata`):
//   GET  {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
//        -> { sha, siblings: [{ rfilename, size, blobId, lfs?: { sha256, size, pointerSize } }] }
//   GET  {endpoint}/{repo}/resolve/{rev}/{file}   (LFS files redirect to a CDN; Range works there)
//   HEAD on the same URL without following redirects: X-Linked-Etag (LFS sha256) / ETag,
//        X-Linked-Size, X-Repo-Commit.
// fetch keeps Range across the CDN redirect and drops Authorization when the origin changes.
// Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
import { AppError } from '../../../src-shared/errors.ts';
import { isSha256Hex } from './hash.ts';
import { assertRepoId } from './paths.ts';
import { TransientError, classifyNetworkError, parseRetryAfter } from './retry.ts';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
const USER_AGENT = 'dia-studio/0.1 (model download)';

export interface HubConfig {
  endpoint: string;
  token?: string;
}

export interface HubOptions {
  endpoint?: string;
  token?: string;
  env?: NodeJS.ProcessEnv;
}

/** Endpoint: option, else $HF_ENDPOINT, else huggingface.co. Token: option, else $HF_TOKEN. */
export function resolveHubConfig(options: HubOptions = {}): HubConfig {
  const env = options.env ?? process.env;
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AppError('invalid-input', `Invalid hub endpoint "${endpoint}" (HF_ENDPOINT must be an http(s) URL)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('invalid-input', `Invalid hub endpoint "${endpoint}": only http and https are supported`);
  const token = (options.token ?? env.HF_TOKEN)?.trim();
  return token ? { endpoint, token } : { endpoint };
}

export function hubHeaders(hub: HubConfig, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...extra };
  if (hub.token) headers.authorization = `Bearer ${hub.token}`;
  return headers;
}

/** Revisions such as refs/pr/1 are one path segment, percent-encoded (as huggingface_hub does). */
export function fileUrl(hub: HubConfig, repo: string, revision: string, name: string): string {
  assertRepoId(repo);
  const file = name.split('/').map(encodeURIComponent).join('/');
  return `${hub.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

export function listingUrl(hub: HubConfig, repo: string, revision: string): string {
  assertRepoId(repo);
  return `${hub.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export interface RemoteFile {
  name: string;
  size?: number;
  /** Known for LFS files (siblings[].lfs.sha256); small git files only have a git blob id. */
  sha256?: string;
  /** Git blob sha1 of small (non-LFS) files: sha1("blob <size>\0" + content). */
  gitBlobId?: string;
}

export interface RepoListing {
  repo: string;
  revision: string;
  /** The commit the revision resolved to; downloads pin to it so every file comes from one commit. */
  commit?: string;
  files: RemoteFile[];
}

export async function fetchRepoListing(hub: HubConfig, repo: string, revision: string, signal?: AbortSignal): Promise<RepoListing> {
  const what = `Listing ${repo}@${revision}`;
  let res: Response;
  try {
    res = await fetch(listingUrl(hub, repo, revision), { headers: hubHeaders(hub, { accept: 'application/json' }), signal });
  } catch (err) {
    throw classifyNetworkError(err, what, signal);
  }
  if (!res.ok) throw await hubResponseError(res, { repo, revision }, hub);
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw classifyNetworkError(err, what, signal);
  }
  const siblings = (body as { siblings?: unknown })?.siblings;
  if (!Array.isArray(siblings)) throw new AppError('download-failed', `${what}: the hub answered without a file list (is ${hub.endpoint} a Hugging Face hub?)`);
  const files: RemoteFile[] = [];
  for (const s of siblings as Array<Record<string, unknown>>) {
    if (typeof s?.rfilename !== 'string') continue;
    const lfs = s.lfs as { sha256?: unknown; oid?: unknown; size?: unknown } | undefined;
    const lfsSha = lfs?.sha256 ?? lfs?.oid;
    const size = typeof lfs?.size === 'number' ? lfs.size : typeof s.size === 'number' ? s.size : undefined;
    files.push({
      name: s.rfilename,
      ...(size !== undefined ? { size } : {}),
      ...(isSha256Hex(lfsSha) ? { sha256: lfsSha } : {}),
      ...(!lfs && typeof s.blobId === 'string' && /^[0-9a-f]{40}$/.test(s.blobId) ? { gitBlobId: s.blobId } : {}),
    });
  }
  const sha = (body as { sha?: unknown }).sha;
  return { repo, revision, ...(typeof sha === 'string' && sha ? { commit: sha } : {}), files };
}

/**
 * Per-file metadata from a HEAD on the resolve URL, for listings that lack LFS details. The first
 * response is read without following the redirect: it carries X-Linked-Etag (the LFS sha256).
 */
export async function fetchFileMetadata(hub: HubConfig, repo: string, revision: string, name: string, signal?: AbortSignal): Promise<{ sha256?: string; size?: number }> {
  let res: Response;
  try {
    res = await fetch(fileUrl(hub, repo, revision, name), { method: 'HEAD', redirect: 'manual', headers: hubHeaders(hub, { 'accept-encoding': 'identity' }), signal });
  } catch (err) {
    throw classifyNetworkError(err, `Metadata of ${name} in ${repo}`, signal);
  }
  if (!res.ok && (res.status < 300 || res.status > 399)) throw await hubResponseError(res, { repo, revision, file: name }, hub);
  const etag = normaliseEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
  const sizeHeader = res.headers.get('x-linked-size') ?? (res.status < 300 ? res.headers.get('content-length') : null);
  const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
  return { ...(isSha256Hex(etag) ? { sha256: etag } : {}), ...(size !== undefined ? { size } : {}) };
}

function normaliseEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

export interface HubTarget {
  repo: string;
  revision: string;
  file?: string;
}

/**
 * Turns a non-2xx hub answer into an error naming the repo or file: TransientError for 408, 429
 * and 5xx (retried), AppError('download-failed') with a hint for the rest.
 */
export async function hubResponseError(res: Response, target: HubTarget, hub: HubConfig): Promise<Error> {
  const code = res.headers.get('x-error-code') ?? '';
  const serverMessage = res.headers.get('x-error-message') ?? '';
  await res.body?.cancel().catch(() => undefined);
  const where = target.file ? `${target.file} in ${target.repo}@${target.revision}` : `${target.repo}@${target.revision}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return new TransientError(`HTTP ${res.status} from ${hub.endpoint}`, { retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) });
  }
  let message: string;
  if (code === 'GatedRepo' || (res.status === 403 && /gated|access/i.test(serverMessage))) {
    message = `${target.repo} is gated: accept its terms on the hub, then set HF_TOKEN to a token of that account`;
  } else if (code === 'RevisionNotFound') {
    message = `Revision "${target.revision}" not found in ${target.repo} on ${hub.endpoint}`;
  } else if (code === 'EntryNotFound' || (target.file && res.status === 404 && code !== 'RepoNotFound')) {
    message = `File ${where} not found on ${hub.endpoint}`;
  } else if (code === 'RepoNotFound' || res.status === 404 || res.status === 401) {
    const auth = hub.token ? 'check the name and that HF_TOKEN grants access' : 'check the name; private repos need HF_TOKEN';
    message = `Model repository ${target.repo} not found on ${hub.endpoint} (${auth})`;
  } else if (res.status === 403) {
    message = `Access to ${where} denied by ${hub.endpoint} (HTTP 403${serverMessage ? `: ${serverMessage}` : ''})`;
  } else {
    message = `Unexpected HTTP ${res.status} for ${where} from ${hub.endpoint}${serverMessage ? `: ${serverMessage}` : ''}`;
  }
  return new AppError('download-failed', message);
}
