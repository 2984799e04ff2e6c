/**
 * The server settings a load run lifts: hundreds of simultaneous calls at any hour, which the safety
 * limits (calling hours, rate limit, caps on calls and spend) would refuse. Shared by every bench that
 * starts the server.
 */
export const CAPS_LIFTED = {
  CALLING_HOURS: 'off',
  RATE_LIMIT_PER_MINUTE: '0',
  MAX_CONCURRENT_CALLS: '0',
  MAX_CALLS_PER_DAY: '0',
  MAX_COST_PER_CALL_USD: '0',
  MAX_COST_PER_DAY_USD: '0',
} as const;
