// The page's colours for what is drawn on a canvas: styles.css defines them as CSS variables on
// :root (a light set and, under prefers-color-scheme: dark, a dark one); a canvas cannot use
// var(), so the charts read the variables here and redraw when the scheme changes.

const scheme = matchMedia('(prefers-color-scheme: dark)');

// The series colours: --chart-1 … --chart-8, in turn.
const SERIES = 8;

// `var(--chart-N)` for series `i`: a colour for CSS (a swatch, a border) and for the charts.
export const seriesVar = (i) => `var(--chart-${(i % SERIES) + 1})`;

// The value of CSS variable `name` (with its leading --) on :root, as the scheme has it now.
export const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// `color` as a canvas takes it: `var(--name)` is read from :root, any other colour is kept.
export function resolveColor(color) {
  const name = /^var\((--[\w-]+)\)$/.exec(color ?? '')?.[1];
  return name ? cssVar(name) : color;
}

// Series `i`'s colour in the current scheme, for a canvas.
export const seriesColor = (i) => resolveColor(seriesVar(i));

// The colours a chart draws with, read now.
export function chartTheme() {
  return {
    dark: scheme.matches,
    fg: cssVar('--fg'),
    bg: cssVar('--bg'),
    muted: cssVar('--muted'),
    grid: cssVar('--border-soft'),
    ticks: cssVar('--border'),
  };
}

export const isDark = () => scheme.matches;

// Calls `redraw` whenever the colour scheme changes.
export function onSchemeChange(redraw) {
  scheme.addEventListener('change', redraw);
}
