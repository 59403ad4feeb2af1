import { parentPort } from 'node:worker_threads';
import type { RenderReply, RenderRequest } from './render-protocol.js';
import { RenderedTooLarge, renderTemplatePart } from './template-engine.js';

/**
 * The entry point of a template-render worker thread (bundled on its own as
 * app/dist/template-render-worker.js): renders one part per message, off the event loop that
 * serves requests. The main thread enforces the deadline by terminating this thread.
 */
const port = parentPort;
if (!port) throw new Error('template-render-worker runs only as a worker thread');

port.on('message', (request: RenderRequest) => {
  port.postMessage(render(request));
});
port.postMessage('ready');

function render({ id, cacheKey, part, source, data, maxChars }: RenderRequest): RenderReply {
  try {
    return { id, ok: true, output: renderTemplatePart(cacheKey, part, source, data, maxChars) };
  } catch (error) {
    if (error instanceof RenderedTooLarge) {
      return { id, ok: false, reason: 'too_large', message: error.message };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { id, ok: false, reason: 'failed', message };
  }
}
