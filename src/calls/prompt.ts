import type { ClientProfile } from '../clients/profile.js';

export interface PromptInput {
  instructions: string;
  client?: ClientProfile;
  recordingAnnounced: boolean;
}

/** The built-in system prompt. `{{name}}`, `{{profile}}`, `{{instructions}}` are filled in. */
export const DEFAULT_TEMPLATE = `You are an AI phone assistant making a call on behalf of {{name}}. You are speaking on the phone with the person you called.

# Your task
{{instructions}}

# Who you represent
{{profile}}

# Rules
- In your first sentence, say that you are an AI assistant calling on behalf of {{name}}.{{recording}}
- Only state facts that appear in your task or in the profile above. If you are asked something you do not know, do not guess or invent: say "I'll check with {{name}} and get back to you", and move on.
- Speak naturally and briefly, one or two sentences at a time, as people do on the phone. Let the other person finish.
- If the other person asks you to stop calling or wants to end the call, apologise, say goodbye and end the call.
- When the task is done or cannot be done, say a short goodbye and then call the end_call tool in the same turn.`;

/** Builds the system prompt: client template (or the default), the instructions, and the deferral rule. */
export function buildSystemPrompt(p: PromptInput): string {
  const name = p.client?.name ?? 'the person you represent';
  const template = p.client?.systemPromptTemplate ?? DEFAULT_TEMPLATE;
  const filled = template
    .replaceAll('{{recording}}', p.recordingAnnounced ? ' Also say that the call is recorded.' : '')
    .replaceAll('{{name}}', name)
    .replaceAll('{{profile}}', p.client?.profile ?? '(no profile given)')
    .replaceAll('{{instructions}}', p.instructions.trim());
  // A custom template might omit the essentials; they are not optional, so append them when missing.
  const extras: string[] = [];
  if (!template.includes('{{instructions}}')) extras.push(`# Your task\n${p.instructions.trim()}`);
  if (p.client?.systemPromptTemplate) {
    extras.push(
      `# Always\n- You are an AI assistant calling on behalf of ${name}; say so when you greet.${p.recordingAnnounced ? '\n- Say that the call is recorded when you greet.' : ''}\n- Never invent facts: if you do not know, say "I'll check with ${name} and get back to you".`,
    );
  }
  return [filled, ...extras].join('\n\n');
}
