import * as http from 'node:http';
import type { JamMetrics } from '@jam/telemetry';

/**
 * `/healthz` and `/metrics` for worker-only processes on `JAM_METRICS_PORT` (the gateway serves
 * them on its own port); every other path is a 404 in the problem shape.
 * @throws the listen error (e.g. EADDRINUSE)
 */
export function startMetricsListener(metrics: JamMetrics, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"only /healthz and /metrics here"}}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
