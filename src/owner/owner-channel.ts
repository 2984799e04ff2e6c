/**
 * The owner (the person the agent calls for) is a channel, like the carrier: a question goes out on every
 * configured channel at once (the live call page, SMS, a webhook) and the first answer on any of them
 * wins. Tools never know which channel answered; the timeline does.
 */

/** One question the agent asked the owner during a call. */
export interface OwnerQuestion {
  id: string;
  callId: string;
  question: string;
  /** Four digits that name this question in an SMS reply ("1234 yes") when several are open. */
  code: string;
  askedAt: string;
  /** Who the call is to (E.164): shown to the owner so they know which call asks. */
  callee: string;
  ownerName: string;
}

export interface OwnerChannel {
  /** Named on the timeline (`owner.delivery`, `owner.answered {channel}`). */
  readonly name: string;
  /** Delivers the question; rejects when it could not (the question stays open on the other channels). */
  deliver(q: OwnerQuestion): Promise<void>;
}

/** How a question ended, as the tool sees it. */
export type OwnerReply =
  | { status: 'answered'; answer: string; afterMs: number }
  | { status: 'timeout'; afterMs: number }
  /** Withdrawn: the engine cancelled the tool call, or the call ended. */
  | { status: 'cancelled' };

/**
 * What ask_owner's tool sees: how the question ended, or `asked` when the bridge answers the tool call at
 * once and the answer will come later as a text turn (engines with `holdsWithTextTurns`).
 */
export type AskOwnerResult = (OwnerReply | { status: 'asked' }) & { ownerName: string };
