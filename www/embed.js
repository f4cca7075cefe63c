// An embedded lesson (`&embed=1` in an iframe) tells the page around it how tall it is, so that a
// tutorial's iframe can fit it instead of guessing a fixed height: it posts
// `{tricklab: 'height', height}` (CSS pixels) to its parent whenever its content's height changes.
// A parent without the listener keeps whatever height its iframe has. README.md, "Lessons", gives
// the listener.

let observer = null;

// Starts (`on`) or stops reporting the height; nothing happens outside an iframe.
export function reportHeight(on) {
  observer?.disconnect();
  observer = null;
  if (!on || window.parent === window) return;
  let last = 0;
  const post = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ tricklab: 'height', height }, '*');
  };
  observer = new ResizeObserver(() => requestAnimationFrame(post));
  observer.observe(document.documentElement);
  post();
}
