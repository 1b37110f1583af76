import type { StoreMarkerAccess } from './blob-store.port';

/**
 * Name of the marker object: `<blob_dir>/.jam-store-id` on the filesystem, `<prefix>/.jam-store-id`
 * in S3. Not a `0x` hash, so the janitor's orphan sweep (which lists only hash names) never sees it.
 */
export const STORE_MARKER_NAME = '.jam-store-id';

/** Format tag written in every marker. */
export const STORE_MARKER_FORMAT = 'jam-store-marker/1';

/** Blobs sampled to decide whether an unmarked store is empty, and whether the database knows it. */
export const STORE_MARKER_SAMPLE = 1000;

/**
 * Share of the sampled blobs of an unmarked store the database must know for the store to be
 * adopted as its own (an upgrade from before markers). A deployment's own store holds few blobs
 * without a row (orphans of crashed uploads, GC'd rows whose blob delete is pending); another
 * deployment's store can share a few content-addressed blobs with it (the same example service
 * code), which is why "at least one known" adopted foreign stores.
 */
export const STORE_ADOPT_MIN_KNOWN = 0.9;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How {@link bindBlobStore} bound the store. */
export type StoreBinding =
  /** The marker already named this database. */
  | 'matched'
  /** The store was empty: the marker was written. */
  | 'created'
  /** A store from before markers (blobs, no marker) that this database knows: the marker was written. */
  | 'adopted';

/** Why {@link bindBlobStore} refused a store. */
export type StoreRefusal =
  /** The marker names another database. */
  | 'foreign'
  /** No marker, and the store holds blobs none of which this database knows. */
  | 'unclaimed'
  /** The marker's content is not a store id. */
  | 'unreadable';

/**
 * The process must not use this blob store: it belongs to another database (or cannot be shown to
 * belong to this one). The message says which store, both ids and how to fix it; print it as is.
 */
