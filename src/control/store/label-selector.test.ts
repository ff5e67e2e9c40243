import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesLabels, parseLabelSelector } from './label-selector.js';

function matches(selector: string, labels?: Record<string, string>): boolean {
  const parsed = parseLabelSelector(selector);
  assert.notEqual(typeof parsed, 'string', `${selector}: ${String(parsed)}`);
  return matchesLabels(parsed as Exclude<typeof parsed, string>, labels);
}

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/canary': 'true' };
  it('supports equality, set and existence requirements, ANDed', () => {
    assert.equal(matches('', labels), true);
    assert.equal(matches('app=web', labels), true);
    assert.equal(matches('app==web,tier=front', labels), true);
    assert.equal(matches('app=web,tier=back', labels), false);
    assert.equal(matches('app!=api', labels), true);
    assert.equal(matches('app in (api, web)', labels), true);
    assert.equal(matches('app notin (web)', labels), false);
    assert.equal(matches('example.com/canary', labels), true);
    assert.equal(matches('!example.com/canary', labels), false);
    assert.equal(matches('!missing', labels), true);
  });
  it('matches objects without the label for != and notin, as Kubernetes does', () => {
    assert.equal(matches('env!=prod', undefined), true);
    assert.equal(matches('env notin (prod)', {}), true);
    assert.equal(matches('env in (prod)', {}), false);
  });
  it('says what does not parse', () => {
    assert.match(String(parseLabelSelector('app=(')), /app=\(/);
    assert.match(String(parseLabelSelector('a b c')), /cannot parse 'a b c'/);
    assert.match(String(parseLabelSelector('Bad Key=1')), /cannot parse/);
    assert.match(String(parseLabelSelector('app=bad value!')), /cannot parse|value/);
  });
});
