/** Bounds of rendering one template at send time (documented in docs/reliability.md). */
export const TEMPLATE_RENDER_LIMITS = Object.freeze({
  /** The longest a template's subject, html and text may take to render, together. */
  deadlineMs: 1000,
  /** Worker threads that render templates; further renders wait for a free one. */
  workers: 2,
  /** The heap of one render worker; a render that needs more fails as too large. */
  workerHeapMb: 256,
});
