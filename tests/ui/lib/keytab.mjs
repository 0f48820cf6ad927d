// keytab.mjs: writes MIT keytab files (format 0x0502) for the negative tests, such as an
// RC4-only keytab for the connector's own principal, which no lab export produces.

import crypto from 'node:crypto';

/** Encryption type numbers (RFC 3961/4757). */
export const ENCTYPE = { aes128: 17, aes256: 18, rc4: 23 };

function counted(text) {
  const bytes = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function entry(principal, realm, kvno, enctype) {
  const components = principal.split('/');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(components.length);
  const nameType = Buffer.alloc(4);
  nameType.writeUInt32BE(components.length > 1 ? 3 : 1); // NT-SRV-HST for services
  const time = Buffer.alloc(5);
  time.writeUInt32BE(Math.floor(Date.now() / 1000));
  time.writeUInt8(kvno & 0xff, 4);
  const keyLength = enctype === ENCTYPE.aes256 ? 32 : 16;
  const keyHead = Buffer.alloc(4);
  keyHead.writeUInt16BE(enctype, 0);
  keyHead.writeUInt16BE(keyLength, 2);
  const vno32 = Buffer.alloc(4);
  vno32.writeUInt32BE(kvno);
  const body = Buffer.concat([
    head, counted(realm), ...components.map(counted), nameType, time,
    keyHead, crypto.randomBytes(keyLength), vno32,
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** A keytab with one random key per enctype for `principal@realm`. */
export function makeKeytab(principal, realm, kvno, enctypes) {
  return Buffer.concat([Buffer.from([5, 2]), ...enctypes.map((e) => entry(principal, realm, kvno, e))]);
}
