import type { EngineFactory } from '../../voice/engine.js';
import type { EngineName } from '../../voice/registry.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { CallMedia, CallSide } from './main-side.js';
import { MainSide } from './main-side.js';
import { MediaSide } from './media-side.js';
import type { SessionSpec, ToMain, ToMedia } from './protocol.js';

export type { CallMedia, CallSide } from './main-side.js';
export type { SessionSpec } from './protocol.js';

/** Where live calls' sessions, engines and audio run (MEDIA_HOST). */
export interface MediaHost {
  open(spec: SessionSpec, side: CallSide): CallMedia;
}

export interface MediaHostDeps {
  engines: Partial<Record<EngineName, EngineFactory>>;
  tools: ToolRegistry;
}

/**
 * MEDIA_HOST's values. `in-process`: sessions on the server's own event loop, every message a direct
 * call (as before the seam). `checked`: the same loop, but every message is copied with the structured
 * clone a process boundary would use and delivered in order on a later turn, so a crossing that is not
 * plain data, or that counts on an answer in the same turn, fails in tests before a media process exists.
 */
export const MEDIA_HOSTS = {
  'in-process': (d: MediaHostDeps) => inProcessHost(d, false),
  checked: (d: MediaHostDeps) => inProcessHost(d, true),
} satisfies Record<string, (d: MediaHostDeps) => MediaHost>;

export type MediaHostKind = keyof typeof MEDIA_HOSTS;

function inProcessHost(d: MediaHostDeps, checked: boolean): MediaHost {
  let media: MediaSide | undefined;
  let main: MainSide | undefined;
  const toMedia = channel<ToMedia>((m) => media!.receive(m), checked);
  const toMain = channel<ToMain>((m) => main!.receive(m), checked);
  media = new MediaSide({ engines: d.engines, tools: d.tools, post: toMain.post });
  main = new MainSide(
    toMedia.post,
    // The stream is handed over beside the messages, after everything already sent (a child process gets
    // its socket the same way, in order with the messages before it).
    (callId, transport) => {
      toMedia.flush();
      return media!.attach(callId, transport);
    },
    d.tools,
  );
  return { open: (spec, side) => main!.open(spec, side) };
}

/** One direction of the boundary: a direct call, or (checked) a structured clone delivered in order later. */
function channel<T>(deliver: (m: T) => void, checked: boolean): { post(m: T): void; flush(): void } {
  if (!checked) return { post: deliver, flush: () => undefined };
  const queue: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    try {
      while (queue.length) deliver(queue.shift()!);
    } finally {
      // A receiver that threw (a bug, loud in tests) must not strand the messages behind it.
      if (queue.length && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
  };
  return {
    post(m) {
      queue.push(structuredClone(m));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
