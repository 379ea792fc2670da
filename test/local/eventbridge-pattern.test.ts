import { describe, expect, it } from 'vitest';
import { InvalidPatternError, matchesPattern, validatePattern } from '../../local/eventbridge/pattern.ts';

// Examples follow the EventBridge user guide ("Content filtering in Amazon EventBridge event patterns"
// and "Comparison operators for use in event patterns").

const envelope = (detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-10-02T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail,
  ...overrides,
});

describe('matchesPattern', () => {
  it('matches exact values, with a list as OR and every field as AND', () => {
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] };
    expect(matchesPattern(pattern, envelope({}))).toBe(true);
    expect(matchesPattern({ source: ['aws.s3', 'aws.ec2'] }, envelope({}))).toBe(true);
    expect(matchesPattern({ ...pattern, source: ['aws.s3'] }, envelope({}))).toBe(false);
  });

  it('matches nested detail fields and does not coerce types', () => {
    const pattern = { detail: { state: ['terminated'], 'instance-id': ['i-1234567890abcdef0'] } };
    expect(matchesPattern(pattern, envelope({ state: 'terminated', 'instance-id': 'i-1234567890abcdef0' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ state: 'running', 'instance-id': 'i-1234567890abcdef0' }))).toBe(false);
    expect(matchesPattern({ detail: { count: [5] } }, envelope({ count: '5' }))).toBe(false);
    expect(matchesPattern({ detail: { count: [5] } }, envelope({ count: 5.0 }))).toBe(true);
  });

  it('matches an array field when any element matches', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0',
      ],
    };
    expect(matchesPattern(pattern, envelope({}))).toBe(true);
    expect(matchesPattern(pattern, envelope({}, { resources: ['arn:aws:ec2:eu-west-1:1:instance/i-x'] }))).toBe(false);
  });

  it('matches object patterns against the elements of an array of objects', () => {
    const pattern = { detail: { items: { sku: ['A-1'], qty: [{ numeric: ['>', 1] }] } } };
    expect(
      matchesPattern(
        pattern,
        envelope({
          items: [
            { sku: 'B-2', qty: 5 },
            { sku: 'A-1', qty: 2 },
          ],
        }),
      ),
    ).toBe(true);
    // Both conditions must hold on the same element.
    expect(
      matchesPattern(
        pattern,
        envelope({
          items: [
            { sku: 'A-1', qty: 1 },
            { sku: 'B-2', qty: 5 },
          ],
        }),
      ),
    ).toBe(false);
  });

  it('matches null and empty string values', () => {
    expect(matchesPattern({ detail: { responseElements: [null] } }, envelope({ responseElements: null }))).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [null] } }, envelope({}))).toBe(false);
    expect(matchesPattern({ detail: { eventVersion: [''] } }, envelope({ eventVersion: '' }))).toBe(true);
    expect(matchesPattern({ detail: { eventVersion: [''] } }, envelope({ eventVersion: '1.0' }))).toBe(false);
  });

  it('prefix', () => {
    const pattern = { time: [{ prefix: '2017-10-02' }] };
    expect(matchesPattern(pattern, envelope({}))).toBe(true);
    expect(matchesPattern(pattern, envelope({}, { time: '2017-10-03T00:00:00Z' }))).toBe(false);
    expect(matchesPattern({ detail: { n: [{ prefix: '1' }] } }, envelope({ n: 12 }))).toBe(false);
  });

  it('prefix with equals-ignore-case', () => {
    const pattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    for (const service of ['EventBridge', 'EVENTBRIDGE', 'eventbridge']) {
      expect(matchesPattern(pattern, envelope({ service }))).toBe(true);
    }
    expect(matchesPattern(pattern, envelope({ service: 'SQS' }))).toBe(false);
  });

  it('suffix', () => {
    const pattern = { detail: { FileName: [{ suffix: '.png' }] } };
    expect(matchesPattern(pattern, envelope({ FileName: 'image.png' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ FileName: 'image.PNG' }))).toBe(false);
    expect(matchesPattern(pattern, envelope({ FileName: 'image.jpg' }))).toBe(false);
  });

  it('suffix with equals-ignore-case', () => {
    const pattern = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(matchesPattern(pattern, envelope({ FileName: 'image.PNG' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ FileName: 'image.png' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ FileName: 'image.gif' }))).toBe(false);
  });

  it('anything-but a string or a number', () => {
    const state = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(matchesPattern(state, envelope({ state: 'running' }))).toBe(true);
    expect(matchesPattern(state, envelope({ state: 'initializing' }))).toBe(false);
    // A missing field is not "anything but".
    expect(matchesPattern(state, envelope({}))).toBe(false);

    const limit = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
    expect(matchesPattern(limit, envelope({ 'x-limit': 456 }))).toBe(true);
    expect(matchesPattern(limit, envelope({ 'x-limit': 123 }))).toBe(false);
  });

  it('anything-but a list', () => {
    const state = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesPattern(state, envelope({ state: 'pending' }))).toBe(true);
    expect(matchesPattern(state, envelope({ state: 'stopped' }))).toBe(false);
    expect(matchesPattern(state, envelope({ state: 'overloaded' }))).toBe(false);

    const limit = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matchesPattern(limit, envelope({ 'x-limit': 150 }))).toBe(true);
    expect(matchesPattern(limit, envelope({ 'x-limit': 200 }))).toBe(false);
  });

  it('anything-but prefix', () => {
    const pattern = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matchesPattern(pattern, envelope({ state: 'running' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ state: 'initializing' }))).toBe(false);
  });

  it('anything-but suffix', () => {
    const pattern = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matchesPattern(pattern, envelope({ FileName: 'file.png' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ FileName: 'notes.txt' }))).toBe(false);
  });

  it('anything-but equals-ignore-case', () => {
    const pattern = { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } };
    expect(matchesPattern(pattern, envelope({ state: 'running' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ state: 'STOPPED' }))).toBe(false);
    expect(matchesPattern(pattern, envelope({ state: 'overloaded' }))).toBe(false);
  });

  it('anything-but wildcard', () => {
    const pattern = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matchesPattern(pattern, envelope({ FilePath: '/usr/bin/node' }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ FilePath: '/usr/lib/node' }))).toBe(false);
  });

  it('numeric ranges and equality', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesPattern(pattern, envelope({ 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ 'c-count': 0, 'd-count': 7, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesPattern(pattern, envelope({ 'c-count': 5, 'd-count': 10, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesPattern(pattern, envelope({ 'c-count': 5, 'd-count': 7, 'x-limit': 301 }))).toBe(false);
    // Strings are never numbers.
    expect(matchesPattern(pattern, envelope({ 'c-count': '5', 'd-count': 7, 'x-limit': 301.8 }))).toBe(false);
  });

  it('cidr (IPv4 and IPv6)', () => {
    const v4 = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matchesPattern(v4, envelope({ sourceIPAddress: '10.0.0.255' }))).toBe(true);
    expect(matchesPattern(v4, envelope({ sourceIPAddress: '10.0.1.1' }))).toBe(false);
    expect(matchesPattern(v4, envelope({ sourceIPAddress: 'not-an-ip' }))).toBe(false);
    const v6 = { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } };
    expect(matchesPattern(v6, envelope({ sourceIPAddress: '2001:db8:1::1' }))).toBe(true);
    expect(matchesPattern(v6, envelope({ sourceIPAddress: '2001:db9::1' }))).toBe(false);
  });

  it('exists', () => {
    const present = { detail: { 'c-count': [{ exists: true }] } };
    const absent = { detail: { 'c-count': [{ exists: false }] } };
    expect(matchesPattern(present, envelope({ 'c-count': 3 }))).toBe(true);
    expect(matchesPattern(present, envelope({}))).toBe(false);
    expect(matchesPattern(absent, envelope({}))).toBe(true);
    expect(matchesPattern(absent, envelope({ 'c-count': 3 }))).toBe(false);
    // Only leaves exist: an object value does not, and neither does a missing parent.
    expect(matchesPattern(present, envelope({ 'c-count': { nested: 1 } }))).toBe(false);
    expect(matchesPattern({ detail: { a: { b: [{ exists: false }] } } }, envelope({}))).toBe(true);
  });

  it('equals-ignore-case', () => {
    const pattern = { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] };
    expect(matchesPattern(pattern, envelope({}))).toBe(true);
    expect(matchesPattern(pattern, envelope({}, { 'detail-type': 'EC2 Instance Launch' }))).toBe(false);
  });

  it('wildcard', () => {
    const pattern = { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] } };
    expect(
      matchesPattern(pattern, envelope({ EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' })),
    ).toBe(true);
    expect(
      matchesPattern(pattern, envelope({ EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/orders' })),
    ).toBe(false);
    const escaped = { detail: { name: [{ wildcard: 'a\\*b*' }] } };
    expect(matchesPattern(escaped, envelope({ name: 'a*bc' }))).toBe(true);
    expect(matchesPattern(escaped, envelope({ name: 'axbc' }))).toBe(false);
    // Regex metacharacters in the wildcard are literal.
    expect(matchesPattern({ detail: { f: [{ wildcard: '*.png' }] } }, envelope({ f: 'a.png' }))).toBe(true);
    expect(matchesPattern({ detail: { f: [{ wildcard: '*.png' }] } }, envelope({ f: 'apng' }))).toBe(false);
  });

  it('$or', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matchesPattern(pattern, envelope({ 'c-count': 9, 'd-count': 3 }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ 'x-limit': 301.8 }))).toBe(true);
    expect(matchesPattern(pattern, envelope({ 'c-count': 9, 'd-count': 30, 'x-limit': 1 }))).toBe(false);

    const topLevel = {
      source: ['aws.ec2'],
      $or: [{ 'detail-type': ['Instance Launch'] }, { detail: { state: ['terminated'] } }],
    };
    expect(matchesPattern(topLevel, envelope({ state: 'terminated' }))).toBe(true);
    expect(matchesPattern(topLevel, envelope({ state: 'running' }))).toBe(false);
  });

  it('combines several operators on one event', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    const detail = { state: 'running', 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 };
    expect(matchesPattern(pattern, envelope(detail))).toBe(true);
    expect(matchesPattern(pattern, envelope({ ...detail, 'x-limit': 200 }))).toBe(false);
  });

  it('an empty pattern matches everything', () => {
    expect(matchesPattern({}, envelope({}))).toBe(true);
  });
});

