/**
 * Every event type a call's timeline can hold. One list for the server, which can record no other
 * (`Timeline.append` takes only these), and for the web UI, which must listen for each by name:
 * EventSource delivers a named event only to a listener of that name, so a type missing from the UI's
 * list would never show. Importing nothing, so the browser build can use it.
 */
export const TIMELINE_EVENT_TYPES = [
  // the call's progress
  'status', 'policy.override', 'carrier.dialed', 'carrier.status', 'amd', 'end.requested', 'wrapup.requested',
  // media and engine
  'engine.ready', 'engine.resumed', 'media.attached', 'media.ended', 'media.invalidFrames', 'dtmf', 'dtmf.sent',
  'mode.changed', 'hold.heard', 'greeting.start', 'greeting.held', 'amd.veto', 'amd.menuSuspected', 'voicemail.waiting', 'voicemail.message', 'screening.detected', 'amd.ignored', 'callee.speechStarted', 'agent.interrupted', 'hangup.guard', 'hangup.cancelled',
  'menu.prompt', 'menu.stuck', 'menu.operator', 'menu.gaveUp', 'menu.speechDropped',
  'bargeIn.ignored',
  // where a reply's latency went, per callee turn (the cascade engine: docs/cascade.md#latency)
  'turn.latency',
  // what was said and done
  'transfer.started', 'transfer.refused', 'transfer.failed', 'transfer.ownerAnswered', 'transfer.returned', 'transfer.completed',
  'transcript', 'tool.call', 'tool.result', 'tool.cancelled', 'knowledge.retrieved', 'knowledge.lookup', 'usage',
  // asking the owner mid-call (ask_owner)
  'owner.asked', 'owner.delivery', 'owner.holdingLine', 'owner.detached', 'owner.answered', 'owner.timeout', 'owner.cancelled',
  // records after the call
  'recording.status', 'recording', 'carrier.price', 'records.complete',
  // the outcome (docs/outcome.md), and each try of its webhook
  'outcome', 'webhook',
  // trouble
  'error', 'store.delayed', 'security.foreignUrl',
] as const;

export type TimelineEventType = (typeof TIMELINE_EVENT_TYPES)[number];
