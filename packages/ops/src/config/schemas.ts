import { z } from 'zod';

/**
 * Small schema pieces both apps' configs share, so the same field reads the same way in
 * both and the error text (via `formatZodIssues`) is the same.
 */

/** An IPv4 or IPv6 address; errors read `...: expected an IPv4 or IPv6 address`. */
export const ipAddress = z.union([z.ipv4(), z.ipv6()], {
  error: 'expected an IPv4 or IPv6 address',
});

/** A TCP/UDP port, 0 allowed (pick a free one — tests); `port.min(1)` where 0 means nothing. */
export const port = z.number().int().min(0).max(65535);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const logLevel = z.enum(LOG_LEVELS);