describe('validatePattern', () => {
  const invalid: [string, unknown][] = [
    ['not an object', ['aws.ec2']],
    ['leaf not in an array', { source: 'aws.ec2' }],
    ['unknown operator', { source: [{ startsWith: 'aws.' }] }],
    ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }],
    ['numeric with a bad operator', { detail: { n: [{ numeric: ['!=', 1] }] } }],
    ['numeric with a string bound', { detail: { n: [{ numeric: ['>', '1'] }] } }],
    ['numeric with two lower bounds', { detail: { n: [{ numeric: ['>', 1, '>=', 2] }] } }],
    ['exists not boolean', { detail: { n: [{ exists: 'yes' }] } }],
    ['anything-but with mixed list', { detail: { n: [{ 'anything-but': ['a', 1] }] } }],
    ['anything-but with an unsupported operator', { detail: { n: [{ 'anything-but': { numeric: ['>', 1] } }] } }],
    ['consecutive wildcards', { detail: { n: [{ wildcard: 'a**b' }] } }],
    ['bad cidr', { detail: { ip: [{ cidr: '10.0.0.0/33' }] } }],
    ['$or with one member', { $or: [{ source: ['a'] }] }],
    ['nested arrays', { source: [['a']] }],
  ];

  it.each(invalid)('rejects %s', (_name, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidPatternError);
  });

  it('names the offending field', () => {
    expect(() => validatePattern({ detail: { state: 'x' } })).toThrow(/detail\.state/);
  });

  it('accepts documented patterns', () => {
    expect(() =>
      validatePattern({
        source: ['aws.ec2', { prefix: 'com.' }],
        detail: { n: [{ numeric: ['>=', 0, '<', 1] }], ip: [{ cidr: '10.0.0.0/8' }], s: [null, '', 1, true] },
      }),
    ).not.toThrow();
  });
});
