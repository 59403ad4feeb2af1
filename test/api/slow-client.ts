import { connect } from 'node:net';

export interface SlowClientOutcome {
  /** What the server sent before it closed (or before the client finished). */
  answer: string;
  /** The server closed or answered before the client had sent everything. */
  cutShort: boolean;
  /** The server answered or closed (rather than the client giving up waiting). */
  serverEnded: boolean;
}

/**
 * Sends `head` at once, then `trickle` one byte at a time, `gapMs` apart, on a raw socket; ends
 * when the server answers or closes, or when everything is sent and the server has answered.
 */
export function trickle(
  url: string,
  head: string,
  trickled: string,
  gapMs: number,
  /** How long to wait for an answer once everything is sent. */
  waitAfterMs = 2_000,
): Promise<SlowClientOutcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (serverEnded: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, cutShort: sent < trickled.length, serverEnded });
    };
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (sent < trickled.length) finish(true);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish(true);
      else reject(error);
    });
    const sendNext = () => {
      if (sent >= trickled.length) {
        // Everything is sent: give the server time to answer the complete request.
        timer = setTimeout(() => finish(false), waitAfterMs);
        return;
      }
      socket.write(trickled.slice(sent, sent + 1));
      sent += 1;
      timer = setTimeout(sendNext, gapMs);
    };
    socket.on('connect', () => {
      socket.write(head);
      timer = setTimeout(sendNext, gapMs);
    });
  });
}
