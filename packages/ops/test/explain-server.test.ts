import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorized, type ExplainServer, startExplainServer } from '../src/explain-server.js';

// The HTTP both apps' /explain share: a real server on loopback, asked with fetch.
describe('startExplainServer', () => {
  let open: ExplainServer;
  let guarded: ExplainServer;
  const endpoint = {
    host: '127.0.0.1',
    port: 0,
    usage: '/explain?name=NAME',
    explain: async (p: URLSearchParams) => {
      const name = p.get('name');
      if (!name) return { error: 'name is required' };
      if (name === 'boom.') throw new Error('upstream gone');
      return { name, verdict: 'answered' };
    },
    format: (r: { name: string; verdict: string }) => `${r.name}: ${r.verdict}\n`,
  };
  const get = async (server: ExplainServer, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    open = await startExplainServer(endpoint);
    guarded = await startExplainServer({ ...endpoint, token: 's3cret' });
  });
  afterAll(async () => {
    await open?.close();
    await guarded?.close();
  });

  it('a report as JSON, or its text form', async () => {
    expect(JSON.parse((await get(open, '/explain?name=web.')).body)).toEqual({
      name: 'web.',
      verdict: 'answered',
    });
    expect(await get(open, '/explain?name=web.&format=text')).toEqual({
      status: 200,
      body: 'web.: answered\n',
    });
  });

  it('400 with the reason and the usage; 404 elsewhere; 500 when the report fails', async () => {
    expect(await get(open, '/explain')).toEqual({
      status: 400,
      body: 'name is required; try /explain?name=NAME\n',
    });
    expect((await get(open, '/metrics')).status).toBe(404);
    expect(await get(open, '/explain?name=boom.')).toEqual({
      status: 500,
      body: 'explain failed: upstream gone\n',
    });
  });

  it('with a token: 401 without it or with another, 200 with it', async () => {
    expect((await get(guarded, '/explain?name=web.')).status).toBe(401);
    expect(
      (await get(guarded, '/explain?name=web.', { authorization: 'Bearer nope' })).status,
    ).toBe(401);
    expect(
      (await get(guarded, '/explain?name=web.', { authorization: 'Bearer s3cret' })).status,
    ).toBe(200);
    expect(authorized(undefined, undefined)).toBe(true);
  });

  it('a port in use: an error naming the address', async () => {
    await expect(startExplainServer({ ...endpoint, port: open.port })).rejects.toThrow(
      `explain server: cannot listen on 127.0.0.1:${open.port}`,
    );
  });
});
