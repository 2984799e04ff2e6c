import { z } from 'zod';

/**
 * Settings for `callwright models` (docs/local.md), spread into the one settings schema so they are
 * validated and documented with the rest; the models command also parses them alone, so a bad setting
 * elsewhere does not stop a download.
 */
export const modelsSettingsShape = {
  /**
   * A mirror to pull model archives from instead of their pinned upstream URLs: `<MODELS_BASE_URL>/<archive
   * file name>` (e.g. a folder of the .tar.bz2 files served on the local network). Checksums are the same.
   */
  MODELS_BASE_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim().replace(/\/+$/, '')))
    .refine((v) => {
      if (v === undefined) return true;
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, 'must be a URL starting with http:// or https://'),
  /**
   * Pull the models the in-process stages are set to use (STT_PROVIDER=sherpa: STT_SHERPA_MODEL;
   * TTS_PROVIDER=piper: TTS_PIPER_VOICE) when the server starts and they are missing, before it listens.
   * Whatever AI_PROVIDER says: a call can ask for the cascade engine on its own (`provider`).
   */
  MODELS_PULL_ON_START: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .default('false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on'),
};
