// The page's small DOM and curve helpers, shared by the controllers and the views: an element
// builder and the exponential smoothing of a loss curve.

// `<tag attrs...>children</tag>`; attributes that are null or undefined are left out.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export const $ = (selector) => document.querySelector(selector);

// An exponential moving average of `[x, y]` points with `weight` per point, or, with `perStep`,
// per unit of x since the previous point (a curve read every few steps decays as one read every
// step). A missing or non-finite y is kept as it is and does not enter the average.
export function smooth(points, weight, { perStep = false } = {}) {
  let avg = null;
  let prevX = 0;
  return points.map(([x, y]) => {
    if (y === null || !Number.isFinite(y)) return [x, y];
    const w = perStep ? weight ** Math.max(1, x - prevX) : weight;
    prevX = x;
    avg = avg === null ? y : w * avg + (1 - w) * y;
    return [x, avg];
  });
}

// A line of text to copy (a lesson's result, a computer's check) as `<code class=cls>` and a Copy
// button beside it; where the clipboard is refused, the line is selected for Ctrl+C instead.
export function copyable(line, cls) {
  const code = el('code', { class: cls }, line);
  const button = el('button', { type: 'button', class: `copy-${cls}` }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(line);
      button.textContent = 'Copied';
    } catch {
      getSelection().selectAllChildren(code);
      button.textContent = 'Selected: copy it with Ctrl+C';
    }
  });
  return [code, button];
}
