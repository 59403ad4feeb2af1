// The front of selfmx-local: a TCP proxy from the published port to the app containers behind
// the network alias UPSTREAM_HOST. Every PROBE_MS it resolves the alias (Docker's DNS answers
// with every container that has it) and keeps the addresses whose GET /health answers 200, so
// that while a release is replaced, connections go to whichever app is healthy.
// This file is passed in a Terraform string: no template literals with placeholders.
import { lookup } from 'node:dns/promises';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';

const upstreamHost = process.env.UPSTREAM_HOST ?? 'selfmx-app';
const upstreamPort = Number(process.env.UPSTREAM_PORT ?? 8080);
const listenPort = Number(process.env.LISTEN_PORT ?? 8080);
const PROBE_MS = 1000;

let healthy = [];
let next = 0;
/** Open connections by the upstream address they go to. */
const open = new Map();

const resolveAll = async () =>
  (await lookup(upstreamHost, { all: true, family: 4 }).catch(() => [])).map((a) => a.address);

const isHealthy = (address) =>
  new Promise((resolve) => {
    const request = get({ host: address, port: upstreamPort, path: '/health', timeout: 2000 });
    const done = (verdict) => {
      clearTimeout(deadline);
      resolve(verdict);
      request.destroy();
    };
    // A removed container's address answers nothing at all: never wait on it.
    const deadline = setTimeout(() => done(false), 3000);
    request.once('response', (response) => {
      response.resume();
      done(response.statusCode === 200);
    });
    request.once('timeout', () => done(false));
    request.once('error', () => done(false));
  });

async function probe() {
  const addresses = await resolveAll();
  const verdicts = await Promise.all(addresses.map(isHealthy));
  healthy = addresses.filter((_address, index) => verdicts[index]);
  // A container that is gone sends nothing more: end its connections rather than leave them hang.
  for (const [address, clients] of open) {
    if (addresses.includes(address)) continue;
    for (const client of clients) client.destroy();
    open.delete(address);
  }
}

/** Healthy addresses first (round robin), then any other the alias resolves to. */
async function candidates() {
  const start = healthy.length === 0 ? 0 : next++ % healthy.length;
  const preferred = [...healthy.slice(start), ...healthy.slice(0, start)];
  const others = (await resolveAll()).filter((address) => !preferred.includes(address));
  return [...preferred, ...others];
}

function forward(client, addresses) {
  const address = addresses.shift();
  if (address === undefined) {
    client.destroy();
    return;
  }
  const upstream = connect(upstreamPort, address);
  let connected = false;
  upstream.setTimeout(3000, () => upstream.destroy(new Error('connect timeout')));
  upstream.once('connect', () => {
    connected = true;
    upstream.setTimeout(0);
    const clients = open.get(address) ?? new Set();
    open.set(address, clients.add(client));
    client.once('close', () => {
      clients.delete(client);
      upstream.destroy();
    });
    upstream.once('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
    client.resume();
  });
  // Before the connection: try the next address; after it: the client's connection ends too.
  upstream.on('error', () => (connected ? client.destroy() : forward(client, addresses)));
}

const server = createServer({ pauseOnConnect: true }, (client) => {
  client.once('error', () => client.destroy());
  candidates().then((addresses) => forward(client, addresses));
});
server.listen(listenPort, () =>
  console.log('front:', listenPort, '->', upstreamHost, upstreamPort),
);

const loop = async () => {
  await probe().catch(() => undefined);
  setTimeout(loop, PROBE_MS).unref();
};
loop();
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => server.close(() => process.exit(0)));
