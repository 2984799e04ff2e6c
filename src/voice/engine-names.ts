/**
 * The voice engines this build knows, by the name users give (AI_PROVIDER, `"provider"` on a call, the
 * CLI's --engine, the MCP tool, a runbook's `provider`). Every boundary validates against this list, so a
 * new engine is a line here and its factory in registry.ts. No imports: settings, the CLI client and the
 * web UI read it without loading any engine.
 */
export const ENGINE_NAMES = ['openai', 'gemini', 'cascade'] as const;

export type EngineName = (typeof ENGINE_NAMES)[number];
