import { isEncrypted, noKeyError, storedKeyId, type ValueCipher } from "./value-cipher.ts";

/** A ciphertext held in a json column, as a JSON string. */
const JSON_SEALED = /^"kiln:v\d+:[\w-]+:[A-Za-z0-9+/=]*"$/;

/**
 * The stored form of a secret JSON value (a task's params, result and checkpoint, a schedule's
 * params): encrypted under the current key when one is set, plaintext JSON otherwise, and read
 * back whichever it was written as. `context` names the column and row the value belongs to and
 * is authenticated with it, so a ciphertext moved to another row or column does not decrypt.
 */
export class SealedJson {
  constructor(
    readonly cipher: ValueCipher | undefined,
    /**
     * How JSON columns hold a ciphertext: SQLite's text columns hold it as it is, PostgreSQL's
     * json columns as a JSON string (`"kiln:v1:…"`), since they take only JSON.
     */
    readonly columns: "text" | "json" = "text",
  ) {}

  /** The stored form of a value's JSON text. */
  seal(json: string, context: string): string {
    if (!this.cipher) return this.#unsealed(json);
    const sealed = this.cipher.encrypt(json, context);
    return this.columns === "json" ? JSON.stringify(sealed) : sealed;
  }

  /** The JSON text of a stored value, whether it was written encrypted or not. */
  open(stored: string, context: string): string {
    if (this.columns === "json") {
      // A JSON string in the ciphertext's exact format is what `seal` encrypted: a plaintext
      // string of that shape is stored with its first letter escaped (see #unsealed).
      if (!JSON_SEALED.test(stored)) return stored;
      stored = JSON.parse(stored) as string;
    }
    if (!isEncrypted(stored)) return stored;
    if (!this.cipher) throw noKeyError(stored, context);
    return this.cipher.decrypt(stored, context);
  }

  /** True when a stored value is already what `seal` would write now (rekey skips it). */
  isCurrent(stored: string): boolean {
    const value =
      this.columns === "json" && JSON_SEALED.test(stored) ? (JSON.parse(stored) as string) : stored;
    return this.cipher ? storedKeyId(value) === this.cipher.current.id : !isEncrypted(value);
  }

  /** A stored value written again under the current key (or as plaintext without one). */
  reseal(stored: string, context: string): string {
    return this.seal(this.open(stored, context), context);
  }

  /**
   * Plaintext JSON as stored, never mistakable for a ciphertext. In a json column a ciphertext
   * is a JSON string (`"kiln:v1:…"`), so a plaintext string of that shape is stored with its
   * first letter escaped (`"\u006biln:v1:…"`): the same JSON value, which a json column keeps
   * as written, and which the ciphertext's pattern does not match. (A text column holds a
   * ciphertext bare, and JSON text never starts with `kiln:`.)
   */
  #unsealed(json: string): string {
    return this.columns === "json" && JSON_SEALED.test(json) ? `"\\u006b${json.slice(2)}` : json;
  }
}
