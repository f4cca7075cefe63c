// A grid of small images drawn from raw bytes the core computed ({count, channels, height, width,
// pixels}: planar, 0..255), each with a caption. Used for the batch the network sees and for the
// test predictions. Each image keeps its own pixels (MNIST: a light digit on black) in a frame
// of the page's colours (charts.css); mistakes get a frame in --bad and a "≠ label" caption.

const SCALE = 2;

function canvasOf(images, i, label) {
  const { channels, height, width, pixels } = images;
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * SCALE}px`;
  canvas.style.height = `${height * SCALE}px`;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  const plane = width * height;
  const base = i * channels * plane;
  for (let p = 0; p < plane; p += 1) {
    const v = (c) => pixels[base + Math.min(c, channels - 1) * plane + p];
    img.data.set([v(0), v(1), v(2), 255], 4 * p);
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

export class ImageGrid {
  constructor(root, { title, caption }) {
    this.root = root;
    this.title = title;
    this.caption = caption; // caption(i) -> {text, wrong?}
  }

  // images: {count, channels, height, width, pixels}; caption(i) -> {text, wrong}
  render(images, caption = this.caption) {
    const cells = [];
    for (let i = 0; i < images.count; i += 1) {
      const { text, wrong } = caption(i);
      const figure = document.createElement('figure');
      if (wrong) figure.className = 'wrong';
      const label = document.createElement('figcaption');
      label.textContent = text;
      figure.append(canvasOf(images, i, `image ${i + 1}`), label);
      cells.push(figure);
    }
    const heading = document.createElement('h4');
    heading.textContent = this.title;
    const grid = document.createElement('div');
    grid.className = 'image-grid';
    grid.append(...cells);
    this.root.replaceChildren(heading, grid);
  }
}

// The test-prediction grid: the core's PredictionGrid (images, labels, predictions).
export function predictionCaption(grid) {
  return (i) => {
    const p = grid.predictions[i];
    const wrong = p.class !== grid.labels[i];
    return { text: `${p.class} (${Math.round(100 * p.probability)}%)${wrong ? ` ≠ ${grid.labels[i]}` : ''}`, wrong };
  };
}

// The batch view: the core's BatchPreview (images, mix of classes per image, λ).
export function batchCaption(preview) {
  return (i) => ({
    text: preview.mix[i].map(([c, w]) => (preview.mix[i].length > 1 ? `${w.toFixed(2)}·${c}` : `${c}`)).join(' + '),
    wrong: false,
  });
}
