/**
 * The embeddings endpoints of OpenAI and Gemini as their official SDKs call them:
 * - OpenAI: POST /v1/embeddings, `Authorization: Bearer`, input string or array, optional `dimensions`,
 *   `encoding_format` float or base64 (the openai SDK asks for base64 and decodes it itself).
 * - Gemini: POST /{v1,v1beta}/models/{model}:batchEmbedContents and :embedContent, `x-goog-api-key`
 *   (or ?key=), with `outputDimensionality` and `taskType` per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { toyEmbedding } from './vectors.js';

export interface EmbeddingsSimOptions {
  openaiKey: string;
  geminiKey: string;
  port?: number;
}

export interface EmbeddingsRequestRecord {
  provider: 'openai' | 'gemini';
  model: string;
  dimensions: number;
  inputs: string[];
  encoding?: 'float' | 'base64';
  taskTypes?: string[];
}

/** A scripted outage: every request answers with this status until cleared. */
export interface EmbeddingsFailure {
  status: number;
  message: string;
}

const OPENAI_DIMENSIONS: Record<string, number> = { 'text-embedding-3-small': 1536, 'text-embedding-3-large': 3072, 'text-embedding-ada-002': 1536 };
const GEMINI_DIMENSIONS: Record<string, number> = { 'gemini-embedding-001': 3072, 'text-embedding-004': 768 };
const MAX_OPENAI_INPUTS = 2048;
const MAX_GEMINI_REQUESTS = 100;

export class EmbeddingsSimServer {
  readonly requests: EmbeddingsRequestRecord[] = [];
  failure: EmbeddingsFailure | undefined;
  private readonly http: Server;
  private port = 0;

  constructor(private readonly o: EmbeddingsSimOptions) {
    this.http = createServer((req, res) => {
      void this.handle(req, res).catch((err) => send(res, 500, { error: { message: (err as Error).message } }));
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.o.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const body = await readJson(req);
    if (req.method === 'POST' && url.pathname === '/v1/embeddings') return this.openai(req, res, body);
    const gemini = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(batchEmbedContents|embedContent)$/.exec(url.pathname);
    if (req.method === 'POST' && gemini) return this.gemini(req, res, url, gemini[2]!, gemini[3] as 'batchEmbedContents' | 'embedContent', body);
    send(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
  }

  private openai(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const oaiError = (status: number, message: string, code: string | null = null, param: string | null = null) => send(res, status, { error: { message, type: 'invalid_request_error', param, code } });
    if (req.headers.authorization !== `Bearer ${this.o.openaiKey}`) return oaiError(401, 'Incorrect API key provided.', 'invalid_api_key');
    if (this.failure) return oaiError(this.failure.status, this.failure.message, 'sim_failure');
    if (!isObject(body)) return oaiError(400, 'We could not parse the JSON body of your request.');
    const { input, model, dimensions, encoding_format } = body;
    if (typeof model !== 'string' || !(model in OPENAI_DIMENSIONS)) return oaiError(404, `The model \`${String(model)}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((i) => typeof i === 'string') ? (input as string[]) : undefined;
    if (!inputs || inputs.length === 0 || inputs.some((i) => i.length === 0)) return oaiError(400, "'$.input' is invalid. Please check the API reference.", null, 'input');
    if (inputs.length > MAX_OPENAI_INPUTS) return oaiError(400, `'$.input' must have at most ${MAX_OPENAI_INPUTS} items`, null, 'input');
    let dims = OPENAI_DIMENSIONS[model]!;
    if (dimensions !== undefined) {
      if (model === 'text-embedding-ada-002') return oaiError(400, 'This model does not support specifying dimensions.', null, 'dimensions');
      if (!Number.isInteger(dimensions) || (dimensions as number) < 1 || (dimensions as number) > dims) return oaiError(400, `'$.dimensions' must be between 1 and ${dims}`, null, 'dimensions');
      dims = dimensions as number;
    }
    const encoding = encoding_format === undefined ? 'float' : encoding_format;
    if (encoding !== 'float' && encoding !== 'base64') return oaiError(400, "'$.encoding_format' must be 'float' or 'base64'", null, 'encoding_format');
    this.requests.push({ provider: 'openai', model, dimensions: dims, inputs, encoding });
    const tokens = inputs.reduce((n, i) => n + Math.ceil(i.length / 4), 0);
    send(res, 200, {
      object: 'list',
      data: inputs.map((text, index) => {
        const v = toyEmbedding(text, dims);
        return { object: 'embedding', index, embedding: encoding === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v) };
      }),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private gemini(req: IncomingMessage, res: ServerResponse, url: URL, model: string, method: 'batchEmbedContents' | 'embedContent', body: unknown): void {
    const gError = (code: number, message: string, status: string) => send(res, code, { error: { code, message, status } });
    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (key !== this.o.geminiKey) return gError(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT');
    if (this.failure) return gError(this.failure.status, this.failure.message, 'UNAVAILABLE');
    if (!(model in GEMINI_DIMENSIONS)) return gError(404, `models/${model} is not found for API version ${url.pathname.split('/')[1]}, or is not supported for embedContent.`, 'NOT_FOUND');
    const requests = method === 'embedContent' ? [body] : isObject(body) && Array.isArray(body.requests) ? body.requests : undefined;
    if (!requests || requests.length === 0) return gError(400, 'Invalid JSON payload received. * requests: must not be empty', 'INVALID_ARGUMENT');
    if (requests.length > MAX_GEMINI_REQUESTS) return gError(400, `* BatchEmbedContentsRequest.requests: at most ${MAX_GEMINI_REQUESTS} requests are allowed per batch`, 'INVALID_ARGUMENT');
    const inputs: string[] = [];
    const taskTypes: string[] = [];
    let dims = GEMINI_DIMENSIONS[model]!;
    for (const [i, r] of requests.entries()) {
      if (!isObject(r)) return gError(400, `* requests[${i}]: must be an object`, 'INVALID_ARGUMENT');
      if (method === 'batchEmbedContents' && r.model !== `models/${model}`) return gError(400, `* BatchEmbedContentsRequest.requests[${i}].model: model must be models/${model}`, 'INVALID_ARGUMENT');
      const parts = isObject(r.content) && Array.isArray(r.content.parts) ? r.content.parts : undefined;
      const text = parts?.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
      if (!text) return gError(400, `* requests[${i}].content: must contain text parts`, 'INVALID_ARGUMENT');
      if (r.outputDimensionality !== undefined) {
        if (!Number.isInteger(r.outputDimensionality) || (r.outputDimensionality as number) < 1 || (r.outputDimensionality as number) > GEMINI_DIMENSIONS[model]!) return gError(400, `* requests[${i}].output_dimensionality: out of range`, 'INVALID_ARGUMENT');
        dims = r.outputDimensionality as number;
      }
      inputs.push(text);
      taskTypes.push(typeof r.taskType === 'string' ? r.taskType : 'TASK_TYPE_UNSPECIFIED');
    }
    this.requests.push({ provider: 'gemini', model, dimensions: dims, inputs, taskTypes });
    const values = inputs.map((t) => Array.from(toyEmbedding(t, dims)));
    send(res, 200, method === 'embedContent' ? { embedding: { values: values[0] } } : { embeddings: values.map((v) => ({ values: v })) });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
