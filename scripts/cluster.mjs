// Bring up the documented recipe locally for a manual or outside-client check: the simulator, a
// real redis-server, N replicas of the built binary and nginx running deploy/nginx.conf.
// Prints {"url", "token"} (the simulator's token) as one JSON line on stdout; stops on SIGTERM/SIGINT.
//   npm run build && node scripts/cluster.mjs [replicas=3]
import { startCluster } from '../dist/test/helpers/replicas.js';

const cluster = await startCluster({ replicas: Number(process.argv[2] ?? 3) });
process.stdout.write(`${JSON.stringify({ url: cluster.nginx.url, token: cluster.sim.token, replicas: cluster.replicas.map((r) => r.url) })}\n`);
const stop = () => void cluster.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
