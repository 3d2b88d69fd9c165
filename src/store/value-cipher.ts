import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

/*
 * Why node:crypto and not WebCrypto: the store is synchronous by design (a transition and its
 * event are written in the same turn of the event loop as the decision that made them), and
 * Bun's `crypto.subtle.encrypt` / `decrypt` only return promises that are still pending at
 * the end of the turn (they run off the JavaScript thread), so using them would make every
 * store call asynchronous. node:crypto's aes-256-gcm is the same algorithm, synchronous.
 */

/** A key as given: 32 raw bytes, or their base64 (44 characters) or hex (64 characters) text. */
export type KeyMaterial = string | Uint8Array;

const PREFIX = "kiln:";
const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A key that is not 32 bytes in base64 or hex. The message never contains the key. */
export class InvalidKeyError extends Error {
  override readonly name = "InvalidKeyError";
}

/** A stored value that cannot be turned back into plaintext with the keys configured. */
export class UndecryptableValueError extends Error {
  override readonly name = "UndecryptableValueError";
  readonly code = "undecryptable";
}

/** Parses a key given as text (base64 or 64 hex characters) or bytes; anything else throws. */
export function parseKey(key: KeyMaterial): Uint8Array {
  if (typeof key !== "string") {
    if (key.byteLength !== KEY_BYTES) {
      throw new InvalidKeyError(`the key must be ${KEY_BYTES} bytes, got ${key.byteLength}`);
    }
    return key;
  }
  const text = key.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, "base64");
    if (bytes.byteLength === KEY_BYTES) return bytes;
  }
  throw new InvalidKeyError(
    `the key must be ${KEY_BYTES} random bytes written as base64 (44 characters) or hex (64 characters); ` +
      `got ${text.length} characters (make one with: openssl rand -base64 32)`,
  );
}

/** A short public name of a key, stored with each value so that the right key is picked to read it. */
export function keyId(key: Uint8Array): string {
  return createHmac("sha256", key).update("kiln key id").digest("base64url").slice(0, 8);
}

interface Key {
  id: string;
  bytes: Uint8Array;
}

export interface ValueCipherOptions {
  /** The key new values are encrypted with. */
  encryptionKey: KeyMaterial;
  /** Older keys, kept only to read values written with them. */
  decryptionKeys?: readonly KeyMaterial[];
}

/**
 * AES-256-GCM for single column values. A stored value reads `kiln:v1:<key id>:<base64 of
 * IV | ciphertext | tag>` with a fresh random 96-bit IV per value. JSON never starts with
 * `kiln:`, so a plaintext value (a row written before encryption was switched on) is told
 * apart without a flag. `context` (the column and task id) is authenticated with the value,
 * so a ciphertext copied into another row or column does not decrypt.
 */
export class ValueCipher {
  readonly current: Key;
  readonly #keys = new Map<string, Key>();

  constructor(options: ValueCipherOptions) {
    const current = parseKey(options.encryptionKey);
    this.current = { id: keyId(current), bytes: current };
    this.#keys.set(this.current.id, this.current);
    for (const material of options.decryptionKeys ?? []) {
      const bytes = parseKey(material);
      const id = keyId(bytes);
      if (!this.#keys.has(id)) this.#keys.set(id, { id, bytes });
    }
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.current.bytes, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${VERSION}:${this.current.id}:${body.toString("base64")}`;
  }

  /** The plaintext of a value `encrypt` wrote with any of the configured keys. */
  decrypt(stored: string, context: string): string {
    const { keyId: id, body } = parseStored(stored, context);
    const key = this.#keys.get(id);
    if (!key) {
      throw new UndecryptableValueError(
        `${context} is encrypted with key ${id}, which is not configured (configured: ${this.keyIds.join(", ")}); ` +
          "give it with --decryption-key or KILN_DECRYPTION_KEYS",
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.bytes, body.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.byteLength - TAG_BYTES));
      const inner = body.subarray(IV_BYTES, body.byteLength - TAG_BYTES);
      return Buffer.concat([decipher.update(inner), decipher.final()]).toString("utf8");
    } catch {
      throw new UndecryptableValueError(
        `${context} does not authenticate under key ${id}: the value was altered or belongs to another row`,
      );
    }
  }
}

/** True when a stored value is in the encrypted format (of any version and key). */
export function isEncrypted(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** The key id an encrypted value names, without decrypting it. */
export function storedKeyId(stored: string): string | undefined {
  return isEncrypted(stored) ? stored.split(":", 3)[2] : undefined;
}

function parseStored(stored: string, context: string): { keyId: string; body: Buffer } {
  const [, version, id, payload] = stored.split(":", 4);
  if (version !== VERSION) {
    throw new UndecryptableValueError(
      `${context} is stored in format ${version ?? "(none)"}, which this kiln cannot read (it reads ${VERSION})`,
    );
  }
  const body = Buffer.from(payload ?? "", "base64");
  if (!id || body.byteLength < IV_BYTES + TAG_BYTES) {
    throw new UndecryptableValueError(`${context} is not a well-formed encrypted value`);
  }
  return { keyId: id, body };
}

/** Reads a value that is encrypted while no key is configured: says so instead of returning garbage. */
export function noKeyError(stored: string, context: string): UndecryptableValueError {
  return new UndecryptableValueError(
    `${context} is encrypted with key ${storedKeyId(stored) ?? "?"}, but no encryption key is configured; ` +
      "start kiln with --encryption-key or KILN_ENCRYPTION_KEY",
  );
}
