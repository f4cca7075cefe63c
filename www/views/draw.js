// Draw a digit and see the network's class probabilities. The pen draws on a 280×280 canvas;
// the drawing is reduced to 28×28 bytes (the MNIST size, white on black, centred by its mass as
// MNIST's digits are) and handed to `classify`, which asks the core (CPU reference, in the worker).
// The pad stays white on black in both colour schemes: it is what the network reads. With the
// keyboard: the arrow keys move the pen, Space puts it down or lifts it, Enter asks the network,
// Delete clears; a line under the pad says where the pen is.

const SIZE = 280;
const CELLS = 28;

export class DrawDigitView {
  // classify(bytes) -> Promise<Float32Array of 10 probabilities>
  constructor(root, classify) {
    this.root = root;
    this.classify = classify;
    this.canvas = document.createElement('canvas');
    this.canvas.width = SIZE;
    this.canvas.height = SIZE;
    this.canvas.className = 'draw';
    this.canvas.setAttribute('role', 'application');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('aria-label', 'Draw a digit here with the mouse, a finger or a pen; or with the keyboard: '
      + 'arrow keys move the pen, Space puts it down or lifts it, Enter asks the network, Delete clears');
    this.pen = { x: SIZE / 2, y: SIZE / 4, down: false };
    this.where = document.createElement('p');
    this.where.className = 'pen-where';
    this.where.setAttribute('aria-live', 'polite');
    this.bars = document.createElement('div');
    this.bars.className = 'probabilities';
    const clear = document.createElement('button');
    clear.type = 'button';
    clear.textContent = 'Clear';
    clear.addEventListener('click', () => this.clear());
    const heading = document.createElement('h4');
    heading.textContent = 'Draw a digit';
    root.replaceChildren(heading, this.canvas, this.where, clear, this.bars);
    this.ctx = this.canvas.getContext('2d');
    this.clear();
    let drawing = false;
    const at = (e) => {
      const r = this.canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * SIZE / r.width, (e.clientY - r.top) * SIZE / r.height];
    };
    this.canvas.addEventListener('pointerdown', (e) => { drawing = true; this.ctx.beginPath(); this.ctx.moveTo(...at(e)); });
    this.canvas.addEventListener('pointermove', (e) => { if (drawing) { this.ctx.lineTo(...at(e)); this.ctx.stroke(); } });
    const end = () => { if (drawing) { drawing = false; this.update(); } };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointerleave', end);
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => this.say());
  }

  // The keyboard's pen: 20 steps across the pad.
  key(e) {
    const step = SIZE / 20;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const { pen, ctx } = this;
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      pen.x = Math.min(SIZE - step / 2, Math.max(step / 2, pen.x + dx));
      pen.y = Math.min(SIZE - step / 2, Math.max(step / 2, pen.y + dy));
      if (pen.down) {
        ctx.lineTo(pen.x, pen.y);
        ctx.stroke();
      }
    } else if (e.key === ' ') {
      pen.down = !pen.down;
      ctx.beginPath();
      ctx.moveTo(pen.x, pen.y);
      if (pen.down) {
        ctx.lineTo(pen.x, pen.y);
        ctx.stroke();
      }
    } else if (e.key === 'Enter') {
      this.update();
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      this.clear();
    } else {
      return;
    }
    e.preventDefault();
    this.say();
  }

  say() {
    const { x, y, down } = this.pen;
    this.where.textContent = `Keyboard pen ${down ? 'down (drawing)' : 'up'} at ${Math.round((100 * x) / SIZE)}% across, ${Math.round((100 * y) / SIZE)}% down.`;
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, SIZE, SIZE);
    this.ctx.strokeStyle = '#fff';
    this.ctx.lineWidth = 22;
    this.ctx.lineCap = 'round';
    this.ctx.lineJoin = 'round';
    this.bars.replaceChildren();
  }

  // The drawing as 28×28 bytes: each cell the mean of its 10×10 pixels, shifted so the ink's
  // centre of mass sits at the centre.
  bytes() {
    const data = this.ctx.getImageData(0, 0, SIZE, SIZE).data;
    const k = SIZE / CELLS;
    const cells = new Float32Array(CELLS * CELLS);
    for (let y = 0; y < SIZE; y += 1) {
      for (let x = 0; x < SIZE; x += 1) cells[Math.floor(y / k) * CELLS + Math.floor(x / k)] += data[4 * (y * SIZE + x)] / (k * k);
    }
    let [mass, cx, cy] = [0, 0, 0];
    cells.forEach((v, i) => { mass += v; cx += v * (i % CELLS); cy += v * Math.floor(i / CELLS); });
    const [dx, dy] = mass > 0 ? [Math.round(13.5 - cx / mass), Math.round(13.5 - cy / mass)] : [0, 0];
    const out = new Uint8Array(CELLS * CELLS);
    for (let y = 0; y < CELLS; y += 1) {
      for (let x = 0; x < CELLS; x += 1) {
        const [sx, sy] = [x - dx, y - dy];
        if (sx >= 0 && sx < CELLS && sy >= 0 && sy < CELLS) out[y * CELLS + x] = Math.round(cells[sy * CELLS + sx]);
      }
    }
    return out;
  }

  async update() {
    const probs = await this.classify(this.bytes());
    const best = probs.indexOf(Math.max(...probs));
    this.bars.replaceChildren(...Array.from(probs, (p, c) => {
      const row = document.createElement('div');
      row.className = c === best ? 'bar best' : 'bar';
      row.dataset.class = c;
      row.innerHTML = `<span>${c}</span><span class="fill" style="width:${(100 * p).toFixed(1)}%"></span><span>${(100 * p).toFixed(1)}%</span>`;
      return row;
    }));
  }
}
