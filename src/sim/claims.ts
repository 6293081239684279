/**
 * Container claims (seed-api.md §4). The control plane mints
 * `{kid:"v1", payload_b64, signature_hex}` with an Ed25519 key; the signature covers the UTF-8 bytes
 * of the base64url string `payload_b64` itself, not the decoded JSON [R:2579-2585]. Kits that need a
 * claim (`workspaces`/agent) verify it with {@link verifyContainerClaim}.
 */
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export interface ContainerClaim {
  kid: string;
  payload_b64: string;
  signature_hex: string;
}

/** Simulator choice for the payload (only `claim_type` is visible in the seeds [R:7653]). */
export interface ContainerClaimPayload {
  claim_type: 'container';
  container_id: string;
  project_id: string;
  /** Owner user id; the kit checks it against the owner of `X-Hoody-Token` (BINDING_MISMATCH). */
  sub: string;
  /** Unix seconds. */
  iat: number;
  exp: number;
  /** Unique per claim (two claims minted in one second differ). */
  jti?: string;
}

export type ClaimFailureCode = 'CLAIM_REQUIRED' | 'CLAIM_MALFORMED' | 'CLAIM_INVALID' | 'BINDING_MISMATCH';

export type ClaimVerification =
  | { ok: true; payload: ContainerClaimPayload }
  | { ok: false; code: ClaimFailureCode; status: 401 | 403; message: string };

export interface PublicKeyInfo {
  kid: string;
  algorithm: 'ed25519';
  public_key_hex: string;
  public_key_b64: string;
  public_key_b64url: string;
}

export class ClaimSigner {
  readonly kid = 'v1';
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  mint(payload: ContainerClaimPayload): ContainerClaim {
    const payloadB64 = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    const sig = sign(null, Buffer.from(payloadB64, 'utf8'), this.privateKey);
    return { kid: this.kid, payload_b64: payloadB64, signature_hex: sig.toString('hex') };
  }

  publicKeyInfo(): PublicKeyInfo {
    const raw = rawPublicKey(this.publicKey);
    return {
      kid: this.kid,
      algorithm: 'ed25519',
      public_key_hex: raw.toString('hex'),
      public_key_b64: raw.toString('base64'),
      public_key_b64url: raw.toString('base64url'),
    };
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** Builds a KeyObject from the 32-byte hex form published at `GET /api/v1/meta/public-key`. */
export function publicKeyFromHex(hex: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

/** Parses the `X-Hoody-Container-Claim` header (`JSON.stringify(container_claim)` [S:470]). */
export function parseClaimHeader(header: string | undefined): ContainerClaim | ClaimFailureCode {
  if (header === undefined || header === '') return 'CLAIM_REQUIRED';
  try {
    const v = JSON.parse(header) as Partial<ContainerClaim>;
    if (typeof v.kid === 'string' && typeof v.payload_b64 === 'string' && typeof v.signature_hex === 'string') {
      return { kid: v.kid, payload_b64: v.payload_b64, signature_hex: v.signature_hex };
    }
  } catch {
    /* fall through */
  }
  return 'CLAIM_MALFORMED';
}

/**
 * Verifies a claim the way a kit does [S:931]: known `kid`, Ed25519 signature over the UTF-8 bytes of
 * `payload_b64`, `claim_type:"container"`, not expired, for this container, and (when given) bound to
 * the token owner.
 */
export function verifyContainerClaim(
  claim: ContainerClaim | string | undefined,
  keys: Record<string, KeyObject>,
  expect: { containerId: string; subject?: string; nowS?: number },
): ClaimVerification {
  const parsed = typeof claim === 'string' || claim === undefined ? parseClaimHeader(claim) : claim;
  if (parsed === 'CLAIM_REQUIRED') return { ok: false, code: 'CLAIM_REQUIRED', status: 401, message: 'Container claim required' };
  if (parsed === 'CLAIM_MALFORMED' || typeof parsed === 'string') {
    return { ok: false, code: 'CLAIM_MALFORMED', status: 403, message: 'Container claim is malformed' };
  }
  const key = keys[parsed.kid];
  if (!key) return { ok: false, code: 'CLAIM_INVALID', status: 403, message: `Unknown claim key id: ${parsed.kid}` };
  let good = false;
  try {
    good = /^[0-9a-f]+$/i.test(parsed.signature_hex) &&
      verify(null, Buffer.from(parsed.payload_b64, 'utf8'), key, Buffer.from(parsed.signature_hex, 'hex'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, code: 'CLAIM_INVALID', status: 403, message: 'Container claim signature is invalid' };
  let payload: ContainerClaimPayload;
  try {
    payload = JSON.parse(Buffer.from(parsed.payload_b64, 'base64url').toString('utf8')) as ContainerClaimPayload;
  } catch {
    return { ok: false, code: 'CLAIM_MALFORMED', status: 403, message: 'Container claim payload is not JSON' };
  }
  const now = expect.nowS ?? Math.floor(Date.now() / 1000);
  if (payload.claim_type !== 'container') return { ok: false, code: 'CLAIM_INVALID', status: 403, message: 'Not a container claim' };
  if (typeof payload.exp !== 'number' || payload.exp <= now) return { ok: false, code: 'CLAIM_INVALID', status: 403, message: 'Container claim expired' };
  if (payload.container_id !== expect.containerId) {
    return { ok: false, code: 'CLAIM_INVALID', status: 403, message: 'Container claim is for another container' };
  }
  if (expect.subject !== undefined && payload.sub !== expect.subject) {
    return { ok: false, code: 'BINDING_MISMATCH', status: 403, message: 'Token owner does not match the claim subject' };
  }
  return { ok: true, payload };
}
