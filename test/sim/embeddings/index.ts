import { EmbeddingsSimServer, type EmbeddingsFailure, type EmbeddingsRequestRecord, type EmbeddingsSimOptions } from './server.js';

export { toyEmbedding, cosine } from './vectors.js';
export type { EmbeddingsFailure, EmbeddingsRequestRecord, EmbeddingsSimOptions };

export interface EmbeddingsSim {
  /** http://127.0.0.1:port */
  origin: string;
  /** For OPENAI_BASE_URL (the SDK appends /embeddings). */
  openaiBaseUrl: string;
  /** For GEMINI_BASE_URL (the SDK appends /v1beta/models/...). */
  geminiBaseUrl: string;
  /** Every accepted request, in order. */
  requests: EmbeddingsRequestRecord[];
  /** Make every request fail (e.g. { status: 500, message: 'overloaded' }) until set back to undefined. */
  setFailure(f: EmbeddingsFailure | undefined): void;
  close(): Promise<void>;
}

/** Starts the OpenAI + Gemini embeddings simulator on 127.0.0.1; requests must carry the given keys. */
export async function startEmbeddingsSim(o: EmbeddingsSimOptions): Promise<EmbeddingsSim> {
  const server = new EmbeddingsSimServer(o);
  await server.listen();
  return {
    origin: server.origin,
    openaiBaseUrl: `${server.origin}/v1`,
    geminiBaseUrl: server.origin,
    requests: server.requests,
    setFailure: (f) => {
      server.failure = f;
    },
    close: () => server.close(),
  };
}
