import { ERROR_CODES } from './errors.js';

/** Renders the OpenAPI document as a Markdown reference (docs/api-reference.md), grouped by tag. */
export function renderApiReference(doc: Record<string, any>): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const lines = [`### \`${method.toUpperCase()} ${path}\``, '', op.summary + (op.description ? `\n\n${op.description}` : ''), ''];
      const auth = op['x-callwright-auth'] ?? (op.security?.length ? 'Bearer API token' : 'none');
      lines.push(`Auth: ${auth}.`, '');
      if (op.parameters?.length) {
        lines.push('| parameter | in | type | required | |', '|---|---|---|---|---|');
        for (const p of op.parameters) lines.push(`| \`${p.name}\` | ${p.in} | ${typeOf(p.schema)} | ${p.required ? 'yes' : 'no'} | ${constraints(p.schema)} |`);
        lines.push('');
      }
      const body = op.requestBody?.content && Object.entries<any>(op.requestBody.content)[0];
      if (body) {
        const [ct, media] = body;
        const props = media.schema?.properties as Record<string, any> | undefined;
        if (props) {
          const req = new Set<string>(media.schema.required ?? []);
          lines.push(`Body (\`${ct}\`):`, '', '| field | type | required | |', '|---|---|---|---|');
          for (const [name, s] of Object.entries(props)) lines.push(`| \`${name}\` | ${typeOf(s)} | ${req.has(name) ? 'yes' : 'no'} | ${constraints(s)} |`);
        } else lines.push(`Body: \`${ct}\`.`);
        lines.push('');
      }
      lines.push('| response | |', '|---|---|');
      for (const [code, r] of Object.entries<any>(op.responses)) lines.push(`| ${code} | ${r.description} |`);
      lines.push('');
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), lines.join('\n')]);
    }
  }
  const head = `# API reference\n\nGenerated from the OpenAPI 3.1 document the server serves at \`GET /api/openapi.json\` (also in [openapi.json](openapi.json)); regenerate both with \`npm run openapi\`.\n\n## Errors\n\nEvery error, from every route, is one shape: \`{"error": {"code": "...", "message": "...", "field": "..."}}\`. \`code\` is for programs (${ERROR_CODES.map((c) => `\`${c}\``).join(', ')}); \`message\` is for people and starts with the field at fault; \`field\` names the request field (nested ones in full, e.g. \`voicemail.message\`) or header (\`Idempotency-Key\`). Some carry more: \`fields\` (every unknown field), \`rule\` (the dial-policy or cap rule that refused a call), \`missing\` (the settings to set). Unknown fields in a request body are refused with 400 \`unknown_field\`, never ignored.\n`;
  return `${head}\n${[...byTag].map(([tag, ops]) => `## ${tag}\n\n${ops.join('\n')}`).join('\n')}`;
}

function typeOf(s: any): string {
  if (!s) return '';
  if (s.enum) return s.enum.map((v: unknown) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  return String(s.type ?? 'any');
}

function constraints(s: any): string {
  if (!s) return '';
  const out: string[] = [];
  if (s.minLength !== undefined) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  if (s.pattern) out.push(`pattern \`${String(s.pattern).replace(/\|/g, '\\|')}\``);
  return out.join(', ');
}
