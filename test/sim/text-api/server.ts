/**
 * The text-generation endpoints with structured outputs, as the official SDKs call them (see README.md):
 * - OpenAI Responses: POST /v1/responses {model, instructions?, input, text: {format: {type: 'json_schema', name, schema, strict}}}
 * - OpenAI Chat Completions: POST /v1/chat/completions {model, messages, response_format: {type: 'json_schema', json_schema: {name, schema, strict}}}
 * - Gemini: POST /{v1,v1beta,v1alpha}/models/{model}:generateContent {contents, systemInstruction?, generationConfig: {responseMimeType, responseJsonSchema}}
 * The answer is JSON text filled by rules.ts from the numbered transcript in the prompt.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { answer, fieldSpecs, parseTranscript } from './rules.js';

export interface TextSimOptions {
  openaiKey: string;
  geminiKey: string;
  /** Model names served on the OpenAI-compatible routes besides OpenAI's own (a local server's, e.g. `qwen3:8b`). */
  extraOpenAIModels?: string[];
}

export interface TextRequestRecord {
  api: 'responses' | 'chat-completions' | 'gemini';
  model: string;
  /** The prompt text the model saw (instructions and input). */
  prompt: string;
  schema: unknown;
  strict?: boolean;
}

export type AnswerOverride = (answer: any, req: TextRequestRecord) => any;

const OPENAI_MODELS = new Set(['gpt-5.4-mini', 'gpt-5.4', 'gpt-5.5', 'gpt-4.1-mini']);
const GEMINI_MODELS = new Set(['gemini-3.8-flash', 'gemini-3.5-flash-lite']);
const NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;

export class TextSimServer {
  readonly requests: TextRequestRecord[] = [];
  failure: { status: number; message: string } | undefined;
  override: AnswerOverride | undefined;
  private readonly http: Server;
  private port = 0;

  constructor(private readonly o: TextSimOptions) {
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
      this.http.listen(0, '127.0.0.1', () => resolve());
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
    if (req.method === 'POST' && url.pathname === '/v1/responses') return this.responses(req, res, body);
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') return this.chat(req, res, body);
    const g = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):generateContent$/.exec(url.pathname);
    if (req.method === 'POST' && g) return this.gemini(req, res, url, g[2]!, body);
    send(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
  }

