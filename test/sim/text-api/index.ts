import { TextSimServer, type AnswerOverride, type TextRequestRecord, type TextSimOptions } from './server.js';

export type { AnswerOverride, TextRequestRecord, TextSimOptions };
export { answer, parseTranscript, fieldSpecs } from './rules.js';

export interface TextSim {
  origin: string;
  /** For OUTCOME_BASE_URL with OpenAI (the SDK appends /responses or /chat/completions). */
  openaiBaseUrl: string;
  /** For OUTCOME_BASE_URL with Gemini (the SDK appends /v1beta/models/...). */
  geminiBaseUrl: string;
  requests: TextRequestRecord[];
  /** Every request fails with this status until set back to undefined. */
  setFailure(f: { status: number; message: string } | undefined): void;
  /** Rewrites the rules' answer before it is sent (a model that invents a quote, answers non-JSON ...). */
  setOverride(f: AnswerOverride | undefined): void;
  close(): Promise<void>;
}

/** Starts the OpenAI + Gemini structured-output text simulator on 127.0.0.1. */
export async function startTextSim(o: TextSimOptions): Promise<TextSim> {
  const server = new TextSimServer(o);
  await server.listen();
  return {
    origin: server.origin,
    openaiBaseUrl: `${server.origin}/v1`,
    geminiBaseUrl: server.origin,
    requests: server.requests,
    setFailure: (f) => {
      server.failure = f;
    },
    setOverride: (f) => {
      server.override = f;
    },
    close: () => server.close(),
  };
}
