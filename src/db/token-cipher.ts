import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ALGORITHM = "aes-256-gcm";
const VERSION = "v1";

/**
 * Seals the installations' bot tokens with TOKEN_ENCRYPTION_KEY (AES-256-GCM): a copy of the database
 * without the key holds no usable token. `bound` (the installation's key) is authenticated with the
 * token, so a sealed token moved to another installation's row does not open.
 */
export function createTokenCipher(keyBase64: string) {
  const key = Buffer.from(keyBase64.trim(), "base64");
  if (key.length !== 32) throw new Error("TOKEN_ENCRYPTION_KEY must be 32 bytes");
  return {
    seal(token: string, bound: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv(ALGORITHM, key, iv);
      cipher.setAAD(Buffer.from(bound, "utf8"));
      const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
    },
    open(sealed: string, bound: string): string {
      const [version, data] = sealed.split(":");
      if (version !== VERSION || !data) throw new Error("a stored token is in an unknown form");
      const raw = Buffer.from(data, "base64");
      const decipher = createDecipheriv(ALGORITHM, key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(bound, "utf8"));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        throw new Error("a stored token does not open with TOKEN_ENCRYPTION_KEY (was the key changed?)");
      }
    },
  };
}

export type TokenCipher = ReturnType<typeof createTokenCipher>;
