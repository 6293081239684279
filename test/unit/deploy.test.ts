/**
 * The container recipe, checked where it can be without docker: the Dockerfile's command uses
 * flags that exist and probes /readyz on the port it exposes; the compose file sets only
 * environment twins that exist, runs the services docs/deploy.md describes, and gives a stopping
 * replica more time than its drain.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAGS, parseConfig } from '../../src/config.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const compose = read('deploy/compose.yaml');
const docs = read('docs/deploy.md');

describe('Dockerfile', () => {
  it('serves with flags that exist, on the port it exposes, and checks /readyz', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).toBeTruthy();
    const argv = JSON.parse(cmd![1]!) as string[];
    expect(argv[0]).toBe('hoody-mcp');
    const flags = argv.slice(1).filter((a) => a.startsWith('--'));
    expect(flags).toEqual(expect.arrayContaining(['--http', '--host']));
    for (const f of flags) expect(FLAGS.map((x) => x.flag)).toContain(f);
    const config = parseConfig(argv.slice(1), {});
    expect(config).toMatchObject({ http: true, host: '0.0.0.0' });
    const port = /^EXPOSE (\d+)$/m.exec(dockerfile)?.[1];
    expect(Number(port)).toBe(parseConfig([], {}).port);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*127\.0\.0\.1:8765\/readyz/m);
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/--omit=dev/);
  });
});

describe('deploy/compose.yaml', () => {
  const envKeys = [...compose.matchAll(/^\s+(HOODY_[A-Z_]+):/gm)].map((m) => m[1]!);
  const services = [...compose.replace(/^[\s\S]*?^services:\n/m, '').matchAll(/^ {2}([a-z0-9]+):/gm)].map((m) => m[1]!);

  it('sets only environment twins of real flags, among them the shared store, JSON logs and the drain', () => {
    const twins = new Set(FLAGS.map((f) => f.env));
    for (const k of envKeys) expect(twins, k).toContain(k);
    expect(envKeys).toEqual(expect.arrayContaining(['HOODY_REDIS_URL', 'HOODY_LOG_FORMAT', 'HOODY_DRAIN_S']));
    expect(compose).toMatch(/HOODY_LOG_FORMAT: json/);
    expect(compose).toMatch(/HOODY_REDIS_URL: redis:\/\/redis:6379/);
  });

  it('runs three replicas, redis and nginx (with deploy/nginx.conf on 8080), as the docs describe', () => {
    expect(services).toEqual(['replica1', 'replica2', 'replica3', 'redis', 'nginx']);
    for (const s of services) expect(docs).toContain(s);
    expect(compose).toMatch(/image: (redis|valkey\/valkey):\d/);
    expect(compose).toMatch(/\.\/nginx\.conf:\/etc\/nginx\/nginx\.conf:ro/);
    expect(compose).toMatch(/"8080:8080"/);
    for (const k of envKeys) expect(docs).toContain(k);
    for (const path of ['/mcp', '/healthz', '/readyz', '/metrics']) expect(docs).toContain(`\`${path}\``);
  });

  it('gives a stopping replica more time than its drain', () => {
    const drain = Number(/HOODY_DRAIN_S: "(\d+)"/.exec(compose)?.[1]);
    const grace = Number(/stop_grace_period: (\d+)s/.exec(compose)?.[1]);
    expect(drain).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(drain);
  });
});
