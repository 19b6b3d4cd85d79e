/** Content identities: git blob SHAs (so local files compare with the remote tree) and the PR fingerprint. */
import { createHash } from 'node:crypto';

/** The SHA-1 git gives a blob with these bytes (`git hash-object`). */
export function gitBlobSha(content: string | Buffer): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** sha256 over the proposed files (path and blob SHA, sorted; null for a removal) and the body without its marker. */
export function fingerprint(files: ReadonlyMap<string, string | null>, body: string): string {
  const h = createHash('sha256');
  for (const path of [...files.keys()].sort()) h.update(`${path}\0${files.get(path) ?? '-'}\n`);
  h.update('\0');
  h.update(body);
  return `sha256:${h.digest('hex')}`;
}

const MARKER = /<!-- leastpath:fingerprint (sha256:[0-9a-f]{64}) -->/;
const TRAILER = /^Leastpath-Fingerprint: (sha256:[0-9a-f]{64})$/m;

export function fingerprintComment(fp: string): string {
  return `<!-- leastpath:fingerprint ${fp} -->`;
}

/** The fingerprint a PR body carries, if any. */
export function bodyFingerprint(body: string | null | undefined): string | null {
  return body?.match(MARKER)?.[1] ?? null;
}

export function commitTrailer(fp: string): string {
  return `Leastpath-Fingerprint: ${fp}`;
}

/** Whether a commit message is one the bot wrote (it carries the trailer). */
export function isBotCommit(message: string): boolean {
  return TRAILER.test(message);
}
