// The status line (role="status", read out by screen readers; while a run trains it starts with
// where it trains, GPU or CPU) and the message banner for errors and notices that a visitor must
// see (bad links, no WebGPU, a lost device, a diverging run, an update of the site).

function duration(s) {
  if (!Number.isFinite(s)) return '–';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${Math.round(s % 60)}s` : `${s.toFixed(1)}s`;
}

export class StatusView {
  constructor(root) {
    this.root = root;
  }

  text(message) {
    this.root.textContent = message;
  }
}

// The status line of a run in progress. p: {backend ('GPU' | 'CPU'), epoch, epochs, step,
// stepsPerEpoch, loss, acc, imagesPerSec, elapsed, eta}.
export function progressLine(p) {
  return [
    p.backend,
    `epoch ${p.epoch}/${p.epochs}`,
    `step ${p.step}/${p.stepsPerEpoch}`,
    `loss ${p.loss.toFixed(4)}`,
    `accuracy ${(100 * p.acc).toFixed(1)}%`,
    `${Math.round(p.imagesPerSec)} images/s`,
    `elapsed ${duration(p.elapsed)}`,
    `ETA ${duration(p.eta)}`,
  ].join(' · ');
}

export class MessageView {
  constructor(root) {
    this.root = root;
  }

  // kind: 'error' | 'notice'
  show(text, kind = 'error') {
    const item = document.createElement('p');
    item.className = kind;
    item.textContent = text;
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => item.remove());
    item.append(' ', close);
    this.root.append(item);
  }

  clear() {
    this.root.replaceChildren();
  }
}