  private openaiGate(req: IncomingMessage, res: ServerResponse, body: unknown): Record<string, any> | undefined {
    const err = (status: number, message: string, code: string | null = null, param: string | null = null) => void send(res, status, { error: { message, type: 'invalid_request_error', param, code } });
    if (req.headers.authorization !== `Bearer ${this.o.openaiKey}`) return err(401, 'Incorrect API key provided.', 'invalid_api_key');
    if (this.failure) return err(this.failure.status, this.failure.message, 'sim_failure');
    if (!isObject(body)) return err(400, 'We could not parse the JSON body of your request.');
    if (typeof body.model !== 'string' || !(OPENAI_MODELS.has(body.model) || this.o.extraOpenAIModels?.includes(body.model))) return err(404, `The model \`${String(body.model)}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
    return body;
  }

  /** Checks a json_schema format as OpenAI does; answers 400 and returns false when it would be refused. */
  private checkFormat(res: ServerResponse, f: any, param: string): boolean {
    const err = (message: string) => (send(res, 400, { error: { message, type: 'invalid_request_error', param, code: 'invalid_json_schema' } }), false);
    if (!isObject(f) || typeof f.name !== 'string' || !NAME_RE.test(f.name)) return err(`Invalid '${param}.name': must match ${NAME_RE}.`);
    if (!isObject(f.schema)) return err(`Missing required parameter: '${param}.schema'.`);
    if (f.strict === true) {
      const problem = strictProblem(f.schema, '(root)');
      if (problem) return err(`Invalid schema for response_format '${f.name}': ${problem}`);
    }
    return true;
  }

  private responses(req: IncomingMessage, res: ServerResponse, raw: unknown): void {
    const body = this.openaiGate(req, res, raw);
    if (!body) return;
    const f = body.text?.format;
    if (f?.type !== 'json_schema') return send(res, 400, { error: { message: "This simulator answers only text.format of type 'json_schema'.", type: 'invalid_request_error', param: 'text.format.type', code: null } });
    if (!this.checkFormat(res, f, 'text.format')) return;
    const input = typeof body.input === 'string' ? body.input : Array.isArray(body.input) ? body.input.map((m: any) => (typeof m?.content === 'string' ? m.content : '')).join('\n') : '';
    const rec: TextRequestRecord = { api: 'responses', model: body.model, prompt: `${body.instructions ?? ''}\n${input}`, schema: f.schema, strict: f.strict };
    const text = this.answerText(rec);
    const usage = tokens(rec.prompt, text);
    send(res, 200, {
      id: `resp_${randomUUID().replace(/-/g, '')}`,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: body.model,
      output: [{ type: 'message', id: `msg_${randomUUID().replace(/-/g, '')}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }],
      text: { format: f },
      usage: { input_tokens: usage.in, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.out, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.in + usage.out },
    });
  }

  private chat(req: IncomingMessage, res: ServerResponse, raw: unknown): void {
    const body = this.openaiGate(req, res, raw);
    if (!body) return;
    const rf = body.response_format;
    if (rf?.type !== 'json_schema') return send(res, 400, { error: { message: "This simulator answers only response_format of type 'json_schema'.", type: 'invalid_request_error', param: 'response_format', code: null } });
    if (!this.checkFormat(res, rf.json_schema, 'response_format.json_schema')) return;
    if (!Array.isArray(body.messages) || body.messages.length === 0) return send(res, 400, { error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: null } });
    const prompt = body.messages.map((m: any) => (typeof m?.content === 'string' ? m.content : '')).join('\n');
    const rec: TextRequestRecord = { api: 'chat-completions', model: body.model, prompt, schema: rf.json_schema.schema, strict: rf.json_schema.strict };
    const text = this.answerText(rec);
    const usage = tokens(prompt, text);
    send(res, 200, {
      id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out },
    });
  }

  private gemini(req: IncomingMessage, res: ServerResponse, url: URL, model: string, body: unknown): void {
    const err = (code: number, message: string, status: string) => send(res, code, { error: { code, message, status } });
    const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (key !== this.o.geminiKey) return err(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT');
    if (this.failure) return err(this.failure.status, this.failure.message, 'UNAVAILABLE');
    if (!GEMINI_MODELS.has(model)) return err(404, `models/${model} is not found for API version ${url.pathname.split('/')[1]}, or is not supported for generateContent.`, 'NOT_FOUND');
    if (!isObject(body) || !Array.isArray(body.contents)) return err(400, 'Invalid JSON payload received. * contents: required', 'INVALID_ARGUMENT');
    const gc = isObject(body.generationConfig) ? body.generationConfig : {};
    if (gc.responseJsonSchema === undefined) return err(400, 'This simulator answers only generationConfig.responseJsonSchema requests.', 'INVALID_ARGUMENT');
    if (gc.responseMimeType !== 'application/json') return err(400, '* GenerateContentRequest.generation_config.response_mime_type: must be application/json when a response schema is set', 'INVALID_ARGUMENT');
    const texts = (c: any) => (Array.isArray(c?.parts) ? c.parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('') : '');
    const system = isObject(body.systemInstruction) ? texts(body.systemInstruction) : '';
    const prompt = `${system}\n${body.contents.map(texts).join('\n')}`;
    const rec: TextRequestRecord = { api: 'gemini', model, prompt, schema: gc.responseJsonSchema };
    const text = this.answerText(rec);
    const usage = tokens(prompt, text);
    send(res, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: usage.in, candidatesTokenCount: usage.out, totalTokenCount: usage.in + usage.out },
      modelVersion: model,
      responseId: randomUUID().replace(/-/g, '').slice(0, 22),
    });
  }

  private answerText(rec: TextRequestRecord): string {
    this.requests.push(rec);
    let a: any = answer(parseTranscript(rec.prompt), fieldSpecs(rec.schema));
    if (this.override) a = this.override(a, rec);
    return typeof a === 'string' ? a : JSON.stringify(a);
  }
}

/** Strict mode's rules (OpenAI structured outputs): every object closed, every property required. */
export function strictProblem(schema: any, where: string): string | undefined {
  if (!isObject(schema)) return undefined;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object')) {
    if (schema.additionalProperties !== false) return `In context=${where}, 'additionalProperties' is required to be supplied and to be false.`;
    const props = isObject(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = Object.keys(props).find((k) => !required.includes(k));
    if (missing !== undefined) return `In context=${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
    for (const [k, v] of Object.entries(props)) {
      const p = strictProblem(v, `('properties', '${k}')`);
      if (p) return p;
    }
  }
  if (isObject(schema.items)) return strictProblem(schema.items, `${where}, 'items'`);
  return undefined;
}

function tokens(prompt: string, text: string): { in: number; out: number } {
  return { in: Math.ceil(prompt.length / 4), out: Math.ceil(text.length / 4) };
}

function isObject(v: unknown): v is Record<string, any> {
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
