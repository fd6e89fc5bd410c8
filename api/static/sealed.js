// Opening a passphrase-protected caseledger key file in the browser, as `caseledger keygen`
// writes it (ledger/keyfile.py): scrypt (libsodium's opslimit/memlimit, turned into N, r, p
// the way libsodium does) derives a key that opens an XSalsa20-Poly1305 secret box (NaCl's
// crypto_secretbox: nonce ‖ tag ‖ ciphertext) holding the 32-byte Ed25519 seed. WebCrypto has
// none of these, so they are written here; PBKDF2-HMAC-SHA256 inside scrypt is WebCrypto's.
"use strict";

const CLSealed = (() => {
  const subtle = globalThis.crypto.subtle;
  const rotl = (v, c) => (v << c) | (v >>> (32 - c));
  // Salsa20's quarter-round pattern as (target, a, b, shift) over the 16 state words.
  const ROUNDS = [
    [4, 0, 12, 7], [8, 4, 0, 9], [12, 8, 4, 13], [0, 12, 8, 18],
    [9, 5, 1, 7], [13, 9, 5, 9], [1, 13, 9, 13], [5, 1, 13, 18],
    [14, 10, 6, 7], [2, 14, 10, 9], [6, 2, 14, 13], [10, 6, 2, 18],
    [3, 15, 11, 7], [7, 3, 15, 9], [11, 7, 3, 13], [15, 11, 7, 18],
    [1, 0, 3, 7], [2, 1, 0, 9], [3, 2, 1, 13], [0, 3, 2, 18],
    [6, 5, 4, 7], [7, 6, 5, 9], [4, 7, 6, 13], [5, 4, 7, 18],
    [11, 10, 9, 7], [8, 11, 10, 9], [9, 8, 11, 13], [10, 9, 8, 18],
    [12, 15, 14, 7], [13, 12, 15, 9], [14, 13, 12, 13], [15, 14, 13, 18],
  ];
  const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

  // `doubleRounds` double rounds over x (in place).
  function permute(x, doubleRounds) {
    for (let i = 0; i < doubleRounds; i++) {
      for (const [t, a, b, c] of ROUNDS) x[t] ^= rotl((x[a] + x[b]) | 0, c);
    }
  }

  function words(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Uint32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
    return out;
  }

  function bytesOf(ws) {
    const out = new Uint8Array(ws.length * 4);
    const view = new DataView(out.buffer);
    ws.forEach((w, i) => view.setUint32(4 * i, w, true));
    return out;
  }

  // scrypt (RFC 7914) ------------------------------------------------------------------------

  // Salsa20/8 on b[0..16] in place: the hot loop of scrypt, so the rounds are written out
  // over local variables (the table-driven `permute` is several times slower here).
  function salsa8(b) {
    let x0 = b[0], x1 = b[1], x2 = b[2], x3 = b[3], x4 = b[4], x5 = b[5], x6 = b[6], x7 = b[7];
    let x8 = b[8], x9 = b[9], x10 = b[10], x11 = b[11], x12 = b[12], x13 = b[13], x14 = b[14], x15 = b[15];
    let u;
    for (let i = 0; i < 8; i += 2) {
      u = (x0 + x12) | 0; x4 ^= (u << 7) | (u >>> 25); u = (x4 + x0) | 0; x8 ^= (u << 9) | (u >>> 23);
      u = (x8 + x4) | 0; x12 ^= (u << 13) | (u >>> 19); u = (x12 + x8) | 0; x0 ^= (u << 18) | (u >>> 14);
      u = (x5 + x1) | 0; x9 ^= (u << 7) | (u >>> 25); u = (x9 + x5) | 0; x13 ^= (u << 9) | (u >>> 23);
      u = (x13 + x9) | 0; x1 ^= (u << 13) | (u >>> 19); u = (x1 + x13) | 0; x5 ^= (u << 18) | (u >>> 14);
      u = (x10 + x6) | 0; x14 ^= (u << 7) | (u >>> 25); u = (x14 + x10) | 0; x2 ^= (u << 9) | (u >>> 23);
      u = (x2 + x14) | 0; x6 ^= (u << 13) | (u >>> 19); u = (x6 + x2) | 0; x10 ^= (u << 18) | (u >>> 14);
      u = (x15 + x11) | 0; x3 ^= (u << 7) | (u >>> 25); u = (x3 + x15) | 0; x7 ^= (u << 9) | (u >>> 23);
      u = (x7 + x3) | 0; x11 ^= (u << 13) | (u >>> 19); u = (x11 + x7) | 0; x15 ^= (u << 18) | (u >>> 14);
      u = (x0 + x3) | 0; x1 ^= (u << 7) | (u >>> 25); u = (x1 + x0) | 0; x2 ^= (u << 9) | (u >>> 23);
      u = (x2 + x1) | 0; x3 ^= (u << 13) | (u >>> 19); u = (x3 + x2) | 0; x0 ^= (u << 18) | (u >>> 14);
      u = (x5 + x4) | 0; x6 ^= (u << 7) | (u >>> 25); u = (x6 + x5) | 0; x7 ^= (u << 9) | (u >>> 23);
      u = (x7 + x6) | 0; x4 ^= (u << 13) | (u >>> 19); u = (x4 + x7) | 0; x5 ^= (u << 18) | (u >>> 14);
      u = (x10 + x9) | 0; x11 ^= (u << 7) | (u >>> 25); u = (x11 + x10) | 0; x8 ^= (u << 9) | (u >>> 23);
      u = (x8 + x11) | 0; x9 ^= (u << 13) | (u >>> 19); u = (x9 + x8) | 0; x10 ^= (u << 18) | (u >>> 14);
      u = (x15 + x14) | 0; x12 ^= (u << 7) | (u >>> 25); u = (x12 + x15) | 0; x13 ^= (u << 9) | (u >>> 23);
      u = (x13 + x12) | 0; x14 ^= (u << 13) | (u >>> 19); u = (x14 + x13) | 0; x15 ^= (u << 18) | (u >>> 14);
    }
    b[0] += x0; b[1] += x1; b[2] += x2; b[3] += x3; b[4] += x4; b[5] += x5; b[6] += x6; b[7] += x7;
    b[8] += x8; b[9] += x9; b[10] += x10; b[11] += x11; b[12] += x12; b[13] += x13; b[14] += x14; b[15] += x15;
  }

  function blockMix(b, y, r, t) {
    const last = (2 * r - 1) * 16;
    for (let k = 0; k < 16; k++) t[k] = b[last + k];
    for (let i = 0; i < 2 * r; i++) {
      for (let k = 0; k < 16; k++) t[k] ^= b[i * 16 + k];
      salsa8(t);
      // Even blocks to the first half, odd to the second.
      y.set(t, ((i >> 1) + (i & 1) * r) * 16);
    }
    b.set(y);
  }

  function roMix(block, n, r) {
    const size = 32 * r;
    const v = new Uint32Array(size * n);
    const y = new Uint32Array(size);
    const x = new Uint32Array(16);
    for (let i = 0; i < n; i++) {
      v.set(block, i * size);
      blockMix(block, y, r, x);
    }
    for (let i = 0; i < n; i++) {
      const j = block[size - 16] & (n - 1);
      for (let k = 0; k < size; k++) block[k] ^= v[j * size + k];
      blockMix(block, y, r, x);
    }
  }

  async function pbkdf2(password, salt, length) {
    const key = await subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
    const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 1 }, key, length * 8);
    return new Uint8Array(bits);
  }

  async function scrypt(password, salt, n, r, p, length) {
    const b = await pbkdf2(password, salt, p * 128 * r);
    for (let i = 0; i < p; i++) {
      const part = words(b.subarray(i * 128 * r, (i + 1) * 128 * r));
      roMix(part, n, r);
      b.set(bytesOf(part), i * 128 * r);
    }
    return pbkdf2(password, b, length);
  }

  // libsodium's crypto_pwhash_scryptsalsa208sha256 parameter choice (pickparams).
  function pickParams(opslimit, memlimit) {
    const ops = Math.max(opslimit, 32768);
    const r = 8;
    let logN = 1;
    let p;
    const grow = (maxN) => { while (logN < 63 && 2 ** logN <= maxN / 2) logN += 1; };
    if (ops < memlimit / 32) {
      p = 1;
      grow(Math.floor(ops / (r * 4)));
    } else {
      grow(Math.floor(memlimit / (r * 128)));
      const maxrp = Math.min(Math.floor(Math.floor(ops / 4) / 2 ** logN), 0x3fffffff);
      p = Math.floor(maxrp / r);
    }
    return { n: 2 ** logN, r, p };
  }

  // XSalsa20-Poly1305 -----------------------------------------------------------------------

  function salsaState(key, input16) {
    const k = words(key);
    const inp = words(input16);
    return Uint32Array.of(SIGMA[0], k[0], k[1], k[2], k[3], SIGMA[1], inp[0], inp[1], inp[2],
      inp[3], SIGMA[2], k[4], k[5], k[6], k[7], SIGMA[3]);
  }

  function hsalsa20(key, nonce16) {
    const x = salsaState(key, nonce16);
    permute(x, 10);
    return bytesOf(Uint32Array.of(x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]));
  }

  function salsa20Stream(key, nonce8, length) {
    const out = new Uint8Array(Math.ceil(length / 64) * 64);
    const input = new Uint8Array(16);
    input.set(nonce8);
    for (let block = 0; block * 64 < length; block++) {
      new DataView(input.buffer).setUint32(8, block, true);
      const state = salsaState(key, input);
      const x = state.slice();
      permute(x, 10);
      for (let i = 0; i < 16; i++) x[i] = (x[i] + state[i]) | 0;
      out.set(bytesOf(x), block * 64);
    }
    return out.subarray(0, length);
  }

  const le = (bytes) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);

  function poly1305(key, message) {
    const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
    const s = le(key.subarray(16, 32));
    const p = (1n << 130n) - 5n;
    let acc = 0n;
    for (let i = 0; i < message.length; i += 16) {
      const chunk = message.subarray(i, i + 16);
      acc = ((acc + le(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p;
    }
    let tag = (acc + s) & ((1n << 128n) - 1n);
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) { out[i] = Number(tag & 0xffn); tag >>= 8n; }
    return out;
  }

  // NaCl's secretbox open of PyNaCl's `SecretBox.encrypt` output: nonce(24) ‖ tag(16) ‖ ct.
  function secretboxOpen(box, key) {
    const nonce = box.subarray(0, 24);
    const tag = box.subarray(24, 40);
    const ciphertext = box.subarray(40);
    const subkey = hsalsa20(key, nonce.subarray(0, 16));
    const stream = salsa20Stream(subkey, nonce.subarray(16, 24), 32 + ciphertext.length);
    const expected = poly1305(stream.subarray(0, 32), ciphertext);
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= expected[i] ^ tag[i];
    if (diff !== 0) return null;
    return ciphertext.map((b, i) => b ^ stream[32 + i]);
  }

  function unb64(text) {
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  // The seed inside a sealed key file, or null when the passphrase is wrong.
  async function openSealed(sealed, passphrase) {
    if (sealed.kdf !== "scrypt") throw new Error("密钥文件使用了未知的口令算法。");
    const { n, r, p } = pickParams(Number(sealed.opslimit), Number(sealed.memlimit));
    const key = await scrypt(new TextEncoder().encode(passphrase), unb64(sealed.salt), n, r, p, 32);
    return secretboxOpen(unb64(sealed.box), key);
  }

  return { scrypt, pickParams, secretboxOpen, openSealed };
})();

if (typeof module !== "undefined") module.exports = CLSealed;
