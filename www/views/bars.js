// A chart with one x value (a lesson of one epoch) drawn as horizontal bars, one per series,
// each with its name on the left and its value written at its end ("97.8%"): a line chart would
// show lone dots on an empty axis. Drawn on a canvas in the theme's colours (theme.js).

const ROW = 28; // px per bar
const PAD = 8;
const VALUE_ROOM = 64; // px kept right of the longest bar for its value

// Canvas height for `n` bars.
export const barsHeight = (n) => 2 * PAD + Math.max(1, n) * ROW;

// The longest label that fits in `room` px, cut with an ellipsis.
function fit(ctx, text, room) {
  if (ctx.measureText(text).width <= room) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > room) cut = cut.slice(0, -1);
  return `${cut}…`;
}

// Paints `bars` ([{label, value, text, color, dash}]) on `canvas`, `width` css px wide, values
// scaled from range[0] (the bar's start) to range[1]; theme: {fg, muted, ticks}.
export function paintBars(canvas, width, bars, range, theme) {
  const ratio = devicePixelRatio || 1;
  const height = barsHeight(bars.length);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.font = '13px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const labelRoom = Math.min(width * 0.4, Math.max(...bars.map((b) => ctx.measureText(b.label).width), 0) + PAD);
  const left = labelRoom + PAD;
  const span = Math.max(1, width - left - VALUE_ROOM);
  const [lo, hi] = range;
  const lengthOf = (v) => span * Math.min(1, Math.max(0, (v - lo) / ((hi - lo) || 1)));
  bars.forEach((b, i) => paintBar(ctx, b, { y: PAD + i * ROW, left, labelRoom, length: Number.isFinite(b.value) ? lengthOf(b.value) : 0 }, theme));
  ctx.strokeStyle = theme.ticks;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, PAD / 2);
  ctx.lineTo(left + 0.5, height - PAD / 2);
  ctx.stroke();
}

// One bar: its label, the bar (outlined and dashed for a dashed series), its value.
function paintBar(ctx, bar, { y, left, labelRoom, length }, theme) {
  const mid = y + ROW / 2;
  ctx.fillStyle = theme.fg;
  ctx.textAlign = 'right';
  ctx.fillText(fit(ctx, bar.label, labelRoom - PAD), left - PAD, mid);
  ctx.fillStyle = bar.color;
  ctx.strokeStyle = bar.color;
  if (bar.dash) {
    ctx.globalAlpha = 0.35;
    ctx.fillRect(left, y + 5, length, ROW - 10);
    ctx.globalAlpha = 1;
    ctx.setLineDash([5, 3]);
    ctx.strokeRect(left + 0.5, y + 5.5, length, ROW - 11);
    ctx.setLineDash([]);
  } else {
    ctx.fillRect(left, y + 5, length, ROW - 10);
  }
  ctx.fillStyle = theme.fg;
  ctx.textAlign = 'left';
  ctx.fillText(bar.text, left + length + 6, mid);
}
