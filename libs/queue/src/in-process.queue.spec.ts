import { describeJobQueueContract } from './job-queue.contract';
import { createInProcessQueue } from './in-process.queue';

describeJobQueueContract('in-process', async (opts) => ({
  queue: createInProcessQueue(opts),
  cleanup: async () => undefined,
}));
