/**
 * What AbortSignal.any gives, without its cost: AbortSignal.any registers a dependent signal
 * with every source (weak references, a finalization registry) and costs tens of µs per call;
 * a tool call made three of them, and a poll one per read. Here a plain controller is aborted by
 * the first source that aborts (with its reason), and `unlink` takes its listeners off the
 * sources once the work is over, so nothing is left on a long-lived signal.
 */
export function linked(...sources: (AbortSignal | undefined)[]): { controller: AbortController; signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  const listening: [AbortSignal, () => void][] = [];
  const unlink = () => {
    for (const [s, f] of listening.splice(0)) s.removeEventListener('abort', f);
  };
  for (const s of sources) {
    if (!s) continue;
    if (s.aborted) {
      unlink();
      controller.abort(s.reason);
      break;
    }
    const onAbort = () => {
      unlink();
      controller.abort(s.reason);
    };
    s.addEventListener('abort', onAbort, { once: true });
    listening.push([s, onAbort]);
  }
  return { controller, signal: controller.signal, unlink };
}
