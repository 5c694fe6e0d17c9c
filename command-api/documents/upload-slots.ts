import type { FastifyReply, FastifyRequest } from 'fastify';
import { retryLaterError } from '../../core/adapters/http.ts';

/**
 * Caps on uploads in progress: per user (one account cannot hold every slot) and per process
 * (each upload holds two 5 MiB buffers and an S3 multipart upload). A slot is taken before the
 * body is read and given back when the response closes, however it ends.
 */
export function createUploadSlots(limits: { perUser: number; perProcess: number }) {
  const byUser = new Map<string, number>();
  let total = 0;

  function acquire(userId: string): () => void {
    const mine = byUser.get(userId) ?? 0;
    if (mine >= limits.perUser) throw retryLaterError(429, 'TOO_MANY_UPLOADS', `at most ${limits.perUser} uploads at a time per user`, 1);
    if (total >= limits.perProcess) throw retryLaterError(503, 'SERVER_BUSY', 'too many uploads in progress; retry shortly', 1);
    byUser.set(userId, mine + 1);
    total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      total--;
      const left = (byUser.get(userId) ?? 1) - 1;
      if (left === 0) byUser.delete(userId);
      else byUser.set(userId, left);
    };
  }

  return {
    /** A preHandler: takes the caller's slot or refuses with 429/503 and Retry-After. */
    async hold(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const release = acquire(request.actor.userId);
      reply.raw.once('close', release);
    },
    inProgress: () => total,
  };
}

export type UploadSlots = ReturnType<typeof createUploadSlots>;