export class BlobStoreOwnershipError extends Error {
  override name = 'BlobStoreOwnershipError';
  constructor(
    readonly reason: StoreRefusal,
    readonly location: string,
    readonly markerLocation: string,
    /** This database's store id. */
    readonly storeId: string,
    /** The id the marker names (reason `foreign`). */
    readonly markerStoreId: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link bindBlobStore}. */
export interface BindBlobStoreOptions {
  /** This database's store id (a UUID, `store_identity.store_id`). */
  storeId: string;
  /** Which of `hashes` the database has a preimage row for. */
  knownHashes(hashes: string[]): Promise<Set<string>>;
  /** The setting(s) that choose this store, named in the error (e.g. `JAM_BLOB_DIR`). */
  setting: string;
  /** Blobs sampled from an unmarked store; default {@link STORE_MARKER_SAMPLE}. */
  sampleSize?: number;
  /** Attempts to read back a marker that is being written by another process; default 5. */
  attempts?: number;
}

/** The marker text for `storeId`: one line of JSON. */
export function formatStoreMarker(storeId: string, binding: 'created' | 'adopted', now = new Date()): string {
  return `${JSON.stringify({ format: STORE_MARKER_FORMAT, store_id: storeId, created_at: now.toISOString(), binding })}\n`;
}

/**
 * The store id a marker names: the `store_id` of the JSON that {@link formatStoreMarker} writes,
 * or a bare UUID (what an operator writes by hand). Lowercased.
 * @returns undefined when the text is neither.
 */
export function parseStoreMarker(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (UUID_RE.test(t)) return t;
  try {
    const o = JSON.parse(text) as { store_id?: unknown };
    const id = typeof o?.store_id === 'string' ? o.store_id.trim().toLowerCase() : '';
    return UUID_RE.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Binds a blob store to the database that owns it, before the process uses the store:
 * - marker present: it must name `storeId` (`matched`), else {@link BlobStoreOwnershipError}
 *   `foreign`;
 * - no marker, no blobs: the marker is written (`created`);
 * - no marker, blobs (a store from before this check): the marker is written only when the
 *   database knows at least {@link STORE_ADOPT_MIN_KNOWN} of up to `sampleSize` sampled blobs
 *   (`adopted`), else `unclaimed`: the janitor of a database that does not know a store's blobs
 *   would sweep them as orphans.
 * The marker is created exclusively where the store allows it and always read back, so of
 * several processes starting at once all agree on one id, and a process that lost the race to
 * another database refuses (see the drivers' `writeMarkerIfAbsent` for S3 servers without
 * conditional writes).
 * @throws BlobStoreOwnershipError (print its message: it names the store, both ids and the fix);
 *   the store's own errors when it cannot be read or written.
 */
export async function bindBlobStore(store: StoreMarkerAccess, opts: BindBlobStoreOptions): Promise<StoreBinding> {
  const storeId = opts.storeId.toLowerCase();
  if (!UUID_RE.test(storeId)) throw new RangeError(`storeId must be a UUID, got ${opts.storeId}`);
  const attempts = opts.attempts ?? 5;
  const refuse = (reason: StoreRefusal, message: string, markerStoreId?: string) =>
    new BlobStoreOwnershipError(reason, store.location, store.markerLocation, storeId, markerStoreId, message);
  const handWrite =
    store.tier === 's3' ? `printf '%s\\n' ${storeId} | aws s3 cp - ${store.markerLocation}` : `printf '%s\\n' ${storeId} > '${store.markerLocation}'`;
  const foreign = (other: string) =>
    refuse(
      'foreign',
      `blob store ${store.location} belongs to another database: its marker ${store.markerLocation} names store id ${other}, ` +
        `but this database's store id is ${storeId}. Refusing to start: two deployments on one blob store delete each other's blobs as orphans. ` +
        `Fix: point ${opts.setting} at this deployment's own blob store (or DATABASE_URL at the database that owns this one). ` +
        `Only if you are sure this store belongs to this database, remove the marker and start again: it is re-created if the database knows the store's blobs.`,
      other,
    );
  const unreadable = (raw: string) =>
    refuse(
      'unreadable',
      `blob store ${store.location} has a marker ${store.markerLocation} that names no store id (content: ${JSON.stringify(raw.slice(0, 80))}); ` +
        `this database's store id is ${storeId}. Refusing to start. Fix: check that ${opts.setting} points at this deployment's blob store; ` +
        `if it does, write this database's id into the marker: ${handWrite}`,
    );

  const read = async (): Promise<{ id?: string; raw?: string }> => {
    const raw = await store.readMarker();
    return raw === undefined ? {} : { id: parseStoreMarker(raw), raw };
  };

  const first = await read();
  if (first.raw !== undefined && first.id !== undefined) {
    if (first.id === storeId) return 'matched';
    throw foreign(first.id);
  }

  let binding: 'created' | 'adopted' = 'created';
  if (first.raw === undefined) {
    const sample = await store.sampleBlobs(opts.sampleSize ?? STORE_MARKER_SAMPLE);
    if (sample.length > 0) {
      const known = await opts.knownHashes(sample);
      if (known.size < Math.ceil(sample.length * STORE_ADOPT_MIN_KNOWN)) {
        throw refuse(
          'unclaimed',
          `blob store ${store.location} holds blobs but has no marker (${store.markerLocation}), and this database (store id ${storeId}) ` +
            `knows ${known.size === 0 ? 'none' : `only ${known.size}`} of the ${sample.length} blobs sampled (adopting needs ${STORE_ADOPT_MIN_KNOWN * 100}%): ` +
            `it looks like another deployment's store, whose blobs this deployment's janitor would delete as orphans. ` +
            `Refusing to start. Fix: point ${opts.setting} at this deployment's own blob store (or an empty one), or DATABASE_URL at the database that owns this store. ` +
            `Only if you are sure this store belongs to this database, write its id into the marker: ${handWrite}`,
        );
      }
      binding = 'adopted';
    }
  }

  // Written, or being written by another process: read back until the marker names someone.
  let wrote = false;
  for (let attempt = 1; ; attempt++) {
    const now = await read();
    if (now.raw === undefined) {
      // Only after the checks above ran on an absent marker (not one that vanished since).
      if (first.raw !== undefined) throw new Error(`blob store marker ${store.markerLocation} was removed while this process was starting; start again`);
      if (attempt > attempts) throw new Error(`blob store marker ${store.markerLocation} could not be written (still absent after ${attempts} attempts)`);
      wrote = (await store.writeMarkerIfAbsent(formatStoreMarker(storeId, binding))) || wrote;
      continue;
    }
    if (now.id !== undefined) {
      if (now.id === storeId) return wrote ? binding : 'matched';
      throw foreign(now.id);
    }
    // Empty or partial: another process may be writing it (a store without exclusive create).
    if (attempt >= attempts) throw unreadable(now.raw);
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}
