import * as fc from 'fast-check';
import fixtures from '../codec/fixtures/murmur2.json';
import { murmur2, partitionForKey, toPositive } from './murmur2';

// How: the vectors are Kafka's own (UtilsTest.testMurmur2) plus hashes and partitions
// computed by kafkajs 2.2.4, written by src/codec/fixtures/generate.ts.
const kafkajsMurmur2: (key: Buffer) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

describe('murmur2 hash', () => {
  const javaVectors = fixtures.vectors
    .filter((v) => v.source === 'kafka-java-UtilsTest')
    .map((v) => ({ ...v, key: Buffer.from(v.keyHex, 'hex').toString('utf8') }));

  it.each(javaVectors)(
    'matches the Java client bit for bit on Kafka vector "$key"',
    ({ keyHex, hash }) => {
      expect(murmur2(Buffer.from(keyHex, 'hex'))).toBe(hash);
    },
  );

  it('matches every kafkajs golden vector, one per key length 0..40 and binary keys', () => {
    for (const { keyHex, hash } of fixtures.vectors) {
      expect([keyHex, murmur2(Buffer.from(keyHex, 'hex'))]).toEqual([keyHex, hash]);
    }
  });

  it('agrees with kafkajs on arbitrary byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a signed 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        const h = murmur2(bytes);
        expect(h).toBe(h | 0);
      }),
    );
  });
});

describe('partition for a key', () => {
  it('chooses the partition kafkajs DefaultPartitioner (and the Java producer) chooses', () => {
    for (const { keyHex, partitions } of fixtures.vectors) {
      for (const [count, partition] of Object.entries(partitions)) {
        expect([keyHex, count, partitionForKey(Buffer.from(keyHex, 'hex'), Number(count))]).toEqual([keyHex, count, partition]);
      }
    }
  });

  it('toPositive clears the sign bit instead of negating, so INT_MIN maps to 0', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(5)).toBe(5);
  });

  it('is always within [0, partitionsCount)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), fc.integer({ min: 1, max: 10_000 }), (key, n) => {
        const p = partitionForKey(key, n);
        expect(p >= 0 && p < n && Number.isInteger(p)).toBe(true);
      }),
    );
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionForKey(Buffer.from('k'), 0)).toThrow(/partitionsCount/);
    expect(() => partitionForKey(Buffer.from('k'), 1.5)).toThrow(/partitionsCount/);
  });
});
