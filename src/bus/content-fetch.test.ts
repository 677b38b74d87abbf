import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFetcher, QueueFetchers, type Fetched } from './content-fetch';

test('the queue cannot give the message: the reason comes back instead', async () => {
  const fetcher = new ContentFetcher(() => undefined, () => 0);
  const got = fetcher.take('e1');
  fetcher.noContent('e1', '451 4.3.0 cannot read the message: ENOENT');
  assert.deepEqual(await got, { text: '451 4.3.0 cannot read the message: ENOENT' });
});

test('the same envelope asked for twice at once: the second gets a temporary failure, the first its message', async () => {
  const asked: string[] = [];
  const fetcher = new ContentFetcher((evpid) => asked.push(evpid), () => 0);
  const first = fetcher.take('e1');
  assert.deepEqual(await fetcher.take('e1'), { text: '451 4.3.0 this envelope is already being delivered' });
  assert.deepEqual(asked, ['e1']);
  fetcher.bytes(1, Buffer.from('m'));
  fetcher.content('e1', 1);
  const got = (await first) as Extract<Fetched, { content: Buffer }>;
  assert.equal(got.content.toString(), 'm');
});

test('the queue channel closes: deliveries waiting for their message and later ones fail temporarily, nothing more is asked', async () => {
  const asked: string[] = [];
  const fetcher = new ContentFetcher((evpid) => asked.push(evpid), () => 0);
  const waiting = fetcher.take('e1');
  fetcher.bytes(3, Buffer.from('partial'));
  fetcher.close();
  assert.deepEqual(await waiting, { text: '451 4.3.0 the queue went away' });
  assert.deepEqual(await fetcher.take('e2'), { text: '451 4.3.0 the queue went away' });
  assert.deepEqual(asked, ['e1']);
  fetcher.content('e1', 3); // late: nobody waits for it any more
  assert.equal(fetcher.pending, 0);
});

test('a window of 2: the two oldest deliveries announced are asked for; taking one asks for the next', () => {
  const asked: string[] = [];
  const fetcher = new ContentFetcher((evpid) => asked.push(evpid), () => 2);
  for (const e of ['e1', 'e2', 'e3', 'e4']) fetcher.announce(e);
  assert.deepEqual(asked, ['e1', 'e2']);
  assert.equal(fetcher.prefetched, 2);
  void fetcher.take('e2');
  assert.deepEqual(asked, ['e1', 'e2', 'e3'], 'e2 started: e3 takes its place ahead');
  void fetcher.take('e4');
  assert.deepEqual(asked, ['e1', 'e2', 'e3', 'e4'], 'e4 started before its turn: asked for at once');
  fetcher.announce('e1');
  assert.deepEqual(asked, ['e1', 'e2', 'e3', 'e4'], 'announced twice: asked for once');
});

test('one fetcher per queue channel, closed with it; byte frames go to the last channel connected', async () => {
  type Fake = { onClose(cb: () => void): void; close(): void };
  const fake = (): Fake => {
    const cbs: (() => void)[] = [];
    return { onClose: (cb) => void cbs.push(cb), close: () => cbs.forEach((cb) => cb()) };
  };
  const fetchers = new QueueFetchers<Fake>(() => new ContentFetcher(() => undefined, () => 0));
  const a = fake();
  const b = fake();
  fetchers.connected(a);
  assert.equal(fetchers.of(a), fetchers.current);
  const waiting = fetchers.of(a).take('e1');
  fetchers.connected(b);
  assert.notEqual(fetchers.current, fetchers.of(a));
  a.close();
  assert.deepEqual(await waiting, { text: '451 4.3.0 the queue went away' });
  const onB = fetchers.of(b).take('e1');
  fetchers.current!.bytes(1, Buffer.from('x'));
  fetchers.of(b).content('e1', 1);
  assert.equal(((await onB) as Extract<Fetched, { content: Buffer }>).content.toString(), 'x');
});
