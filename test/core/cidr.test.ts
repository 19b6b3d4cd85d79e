import { describe, expect, it } from 'vitest';
import { contains, formatAddress, hostCidr, parseCidr } from '../../core/cidr.js';

describe('parseCidr', () => {
  it('canonicalises IPv4 and IPv6 and notices host bits', () => {
    expect(parseCidr('10.0.0.1/24')).toMatchObject({ text: '10.0.0.0/24', hostBitsSet: true, family: 4 });
    expect(parseCidr('2001:DB8:0:0:1::1')).toMatchObject({ text: '2001:db8::1:0:0:1/128', hostBitsSet: false, family: 6 });
    expect(parseCidr('::/0')?.text).toBe('::/0');
  });
  it('refuses what is not a CIDR', () => {
    for (const bad of ['300.1.1.1/8', '10.0.0.0/33', 'fe80::1%eth0', 'example.com', '10.0.0/8', '']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
  it('contains compares networks of one family only', () => {
    expect(contains(parseCidr('10.0.0.0/8')!, parseCidr('10.2.3.0/24')!)).toBe(true);
    expect(contains(parseCidr('10.2.3.0/24')!, parseCidr('10.0.0.0/8')!)).toBe(false);
    expect(contains(parseCidr('0.0.0.0/0')!, parseCidr('::/128')!)).toBe(false);
  });
  it('formats IPv6 per RFC 5952 (longest zero run compressed)', () => {
    expect(hostCidr('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1/128');
    expect(formatAddress(6, 0n)).toBe('::');
    expect(hostCidr('10.20.1.11')).toBe('10.20.1.11/32');
  });
});

describe('parseCidr IPv4 fast path', () => {
  it('accepts and refuses exactly what ip-cidr does, with the same network', async () => {
    const { default: IPCIDR } = await import('ip-cidr');
    const parts = ['0', '1', '9', '10', '010', '99', '255', '256', '300', '00', '1000'];
    let checked = 0;
    for (const a of parts) {
      for (const b of ['0', '255', '01']) {
        for (const p of ['', '/0', '/8', '/08', '/24', '/32', '/33', '/-1']) {
          const text = `${a}.${b}.0.${a}${p}`;
          const withPrefix = text.includes('/') ? text : `${text}/32`;
          const valid = /^[0-9.]+\/\d{1,3}$/.test(withPrefix) && IPCIDR.isValidCIDR(withPrefix) && Number(withPrefix.split('/')[1]) <= 32;
          const ours = parseCidr(text);
          expect(ours !== undefined, text).toBe(valid);
          if (ours) expect(ours.network, text).toBe(BigInt(new IPCIDR(withPrefix).start({ type: 'bigInteger' }) as bigint));
          checked++;
        }
      }
    }
    expect(checked).toBe(264);
  });
});

describe('parseCidr IPv6 fast path', () => {
  it('accepts and refuses exactly what ip-cidr does, with the same network', async () => {
    const { default: IPCIDR } = await import('ip-cidr');
    const addresses = [
      '::',
      '::1',
      '1::',
      '2001:db8::',
      '2001:DB8::1',
      '2001:db8:0:0:0:0:0:1',
      '2001:db8:1:2:3:4:5:6',
      'fe80::1:2',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1::8',
      '2a05:d018:0fff:ffff:0001:0002:0003:0004',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      // not addresses
      ':::',
      '1:::2',
      '1::2::3',
      ':1::',
      '::1:',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      ':',
      '1:2',
    ];
    let checked = 0;
    for (const a of addresses) {
      for (const p of ['', '/0', '/8', '/56', '/64', '/127', '/128', '/129', '/08']) {
        const text = `${a}${p}`;
        const withPrefix = text.includes('/') ? text : `${text}/128`;
        const valid = IPCIDR.isValidCIDR(withPrefix) && Number(withPrefix.split('/')[1]) <= 128;
        const ours = parseCidr(text);
        expect(ours !== undefined, text).toBe(valid);
        if (ours) {
          expect(ours.family, text).toBe(6);
          expect(ours.network, text).toBe(BigInt(new IPCIDR(withPrefix).start({ type: 'bigInteger' }) as bigint));
        }
        checked++;
      }
    }
    expect(checked).toBe(addresses.length * 9);
  });
});
