// The page's views, each under its own link: the lessons (the landing view: `#lessons` or no
// hash), one lesson (`#lesson=…`, `#lesson-url=…`), the playground (`#playground`, or a link with
// settings), and the views that own the whole page under a route of their own (`#class=warmup`,
// `#check`): each route is {name, matches(hash) -> bool, open(hash), close()}. <body data-view=NAME>
// shows the one view (styles.css), and the navigation marks where the visitor is.

// The view a hash that no route claims opens.
export function viewOf(hash) {
  if (hash === '' || hash === '#' || hash === '#lessons') return 'lessons';
  if (/(^#|&)lesson(-url)?=/.test(hash)) return 'lesson';
  return 'playground';
}

export class Routes {
  constructor() {
    this.list = [];
    this.current = null;
  }

  add(route) {
    this.list.push(route);
  }

  // Shows view `name`. `focus`: the visitor moved here (a link, Back), so the view's heading takes
  // the keyboard focus and the page scrolls to its top.
  setView(name, { focus = false } = {}) {
    const changed = document.body.dataset.view !== name;
    document.body.dataset.view = name;
    for (const a of document.querySelectorAll('nav [data-nav]')) {
      if (a.dataset.nav === (name === 'lesson' ? 'lessons' : name)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (!changed || !focus) return;
    window.scrollTo(0, 0);
    const heading = document.querySelector(`.view[data-view-name="${name}"] h1, .view[data-view-name="${name}"] h3`);
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }

  // Opens the route that claims `hash` (closing another); true when one did.
  open(hash, options) {
    const route = this.list.find((r) => r.matches(hash));
    if (this.current && this.current !== route) {
      this.current.close();
      this.current = null;
    }
    if (!route) return false;
    this.current = route;
    this.setView(route.name, options);
    route.open(hash);
    return true;
  }
}
