import { request } from 'node:http';

const SOCKET = '/var/run/docker.sock';
/** Engine API 1.41 is Docker 20.10's, the oldest engine these tests run on. */
const VERSION = 'v1.41';

/** One Engine API call over the local socket, as the Terraform docker provider makes them. */
export function engineApi<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  okStatuses: number[] = [200, 201, 204, 304],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: SOCKET,
        method,
        path: `/${VERSION}${path}`,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => {
          if (!okStatuses.includes(response.statusCode ?? 0)) {
            reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
            return;
          }
          resolve(
            (text && response.headers['content-type']?.includes('json')
              ? JSON.parse(text)
              : text) as T,
          );
        });
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}
