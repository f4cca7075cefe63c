// One CPU worker of the team (cpu-team.js) other than the training worker: loads the core, holds
// its copy of each open run's network (the core's WebHelper) and does its rows of the work the
// leader sends, in the order sent. A failure marks the team failed, so nobody waits for it.

import init, { WebHelper } from './pkg/tricklab.js';
import { Exchange } from './cpu-team.js';

let helper = null;
let exchange = null;
let rank = 0;
// Messages are handled one after another, the first (`start`) after the core has loaded.
let queue = Promise.resolve();

async function start(data) {
  await init();
  rank = data.rank;
  exchange = new Exchange(data.buffer, data.rank, data.workers);
  helper = new WebHelper(data.rank, data.workers, exchange);
  self.postMessage({ ready: true });
}

function handle(data) {
  switch (data.op) {
    case 'open':
      helper.open(data.net, data.config, data.teacher);
      break;
    case 'work':
      helper.work(data.net, data.kind, data.x, data.targets, data.labels, data.scalar);
      break;
    case 'close':
      helper.close(data.net);
      break;
    default:
      throw new Error(`unknown message ${data.op}`);
  }
}

self.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    if (data.op === 'start') {
      await start(data).catch((e) => self.postMessage({ error: `a CPU worker could not load the core: ${e.message}` }));
      return;
    }
    try {
      handle(data);
    } catch (e) {
      exchange?.fail(`worker ${rank}: ${e?.message ?? String(e)}`);
    }
  });
};
